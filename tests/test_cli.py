"""The `leaklint` command end to end (in-process through `main`, and once as `python -m`)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import leaklint
from leaklint.discovery import DEFAULT_EXCLUDES
from leaklint.testcode import DEFAULT_TEST_FILES

ROOT = Path(__file__).resolve().parent.parent
LEAKY = "import threading\n\ndef f():\n    threading.Thread(target=print).start()\n"
CLEAN = "import threading\n\ndef f():\n    t = threading.Thread(target=print)\n    t.start()\n    t.join()\n"
LEAK_AT = "4:5: LKL101"


def write(folder: Path, files: dict) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def codes_by_path(out: str) -> set:
    """{(path, code)} from `path:line:col: CODE message` lines."""
    found = set()
    for line in out.splitlines():
        path, _, _, rest = line.split(":", 3)
        found.add((path, rest.split()[0]))
    return found


# -- exit codes -------------------------------------------------------------------------------
def test_findings_exit_1_and_are_printed_sorted(run_cli, tmp_path):
    write(tmp_path, {"b.py": LEAKY, "a.py": LEAKY, "pkg/c.py": LEAKY, "ok.py": CLEAN})
    result = run_cli()
    assert result.code == 1
    assert [line.split(" ")[0] for line in result.out.splitlines()] == [
        "a.py:4:5:", "b.py:4:5:", "pkg/c.py:4:5:"]
    assert "never joined" in result.out


def test_clean_exits_0(run_cli, tmp_path):
    write(tmp_path, {"ok.py": CLEAN})
    result = run_cli()
    assert (result.code, result.out) == (0, "")


def test_no_python_files_warns_and_exits_0(run_cli, tmp_path):
    write(tmp_path, {"README": "hello"})
    result = run_cli()
    assert result.code == 0 and "no Python files" in result.err


def test_a_missing_path_is_lkl002_and_the_others_are_linted(run_cli, tmp_path):
    # As in flake8 and ruff: one typo (or a file deleted since) does not hide the rest.
    write(tmp_path, {"a.py": LEAKY, "ok.py": CLEAN})
    result = run_cli("ok.py", "missing.py", "a.py", "gone/")
    assert result.code == 1 and result.err == ""
    assert result.out.splitlines() == [
        f"a.py:{LEAK_AT} " + result.out.splitlines()[0].split(" ", 2)[2],
        "gone:1:1: LKL002 no such file or folder",
        "missing.py:1:1: LKL002 no such file or folder",
    ]
    result = run_cli("missing.py", "ok.py")
    assert result.code == 1 and result.out == "missing.py:1:1: LKL002 no such file or folder\n"


def test_unknown_option_is_a_usage_error(run_cli):
    assert run_cli("--no-such-option").code == 2


def test_exit_zero(run_cli, tmp_path):
    write(tmp_path, {"a.py": LEAKY})
    result = run_cli("--exit-zero")
    assert result.code == 0 and LEAK_AT in result.out


def test_internal_error_exits_2_and_verbose_shows_the_traceback(run_cli, tmp_path, fake_rules, monkeypatch):
    def broken_check(self, index):
        raise ValueError("boom")
        yield

    monkeypatch.setattr(fake_rules[-2], "check", broken_check)  # LKL901
    write(tmp_path, {"a.py": "MARK1 = 1\n"})
    result = run_cli("--exit-zero", "--no-cache")
    assert result.code == 2
    assert "a.py:1:1: LKL000 internal error in LKL901 (marker-one): ValueError: boom" in result.out
    assert "Traceback" not in result.out
    result = run_cli("-v", "--no-cache")
    assert "Traceback" in result.out and "raise ValueError" in result.out


def test_a_crash_in_leaklint_itself_exits_2_not_1(run_cli, tmp_path, monkeypatch):
    def broken_discover(*args, **kwargs):
        raise RuntimeError("discovery broke")

    monkeypatch.setattr("leaklint.cli.discover", broken_discover)
    result = run_cli()
    assert result.code == 2
    assert "Traceback" in result.err
    assert result.err.endswith("leaklint: error: internal error: RuntimeError: discovery broke\n")


# -- selecting rules ---------------------------------------------------------------------------
def test_select_ignore_extend_select_by_code_and_prefix(run_cli, tmp_path, fake_rules):
    write(tmp_path, {"a.py": "MARK1 = 1\nMARK2 = 2\nMARK3 = 3\n"})

    def codes(*args):
        result = run_cli("--no-cache", *args)
        assert result.code in (0, 1), result.err
        return sorted(code for _, code in codes_by_path(result.out))

    assert codes() == ["LKL801", "LKL901"]  # LKL902 is off by default
    assert codes("--select", "LKL") == ["LKL801", "LKL901"]
    assert codes("--select", "LKL901") == ["LKL901"]
    assert codes("--select", "LKL9") == ["LKL901", "LKL902"]  # a family prefix is specific enough
    assert codes("--select", "LKL8,LKL902") == ["LKL801", "LKL902"]
    assert codes("--select", "LKL801", "--select", "LKL901") == ["LKL801", "LKL901"]
    assert codes("--ignore", "LKL9") == ["LKL801"]
    assert codes("--ignore", "LKL801") == ["LKL901"]
    assert codes("--extend-select", "LKL902") == ["LKL801", "LKL901", "LKL902"]
    assert codes("--select", "lkl8", "--extend-select", "LKL901") == ["LKL801", "LKL901"]
    # A more specific entry wins, whichever list it is in.
    assert codes("--ignore", "LKL9", "--select", "LKL901") == ["LKL901"]
    assert codes("--select", "LKL9", "--ignore", "LKL901") == ["LKL902"]


@pytest.mark.parametrize("flag", ["--select", "--ignore", "--extend-select"])
def test_unknown_code_is_a_usage_error(run_cli, tmp_path, flag):
    write(tmp_path, {"a.py": CLEAN})
    result = run_cli(flag, "LKL1,XYZ9")
    assert result.code == 2
    assert result.err == f"leaklint: error: {flag}: unknown code or prefix 'XYZ9'\n"


def test_tool_codes_are_reported_unless_ignored(run_cli, tmp_path, fake_rules):
    write(tmp_path, {"broken.py": "MARK3 = (\n", "a.py": "MARK1 = 1\n"})
    result = run_cli("--select", "LKL8")  # no rule that flags MARK1: the syntax error stays
    assert codes_by_path(result.out) == {("broken.py", "LKL001")}
    result = run_cli("--ignore", "LKL001")
    assert codes_by_path(result.out) == {("a.py", "LKL901")}
    result = run_cli("--ignore", "LKL0")
    assert codes_by_path(result.out) == {("a.py", "LKL901")}


def test_empty_select_on_the_command_line_is_a_usage_error(run_cli, tmp_path):
    write(tmp_path, {"a.py": LEAKY})
    for value in ("", ",", " , "):
        result = run_cli("--select", value)
        assert result.code == 2
        assert result.err == ("leaklint: error: --select: select is empty, which would turn every "
                              "rule off; leave it out for the default rules, or list the ones you want\n")


def test_command_line_ignores_add_to_the_configured_ones(run_cli, tmp_path, fake_rules):
    """As in ruff: --ignore / --extend-ignore / --extend-select adjust the file's selection;
    --select starts over, setting the file's ignores aside."""
    # broken.py holds every rule's trigger word: parsed (LKL001) whatever is selected.
    write(tmp_path, {"a.py": "MARK1 = 1\nMARK2 = 2\nMARK3 = 3\n", "broken.py": "MARK1 = MARK3 = threading.Thread(\n"})

    def codes(config, *args):
        (tmp_path / "pyproject.toml").write_text(f"[tool.leaklint]\n{config}\n")
        result = run_cli("--no-cache", *args)
        assert result.code in (0, 1), result.err
        return sorted({code for _, code in codes_by_path(result.out)})

    assert codes('ignore = ["LKL801"]') == ["LKL001", "LKL901"]
    assert codes('ignore = ["LKL801"]', "--ignore", "LKL901") == ["LKL001"]
    assert codes('ignore = ["LKL801"]', "--extend-ignore", "LKL901,LKL0") == []
    assert codes('extend-ignore = ["LKL801"]', "--ignore", "LKL001") == ["LKL901"]
    # The command line applies after the file, whatever the file's entries' specificity.
    assert codes('select = ["LKL801", "LKL901"]', "--ignore", "LKL8") == ["LKL001", "LKL901"]
    assert codes('ignore = ["LKL8"]', "--extend-select", "LKL8") == ["LKL001", "LKL801", "LKL901"]
    assert codes('ignore = ["LKL801"]', "--extend-select", "LKL8") == ["LKL001", "LKL801", "LKL901"]
    # Within one source, the more specific entry wins.
    assert codes('ignore = ["LKL8"]\nextend-select = ["LKL801"]') == ["LKL001", "LKL801", "LKL901"]
    assert codes('', "--ignore", "LKL801", "--extend-select", "LKL8") == ["LKL001", "LKL901"]
    assert codes('extend-select = ["LKL902"]', "--ignore", "LKL9") == ["LKL001", "LKL801"]
    # --select replaces the file's whole selection, its ignores and extend-select included.
    assert codes('ignore = ["LKL801", "LKL0"]\nextend-select = ["LKL902"]', "--select", "LKL8") == [
        "LKL001", "LKL801"]


