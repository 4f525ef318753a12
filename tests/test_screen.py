"""The screen (leaklint/screen.py): a run whose files need no parsing imports neither libcst
nor the rules, under the leaklint command and under flake8; a file that needs parsing is
linted exactly as before, by the same steps on the same trigger data."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from leaklint import catalogue, registry
from leaklint.engine import Linter
from leaklint.gate import AVAILABLE as GATE_AVAILABLE
from leaklint.runner import LintSettings, Runner
from leaklint.screen import LazyLinter

FIXTURES = Path(__file__).parent / "fixtures"
NO_TRIGGER = "import os\n\n\ndef cwd():\n    return os.getcwd()\n"
# `Queue`, a trigger word of the queue rules, only in a comment and a docstring: the
# prefilter lets it through, the code-token gate stops it.
WORD_IN_COMMENT = ('import os  # not a Queue\n\n\ndef cwd():\n    """Drains the Queue."""\n'
                   "    return os.getcwd()\n")
LEAK = "import threading\n\nthreading.Thread(target=print).start()\n"
# A trigger word the prefilter lets through, in a file CPython cannot compile.
SYNTAX_ERROR = "import threading\n\nthreading.Thread(target=print\n"

# Runs the command, or flake8, in a fresh interpreter; prints what it imported last.
PROBE = textwrap.dedent("""
    import sys
    if sys.argv[1] == "flake8":
        from flake8.main.application import Application
        app = Application()
        app.run(sys.argv[2:])
        code = app.exit_code()
    else:
        from leaklint.cli import main
        code = main(sys.argv[2:])
    rules = any(m.startswith(("leaklint.rules", "leaklint.engine")) for m in sys.modules)
    print("EXIT", code, "LIBCST", "libcst" in sys.modules, "RULES", rules, file=sys.stderr)
