"""Leak reports, goleak style, and the static cross-check: is the line that created the
leak one `leaklint` flags? The linter is imported here, and this module is only
imported when there is something to report."""
from __future__ import annotations

import functools
import os
from typing import List, Tuple

from leaklint.runtime import RULES, Frame, Leak

# Frames of the test runner and of this package are noise in a leak's stacks.
_RUNNER_PARTS = (f"{os.sep}_pytest{os.sep}", f"{os.sep}pluggy{os.sep}")
_OUR_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def render(leaks: List[Leak], static_check: bool = True, header: str = "") -> str:
    count = f"{len(leaks)} leak{'s' if len(leaks) != 1 else ''}"
    lines = [header or f"leaklint: found {count}: alive now and not before"]
    for number, leak in enumerate(leaks, 1):
        static, code = static_verdict(leak) if static_check else ("", "")
        # the rule that flags it statically if one does (LKL202 rather than LKL201)
        code, name = next((rule for rule in RULES[leak.kind] if rule[0] == code), leak.rule)
        lines.append(f"[{number}] {leak.what}: {leak.state}")
        lines.append(f"    rule: {code} {name}" + (f"; {static}" if static else ""))
        lines.extend(_stack("created at", leak.created,
                            "unknown (created before leaklint's runtime check was active)"))
        if leak.current is not None:
            lines.extend(_stack("now at", leak.current, "no Python frame (not running Python code)"))
    return "\n".join(lines)


def _stack(title: str, frames: List[Frame], when_empty: str) -> List[str]:
    shown = _trim(frames)
    if not shown:
        return [f"    {title}: {when_empty}"]
    out = [f"    {title} (most recent call last):"]
    for frame in reversed(shown):
        out.extend("  " + line for line in frame.render().splitlines())
    return out


def _trim(frames: List[Frame]) -> List[Frame]:
    """Innermost first: drop our own wrappers, stop at the test runner's frames."""
    kept: List[Frame] = []
    for frame in frames:
        if frame.filename.startswith(_OUR_DIR):
            continue
        if any(part in frame.filename for part in _RUNNER_PARTS):
            if kept:
                break
            continue
        kept.append(frame)
    while len(kept) > 1 and os.path.basename(kept[-1].filename) == "threading.py":
        kept.pop()  # Thread._bootstrap, _bootstrap_inner, run: how every thread starts
    return kept


# --- the static cross-check -----------------------------------------------------------

def static_verdict(leak: Leak) -> Tuple[str, str]:
    """(what to say, the code of the finding that reports it statically or "")."""
    frame = leak.creating_frame
    if frame is None:
        return "static check: creating line unknown", ""
    path = frame.filename
    codes = [code for code, _ in RULES[leak.kind]]
    try:
        findings = _findings(path, os.stat(path).st_mtime_ns)
    except OSError:
        return f"static check: cannot read {path}", ""
    except Exception as error:  # the report must come out whatever the linter does
        return f"static check failed: {error!r}", ""
    shown = _relative(path)
    relevant = [f for f in findings if f.code in codes]
    for finding in relevant:
        if finding.line <= frame.lineno <= max(finding.line, finding.end_line):
            return (f"leaklint reports it statically: {shown}:{finding.line}:{finding.column} "
                    f"{finding.code}", finding.code)
    span = leak.created_span
    if span is not None:
        for finding in relevant:
            if span[0] <= finding.line <= span[1]:
                return (f"leaklint reports it statically in the creating function: "
                        f"{shown}:{finding.line}:{finding.column} {finding.code}", finding.code)
        where = f"in {frame.function}, lines {span[0]}-{span[1]} of {shown}"
    else:
        where = f"on {shown}:{frame.lineno}"
    return f"leaklint does not report it statically (no {'/'.join(codes)} {where})", ""


def _relative(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


@functools.lru_cache(maxsize=32)
def _findings(path: str, mtime_ns: int) -> Tuple:
    from leaklint import registry
    from leaklint.engine import Linter

    wanted = {code for rules in RULES.values() for code, _ in rules}
    linter = Linter([rule() for rule in registry.all_rules() if rule.code in wanted])
    with open(path, "rb") as source:
        return tuple(linter.lint_bytes(source.read(), path))