# -- files --------------------------------------------------------------------------------------
def test_syntax_error_is_lkl001_and_other_files_are_still_reported(run_cli, tmp_path):
    write(tmp_path, {"a.py": LEAKY, "broken.py": "import threading\nthreading.Thread(\n", "z.py": LEAKY})
    result = run_cli()
    assert result.code == 1
    assert codes_by_path(result.out) == {("a.py", "LKL101"), ("broken.py", "LKL001"), ("z.py", "LKL101")}


def test_default_excludes_and_exclude_options(run_cli, tmp_path):
    write(tmp_path, {"a.py": LEAKY, ".venv/lib/x.py": LEAKY, "build/b.py": LEAKY,
                     "pkg.egg-info/c.py": LEAKY, "gen/d.py": LEAKY, "src/gen/e.py": LEAKY})
    assert {p for p, _ in codes_by_path(run_cli().out)} == {"a.py", "gen/d.py", "src/gen/e.py"}
    # --extend-exclude adds to the defaults; a pattern with "/" is a path from here.
    result = run_cli("--extend-exclude", "src/gen")
    assert {p for p, _ in codes_by_path(result.out)} == {"a.py", "gen/d.py"}
    result = run_cli("--extend-exclude", "gen")
    assert {p for p, _ in codes_by_path(result.out)} == {"a.py"}
    # --exclude replaces the defaults.
    result = run_cli("--exclude", "gen,*.egg-info")
    assert {p for p, _ in codes_by_path(result.out)} == {"a.py", ".venv/lib/x.py", "build/b.py"}


