"""The parse guard (symtable, run before libcst) keeps catching what would overflow the
native libcst parser's stack and kill the process (it does, past about 1,100 levels of
brackets or f-strings): each case is linted in a child process, which must survive and
report LKL003 where this interpreter's parser refuses the nesting."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

PRELUDE = "import threading\nthreading.Thread(target=print).start()\n"  # passes the prefilter
CASES = {
    "parens_1000": "x = " + "(" * 1000 + "1" + ")" * 1000 + "\n",
    "parens_3000": "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n",
    "sum_10000": "x = " + "+".join(["a"] * 10_000) + "\n",
    "attributes_10000": "x = a" + ".b" * 10_000 + "\n",
    "subscripts_10000": "x = a" + "[0]" * 10_000 + "\n",
    "calls_10000": "x = f" + "()" * 10_000 + "\n",
    "fstrings_3000": "x = " + "f'{" * 3000 + "1" + "}'" * 3000 + "\n",
    # Python 3.9 to 3.11 stop at `f'{'` (the quote reused inside) and take the parentheses
    # for part of a string; libcst parses them as code (PEP 701).
    "fstring_hiding_parens_1500": "x = f'{'a' + g(" + "(" * 1500 + ")" * 1500 + ")}'\n",
    "unary_10000": "x = " + "-" * 10_000 + "1\n",
}
CHILD = """
import json, sys
from leaklint import registry
from leaklint.engine import Linter
linter = Linter([rule() for rule in registry.all_rules() if rule.default_enabled])
findings = linter.lint_text(sys.stdin.read(), "case.py")
print(json.dumps([f.code for f in findings]))
"""


def python_refuses(source: str) -> bool:
    """Whether this interpreter's own compiler refuses `source`. Its limits differ by
    version (3.13 compiles 3,000 chained subscripts, 3.12 does not); leaklint lints what
    the interpreter compiles and skips the rest."""
    try:
        compile(source, "case.py", "exec")
    except (SyntaxError, RecursionError, MemoryError):
        return True
    return False


@pytest.mark.parametrize("name", sorted(CASES))
def test_guard_skips_what_would_crash_libcst(name):
    source = PRELUDE + CASES[name]
    result = subprocess.run([sys.executable, "-c", CHILD], input=source,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    expected = ["LKL003"] if python_refuses(source) else ["LKL101"]  # LKL101: the prelude's thread
    assert json.loads(result.stdout) == expected


def test_the_deepest_cases_are_refused_by_every_supported_python():
    """So that the test above checks the guard on every version, not the linting of deep
    code (which libcst does slowly: a minute for 3,000 chained subscripts)."""
    assert [name for name in CASES if not python_refuses(PRELUDE + CASES[name])] == []
