"""leaklint.nesting bounds bracket and f-string nesting as libcst reads the text (PEP 701
f-strings), with CPython's limits; strings and comments do not nest."""
from __future__ import annotations

import pytest

from leaklint.nesting import MAX_BRACKETS, MAX_FSTRINGS, nesting_problem


def parens(depth: int) -> str:
    return "(" * depth + "1" + ")" * depth


@pytest.mark.parametrize("text, expected", [
    ("x = " + parens(MAX_BRACKETS) + "\n", None),
    ("x = 1\ny = " + parens(MAX_BRACKETS + 1) + "\n", (2, "too many nested parentheses")),
    ("x = " + "[" * 300 + "]" * 300, (1, "too many nested parentheses")),
    # f-strings reusing their quote (PEP 701), as libcst parses them on every version
    ("x = " + "f'{" * MAX_FSTRINGS + "1" + "}'" * MAX_FSTRINGS + "\n", None),
    ("x = " + "f'{" * (MAX_FSTRINGS + 1) + "1" + "}'" * (MAX_FSTRINGS + 1) + "\n",
     (1, "too many nested f-strings")),
    # code in a replacement field that older tokenizers take for part of a string
    ("x = f'{'a' + g(" + parens(300) + ")}'\n", (1, "too many nested parentheses")),
    ("x = f'''{\n" + parens(300) + "}'''\n", (2, "too many nested parentheses")),
    # format specs: literal text with nested fields
    ("x = f'{a:{" + parens(300) + "}}'\n", (1, "too many nested parentheses")),
    ("x = " + "f'{a!r:>{w}} {b:%H:%M} {c:=^10}' + " * 300 + "''\n", None),
])
def test_nesting_is_measured_in_code_and_fields(text, expected):
    assert nesting_problem(text) == expected


@pytest.mark.parametrize("text", [
    "x = '" + "(" * 300 + "'\n",
    "x = \"" + "[\\\"" * 300 + "\"\n",
    "x = '''\n" + "{" * 300 + "\n'''\n",
    'x = r"""' + "(\\" * 300 + '"""\n',
    "x = b'" + "(" * 300 + "'\n",
    "# " + "(" * 300 + "\n",
    "x = f'" + "{{" * 300 + "'\n",  # escaped braces
    "x = f'{y}" + "(" * 300 + "'\n",  # literal text of an f-string
    "x = '" + "(" * 300 + "\ny = 1\n",  # unterminated: ends at the line's end
    "x = '" + "(" * 300 + "\\",  # unterminated, and a lone backslash ends the file
    "x = '''" + "(" * 300 + "\\",
    "x = (1)\n" * 10_000,
    "if x:\n    pass\nelif'{" + "(" * 300 + "':\n    pass\n",  # a keyword, not a prefix
    "x = rb'" + "(" * 300 + "' + Rb'" + "[" * 300 + "'\n",
])
def test_strings_comments_and_balanced_brackets_do_not_nest(text):
    assert nesting_problem(text) is None