def test_named_files_are_linted_even_if_excluded_unless_force_exclude(run_cli, tmp_path):
    write(tmp_path, {"build/b.py": LEAKY, "script": LEAKY})
    result = run_cli("build/b.py", "script")
    assert codes_by_path(result.out) == {("build/b.py", "LKL101"), ("script", "LKL101")}
    result = run_cli("--force-exclude", "build/b.py", "script")
    assert codes_by_path(result.out) == {("script", "LKL101")}


def test_noqa(run_cli, tmp_path):
    write(tmp_path, {
        "bare.py": LEAKY.replace(".start()", ".start()  # noqa"),
        "code.py": LEAKY.replace(".start()", ".start()  # noqa: LKL101"),
        "prefix.py": LEAKY.replace(".start()", ".start()  # noqa: LKL1"),
        "other.py": LEAKY.replace(".start()", ".start()  # noqa: LKL5"),
    })
    result = run_cli()
    assert codes_by_path(result.out) == {("other.py", "LKL101")}


@pytest.mark.parametrize("directive, flagged", [
    ("# leaklint: noqa", False),
    ("    # LEAKLINT:NOQA because it is vendored", False),  # indented, any case, a reason
    ("#leaklint=noqa", False),
    ("# flake8: noqa", False),  # flake8's own: flake8 skips the file, so must we
    ("# flake8: noqa: E123", False),  # flake8 ignores the codes and skips the file too
    ("# leaklint: noqa: LKL1", False),  # with codes: only those codes, in the whole file
    ("# leaklint: noqa: LKL5,LKL2", True),
    ("x = 1  # leaklint: noqa", True),  # after code: not file-level (as in flake8)
    ("x = 1  # flake8: noqa", True),
    ("#flake8: noqa", True),  # not flake8's shape: flake8 does not skip it either
])
@pytest.mark.parametrize("where", ["first", "last"])
def test_file_level_noqa(run_cli, tmp_path, directive, flagged, where):
    text = f"{directive}\n{LEAKY}" if where == "first" else f"{LEAKY}{directive}\n"
    write(tmp_path, {"a.py": text})
    result = run_cli("--no-cache")
    assert ("LKL101" in result.out) is flagged, result.out


def test_file_level_noqa_skips_syntax_errors_too(run_cli, tmp_path):
    write(tmp_path, {"broken.py": "# flake8: noqa\nimport threading\nthreading.Thread(\n",
                     "codes.py": "# leaklint: noqa: LKL1\nimport threading\nthreading.Thread(\n"})
    assert codes_by_path(run_cli("--no-cache").out) == {("codes.py", "LKL001")}


def test_stdin_with_stdin_filename(run_cli, tmp_path):
    write(tmp_path, {"x.py": CLEAN})  # the file on disk is not what is linted
    result = run_cli("-", "--stdin-filename", "x.py", stdin=LEAKY.encode())
    assert result.code == 1
    assert result.out.startswith(f"x.py:{LEAK_AT} ")
    result = run_cli("-", stdin=LEAKY.encode())
    assert result.out.startswith(f"-:{LEAK_AT} ")
    assert run_cli("-", stdin=CLEAN.encode()).code == 0


