"""How deeply brackets and f-strings nest, measured without CPython's parser.

libcst's native parser recurses once per bracket or f-string level and overflows its
stack past about 1,100 levels, which kills the process. CPython's parser refuses such
nesting first ("too many nested parentheses" at 200 levels, "too many nested f-strings"
at 150 from 3.12), so the engine's parse guard normally protects libcst. But when CPython
stops at an ordinary syntax error it has not looked at the rest of the file, and libcst,
which accepts newer syntax than older interpreters (PEP 701 f-strings reusing their quote,
on 3.9 to 3.11), may go on to parse it. `nesting_problem` scans the text as libcst reads
it and applies CPython's own limits, so every interpreter skips the same files.
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

MAX_BRACKETS = 200  # CPython's tokenizer (MAXLEVEL), every supported version
MAX_FSTRINGS = 150  # CPython 3.12+ (MAXFSTRINGLEVEL)

# In code: what can change the nesting. A string's prefix is the word right before its quote.
_CODE = re.compile(r"""(?P<comment>\#[^\r\n]*)
                     | (?P<prefix>\w*)(?P<quote>'''|\"\"\"|'|")
                     | (?P<open>[(\[{])
                     | (?P<close>[)\]}])
                     | (?P<colon>:(?!=))""", re.VERBOSE)
# In the literal part of an f-string or of a format spec. A backslash escapes a quote but
# not a brace (`f'\{x}'` still has a replacement field).
_LITERAL = re.compile(r"""\{\{|\}\}|\\[^{}]|\{|\}|'''|\"\"\"|'|"|\n""", re.DOTALL)
_STRING_END = {  # the rest of a plain string; a newline ends an unterminated one-line string
    "'''": re.compile(r"(?:\\.|[^\\])*?(?:'''|$)", re.DOTALL),
    '"""': re.compile(r'(?:\\.|[^\\])*?(?:"""|$)', re.DOTALL),
    "'": re.compile(r"(?:\\.|[^\\\n'])*(?:'|\n|$)", re.DOTALL),
    '"': re.compile(r'(?:\\.|[^\\\n"])*(?:"|\n|$)', re.DOTALL),
}
_FSTRING_PREFIXES = {"f", "rf", "fr"}  # any other word before a quote (`elif'x'`) is not one
_OPENER = {")": "(", "]": "[", "}": "{"}
# Stack entries: a bracket character, or one of these.
_FIELD = "field"  # `{` of a replacement field: code again, until its `}`
_SPEC = "spec"  # format spec after `:` in a replacement field: literal text, until `}`


def nesting_problem(text: str) -> Optional[Tuple[int, str]]:
    """(line, CPython's message) where brackets or f-strings first nest deeper than
    CPython allows; None when they never do. Unbalanced or unterminated input is scanned
    as far as it makes sense: this only bounds nesting, the parsers report the errors."""
    stack: List[object] = []  # brackets, fields, specs, and (quote,) for an f-string
    brackets = fstrings = 0
    position = 0
    while True:
        if brackets > MAX_BRACKETS:
            return _line(text, position), "too many nested parentheses"
        if fstrings > MAX_FSTRINGS:
            return _line(text, position), "too many nested f-strings"
        top = stack[-1] if stack else None
        if isinstance(top, tuple) or top == _SPEC:  # literal text
            match = _LITERAL.search(text, position)
            if match is None:
                return None
            position = match.end()
            token = match.group()
            if token == "{":
                stack.append(_FIELD)
                brackets += 1
            elif token == "}" and top == _SPEC:
                stack.pop()  # the spec and its field end together
                stack.pop()
                brackets -= 1
            elif isinstance(top, tuple) and (token == top[0] or (token == "\n" and len(top[0]) == 1)):
                stack.pop()  # the f-string ends (a newline ends an unterminated one)
                fstrings -= 1
            continue
        match = _CODE.search(text, position)
        if match is None:
            return None
        position = match.end()
        if match.group("quote"):
            quote = match.group("quote")
            if match.group("prefix").lower() in _FSTRING_PREFIXES:
                stack.append((quote,))
                fstrings += 1
            else:
                end = _STRING_END[quote].match(text, position)
                # No match: the file ends in a lone backslash inside the string.
                position = end.end() if end is not None else len(text)
        elif match.group("open"):
            stack.append(match.group("open"))
            brackets += 1
        elif match.group("close"):
            if top == _OPENER[match.group()] or (top == _FIELD and match.group() == "}"):
                stack.pop()
                brackets -= 1
        elif match.group("colon") and top == _FIELD:
            stack.append(_SPEC)


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1
