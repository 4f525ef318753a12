"""Fixture files, checked both ways: every line ending in `# LKLnnn` (one or more codes)
must be flagged with exactly those codes, and no other line may be flagged."""
import re
from pathlib import Path

import pytest

from leaklint.engine import Linter
from leaklint.registry import all_rules

FIXTURES = Path(__file__).parent / "fixtures"
MARKER = re.compile(r"#\s*((?:LKL\d{3}\s*)+)$")


def expected_findings(text: str):
    expected = set()
    for number, line in enumerate(text.splitlines(), 1):
        match = MARKER.search(line)
        if match:
            for code in match.group(1).split():
                expected.add((number, code))
    return expected


# A fixture holding this line is linted with every rule, off-by-default ones included;
# the others with the rules on by default (off-by-default rules are opt-in: the fixtures of
# the default rules need not mark, say, every unbounded join as LKL601 too).
ALL_RULES_MARKER = "# fixture: all rules"


# A fixture starting with this line is linted with the `exception-paths` option set to
# the kinds that follow it (the default rules).
EXCEPTION_PATHS_MARKER = "# fixture: exception-paths = "


@pytest.fixture(scope="module")
def linters():
    return {True: Linter([rule() for rule in all_rules()]),
            False: Linter([rule() for rule in all_rules() if rule.default_enabled])}


def linter_for(text, linters):
    first = text.splitlines()[0] if text else ""
    if first.startswith(EXCEPTION_PATHS_MARKER):
        settings = {"exception-paths": first[len(EXCEPTION_PATHS_MARKER):].split()}
        return Linter([rule(settings) for rule in all_rules() if rule.default_enabled])
    return linters[ALL_RULES_MARKER in text.splitlines()]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.py")), ids=lambda p: p.name)
def test_fixture(path, linters):
    text = path.read_text()
    linter = linter_for(text, linters)
    expected = expected_findings(text)
    found = {(f.line, f.code) for f in linter.lint_text(text, str(path))}
    missing = sorted(expected - found)
    unexpected = sorted(found - expected)
    assert not missing and not unexpected, (
        f"\nmissing (line, code): {missing}\nunexpected (line, code): {unexpected}")


def test_fixture_markers_are_found():
    # Guards the marker regex itself: a typo'd marker would make a fixture vacuous.
    assert expected_findings("x = 1  # LKL101\ny = 2  # LKL101 LKL501\n") == {
        (1, "LKL101"), (2, "LKL101"), (2, "LKL501")}