def test_per_file_ignores_apply_to_stdin_filename(run_cli, tmp_path):
    write(tmp_path, {"pyproject.toml": '[tool.leaklint.per-file-ignores]\n"tests/*" = ["LKL1"]\n'})
    assert run_cli("-", "--stdin-filename", "tests/t.py", stdin=LEAKY.encode()).code == 0
    assert run_cli("-", "--stdin-filename", "src/t.py", stdin=LEAKY.encode()).code == 1


def test_non_utf8_file_name_is_printed_escaped(run_cli, tmp_path):
    name = os.fsdecode(b"caf\xe9.py")
    try:
        (tmp_path / name).write_text(LEAKY)
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system does not take non-UTF-8 names")
    result = run_cli()
    assert result.out.startswith("caf\\xe9.py:4:5: LKL101")


def test_control_characters_are_escaped_in_text_and_github_output(run_cli, tmp_path):
    write(tmp_path, {"a.py": 'import threading\n\ndef f():\n    threading.Thread(target=fns["\x1b[2J\x9b"]).start()\n'})
    for args in (["--show-source"], ["--format", "github"]):
        out = run_cli("--no-cache", *args).out
        assert 'fns["\\x1b[2J\\x9b"]' in out
        assert "\x1b" not in out and "\x9b" not in out
    assert run_cli("--show-source").out.count('fns["\\x1b[2J\\x9b"]') == 2  # message and source line
    # The command's own diagnostics and errors name files too.
    assert run_cli("--no-cache", "missing\x1b[2J.py").out == "missing\\x1b[2J.py:1:1: LKL002 no such file or folder\n"
    result = run_cli("--config", "nope\x1b[2J.toml")
    assert result.err.startswith("leaklint: error: nope\\x1b[2J.toml: cannot read")


# -- configuration through the command line ---------------------------------------------------------
def test_command_line_overrides_configuration(run_cli, tmp_path, fake_rules):
    write(tmp_path, {"pyproject.toml": '[tool.leaklint]\nselect = ["LKL8"]\n',
                     "a.py": "MARK1 = 1\nMARK3 = 3\n"})
    assert {c for _, c in codes_by_path(run_cli().out)} == {"LKL801"}
    assert {c for _, c in codes_by_path(run_cli("--select", "LKL9").out)} == {"LKL901"}
    assert {c for _, c in codes_by_path(run_cli("--isolated").out)} == {"LKL801", "LKL901"}


def test_configuration_error_is_one_line_and_exit_2(run_cli, tmp_path):
    write(tmp_path, {"pyproject.toml": '[tool.leaklint]\nselct = ["LKL1"]\n', "a.py": CLEAN})
    result = run_cli()
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "pyproject.toml" in result.err and "selct" in result.err and "unknown key" in result.err


def test_per_file_ignores(run_cli, tmp_path, fake_rules, monkeypatch):
    write(tmp_path, {
        "pyproject.toml": '[tool.leaklint.per-file-ignores]\n"tests/*" = ["LKL9"]\n"conf*.py" = ["LKL801"]\n',
        "tests/t.py": "MARK1 = 1\nMARK3 = 3\n",
        "src/conftest.py": "MARK1 = 1\nMARK3 = 3\n",
        "src/m.py": "MARK1 = 1\n",
    })
    assert codes_by_path(run_cli().out) == {
        ("tests/t.py", "LKL801"), ("src/conftest.py", "LKL901"), ("src/m.py", "LKL901")}
    # The patterns are relative to the project root, wherever leaklint runs from.
    monkeypatch.chdir(tmp_path / "src")
    assert codes_by_path(run_cli("..").out) == {
        ("../tests/t.py", "LKL801"), ("../src/conftest.py", "LKL901"), ("../src/m.py", "LKL901")}


