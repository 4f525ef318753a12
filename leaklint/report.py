"""Output formats: turn findings into text, JSON, SARIF 2.1.0 or GitHub Actions annotations.

`render` is the one entry point. Every format returns the whole output as one string that
ends with a newline (or is empty: text and github output for no findings), ready to be
written as it is.
"""
from __future__ import annotations

import json
import os
import re
from typing import Callable, Dict, List, Optional

import leaklint
from leaklint.diagnostics import INTERNAL_ERROR, SYNTAX_ERROR, TOOL_CODES
from leaklint.finding import Finding
from leaklint.source import DecodeError, decode_source

FORMATS = ("text", "json", "sarif", "github")

PROJECT_URL = "https://github.com/leaklint/leaklint"
RULES_DOC_URL = f"{PROJECT_URL}/blob/main/docs/rules.md"
SARIF_SCHEMA_URL = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_FINGERPRINT_KEY = "leaklint/v1"
# A result's property (with the tag "test") when the finding is in a test file.
SARIF_TEST_CODE_PROPERTY = "leaklint/testCode"
SOURCE_ROOT_ID = "%SRCROOT%"

# Problems with leaklint itself or with a file it cannot parse are errors; every other
# code (leaks, unreadable or skipped files) is a warning.
ERROR_CODES = frozenset({INTERNAL_ERROR.code, SYNTAX_ERROR.code})

LineReader = Callable[[str], List[str]]


def render(
    findings: List[Finding],
    fmt: str,
    *,
    rules=None,
    show_source: bool = False,
    show_fixes: bool = False,
    read_lines: Optional[LineReader] = None,
) -> str:
    """The findings in format `fmt` (one of FORMATS), in the order given.

    `rules` (rule classes or anything with the same attributes) feed the SARIF rule
    metadata; they default to every registered rule, and the tool codes (LKL0xx) are
    always added. `show_source`, `show_fixes` and `read_lines` only affect the text
    format (the other formats always carry the fix in a field of its own).
    """
    if fmt == "text":
        return render_text(findings, show_source=show_source, show_fixes=show_fixes,
                           read_lines=read_lines)
    if fmt == "json":
        return render_json(findings)
    if fmt == "sarif":
        return render_sarif(findings, rules=rules)
    if fmt == "github":
        return render_github(findings)
    raise ValueError(f"unknown output format {fmt!r} (choose from {', '.join(FORMATS)})")


def level_of(code: str) -> str:
    return "error" if code in ERROR_CODES else "warning"


def finding_level(finding: Finding) -> str:
    """A warning in a test file is a SARIF "note": code scanning then lists it below the
    findings in shipped code, and its filters can hide it (errors stay errors)."""
    level = level_of(finding.code)
    return "note" if finding.test and level == "warning" else level


# Control characters from a file's name or source (an ANSI escape or a \r in a string
# literal, shown in a message or by --show-source) would be acted on by a terminal or
# GitHub's log viewer (colours, a line overwritten) instead of shown: they are escaped in
# the text and github formats, as Python's repr escapes them. Tabs stay (the caret
# under a source line copies them); JSON and SARIF escape them by JSON's own rules.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
# The same but line breaks, for GitHub messages (which %-encode those instead).
CONTROL_CHARACTERS_BUT_LINE_BREAKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ESCAPES = {"\n": "\\n", "\r": "\\r"}


def escape_control(text: str, characters: "re.Pattern[str]" = CONTROL_CHARACTERS) -> str:
    """`text` with each of `characters` as `\\n`, `\\r` or `\\xNN`."""
    return characters.sub(lambda match: _ESCAPES.get(match.group(), f"\\x{ord(match.group()):02x}"), text)


# -- text ---------------------------------------------------------------------------------
HELP_PREFIX = "  help: "


def render_text(
    findings: List[Finding], *, show_source: bool = False, show_fixes: bool = False,
    read_lines: Optional[LineReader] = None
) -> str:
    """`path:line:col: CODE message`, one finding a line; with `show_source`, each finding
    is followed by its source line and a caret under the column (as flake8 does); with
    `show_source` or `show_fixes`, then by its fix on a `  help: ` line (as ruff's full
    output shows it). The message says what leaks; how to fix it is kept apart."""
    read_lines = read_lines or read_source_lines
    lines_by_path = {}
    out = []
    for finding in findings:
        out.append(f"{escape_control(finding.path)}:{finding.line}:{finding.column}: {finding.code} "
                   f"{escape_control(finding.message)}")
        if show_source:
            if finding.path not in lines_by_path:
                lines_by_path[finding.path] = read_lines(finding.path)
            source_lines = lines_by_path[finding.path]
            if 1 <= finding.line <= len(source_lines):
                source_line = source_lines[finding.line - 1].rstrip("\r\n")
                out.append(escape_control(source_line))
                out.append(caret_line(source_line, finding.column))
        if (show_source or show_fixes) and finding.fix:
            out.append(HELP_PREFIX + escape_control(finding.fix))
    return "".join(line + "\n" for line in out)


