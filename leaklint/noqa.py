"""`# noqa` handling, flake8-compatible: bare, or with codes/prefixes, on any line of the
statement holding the finding; and the file-level `# leaklint: noqa` / `# flake8: noqa`."""
from __future__ import annotations

import re
from typing import Optional, Sequence, Tuple

from leaklint.finding import Finding

# Same shape as flake8's (after the "#"): "noqa", "noqa: X1,X2", "NOQA:X1 X2". The
# directives in these comments are quoted without their "#": ruff would read them.
NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z][0-9A-Z]*(?:[,\s]+[A-Z][0-9A-Z]*)*))?", re.I)
# A file-level directive: a comment alone on its line (leading whitespace allowed),
# anywhere in the file. `flake8: noqa` has flake8's own shape (exactly one space after
# `#`, `:` or `=`, nothing required after `noqa`): flake8 skips such a file whatever
# follows, codes included, so the leaklint command does too. `leaklint: noqa: CODES`
# skips only those codes, as ruff's `ruff: noqa: CODES` does. The pattern starts at
# the `#` (a literal start makes the search fast); file_noqa checks what precedes it.
FILE_NOQA = re.compile(
    r"#(?: (?P<flake8>flake8)|[^\S\r\n]*leaklint)[:=][^\S\r\n]*noqa"
    r"(?::[^\S\r\n]?(?P<codes>[A-Z][0-9A-Z]*(?:(?:,|[^\S\r\n])+[A-Z][0-9A-Z]*)*))?", re.I)


def noqa_codes(line: str):
    """None when the line has no noqa; an empty tuple for a bare noqa; else the codes."""
    if "noqa" not in line.lower():
        return None
    match = NOQA.search(line)
    if not match:
        return None
    codes = match.group("codes")
    if not codes:
        return ()
    return tuple(c.upper() for c in re.split(r"[,\s]+", codes.strip()) if c)


def is_suppressed(finding: Finding, lines: Sequence[str]) -> bool:
    first, last = finding.noqa_lines
    if not first:
        first = last = finding.line
    for number in range(max(first, 1), min(last, len(lines)) + 1):
        codes = noqa_codes(lines[number - 1])
        if codes is None:
            continue
        if codes == () or any(finding.code.startswith(c) for c in codes):
            return True
    return False


def file_noqa(text: str) -> Optional[Tuple[str, ...]]:
    """The file-level directives of `text`: None when there is none; an empty tuple when
    the whole file is to be skipped; else the codes to drop from the whole file."""
    codes: Tuple[str, ...] = ()
    found = False
    for match in FILE_NOQA.finditer(text):
        line_start = max(text.rfind("\n", 0, match.start()), text.rfind("\r", 0, match.start())) + 1
        if text[line_start:match.start()].strip():
            continue  # after code on the same line: not a file-level directive (flake8 agrees)
        if match.group("flake8") or not match.group("codes"):
            return ()
        found = True
        codes += tuple(c.upper() for c in re.split(r"[,\s]+", match.group("codes").strip()) if c)
    return codes if found else None