def test_configuration_is_found_from_the_linted_paths(run_cli, tmp_path, monkeypatch):
    """`cd elsewhere && leaklint /proj`: /proj's configuration applies, its folder is the
    project root (root-only excludes, per-file-ignores, the cache), not the current one."""
    write(tmp_path, {
        "proj/pyproject.toml": '[tool.leaklint]\nextend-exclude = ["gen"]\n'
                               '[tool.leaklint.per-file-ignores]\n"tests/*" = ["LKL1"]\n',
        "proj/a.py": LEAKY, "proj/gen/g.py": LEAKY, "proj/build/b.py": LEAKY,
        "proj/tests/t.py": LEAKY, "proj/src/build/kept.py": LEAKY,
        "elsewhere/pyproject.toml": '[tool.leaklint]\nselect = ["LKL5"]\n',
    })
    monkeypatch.chdir(tmp_path / "elsewhere")
    proj = tmp_path / "proj"
    result = run_cli(str(proj))
    assert {p for p, _ in codes_by_path(result.out)} == {f"{proj}/a.py", f"{proj}/src/build/kept.py"}
    assert (proj / ".leaklint_cache").is_dir()
    assert not (tmp_path / "elsewhere" / ".leaklint_cache").exists()
    # A file named from outside, and relative paths, find the same configuration.
    assert run_cli("../proj/tests/t.py").code == 0
    assert {p for p, _ in codes_by_path(run_cli("../proj/src", "../proj/tests").out)} == {
        "../proj/src/build/kept.py"}
    # Standard input: the configuration of the --stdin-filename's folder.
    assert run_cli("-", "--stdin-filename", f"{proj}/tests/new.py", stdin=LEAKY.encode()).code == 0
    assert run_cli("-", "--stdin-filename", "new.py", stdin=LEAKY.encode()).code == 0  # LKL5 only


def test_leaklint_toml_is_read(run_cli, tmp_path, fake_rules):
    write(tmp_path, {"leaklint.toml": 'select = ["LKL9"]\n', "a.py": "MARK1 = 1\nMARK3 = 3\n",
                     "pyproject.toml": '[tool.leaklint]\nselect = ["LKL8"]\n'})
    assert {c for _, c in codes_by_path(run_cli().out)} == {"LKL901"}


def test_rule_options_reach_the_rules(run_cli, tmp_path, fake_rules):
    write(tmp_path, {"pyproject.toml": '[tool.leaklint]\nmarker-limit = 7\nextra-markers = ["X"]\n',
                     "a.py": "MARK3 = 3\n"})
    result = run_cli()
    assert "found MARK3 extra_markers=['X'] marker-limit=7" in result.out


# -- information ---------------------------------------------------------------------------------
def test_version(run_cli):
    result = run_cli("--version")
    assert (result.code, result.out) == (0, f"leaklint {leaklint.__version__}\n")


def test_list_rules(run_cli, fake_rules):
    result = run_cli("--list-rules")
    assert result.code == 0
    lines = result.out.splitlines()
    assert [line.split()[0] for line in lines] == sorted(
        ["LKL000", "LKL001", "LKL002", "LKL003"] + [rule.code for rule in fake_rules])
    by_code = {line.split()[0]: line.split(None, 3) for line in lines}
    assert by_code["LKL001"][1:3] == ["syntax-error", "always"]
    assert by_code["LKL901"] == ["LKL901", "marker-one", "on", "Marker one."]
    assert by_code["LKL902"][2] == "off"


def test_explain(run_cli, fake_rules):
    result = run_cli("--explain", "lkl801")
    assert result.code == 0
    for text in ("LKL801 marker-three (on by default)", "What it does:", "Flags markers.",
                 "Why is this bad:", "Example:\n    MARK = 1", "Use instead:\n    pass",
                 "marker-limit (int, default: 3)", "How many markers are fine."):
        assert text in result.out
    assert "LKL002 unreadable-file" in run_cli("--explain", "LKL002").out
    result = run_cli("--explain", "LKL999")
    assert result.code == 2 and "unknown code" in result.err


def test_statistics(run_cli, tmp_path):
    write(tmp_path, {"a.py": LEAKY, "b.py": LEAKY, "broken.py": "import threading\nthreading.Thread(\n"})
    result = run_cli("--statistics")
    lines = result.out.splitlines()
    assert lines[-3:] == ["1     LKL001 syntax-error", "2     LKL101 thread-not-joined", "3     total (2 codes)"]
    assert len(lines) == 6
    write(tmp_path, {"b.py": CLEAN, "broken.py": CLEAN})
    assert run_cli("--statistics").out.splitlines()[-2:] == ["1     LKL101 thread-not-joined",
                                                           "1     total (1 code)"]


def test_verbose_reports_timing(run_cli, tmp_path):
    write(tmp_path, {"a.py": LEAKY})
    result = run_cli("-v", "-j", "1")
    assert "leaklint: 1 file (0 from the cache), 1 job, " in result.err
    write(tmp_path, {"b.py": LEAKY + "# another file\n"})
    assert "leaklint: 2 files (1 from the cache), 2 jobs, " in run_cli("-v", "-j", "2").err