def caret_line(source_line: str, column: int) -> str:
    """A `^` under 1-based code-point `column` of `source_line` as printed (its control
    characters escaped). Whitespace before it is copied (tabs stay tabs, so the caret lines
    up however wide the terminal draws a tab); every other character becomes a space."""
    prefix = escape_control(source_line[: max(column - 1, 0)].ljust(max(column - 1, 0)))
    return "".join(ch if ch.isspace() else " " for ch in prefix) + "^"


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_source_lines(path: str) -> List[str]:
    """The lines of a source file as the parser counts them (\\n, \\r\\n or \\r end a line;
    form feeds do not), decoded as Python source; [] when the file cannot be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (OSError, ValueError):
        return []
    return source_lines(data)


def source_lines(data: bytes) -> List[str]:
    """`data` (a file's bytes) split into lines as the parser counts them."""
    try:
        text = decode_source(data)
    except DecodeError:
        text = data.decode("utf-8", errors="replace")
    return _LINE_BREAK.split(text)


# -- json ---------------------------------------------------------------------------------
def render_json(findings: List[Finding]) -> str:
    """A JSON list of `Finding.as_dict()`; `findings_from_json` reads it back."""
    return json.dumps([finding.as_dict() for finding in findings], indent=2) + "\n"


def findings_from_json(text: str) -> List[Finding]:
    return [Finding.from_dict(item) for item in json.loads(text)]


# -- sarif --------------------------------------------------------------------------------
def render_sarif(findings: List[Finding], *, rules=None) -> str:
    """A SARIF 2.1.0 log with one run. Every known rule is listed (so a rule's index does
    not depend on what was found), plus any code a finding has that no rule describes."""
    catalog = _rule_catalog(rules)
    for code in sorted({f.code for f in findings} - {entry.code for entry in catalog}):
        catalog.append(_UnknownCode(code))
    index_of = {entry.code: position for position, entry in enumerate(catalog)}
    log = {
        "$schema": SARIF_SCHEMA_URL,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "leaklint",
                        "version": leaklint.__version__,
                        "informationUri": PROJECT_URL,
                        "rules": [_sarif_rule(entry) for entry in catalog],
                    }
                },
                # Columns are counted in code points, as Python (and libcst) count them.
                "columnKind": "unicodeCodePoints",
                "results": [_sarif_result(f, index_of[f.code]) for f in findings],
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def rule_help_uri(code: str, name: str = "") -> str:
    """The rule's section in docs/rules.md. Its heading `### LKL101: thread-not-joined`
    gets GitHub's anchor `lkl101-thread-not-joined`."""
    anchor = f"{code}-{name}" if name else code
    return f"{RULES_DOC_URL}#{anchor.lower()}"


class _UnknownCode:
    """Stands in for a rule when a finding's code is not in the catalog."""

    def __init__(self, code: str):
        self.code = code
        self.name = ""
        self.summary = code
        self.what_it_does = self.why_bad = self.example = self.use_instead = ""


def _rule_catalog(rules) -> list:
    """Rules and tool codes, one per code, sorted by code."""
    if rules is None:
        from leaklint.registry import all_rules

        rules = all_rules()
    by_code: Dict[str, object] = {}
    for entry in list(TOOL_CODES.values()) + list(rules):
        by_code.setdefault(entry.code, entry)
    return [by_code[code] for code in sorted(by_code)]


def _sarif_rule(rule) -> dict:
    summary = rule.summary or rule.name or rule.code
    return {
        "id": rule.code,
        "name": rule.name or rule.code,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": rule.what_it_does or summary},
        "help": {"text": _help_text(rule), "markdown": _help_markdown(rule)},
        "helpUri": rule_help_uri(rule.code, rule.name),
        "defaultConfiguration": {"level": level_of(rule.code)},
    }


