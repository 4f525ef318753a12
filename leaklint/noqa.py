"""`# noqa` handling, flake8-compatible: bare, or with codes/prefixes, on any line of the
statement holding the finding."""
from __future__ import annotations

import re
from typing import Sequence

from leaklint.finding import Finding

# Same shape as flake8's: "# noqa", "# noqa: X1,X2", "# NOQA:X1 X2".
NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z][0-9A-Z]*(?:[,\s]+[A-Z][0-9A-Z]*)*))?", re.I)


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
