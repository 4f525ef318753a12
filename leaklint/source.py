"""Source files before parsing: the default size limits and decoding (see leaklint.engine).
Their own module: the command line needs them on runs that never import the engine (and
libcst), the reports to show the flagged lines."""
from __future__ import annotations

import io
import tokenize

# Parsing keeps the whole libcst tree in memory: 1.6-4 kB per token (the words,
# punctuation and line breaks `leaklint.screen._TOKEN` counts) whatever the code looks like, while per
# byte it ranges from 0.07 (long strings) to 4 MB per MB (`a` on every line). The token
# limit is what bounds memory, to under 1 GB for one file within it; the byte limit
# bounds reading, decoding and counting. The figures: notes/robustness.md, "Memory".
DEFAULT_MAX_FILE_BYTES = 1_000_000
DEFAULT_MAX_FILE_TOKENS = 200_000


class DecodeError(Exception):
    """The bytes of a file cannot be decoded (bad cookie, invalid UTF-8, NUL bytes)."""


def decode_source(data: bytes) -> str:
    """Decode Python source bytes as the interpreter would: BOM, PEP 263 cookie, UTF-8."""
    if b"\x00" in data:
        raise DecodeError("file contains NUL bytes (binary file?)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        raise DecodeError(str(error)) from None
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        raise DecodeError(f"cannot decode as {encoding}: {error}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text