def test_verbose_says_how_many_files_libcst_parsed(run_cli, tmp_path):
    # a.py is parsed; b.py names a Queue only in a comment: the prefilter lets it through,
    # the code-token gate does not (from Python 3.10 on); c.py names nothing at all.
    write(tmp_path, {"a.py": LEAKY, "b.py": "# no Queue here\nx = 1\n", "c.py": "x = 1\n"})
    gated = sys.version_info >= (3, 10)
    assert f"leaklint: parsed by libcst: {1 if gated else 2} file" in run_cli("-v", "--no-cache").err
    run_cli()  # fills the cache
    assert "leaklint: parsed by libcst: 0 files" in run_cli("-v").err  # all from the cache


def test_verbose_shows_the_effective_options_first(run_cli, tmp_path, fake_rules):
    write(tmp_path, {"pyproject.toml": '[tool.leaklint]\nselect = ["LKL8", "LKL901"]\nextend-exclude = ["gen/x"]\n'
                                       'extend-test-files = ["qa/*"]\n',
                     "src/a.py": "MARK1 = 1\n"})
    os.chdir(tmp_path / "src")
    result = run_cli("-v", "--ignore", "LKL801", "--extend-exclude", "old", "-j", "3", "--cache-dir", "c")
    lines = result.err.splitlines()
    # Patterns with a "/" are paths from the project root, one folder up.
    defaults = [f"{p} (from ..)" if "/" in p else p for p in DEFAULT_EXCLUDES]
    assert lines[:7] == [
        f"leaklint: configuration: {tmp_path / 'pyproject.toml'}",
        "leaklint: rules (1): LKL901",
        f"leaklint: exclude: {', '.join(defaults)}, gen/x (from ..), old",
        f"leaklint: test files: {', '.join(DEFAULT_TEST_FILES)}, qa/* (from ..)",
        "leaklint: held back in test files (test-ignore): LKL401, LKL402, LKL403, LKL404, "
        "LKL405, LKL406, LKL601, LKL602, LKL603, LKL604, LKL605, LKL606, LKL607",
        "leaklint: jobs: 3",
        "leaklint: cache folder: c",
    ]
    assert "leaklint: cache folder: none (--no-cache)" in run_cli("-v", "--no-cache").err
    assert "configuration" not in run_cli().err  # only with -v


def test_quiet_prints_only_the_findings(run_cli, tmp_path):
    write(tmp_path, {"a.py": LEAKY, "b.py": LEAKY})
    result = run_cli("-q", "--write-baseline", "baseline.json")  # would say "wrote 2 findings"
    assert (result.code, result.out, result.err) == (0, "", "")
    write(tmp_path, {"b.py": CLEAN, "c.py": LEAKY})
    result = run_cli("--quiet", "--baseline", "baseline.json", "--show-source", "--format", "json")
    assert result.err == ""  # neither the unmatched baseline entry nor the --show-source warning
    assert [f["path"] for f in json.loads(result.out)] == ["c.py"]
    # --statistics is asked for, errors are not chatter.
    assert run_cli("-q", "--statistics").out.splitlines()[-1] == "2     total (1 code)"
    assert run_cli("-q", "--config", "missing.toml").err.startswith("leaklint: error: missing.toml: cannot read")
    write(tmp_path, {"empty/README": ""})
    assert run_cli("empty").err != "" and run_cli("-q", "empty").err == ""
    assert run_cli("-q", "-v").code == 2  # one or the other


def test_options_that_do_nothing_are_warned_about(run_cli, tmp_path):
    write(tmp_path, {"a.py": LEAKY})
    result = run_cli("--stdin-filename", "x.py", "a.py")
    assert result.err == ("leaklint: warning: --stdin-filename is ignored: it names standard input, "
                          "and - is not among the paths\n")
    assert result.code == 1 and result.out.startswith(f"a.py:{LEAK_AT} ")  # the run goes on
    result = run_cli("--show-source", "--format", "github")
    assert result.err == ("leaklint: warning: --show-source is ignored with --format github (only the "
                          "text format shows source lines)\n")
    assert result.out.startswith("::warning file=a.py,")
    assert run_cli("--show-fixes", "--format", "json").err == (
        "leaklint: warning: --show-fixes is ignored with --format json (only the text format "
        "shows help lines; json and sarif always carry the fix)\n")
    assert run_cli("--show-source", "-", "--stdin-filename", "x.py", stdin=LEAKY.encode()).err == ""


def test_python_dash_m_leaklint(tmp_path):
    write(tmp_path, {"a.py": LEAKY})
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "leaklint", "--no-cache", "a.py"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stdout.startswith(f"a.py:{LEAK_AT} ")