""")


def probe(tool: str, *args, cwd, stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, tool, *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120)
    return done.stderr.strip().splitlines()[-1]


def leaklint(tmp_path, *files):
    return probe("leaklint", "--isolated", "--no-cache", *files, cwd=tmp_path)


def flake8(tmp_path, *files):
    return probe("flake8", "--isolated", "--jobs=1", "--select", "LKL", *files, cwd=tmp_path)


@pytest.fixture
def sources(tmp_path):
    for name, text in {"empty.py": "", "plain.py": NO_TRIGGER, "comment.py": WORD_IN_COMMENT,
                       "leak.py": LEAK, "broken.py": SYNTAX_ERROR}.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize("tool", [leaklint, flake8])
def test_files_stopped_by_the_prefilter_import_neither_libcst_nor_the_rules(sources, tool):
    assert tool(sources, "empty.py", "plain.py") == "EXIT 0 LIBCST False RULES False"


@pytest.mark.parametrize("tool", [leaklint, flake8])
def test_a_file_stopped_by_the_gate_imports_neither(sources, tool):
    # Python 3.9 has no gate: there the prefilter lets the file through to libcst.
    expected = "False" if GATE_AVAILABLE else "True"
    assert tool(sources, "plain.py", "comment.py") == f"EXIT 0 LIBCST {expected} RULES {expected}"


@pytest.mark.parametrize("tool", [leaklint, flake8])
def test_a_file_that_needs_parsing_imports_them_and_is_linted(sources, tool):
    assert tool(sources, "plain.py", "leak.py") == "EXIT 1 LIBCST True RULES True"


def test_a_rule_option_set_is_checked_without_the_rules(sources):
    """`exception-paths` in the configuration (or on flake8's command line) is checked by
    leaklint.option_checks: setting it imports neither libcst nor the rules, and a wrong
    value is still refused."""
    (sources / "pyproject.toml").write_text('[tool.leaklint]\nexception-paths = ["timer"]\n')
    assert probe("leaklint", "--no-cache", "plain.py", cwd=sources) == \
        "EXIT 0 LIBCST False RULES False"
    assert probe("flake8", "--isolated", "--jobs=1", "--select", "LKL",
                 "--leaklint-exception-paths", "timer", "plain.py", cwd=sources) == \
        "EXIT 0 LIBCST False RULES False"
    (sources / "pyproject.toml").write_text('[tool.leaklint]\nexception-paths = ["nope"]\n')
    done = subprocess.run([sys.executable, "-m", "leaklint", "--no-cache", "plain.py"],
                          cwd=sources, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "'nope' is not one of" in done.stderr, done.stderr


def test_an_options_check_must_be_in_option_checks(monkeypatch):
    """The catalogue names each check; one defined elsewhere (a rule's module imports
    libcst) is refused when the catalogue is built."""
    from leaklint.rules.base import Option

    assert sorted(o.check for o in catalogue.options_from_rule_classes().values()) == [
        "dotted_names", "dotted_names", "path_kinds"]
    rule = registry.rule_by_code("LKL101")

    def dotted_names(value):  # spelled as a real check, defined elsewhere
        return None

    monkeypatch.setattr(rule, "options", (Option("made-up", list, [], "help", check=dotted_names),))
    with pytest.raises(RuntimeError, match="made-up: its check must be a function of "
                                           "leaklint.option_checks"):
        catalogue.options_from_rule_classes()


@pytest.mark.parametrize("source, imported", [(NO_TRIGGER, False), (LEAK, True)])
def test_standard_input_is_screened_too(tmp_path, source, imported):
    """An editor hands its buffer over on standard input."""
    result = probe("leaklint", "--isolated", "--no-cache", "-", cwd=tmp_path, stdin=source)
    assert result == f"EXIT {int(imported)} LIBCST {imported} RULES {imported}"


def test_a_syntax_error_the_prefilter_lets_through_is_reported_as_before(sources):
    done = subprocess.run([sys.executable, "-m", "leaklint", "--isolated", "--no-cache",
                           "broken.py", "plain.py"], cwd=sources, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    [line] = done.stdout.strip().splitlines()
    assert line.startswith("broken.py:3:") and " LKL001 syntax error: " in line, line


# -- the lazy linter gives the Linter's findings -----------------------------------------------
DEFAULT_CODES = tuple(rule.code for rule in catalogue.rule_infos() if rule.default_enabled)
ALL_CODES = tuple(rule.code for rule in catalogue.rule_infos())


def _fixture_sources():
    for path in sorted(FIXTURES.rglob("*.py")):
        yield str(path.relative_to(FIXTURES)), path.read_text(encoding="utf-8")
    yield "plain.py", NO_TRIGGER
    yield "comment.py", WORD_IN_COMMENT
    yield "broken.py", SYNTAX_ERROR


@pytest.mark.parametrize("codes", [DEFAULT_CODES, ALL_CODES, ("LKL301",)])
def test_the_lazy_linter_gives_the_linters_findings_and_summaries(codes):
    settings = LintSettings(codes=codes)
    lazy, full = settings.build_linter(), settings._full_linter()
    assert isinstance(lazy, LazyLinter) and isinstance(full, Linter)
    for name, source in _fixture_sources():
        for path in (name, f"tests/test_{Path(name).name}"):
            assert lazy.lint_text(source, path) == full.lint_text(source, path), path
            assert lazy.last_summary == full.last_summary, path
    assert lazy.parsed == full.parsed > 0


def test_the_lazy_linter_runs_only_the_rules_the_gate_lets_through(monkeypatch):
    checked = []
    for rule in registry.all_rules():
        real = rule.check
        monkeypatch.setattr(rule, "check", lambda self, index, real=real: checked.append(self.code)
                            or real(self, index))
    lazy = LintSettings(codes=DEFAULT_CODES).build_linter()
    assert [f.code for f in lazy.lint_text(LEAK, "m.py")] == ["LKL101"]
    assert checked == (["LKL101"] if GATE_AVAILABLE else list(DEFAULT_CODES))


def test_an_option_that_adds_trigger_names_is_honoured(tmp_path):
    """The catalogue holds the rule classes' triggers; `timeout-functions` adds the
    names it lists (LKL401), so with it set the rules are built at once."""
    (tmp_path / "m.py").write_text("from mycompany.http import fetch\n\n\ndef f(u):\n"
                                   "    return fetch(u)\n")
    settings = LintSettings(codes=("LKL401",),
                            rule_options={"timeout-functions": ["mycompany.http.fetch"]})
    assert isinstance(settings.build_linter(), Linter)
    findings = Runner(settings).run([str(tmp_path / "m.py")]).findings
    assert [(f.line, f.code) for f in findings] == [(5, "LKL401")]
    # The option's default is the catalogue's case: the lazy linter.
    assert isinstance(LintSettings(codes=("LKL401",), rule_options={"timeout-functions": []})
                      .build_linter(), LazyLinter)


def _other_value(option):
    """A value of `option`'s type other than its default (names a rule could take as
    triggers, for a list)."""
    if option.type is list:
        return ["thread", "mycompany.helpers.fetch_it"]
    if option.type is bool:
        return not option.default
    if option.type is int:
        return option.default + 1
    return "mycompany.helpers.fetch_it"


def test_a_rule_has_its_classs_triggers_unless_an_option_that_adds_some_is_set():
    """What the catalogue holds (the classes' triggers) is what the rules the lazy linter
    stands for have: with every option at its default, and with any option set that is
    not declared `adds_triggers` (those the lazy linter ignores). An option that adds
    triggers and is not declared so fails here."""
    for rule_class in registry.all_rules():
        settings = [{}] + [{option.name: _other_value(option)} for option in rule_class.options
                           if not option.adds_triggers]
        for setting in settings:
            rule = rule_class(setting)
            assert (rule.trigger_words, rule.trigger_names, rule.name_free_words) == (
                rule_class.trigger_words, rule_class.trigger_names, rule_class.name_free_words), \
                (rule.code, setting)
    declared = {option.name for rule in registry.all_rules() for option in rule.options
                if option.adds_triggers}
    assert declared == {"timeout-functions"}


def test_an_option_that_leaves_the_triggers_alone_keeps_the_lazy_linter():
    """`exception-paths` (set in many configurations) changes what is reported, not which
    files can be: the run still imports nothing for a file that needs no parse."""
    settings = LintSettings(codes=DEFAULT_CODES, rule_options={"exception-paths": ["timer"]})
    assert isinstance(settings.build_linter(), LazyLinter)


def test_the_catalogues_triggers_are_the_rule_classes():
    assert catalogue._triggers_from_catalogue() == catalogue.triggers_from_rule_classes()
    assert [t.code for t in catalogue.rule_triggers()] == [r.code for r in registry.all_rules()]


def test_the_rules_are_built_before_the_runner_forks_its_workers(tmp_path):
    """Imported lazily, each worker would import libcst and the rules on its first file;
    built in the parent before the pool starts, forked workers inherit them."""
    from leaklint.runner import MIN_FILES_FOR_WORKERS

    for i in range(MIN_FILES_FOR_WORKERS):
        (tmp_path / f"m{i}.py").write_text(LEAK)
    script = textwrap.dedent("""
        import sys
        from leaklint.runner import LintSettings, Runner
        outcome = Runner(LintSettings(codes=("LKL101",)), jobs=2).run(sys.argv[1:])
        print(len(outcome.findings), outcome.parsed, "libcst" in sys.modules)
    """)
    paths = sorted(str(path) for path in tmp_path.glob("m*.py"))
    done = subprocess.run([sys.executable, "-c", script, *paths], capture_output=True, text=True,
                          timeout=300)
    assert done.stdout.split() == [str(len(paths)), str(len(paths)), "True"], done.stderr