def _help_sections(rule) -> list:
    """(title, body, is_code) for each documented section of a rule."""
    sections = [
        ("What it does", rule.what_it_does, False),
        ("Why is this bad?", rule.why_bad, False),
        ("Example", rule.example, True),
        ("Use instead", rule.use_instead, True),
    ]
    return [(title, body.strip("\n"), is_code) for title, body, is_code in sections if body.strip()]


def _help_text(rule) -> str:
    parts = [" ".join(filter(None, [rule.code, rule.name])) + (f": {rule.summary}" if rule.summary else "")]
    for title, body, _ in _help_sections(rule):
        parts.append(f"{title}\n{body}")
    parts.append(f"See {rule_help_uri(rule.code, rule.name)}")
    return "\n\n".join(parts)


def _help_markdown(rule) -> str:
    title = f"**{rule.code}**" + (f" `{rule.name}`" if rule.name else "")
    parts = [title + (f": {rule.summary}" if rule.summary else "")]
    # A rule's examples are Python; a tool code's are a mix of Python, shell and output.
    language = "" if rule.code in TOOL_CODES else "python"
    for title, body, is_code in _help_sections(rule):
        if is_code:
            body = f"```{language}\n{body}\n```"
        parts.append(f"## {title}\n\n{body}")
    parts.append(f"[Documentation]({rule_help_uri(rule.code, rule.name)})")
    return "\n\n".join(parts)


def _sarif_result(finding: Finding, rule_index: int) -> dict:
    region = {"startLine": max(finding.line, 1), "startColumn": max(finding.column, 1)}
    if (finding.end_line, finding.end_column) > (finding.line, finding.column):
        region["endLine"] = finding.end_line
        region["endColumn"] = max(finding.end_column, 1)
    result = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": finding_level(finding),
        "message": {"text": finding.message},
        "locations": [
            {"physicalLocation": {"artifactLocation": artifact_location(finding.path), "region": region}}
        ],
    }
    if finding.fingerprint:
        result["partialFingerprints"] = {SARIF_FINGERPRINT_KEY: finding.fingerprint}
    properties: Dict[str, object] = {}
    if finding.fix:
        # SARIF's own `fixes` must carry a concrete edit (artifactChanges); leaklint's fix
        # is advice in words, so it travels as a result property (the rule's `help` has
        # the long form with an example).
        properties["fix"] = finding.fix
    if finding.test:
        properties.update({"tags": ["test"], SARIF_TEST_CODE_PROPERTY: True})
    if properties:
        result["properties"] = properties
    return result


def artifact_location(path: str) -> dict:
    """A SARIF artifactLocation: a relative path becomes a URI relative to %SRCROOT%, an
    absolute one a file: URI."""
    # Imported here: only SARIF needs them, and a warm run's start-up is most of its time.
    from pathlib import PurePath
    from urllib.parse import quote

    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": pure.as_uri()}
    # fsencode: a file name's undecodable bytes (lone surrogates here) are percent-encoded
    # as the bytes they were.
    return {"uri": quote(os.fsencode(pure.as_posix()), safe="/"), "uriBaseId": SOURCE_ROOT_ID}


# -- github -------------------------------------------------------------------------------
def render_github(findings: List[Finding]) -> str:
    """GitHub Actions workflow commands, one annotation per finding."""
    return "".join(github_annotation(finding) + "\n" for finding in findings)


def github_annotation(finding: Finding) -> str:
    properties = [("file", finding.path), ("line", finding.line), ("col", finding.column)]
    # GitHub takes a column range only within one line.
    if finding.end_line == finding.line and finding.end_column > finding.column:
        properties += [("endLine", finding.end_line), ("endColumn", finding.end_column)]
    properties.append(("title", f"{finding.code} {finding.name}".rstrip()))
    rendered = ",".join(f"{key}={escape_github_property(str(value))}" for key, value in properties)
    # GitHub's levels are notice, warning and error: SARIF's "note" is a "notice".
    level = finding_level(finding).replace("note", "notice")
    return f"::{level} {rendered}::{escape_github_data(finding.message)}"


def escape_github_data(text: str) -> str:
    """Escape a workflow command's message, as @actions/core does (%, \\r, \\n), and the
    other control characters as `\\xNN` (see CONTROL_CHARACTERS)."""
    text = escape_control(text, CONTROL_CHARACTERS_BUT_LINE_BREAKS)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_github_property(text: str) -> str:
    """Escape a workflow command's property value, as @actions/core does."""
    return escape_github_data(text).replace(":", "%3A").replace(",", "%2C")
