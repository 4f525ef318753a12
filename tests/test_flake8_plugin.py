"""The flake8 plugin: same findings as the leaklint command, flake8's noqa and selection,
stdin buffers, off-by-default rules and rule options as flake8 options."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from leaklint import registry
from leaklint.engine import Linter
from leaklint.flake8_plugin import LeaklintChecker
from leaklint.gate import AVAILABLE as GATE_AVAILABLE
from leaklint.rules.base import Option, Report, Rule
from leaklint.screen import Screen

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
LEAKY = "import threading\n\ndef f():\n    threading.Thread(target=print).start()\n"
CLEAN = ("import threading\n\ndef f():\n    t = threading.Thread(target=print)\n"
         "    t.start()\n    t.join()\n")
# `path:line:col: CODE message`: flake8's default format and leaklint's text format.
LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+[0-9]+) (?P<msg>.*)$")

needs_lkl101 = pytest.mark.skipif(registry.rule_by_code("LKL101") is None,
                                  reason="LKL101 has not landed yet")


# -- helpers -----------------------------------------------------------------------------
def parse_output(text: str, cwd: Path) -> set:
    found = set()
    for raw in text.splitlines():
        match = LINE.match(raw)
        if match:
            path = os.path.normpath(os.path.relpath(os.path.join(cwd, match["path"]), cwd))
            found.add((path, int(match["line"]), int(match["col"]), match["code"], match["msg"]))
    return found


def run_flake8(args, cwd: Path, stdin: str = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flake8", "--isolated", *args], cwd=cwd,
                          input=stdin, capture_output=True, text=True, timeout=300)


def flake8_in_process(argv, capsys) -> tuple:
    """Run flake8 in this process (so monkeypatched rules are seen); (exit code, output)."""
    from flake8.main.application import Application

    app = Application()
    app.run(["--isolated", "--jobs=1", *argv])
    return app.exit_code(), capsys.readouterr().out


def default_linter() -> Linter:
    codes = registry.selected_codes()
    return Linter([r() for r in registry.all_rules() if r.code in codes])


def cli_available() -> bool:
    return (ROOT / "leaklint" / "cli.py").exists() and (
        (ROOT / "leaklint" / "__main__.py").exists())


@pytest.fixture(autouse=True)
def fresh_checker():
    """parse_options stores its results on the class: isolate tests from each other."""
    saved = (LeaklintChecker._settings, LeaklintChecker._codes, LeaklintChecker._max_file_bytes,
             LeaklintChecker._test_code, LeaklintChecker._max_file_tokens)
    LeaklintChecker._linters.clear()
    yield
    (LeaklintChecker._settings, LeaklintChecker._codes, LeaklintChecker._max_file_bytes,
     LeaklintChecker._test_code, LeaklintChecker._max_file_tokens) = saved
    LeaklintChecker._linters.clear()


# -- test rules (never registered: tests monkeypatch registry.all_rules) -------------------
class OffByDefault(Rule):
    code = "LKL699"
    name = "test-off-by-default"
    summary = "test rule"
    default_enabled = False
    trigger_words = ("threading",)

    def check(self, index):
        for call in index.calls[:1]:
            yield Report(call, "off-by-default rule fired")


class WithOptions(Rule):
    code = "LKL698"
    name = "test-options"
    summary = "test rule"
    trigger_words = ("threading",)
    options = (
        Option("test-functions", list, ["requests.get"], "calls that need timeout= (100% sure)"),
        Option("test-depth", int, 3, "how deep"),
        Option("test-strict", bool, False, "be strict"),
        Option("test-label", str, "x", "a label"),
    )

    def check(self, index):
        for call in index.calls[:1]:
            yield Report(call, "settings " + json.dumps(self.settings, sort_keys=True))


class Broken(Rule):
    code = "LKL697"
    name = "test-broken"
    summary = "test rule"
    trigger_words = ("threading",)

    def check(self, index):
        raise RuntimeError("boom")
        yield  # pragma: no cover


@pytest.fixture
def extra_rules(monkeypatch):
    def install(*rules):
        real = registry.all_rules()
        everything = tuple(sorted(real + rules, key=lambda r: r.code))
        monkeypatch.setattr(registry, "all_rules", lambda: everything)
    return install


# -- 1. parity with the leaklint command and the engine ------------------------------------
EXTRA_CASES = {
    # noqa forms flake8 and leaklint must agree on
    "noqa_forms.py": (
        "import threading\n\n"
        "def a():\n    threading.Thread(target=print).start()  # noqa: LKL101\n\n"
        "def b():\n    threading.Thread(target=print).start()  # noqa: E501\n\n"
        "def c():\n    threading.Thread(target=print).start()  # noqa\n\n"
        "def d():\n    threading.Thread(target=print).start()  # NOQA:LKL1\n\n"
        "def e():\n    threading.Thread(\n        target=print,\n    ).start()  # noqa: LKL101\n\n"
        "def g():\n    threading.Thread(  # noqa: LKL101\n        target=print,\n    ).start()\n"
    ),
    # columns are code points, whatever precedes them
    "columns.py": (
        "import threading\n\ndef f():\n"
        "\tx = 'é€😀'; threading.Thread(target=print).start()\n"
    ),
    "crlf.py": LEAKY.replace("\n", "\r\n"),
    "bom.py": "\ufeff" + LEAKY,
    "syntax_error.py": "import threading\nthreading.Thread(target=print).start(\n",
}


def parity_files(tmp_path: Path) -> list:
    """Copies of tests/fixtures, every rule's examples and some edge cases, in tmp_path
    (away from any project config), as paths relative to tmp_path."""
    names = []
    if FIXTURES.is_dir():
        for src in sorted(FIXTURES.glob("*.py")):
            dst = tmp_path / "fixtures" / src.name
            dst.parent.mkdir(exist_ok=True)
            shutil.copyfile(src, dst)
            names.append(f"fixtures/{src.name}")
    (tmp_path / "examples").mkdir()
    for rule in registry.all_rules():
        for kind in ("valid", "invalid"):
            for i, snippet in enumerate(getattr(rule, kind)):
                name = f"examples/{rule.code}_{kind}_{i}.py"
                (tmp_path / name).write_text(snippet, encoding="utf-8")
                names.append(name)
    for name, text in EXTRA_CASES.items():
        (tmp_path / "examples" / name).write_bytes(text.encode("utf-8"))
        names.append(f"examples/{name}")
    return names


def flake8_parity_run(tmp_path: Path, names: list) -> tuple:
    """flake8's LKL findings, and the paths it reported as E999/E902 (not parsable)."""
    result = run_flake8(["--select", "LKL,E999,E902", *names], cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    found = parse_output(result.stdout, tmp_path)
    broken = {f[0] for f in found if f[3] in ("E999", "E902")}
    return {f for f in found if f[3].startswith("LKL")}, broken


def without_syntax_errors(expected: set, broken: set) -> set:
    """flake8 reports E999 for these files and never runs tree plugins on them; leaklint
    reports LKL001. Both must agree on which files are broken."""
    lkl001 = {f[0] for f in expected if f[3] == "LKL001"}
    assert broken <= lkl001, f"flake8 could not parse {broken - lkl001}, leaklint could"
    return {f for f in expected if not (f[0] in broken and f[3] == "LKL001")}


@needs_lkl101
def test_flake8_matches_engine(tmp_path):
    names = parity_files(tmp_path)
    linter = default_linter()
    expected = set()
    for name in names:
        for f in linter.lint_bytes((tmp_path / name).read_bytes(), os.path.normpath(name)):
            expected.add((f.path, f.line, f.column, f.code, f.message))
    got, broken = flake8_parity_run(tmp_path, names)
    assert broken == {os.path.normpath("examples/syntax_error.py")}
    expected = without_syntax_errors(expected, broken)
    assert expected, "nothing flagged: the comparison would prove nothing"
    assert got == expected


@needs_lkl101
@pytest.mark.skipif(not cli_available(), reason="leaklint/cli.py and __main__.py not there yet")
def test_flake8_matches_cli(tmp_path):
    names = parity_files(tmp_path)
    result = subprocess.run([sys.executable, "-m", "leaklint", "--no-cache", *names],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    expected = parse_output(result.stdout, tmp_path)
    got, broken = flake8_parity_run(tmp_path, names)
    expected = without_syntax_errors(expected, broken)
    assert expected, "nothing flagged: the comparison would prove nothing"
    assert got == expected


# -- 2. stdin ------------------------------------------------------------------------------
@needs_lkl101
def test_stdin_with_display_name(tmp_path):
    result = run_flake8(["--select", "LKL", "-", "--stdin-display-name", "x.py"],
                        cwd=tmp_path, stdin=LEAKY)
    found = parse_output(result.stdout, tmp_path)
    assert {(p, line, col, code) for p, line, col, code, _ in found} == {("x.py", 4, 5, "LKL101")}
    assert result.returncode == 1


@needs_lkl101
def test_stdin_wins_over_the_file_on_disk(tmp_path):
    """Editors send unsaved buffers: the plugin must lint flake8's lines, not the file."""
    (tmp_path / "x.py").write_text(CLEAN)
    result = run_flake8(["--select", "LKL", "-", "--stdin-display-name", "x.py"],
                        cwd=tmp_path, stdin=LEAKY)
    assert "x.py:4:5: LKL101" in result.stdout
    (tmp_path / "y.py").write_text(LEAKY)
    result = run_flake8(["--select", "LKL", "-", "--stdin-display-name", "y.py"],
                        cwd=tmp_path, stdin=CLEAN)
    assert result.stdout == "" and result.returncode == 0


def test_checker_never_reads_the_file(tmp_path):
    checker = LeaklintChecker(tree=None, lines=CLEAN.splitlines(True),
                              filename=str(tmp_path / "does-not-exist.py"))
    assert list(checker.run()) == []


@needs_lkl101
def test_checker_direct_positions_are_flake8_offsets():
    checker = LeaklintChecker(tree=None, lines=LEAKY.splitlines(True), filename="m.py")
    (line, col, text, kind), = checker.run()
    assert (line, col) == (4, 4)  # flake8 adds 1 when it prints the column
    assert text.startswith("LKL101 ") and kind is LeaklintChecker


# -- 3. noqa is flake8's ---------------------------------------------------------------------
@needs_lkl101
@pytest.mark.parametrize("comment, flagged", [
    ("  # noqa: LKL101", False),
    ("  # noqa:LKL101,E501", False),
    ("  # noqa: LKL1", False),
    ("  # noqa", False),
    ("  # noqa: LKL102", True),
    ("  # noqa: E501", True),
    ("", True),
])
def test_noqa_under_flake8(tmp_path, comment, flagged):
    (tmp_path / "m.py").write_text(LEAKY.rstrip("\n") + comment + "\n")
    result = run_flake8(["--select", "LKL", "m.py"], cwd=tmp_path)
    assert ("LKL101" in result.stdout) is flagged, result.stdout + result.stderr


@pytest.mark.parametrize("argv, apply_noqa", [([], True), (["--disable-noqa"], False)])
def test_engine_noqa_follows_disable_noqa(tmp_path, capsys, monkeypatch, argv, apply_noqa):
    """leaklint's statement-wide noqa is applied unless flake8 runs with --disable-noqa."""
    seen = []
    real = Screen.lint_text  # the Linter's and the LazyLinter's

    def spy(self, text, path, apply_noqa=True, **options):
        seen.append(apply_noqa)
        return real(self, text, path, apply_noqa=apply_noqa, **options)

    monkeypatch.setattr(Screen, "lint_text", spy)
    (tmp_path / "m.py").write_text(LEAKY)
    flake8_in_process(["--select", "LKL", *argv, str(tmp_path / "m.py")], capsys)
    assert seen == [apply_noqa]


@needs_lkl101
def test_noqa_on_another_line_of_the_statement(tmp_path):
    """flake8 alone only looks at the reported line; leaklint (and so the plugin) at
    every line of the flagged statement."""
    (tmp_path / "m.py").write_text(
        "import threading\n\ndef f():\n    threading.Thread(\n        target=print,\n"
        "    ).start()  # noqa: LKL101\n")
    assert "LKL101" not in run_flake8(["--select", "LKL", "m.py"], cwd=tmp_path).stdout
    result = run_flake8(["--select", "LKL", "--disable-noqa", "m.py"], cwd=tmp_path)
    assert "m.py:4:5: LKL101" in result.stdout


# A file-level directive and whether the file's leak is still reported (by both tools).
FILE_NOQA_CASES = {
    "leaklint_noqa.py": ("# leaklint: noqa", False),  # flake8 does not know it: the plugin skips
    "flake8_noqa.py": ("# flake8: noqa", False),  # flake8 skips the file: the command must too
    "flake8_noqa_codes.py": ("# flake8: noqa: E123", False),  # flake8 ignores the codes
    "leaklint_noqa_codes.py": ("# leaklint: noqa: LKL1", False),
    "leaklint_noqa_other_codes.py": ("# leaklint: noqa: LKL5", True),
    "after_code.py": ("import os  # flake8: noqa", True),  # flake8: a warning, not a skip
    "not_flake8s_shape.py": ("#flake8: noqa", True),
}


@needs_lkl101
@pytest.mark.skipif(not cli_available(), reason="leaklint/cli.py and __main__.py not there yet")
def test_file_level_noqa_same_under_both_tools(tmp_path):
    for name, (directive, _) in FILE_NOQA_CASES.items():
        (tmp_path / name).write_text(LEAKY + directive + "\n")
    names = sorted(FILE_NOQA_CASES)
    expected = {name for name, (_, flagged) in FILE_NOQA_CASES.items() if flagged}
    result = subprocess.run([sys.executable, "-m", "leaklint", "--no-cache", "--isolated", *names],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert {f[0] for f in parse_output(result.stdout, tmp_path)} == expected, result.stderr
    result = run_flake8(["--select", "LKL", *names], cwd=tmp_path)
    assert {f[0] for f in parse_output(result.stdout, tmp_path)} == expected, result.stderr
    # flake8 --disable-noqa turns file-level directives off too, in the plugin as in flake8.
    result = run_flake8(["--select", "LKL", "--disable-noqa", *names], cwd=tmp_path)
    assert {f[0] for f in parse_output(result.stdout, tmp_path)} == set(names)


@needs_lkl101
def test_disable_noqa(tmp_path):
    (tmp_path / "m.py").write_text(LEAKY.rstrip("\n") + "  # noqa: LKL101\n")
    result = run_flake8(["--select", "LKL", "--disable-noqa", "m.py"], cwd=tmp_path)
    assert "LKL101" in result.stdout


# -- 4. off-by-default rules and selection -----------------------------------------------------
@needs_lkl101
@pytest.mark.parametrize("argv, codes", [
    ([], {"LKL101"}),
    (["--select", "LKL"], {"LKL101"}),
    (["--ignore", "E501"], {"LKL101"}),  # replaces flake8's default ignore list
    (["--select", "LKL6"], {"LKL699"}),
    (["--select", "LKL699"], {"LKL699"}),
    (["--select", "LKL", "--extend-select", "LKL699"], {"LKL101", "LKL699"}),
    (["--extend-select", "LKL699"], {"LKL101", "LKL699"}),
    (["--select", "LKL6", "--ignore", "LKL699"], set()),
])
def test_off_by_default_rules(tmp_path, capsys, extra_rules, argv, codes):
    extra_rules(OffByDefault)
    (tmp_path / "m.py").write_text(LEAKY)
    _, out = flake8_in_process([*argv, str(tmp_path / "m.py")], capsys)
    assert {f[3] for f in parse_output(out, tmp_path) if f[3].startswith("LKL")} == codes


def test_off_by_default_codes_are_in_flake8s_default_ignore(extra_rules):
    extra_rules(OffByDefault)

    class Manager:
        ignored, options = [], []

        def extend_default_ignore(self, codes):
            self.ignored.extend(codes)

        def add_option(self, *args, **kwargs):
            self.options.append(args[0])

    manager = Manager()
    LeaklintChecker.add_options(manager)
    assert "LKL699" in manager.ignored
    assert manager.ignored == [r.code for r in registry.all_rules() if not r.default_enabled]


def test_no_work_when_flake8_would_discard_every_lkl_code(tmp_path, capsys, monkeypatch):
    def explode(*args, **kwargs):
        raise AssertionError("the engine ran although no LKL code was selected")

    monkeypatch.setattr(Screen, "lint_text", explode)
    (tmp_path / "m.py").write_text(LEAKY)
    code, out = flake8_in_process(["--select", "E,W,F", str(tmp_path / "m.py")], capsys)
    assert LeaklintChecker._codes == ()
    assert "LKL" not in out


@needs_lkl101
def test_only_rules_flake8_would_show_are_run(tmp_path, capsys, extra_rules):
    extra_rules(WithOptions)
    (tmp_path / "m.py").write_text(LEAKY)
    _, out = flake8_in_process(["--select", "LKL1", str(tmp_path / "m.py")], capsys)
    # LKL102 is off by default, but `LKL1` names it more specifically than `LKL` does.
    assert LeaklintChecker._codes == ("LKL101", "LKL102")
    assert "LKL101" in out and "LKL698" not in out


# -- 5. rule options ---------------------------------------------------------------------------
def settings_reported(out: str) -> dict:
    for raw in out.splitlines():
        if " LKL698 settings " in raw:
            return json.loads(raw.split(" LKL698 settings ", 1)[1])
    raise AssertionError(f"LKL698 did not report: {out!r}")


def test_rule_options_defaults(tmp_path, capsys, extra_rules):
    extra_rules(WithOptions)
    (tmp_path / "m.py").write_text(LEAKY)
    _, out = flake8_in_process(["--select", "LKL698", str(tmp_path / "m.py")], capsys)
    assert settings_reported(out) == {"test-functions": ["requests.get"], "test-depth": 3,
                                      "test-strict": False, "test-label": "x"}


def test_rule_options_from_command_line(tmp_path, capsys, extra_rules):
    extra_rules(WithOptions)
    (tmp_path / "m.py").write_text(LEAKY)
    _, out = flake8_in_process([
        "--select", "LKL698", "--leaklint-test-functions", "a.b, c.d,e",
        "--leaklint-test-depth", "7", "--leaklint-test-strict", "yes", "--leaklint-test-label=hi",
        str(tmp_path / "m.py")], capsys)
    assert settings_reported(out) == {"test-functions": ["a.b", "c.d", "e"],
                                      "test-depth": 7, "test-strict": True, "test-label": "hi"}


def test_rule_options_from_config_file(tmp_path, capsys, extra_rules, monkeypatch):
    extra_rules(WithOptions)
    (tmp_path / "m.py").write_text(LEAKY)
    (tmp_path / "setup.cfg").write_text(
        "[flake8]\nselect = LKL698\n"
        "leaklint-test-functions =\n    x.y,\n    z.w\n"
        "leaklint-test-depth = 9\nleaklint_test_strict = true\nleaklint-test-label = cfg\n")
    monkeypatch.chdir(tmp_path)
    from flake8.main.application import Application

    app = Application()
    app.run(["--jobs=1", "m.py"])  # not --isolated: the config must be read
    out = capsys.readouterr().out
    assert settings_reported(out) == {"test-functions": ["x.y", "z.w"], "test-depth": 9,
                                      "test-strict": True, "test-label": "cfg"}


def test_rule_option_bad_value_is_a_usage_error(tmp_path, capsys, extra_rules):
    extra_rules(WithOptions)
    (tmp_path / "m.py").write_text(LEAKY)
    with pytest.raises(SystemExit) as exit_info:
        flake8_in_process(["--leaklint-test-strict", "maybe", str(tmp_path / "m.py")], capsys)
    assert exit_info.value.code == 2
    assert "--leaklint-test-strict" in capsys.readouterr().err


def test_timeout_functions_must_be_dotted_names_under_flake8_too(tmp_path, capsys):
    (tmp_path / "m.py").write_text(LEAKY)
    with pytest.raises(SystemExit) as exit_info:
        flake8_in_process(["--leaklint-timeout-functions", "ok.fetch,3rd.fetch",
                           str(tmp_path / "m.py")], capsys)
    assert exit_info.value.code == 2
    assert "'3rd.fetch' is not a dotted Python name" in capsys.readouterr().err


def test_rule_options_listed_in_help(capsys, extra_rules):
    extra_rules(WithOptions)
    from flake8.main.application import Application

    with pytest.raises(SystemExit):
        Application().run(["--help"])
    out = capsys.readouterr().out
    for name in ("test-functions", "test-depth", "test-strict", "test-label", "max-file-bytes",
                 "max-file-tokens"):
        assert f"--leaklint-{name}" in out
    assert "100% sure" in out


def test_linter_is_built_once_per_configuration(tmp_path, capsys, monkeypatch):
    built = []
    real_init = Linter.__init__

    def counting_init(self, *args, **kwargs):
        built.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(Linter, "__init__", counting_init)
    for i in range(5):
        (tmp_path / f"m{i}.py").write_text(LEAKY)
    flake8_in_process(["--select", "LKL", str(tmp_path)], capsys)
    assert len(built) == 1


def test_max_file_bytes_option(tmp_path, capsys):
    (tmp_path / "m.py").write_text(LEAKY)
    _, out = flake8_in_process(["--select", "LKL", "--leaklint-max-file-bytes", "10",
                                str(tmp_path / "m.py")], capsys)
    assert ":1:1: LKL003 file skipped: " in out and "limit of 10" in out


def test_max_file_tokens_option(tmp_path, capsys):
    (tmp_path / "m.py").write_text(LEAKY)
    _, out = flake8_in_process(["--select", "LKL", "--leaklint-max-file-tokens", "10",
                                str(tmp_path / "m.py")], capsys)
    assert ":1:1: LKL003 file skipped: " in out and "tokens is over the limit of 10 (max-file-tokens)" in out


# -- tool-level codes -----------------------------------------------------------------------------
def test_syntax_error_is_flake8s_e999_only(tmp_path):
    (tmp_path / "m.py").write_text("import threading\nthreading.Thread(\n")
    result = run_flake8(["--select", "LKL,E999", "m.py"], cwd=tmp_path)
    assert "E999" in result.stdout and "LKL" not in result.stdout


def test_libcst_only_parse_failure_is_reported(monkeypatch):
    """CPython accepted the file (flake8 ran the plugin) but libcst did not: the file was
    not checked, and LKL001 says so."""
    import libcst

    def refuse(*args, **kwargs):
        raise ValueError("libcst says no")

    monkeypatch.setattr(libcst, "parse_module", refuse)
    (result,) = LeaklintChecker(None, LEAKY.splitlines(True), "m.py").run()
    assert result[:2] == (1, 0) and result[2].startswith("LKL001 ")


def test_broken_rule_is_lkl000_and_others_still_report(tmp_path, capsys, extra_rules):
    extra_rules(Broken, WithOptions)
    (tmp_path / "m.py").write_text(LEAKY)
    code, out = flake8_in_process(["--select", "LKL", str(tmp_path / "m.py")], capsys)
    codes = {f[3] for f in parse_output(out, tmp_path)}
    assert {"LKL000", "LKL698"} <= codes and "boom" in out


def test_unexpected_exception_does_not_abort_flake8(monkeypatch):
    import leaklint.engine

    def explode(self, *args, **kwargs):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(leaklint.engine.Linter, "_run_rules", explode)
    (result,) = LeaklintChecker(None, LEAKY.splitlines(True), "m.py").run()
    assert result[2].startswith("LKL000 internal error in the flake8 plugin: RuntimeError")


# -- import cost ----------------------------------------------------------------------------------
def test_importing_the_plugin_is_cheap():
    """flake8 imports every installed plugin on every run."""
    code = "import sys, leaklint.flake8_plugin; print('libcst' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Runs flake8 in a fresh interpreter and prints which heavy modules it imported.
FLAKE8_PROBE = """
import sys
from flake8.main.application import Application
app = Application()
app.run(sys.argv[1:])
heavy = sorted(m for m in sys.modules
               if m == "libcst" or m.startswith(("leaklint.rules", "leaklint.engine")))
print("EXIT", app.exit_code(), "HEAVY", ",".join(heavy) or "none", file=sys.stderr)
"""


def probe_flake8(args, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-c", FLAKE8_PROBE, "--isolated", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    return done.stderr.strip().splitlines()[-1]


@needs_lkl101
def test_registering_and_parsing_options_imports_neither_libcst_nor_the_rules(tmp_path):
    """flake8 registers every plugin's options on every run, whatever is selected: they
    come from the generated catalogue. Only running on a file imports the rules."""
    (tmp_path / "m.py").write_text(LEAKY)
    assert probe_flake8(["--select", "E,W,F", "m.py"], tmp_path).endswith("HEAVY none")
    assert probe_flake8(["--select", "E", "--leaklint-test-files", "qa/*.py", "m.py"],
                        tmp_path).endswith("HEAVY none")
    linted = probe_flake8(["--select", "LKL", "m.py"], tmp_path)
    assert linted.startswith("EXIT 1 HEAVY ") and "libcst" in linted


def _default_start_method() -> str:
    import multiprocessing

    return (multiprocessing.get_start_method(allow_none=True)
            or multiprocessing.get_all_start_methods()[0])


@needs_lkl101
@pytest.mark.skipif(_default_start_method() != "fork", reason="flake8's workers are not forked")
def test_workers_forked_by_flake8_share_one_import_of_the_rules(tmp_path):
    """Imported lazily, each worker would import libcst and the rules on its first file."""
    (tmp_path / "a.py").write_text(LEAKY)
    (tmp_path / "b.py").write_text(CLEAN)
    parent = probe_flake8(["--select", "LKL", "--jobs", "2", "a.py", "b.py"], tmp_path)
    assert parent.startswith("EXIT 1 HEAVY ") and "libcst" in parent  # before the fork
    assert probe_flake8(["--select", "E", "--jobs", "2", "a.py", "b.py"],
                        tmp_path).endswith("HEAVY none")  # nothing to lint


@pytest.mark.parametrize("jobs, paths, forks", [
    ("2", ["a.py", "b.py"], True),
    ("2", ["."], True),
    ("2", [], True),  # flake8 lints "." then
    ("1", ["a.py", "b.py"], False),
    ("2", ["a.py"], False),  # one file: linted in flake8's own process
    ("2", ["-"], False),  # stdin: flake8 uses no workers
])
def test_when_flake8_forks_workers(tmp_path, monkeypatch, jobs, paths, forks):
    from types import SimpleNamespace

    from flake8.main.options import JobsArgument

    from leaklint.flake8_plugin import _forks_workers

    monkeypatch.chdir(tmp_path)
    expected = forks and _default_start_method() == "fork"
    assert _forks_workers(SimpleNamespace(jobs=JobsArgument(jobs), filenames=paths)) is expected


def test_a_rule_option_set_is_still_checked_by_its_rule(tmp_path):
    """A default needs no check; a value set does, as under the leaklint command."""
    from leaklint.catalogue import check_value, options_from_rule_classes

    for option in options_from_rule_classes().values():
        assert check_value(option, option.default) is None, option.name
    (tmp_path / "m.py").write_text(LEAKY)
    done = run_flake8(["--select", "E", "--leaklint-exception-paths", "thread,nope", "m.py"],
                      tmp_path)
    assert done.returncode == 2
    assert "'nope' is not one of" in done.stderr


# -- a real rule option, both tools ---------------------------------------------------------------
def _has_option(code: str, name: str) -> bool:
    rule = registry.rule_by_code(code)
    return rule is not None and any(o.name == name for o in rule.options)


@pytest.mark.skipif(not _has_option("LKL401", "timeout-functions"),
                    reason="LKL401 has no timeout-functions option yet")
@pytest.mark.skipif(not cli_available(), reason="leaklint/cli.py and __main__.py not there yet")
def test_real_rule_option_same_under_both_tools(tmp_path):
    (tmp_path / "m.py").write_text(
        "import mylib.http\n\n\ndef f(url):\n    return mylib.http.fetch(url)\n")
    plain = run_flake8(["--select", "LKL", "m.py"], cwd=tmp_path)
    assert "LKL" not in plain.stdout, plain.stdout
    flake8 = run_flake8(["--select", "LKL", "--leaklint-timeout-functions",
                         "mylib.http.fetch,other.get", "m.py"], cwd=tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.leaklint]\ntimeout-functions = ["mylib.http.fetch", "other.get"]\n')
    cli = subprocess.run([sys.executable, "-m", "leaklint", "--no-cache", "m.py"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    got, expected = parse_output(flake8.stdout, tmp_path), parse_output(cli.stdout, tmp_path)
    assert {f[3] for f in got} == {"LKL401"}
    assert got == expected


def test_plugin_skips_the_parse_guard_flake8_already_ran(monkeypatch):
    """flake8 hands plugins CPython's `ast` tree: the engine's own CPython parse (the
    guard for libcst's native parser) would be the same work twice."""
    import ast

    from leaklint import engine
    from leaklint.flake8_plugin import LeaklintChecker

    calls = []
    real_guard = engine._python_guard
    monkeypatch.setattr(engine, "_python_guard", lambda *a: calls.append(a) or real_guard(*a))
    source = "import threading\n\ndef f():\n    threading.Thread(target=print).start()\n"
    checker = LeaklintChecker(ast.parse(source), source.splitlines(True), "m.py")
    assert [message.split()[0] for _, _, message, _ in checker.run()] == ["LKL101"]
    assert calls == []
    Linter([]).lint_text(source, "m.py")  # no rules: prefilter stops before the guard
    rules = list(LeaklintChecker._linter().full_linter().rules)
    engine.Linter(rules, gate=False).lint_text(source, "m.py")
    assert len(calls) == 1
    # The code-token gate's compile() stands for the guard where it is on (leaklint/gate.py).
    engine.Linter(rules).lint_text(source, "m.py")
    assert len(calls) == (1 if GATE_AVAILABLE else 2)


# -- 7. test files ---------------------------------------------------------------------------
TEST_FILE_CASES = {
    "tests/test_client.py": "import requests\n\ndef test_get():\n    requests.get('http://x')\n",
    "tests/test_worker.py": LEAKY,
    "qa/check.py": "import requests\n\ndef check():\n    requests.get('http://x')\n",
    "client.py": "import requests\n\ndef get():\n    requests.get('http://x')\n",
}


@needs_lkl101
@pytest.mark.skipif(not cli_available(), reason="leaklint/cli.py and __main__.py not there yet")
@pytest.mark.parametrize("leaklint_args, flake8_args", [
    ([], []),
    (["--test-ignore="], ["--leaklint-test-ignore="]),
    (["--test-ignore=LKL1", "--extend-test-files=qa/*"],
     ["--leaklint-test-ignore=LKL1", "--leaklint-extend-test-files=qa/*"]),
    (["--test-files=check.py"], ["--leaklint-test-files=check.py"]),
], ids=["defaults", "empty-test-ignore", "extended", "replaced"])
def test_test_files_same_under_both_tools(tmp_path, leaklint_args, flake8_args):
    for name, text in TEST_FILE_CASES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    names = sorted(TEST_FILE_CASES)
    cli = subprocess.run([sys.executable, "-m", "leaklint", "--no-cache", *leaklint_args, *names],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    flake8 = run_flake8(["--select", "LKL", *flake8_args, *names], cwd=tmp_path)
    assert flake8.returncode in (0, 1), flake8.stderr
    expected, got = parse_output(cli.stdout, tmp_path), parse_output(flake8.stdout, tmp_path)
    assert expected and got == expected
    if not leaklint_args:  # the defaults: timeouts held back in tests, thread leaks not
        assert {(f[0], f[3]) for f in got} == {("client.py", "LKL401"), ("qa/check.py", "LKL401"),
                                              (os.path.join("tests", "test_worker.py"), "LKL101")}


def test_test_files_from_a_flake8_config_file(tmp_path):
    for name, text in TEST_FILE_CASES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "setup.cfg").write_text(
        "[flake8]\nleaklint-extend-test-files = qa/check.py\nleaklint-test-ignore = LKL4,LKL1\n")
    result = subprocess.run([sys.executable, "-m", "flake8", "--select", "LKL", "."], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert {(f[0], f[3]) for f in parse_output(result.stdout, tmp_path)} == {("client.py", "LKL401")}


def test_bad_test_ignore_is_a_flake8_usage_error(tmp_path):
    (tmp_path / "m.py").write_text(CLEAN)
    result = run_flake8(["--select", "LKL", "--leaklint-test-ignore", "LKL999", "m.py"], cwd=tmp_path)
    assert result.returncode != 0
    assert "--leaklint-test-ignore: unknown code or prefix 'LKL999'" in result.stderr


def test_checker_without_option_parsing_holds_back_timeouts_in_tests():
    source = "import requests\n\ndef test_get():\n    requests.get('http://x')\n"
    assert list(LeaklintChecker(None, source.splitlines(True), "tests/test_a.py").run()) == []
    (_, _, text, _), = LeaklintChecker(None, source.splitlines(True), "a.py").run()
    assert text.startswith("LKL401 ")
