"""Test code: which files are tests, and which findings are held back in them.

A test suite is full of code that would be a leak in a product and is not one in a test:
an HTTP call without a timeout talks to a local fixture server, and the suite's own
timeout guards it. Each rule says whether it applies to tests (`Rule.applies_to_tests`);
the codes of those that do not are the default `test-ignore`. A thread, task, queue or
process a test leaves behind is a real problem (it outlives the test, as goleak finds in
Go), so those rules stay on.

Every selected rule runs on test files too, and held-back findings are filtered out
afterwards: the result cache stays independent of the path, and `--statistics` can say
how many findings were held back without linting anything twice.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Sequence, Tuple

from leaklint.discovery import PathFilter
from leaklint.finding import Finding

# The usual layouts: test folders (any depth below the project root), pytest's and
# unittest's test modules, pytest's conftest.py and Django's tests.py.
DEFAULT_TEST_FILES = ("tests", "test", "testing", "test_*.py", "*_test.py", "tests.py", "conftest.py")


def default_test_ignore() -> List[str]:
    """The codes of the rules that do not apply to test files."""
    from leaklint.catalogue import rule_infos

    return [rule.code for rule in rule_infos() if not rule.applies_to_tests]


class TestCodePolicy:
    """Which files are test code (glob patterns, matched as excludes are, below `root`)
    and which codes (or prefixes) are held back in them."""

    __test__ = False  # a leaklint class, not a pytest test class

    def __init__(self, patterns: Iterable[Tuple[str, str]], ignore: Sequence[str], root: str):
        self.files = PathFilter(patterns)
        self.ignore = tuple(ignore)
        self.root = root
        self._is_test: Dict[str, bool] = {}  # many findings share a path

    def is_test_file(self, path: str) -> bool:
        if path not in self._is_test:
            self._is_test[path] = bool(self.files) and self.files.matches_file(path, self.root)
        return self._is_test[path]

    def holds_back(self, code: str) -> bool:
        return any(entry == "ALL" or code.startswith(entry) for entry in self.ignore)

    def split(self, findings: Iterable[Finding]) -> Tuple[List[Finding], List[Finding]]:
        """(the findings to report, those in test files marked `test=True`; the findings
        held back)."""
        reported, held_back = [], []
        for finding in findings:
            if not self.is_test_file(finding.path):
                reported.append(finding)
            elif self.holds_back(finding.code):
                held_back.append(finding)
            else:
                reported.append(finding.in_test_file())
        return reported, held_back
