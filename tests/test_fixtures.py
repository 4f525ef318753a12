"""Fixture files, checked both ways: every line ending in `# LKLnnn` (one or more codes)
must be flagged with exactly those codes, and no other line may be flagged."""
import re
from pathlib import Path

import pytest

from leaklint.engine import Linter
from leaklint.registry import all_rules

FIXTURES = Path(__file__).parent / "fixtures"
MARKER = re.compile(r"#\s*((?:LKL\d{3}\s*)+)$")


def expected_findings(text: str):
    expected = set()
    for number, line in enumerate(text.splitlines(), 1):
        match = MARKER.search(line)
        if match:
            for code in match.group(1).split():
                expected.add((number, code))
    return expected


# A fixture holding this line is linted with every rule, off-by-default ones included;
# the others with the rules on by default (off-by-default rules are opt-in: the fixtures of
# the default rules need not mark, say, every unbounded join as LKL601 too).
ALL_RULES_MARKER = "# fixture: all rules"


# A fixture starting with this line is linted with the `exception-paths` option set to
# the kinds that follow it (the default rules).
EXCEPTION_PATHS_MARKER = "# fixture: exception-paths = "


@pytest.fixture(scope="module")
def linters():
    return {True: Linter([rule() for rule in all_rules()]),
            False: Linter([rule() for rule in all_rules() if rule.default_enabled])}


def linter_for(text, linters):
    first = text.splitlines()[0] if text else ""
    if first.startswith(EXCEPTION_PATHS_MARKER):
        settings = {"exception-paths": first[len(EXCEPTION_PATHS_MARKER):].split()}
        return Linter([rule(settings) for rule in all_rules() if rule.default_enabled])
    return linters[ALL_RULES_MARKER in text.splitlines()]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.py")), ids=lambda p: p.name)
def test_fixture(path, linters):
    text = path.read_text()
    linter = linter_for(text, linters)
    expected = expected_findings(text)
    found = {(f.line, f.code) for f in linter.lint_text(text, str(path))}
    missing = sorted(expected - found)
    unexpected = sorted(found - expected)
    assert not missing and not unexpected, (
        f"\nmissing (line, code): {missing}\nunexpected (line, code): {unexpected}")


def test_fixture_markers_are_found():
    # Guards the marker regex itself: a typo'd marker would make a fixture vacuous.
    assert expected_findings("x = 1  # LKL101\ny = 2  # LKL101 LKL501\n") == {
        (1, "LKL101"), (2, "LKL101"), (2, "LKL501")}


# -- projects: packages whose findings depend on their other modules ------------------------
PROJECTS = sorted(p for p in FIXTURES.glob("project_*") if p.is_dir())


def project_files(folder: Path):
    return sorted(str(p) for p in folder.rglob("*.py"))


def expected_in_project(folder: Path):
    return {(path, line, code) for path in project_files(folder)
            for line, code in expected_findings(Path(path).read_text())}


@pytest.mark.parametrize("folder", PROJECTS, ids=lambda p: p.name)
def test_project_fixture_with_the_command(folder):
    from leaklint.runner import LintSettings, Runner

    settings = LintSettings(codes=tuple(r.code for r in all_rules() if r.default_enabled))
    outcome = Runner(settings).run(project_files(folder))
    found = {(f.path, f.line, f.code) for f in outcome.findings}
    expected = expected_in_project(folder)
    assert found == expected, (f"\nmissing: {sorted(expected - found)}"
                               f"\nunexpected: {sorted(found - expected)}")


@pytest.mark.parametrize("folder", PROJECTS, ids=lambda p: p.name)
def test_project_fixture_one_file_at_a_time(folder, linters):
    """A Linter on its own (as the flake8 plugin uses it) reads the other modules from
    the disk: the same findings."""
    found = {(path, f.line, f.code) for path in project_files(folder)
             for f in linters[False].lint_text(Path(path).read_text(), path)}
    assert found == expected_in_project(folder)


def test_every_project_fixture_has_a_clean_fixed_version():
    names = {p.name for p in PROJECTS}
    shapes = {n for n in names if not n.endswith("_fixed")}
    assert shapes and all(f"{n}_fixed" in names for n in shapes)
    for name in names:
        assert bool(expected_in_project(FIXTURES / name)) == (name in shapes), name