# -- report formats and baselines (leaklint/report.py, leaklint/baseline.py) ---------------------
def test_formats_output_file_and_show_source(run_cli, tmp_path):
    write(tmp_path, {"a.py": LEAKY})
    result = run_cli("--format", "json", "--statistics")
    assert [(f["path"], f["line"], f["code"]) for f in json.loads(result.out)] == [("a.py", 4, "LKL101")]
    assert "1     LKL101 thread-not-joined" in result.err  # not inside the JSON
    sarif = json.loads(run_cli("--format", "sarif").out)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"][0]["ruleId"] == "LKL101"
    assert run_cli("--format", "github").out.startswith("::warning file=a.py,line=4,")
    result = run_cli("--output", "report.txt")
    assert result.code == 1 and result.out == ""
    assert (tmp_path / "report.txt").read_text().startswith(f"a.py:{LEAK_AT} ")
    lines = run_cli("--show-source").out.splitlines()
    help_line = "  help: call `join()` on it before its owner is done, or pass `daemon=True` if it may be killed at exit"
    assert lines[1:] == ["    threading.Thread(target=print).start()", "    ^", help_line]
    assert run_cli("--show-fixes").out.splitlines()[1:] == [help_line]
    assert len(run_cli().out.splitlines()) == 1  # the fix only on request
    assert run_cli("--format", "xml").code == 2


def test_baseline_reports_only_new_findings(run_cli, tmp_path):
    write(tmp_path, {"a.py": LEAKY, "b.py": LEAKY})
    result = run_cli("--write-baseline", "baseline.json")
    assert (result.code, result.out) == (0, "") and "wrote 2 findings" in result.err
    assert run_cli("--baseline", "baseline.json").code == 0
    write(tmp_path, {"c.py": LEAKY, "b.py": CLEAN})
    result = run_cli("--baseline", "baseline.json")
    assert result.code == 1 and codes_by_path(result.out) == {("c.py", "LKL101")}
    assert "1 entry of the baseline baseline.json matches nothing any more" in result.err
    write(tmp_path, {"a.py": CLEAN})
    assert "wrote 1 finding to the baseline" in run_cli("--write-baseline", "b1.json").err
    write(tmp_path, {"c.py": CLEAN})
    assert "2 entries of the baseline baseline.json match nothing" in run_cli("--baseline", "baseline.json").err
    (tmp_path / "broken.json").write_text("{")
    result = run_cli("--baseline", "broken.json")
    assert result.code == 2 and "not valid JSON" in result.err


def test_show_source_for_stdin_reads_the_buffer_not_the_disk(tmp_path, monkeypatch, capsys):
    import io

    from leaklint.cli import main

    monkeypatch.chdir(tmp_path)
    source = b"import threading\n\ndef f():\n    threading.Thread(target=print).start()\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(source)))
    # app.py does not exist on disk: the editor's unsaved buffer is all there is.
    assert main(["--no-cache", "--isolated", "--show-source", "-", "--stdin-filename", "app.py"]) == 1
    out = capsys.readouterr().out
    assert "    threading.Thread(target=print).start()\n    ^\n" in out


