"""Tool-level codes (LKL0xx): problems with a file or with leaklint itself, not leaks.

They are not rules (nothing to select or configure in a rule module), but they are public
codes: documented in docs/rules.md from the entries here and suppressible with --ignore.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ToolCode:
    code: str
    name: str
    summary: str
    what_it_does: str
    why_bad: str
    example: str
    use_instead: str


INTERNAL_ERROR = ToolCode(
    "LKL000",
    "internal-error",
    "A rule raised an exception on this file.",
    "Reported when one of leaklint's own rules fails on a file. The other rules and "
    "files still run; the run exits with status 2.",
    "It is a bug in leaklint, and the file was not fully checked.",
    "leaklint: path.py:1:1: LKL000 internal error in LKL101 ...",
    "Run again with `--verbose` to see the traceback and report it.",
)
SYNTAX_ERROR = ToolCode(
    "LKL001",
    "syntax-error",
    "The file could not be parsed or decoded.",
    "Reported when a file is not valid Python 3 (for example Python 2 code) or its bytes "
    "cannot be decoded with its declared (PEP 263) or default UTF-8 encoding. For speed, "
    "only files containing a word some selected rule needs (`Thread`, `create_task`, "
    "`requests`, ...) are parsed, so a syntax error in a file no rule has a reason to read "
    "is not reported: leaklint is not a syntax checker.",
    "leaklint cannot check a file it cannot read, and a broken file is usually a mistake.",
    "print 'hello'",
    "print('hello')",
)
UNREADABLE_FILE = ToolCode(
    "LKL002",
    "unreadable-file",
    "The file or folder could not be read.",
    "Reported for a path that does not exist or vanished, a permission error, a broken "
    "symlink or a symlink loop, or something that is not a regular file (a FIFO, a "
    "device, a socket: never read, it could block or never end), whether named on the "
    "command line or met while collecting or reading files.",
    "The file was not checked; a leak in it would go unseen.",
    "chmod 000 secret.py",
    "Make the file readable, or exclude it with `--exclude`.",
)
FILE_SKIPPED = ToolCode(
    "LKL003",
    "file-skipped",
    "The file is too large or too deeply nested for the parser.",
    "Reported when a file exceeds the size limits (`max-file-bytes`, by default 1,000,000 "
    "bytes, and `max-file-tokens`, by default 200,000 words, punctuation marks and line "
    "breaks, which keeps the memory needed to lint one file under 1 GB), when the parser "
    "runs out of stack on deeply nested code, or when linting the file runs out of memory "
    "or kills the process linting it. The run goes on with the other files.",
    "The file was not checked.",
    "x = ((((((((((...1000 levels...))))))))))",
    "Exclude generated files with `--exclude`. To check a bigger file, raise the limits "
    "where memory allows (up to 4 kB per token).",
)

TOOL_CODES = {c.code: c for c in (INTERNAL_ERROR, SYNTAX_ERROR, UNREADABLE_FILE, FILE_SKIPPED)}
