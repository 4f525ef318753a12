"""Baselines: record today's findings so that only new ones are reported.

A baseline entry is (path, code, fingerprint). The fingerprint comes from the engine: the
rule code, the enclosing def/class path and the flagged code's text, never the line, so
an entry keeps matching when lines are inserted above it or unrelated code is renamed.
Matching is by multiset: two identical leaks in one function need two entries, and a
third one is reported.

Tool-level findings (LKL0xx: internal errors, syntax errors, unreadable or skipped files)
are about the run rather than the code; they are never written to a baseline and never
suppressed by one. Nor are findings without a fingerprint, which could not be matched
reliably.

The file is JSON with a version field and one entry per finding, sorted, so that a diff
of a regenerated baseline shows exactly what changed:

    {
      "version": 2,
      "entries": [
        {"path": "pkg/mod.py", "code": "LKL101", "fingerprint": "0123abcd...", "message": "..."}
      ]
    }

`path` is relative to the baseline file's folder (POSIX separators), whatever folder
leaklint runs in and however the paths were typed (`../pkg/mod.py`, absolute): a
finding's path is made absolute, then relative to that folder, before it is compared.
Version 1 files stored the paths as the findings had them, relative to the folder
leaklint ran in; they are still read that way (from the current folder).

`message` is for people reading the file; matching ignores it.
"""
from __future__ import annotations

import json
import os
import posixpath
from collections import Counter
from pathlib import PurePath
from typing import Iterable, List, Optional, Tuple

from leaklint.diagnostics import TOOL_CODES
from leaklint.finding import Finding
from leaklint.outputs import write_atomically

BASELINE_VERSION = 2
CWD_RELATIVE_VERSION = 1  # still read: paths relative to the current folder


class BaselineError(Exception):
    """The baseline file cannot be read or written, or is not a leaklint baseline."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def baseline_folder(baseline: str) -> str:
    return os.path.dirname(os.path.abspath(baseline))


def baseline_path_of(path: str, folder: str) -> str:
    """A finding's path (relative to the current folder, or absolute) as a baseline in
    `folder` stores it: relative to `folder`, POSIX separators, no `./`, no `a//b`."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, folder)
    except ValueError:  # on another drive (Windows): no relative path exists
        relative = absolute
    return PurePath(relative).as_posix()


def entry_key(finding: Finding, folder: str) -> Tuple[str, str, str]:
    return (baseline_path_of(finding.path, folder), finding.code, finding.fingerprint)


def is_baselinable(finding: Finding) -> bool:
    return bool(finding.fingerprint) and finding.code not in TOOL_CODES


def write_baseline(path: str, findings: List[Finding]) -> int:
    """Write the baseline for `findings` to `path` (replacing it in one step); return how
    many entries it holds."""
    folder = baseline_folder(path)
    entries = sorted(
        (
            {
                "path": baseline_path_of(f.path, folder),
                "code": f.code,
                "fingerprint": f.fingerprint,
                "message": f.message,
            }
            for f in findings
            if is_baselinable(f)
        ),
        key=lambda e: (e["path"], e["code"], e["fingerprint"], e["message"]),
    )
    text = json.dumps({"version": BASELINE_VERSION, "entries": entries}, indent=2) + "\n"
    _write_text(path, text)
    return len(entries)


def apply_baseline(path: str, findings: List[Finding],
                   checked_paths: Optional[Iterable[str]] = None) -> Tuple[List[Finding], int]:
    """(the findings the baseline at `path` does not cover, in their order; the number of
    baseline entries that matched no finding: fixed since, so the baseline can shrink).

    With `checked_paths`, only entries for those files count as stale: a run over part of
    the tree says nothing about the entries of files it did not look at.
    """
    folder = baseline_folder(path)
    remaining = Counter(read_baseline(path))
    reported = []
    for finding in findings:
        key = entry_key(finding, folder)
        if is_baselinable(finding) and remaining[key] > 0:
            remaining[key] -= 1
        else:
            reported.append(finding)
    if checked_paths is not None:
        checked = {baseline_path_of(p, folder) for p in checked_paths}
        return reported, sum(n for (entry_path, _, _), n in remaining.items() if entry_path in checked)
    return reported, sum(remaining.values())


def read_baseline(path: str) -> List[Tuple[str, str, str]]:
    """The (path relative to the baseline's folder, code, fingerprint) of every entry,
    repeated ones repeated."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise BaselineError(f"baseline file {path} does not exist") from None
    except OSError as error:
        raise BaselineError(f"cannot read baseline file {path}: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError is a ValueError
        raise BaselineError(f"baseline file {path} is not valid JSON: {error}") from None

    def malformed(why: str) -> BaselineError:
        return BaselineError(f"baseline file {path} is malformed: {why}")

    if not isinstance(data, dict) or "version" not in data:
        raise malformed("expected a JSON object with a 'version' field")
    version = data["version"]
    if version not in (BASELINE_VERSION, CWD_RELATIVE_VERSION) or isinstance(version, bool):
        raise malformed(f"unsupported version {version!r} (this leaklint reads versions "
                        f"{CWD_RELATIVE_VERSION} and {BASELINE_VERSION})")
    entries = data.get("entries")
    if not isinstance(entries, list):
        raise malformed("'entries' must be a list")
    keys = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(field), str) and entry.get(field) for field in ("path", "code", "fingerprint")
        ):
            raise malformed(f"entry {number} needs non-empty string fields 'path', 'code' and 'fingerprint'")
        if version == CWD_RELATIVE_VERSION:
            entry_path = baseline_path_of(entry["path"], baseline_folder(path))
        else:
            entry_path = posixpath.normpath(PurePath(entry["path"]).as_posix())
        keys.append((entry_path, entry["code"], entry["fingerprint"]))
    return keys


def _write_text(path: str, text: str) -> None:
    try:
        write_atomically(path, text)
    except OSError as error:
        raise BaselineError(f"cannot write baseline file {path}: {error.strerror or error}") from None