# -- output files never destroy an input (leaklint/outputs.py) -----------------------------------
def snapshot(folder: Path) -> dict:
    """{relative path: content} of every file under `folder`: what a refused run must leave."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("args, complaint", [
    (("--output", "a.py", "a.py"), "--output: refusing to overwrite a.py: it is a file being linted"),
    (("--output", "./pkg/../a.py", "."), "--output: refusing to overwrite ./pkg/../a.py: it is a file being linted"),
    (("--output", "pkg/b.py", "."), "--output: refusing to overwrite pkg/b.py: it is a file being linted"),
    (("--output", "alias.txt", "a.py"), "refusing to overwrite alias.txt: it is a file being linted"),
    (("--output", "hardlink.txt", "pkg"), "refusing to overwrite hardlink.txt: it is a file being linted"),
    (("--write-baseline", "a.py", "a.py"), "--write-baseline: refusing to overwrite a.py: it is a file being linted"),
    (("--output", "pyproject.toml", "a.py"), "refusing to overwrite pyproject.toml: it is the configuration file in use"),
    (("--config", "other.toml", "--output", "other.toml", "a.py"), "it is the configuration file in use"),
    (("--baseline", "bl.json", "--output", "bl.json", "a.py"), "refusing to overwrite bl.json: it is the baseline being read"),
    (("--stdin-filename", "a.py", "--output", "a.py", "-"), "it is the file standard input stands for"),
    (("--output", "new.txt", "--write-baseline", "new.txt", "a.py"),
     "--write-baseline: new.txt is also the --output file; give them different files"),
])
def test_an_output_that_is_an_input_is_refused_and_nothing_is_written(run_cli, tmp_path, args, complaint):
    write(tmp_path, {"a.py": LEAKY, "pkg/b.py": LEAKY, "pyproject.toml": "[tool.leaklint]\n",
                     "other.toml": "[tool.leaklint]\n"})
    run_cli("--no-cache", "--write-baseline", "bl.json", ".")
    os.symlink("a.py", tmp_path / "alias.txt")
    os.link(tmp_path / "pkg" / "b.py", tmp_path / "hardlink.txt")
    before = snapshot(tmp_path)
    result = run_cli("--no-cache", *args, stdin=LEAKY.encode())
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and complaint in result.err, result.err
    assert snapshot(tmp_path) == before


def test_rewriting_the_baseline_in_place_is_allowed(run_cli, tmp_path):
    write(tmp_path, {"a.py": LEAKY, "b.py": LEAKY})
    run_cli("--no-cache", "--write-baseline", "bl.json")
    write(tmp_path, {"b.py": CLEAN})
    result = run_cli("--no-cache", "--baseline", "bl.json", "--write-baseline", "./bl.json")
    assert result.code == 0 and "wrote 1 finding to" in result.err
    assert [e["path"] for e in json.loads((tmp_path / "bl.json").read_text())["entries"]] == ["a.py"]


def test_output_replaces_a_report_atomically_keeping_its_permissions(run_cli, tmp_path):
    write(tmp_path, {"a.py": LEAKY, "old/report.txt": "the previous report\n"})
    report_file = tmp_path / "old" / "report.txt"
    os.chmod(report_file, 0o640)
    os.symlink("old/report.txt", tmp_path / "latest.txt")
    result = run_cli("--no-cache", "--output", "latest.txt", "a.py")
    assert result.code == 1 and result.out == ""
    assert report_file.read_text().startswith(f"a.py:{LEAK_AT} ")
    assert os.path.islink(tmp_path / "latest.txt")  # the link still points at the report
    assert (report_file.stat().st_mode & 0o777) == 0o640
    assert sorted(os.listdir(tmp_path / "old")) == ["report.txt"]  # no temporary file left


def test_a_failed_output_write_keeps_the_old_report(run_cli, tmp_path, monkeypatch):
    write(tmp_path, {"a.py": LEAKY, "report.txt": "the previous report\n"})

    def disk_full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("leaklint.outputs.os.fsync", disk_full)
    result = run_cli("--no-cache", "--output", "report.txt", "a.py")
    assert result.code == 2
    assert result.err == "leaklint: error: --output: cannot write report.txt: No space left on device\n"
    assert (tmp_path / "report.txt").read_text() == "the previous report\n"
    assert sorted(os.listdir(tmp_path)) == ["a.py", "report.txt"]


def test_output_dash_is_standard_output(run_cli, tmp_path):
    write(tmp_path, {"a.py": LEAKY})
    result = run_cli("--no-cache", "--output", "-", "--format", "json", "a.py")
    assert result.code == 1 and json.loads(result.out)[0]["path"] == "a.py"
    assert not (tmp_path / "-").exists()


# -- baselines are relative to their own folder ---------------------------------------------------
def test_a_baseline_matches_from_any_folder_and_any_spelling_of_the_paths(run_cli, tmp_path, monkeypatch):
    write(tmp_path, {"d.py": LEAKY, "sub/e.py": LEAKY, "conf/README": ""})
    assert run_cli("--no-cache", "--write-baseline", "b.json").code == 0
    entries = json.loads((tmp_path / "b.json").read_text())["entries"]
    assert [e["path"] for e in entries] == ["d.py", "sub/e.py"]
    monkeypatch.chdir(tmp_path / "sub")
    for args in (("--baseline", "../b.json", "../d.py", "e.py"),
                 ("--baseline", str(tmp_path / "b.json"), str(tmp_path / "d.py"), "../sub/e.py"),
                 ("--baseline", "../b.json", "..")):
        result = run_cli("--no-cache", *args)
        assert (result.code, result.out, result.err) == (0, "", ""), args
    # Written from elsewhere, into another folder: the paths are relative to that folder.
    assert run_cli("--no-cache", "--write-baseline", "../conf/b.json", "..").code == 0
    entries = json.loads((tmp_path / "conf" / "b.json").read_text())["entries"]
    assert [e["path"] for e in entries] == ["../d.py", "../sub/e.py"]
    monkeypatch.chdir(tmp_path)
    result = run_cli("--no-cache", "--baseline", "conf/b.json")
    assert (result.code, result.out) == (0, "")
    write(tmp_path, {"sub/new.py": LEAKY})
    result = run_cli("--no-cache", "--baseline", "conf/b.json")
    assert result.code == 1 and codes_by_path(result.out) == {("sub/new.py", "LKL101")}
