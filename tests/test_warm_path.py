"""A run that lints nothing (every file answered by the cache) imports neither libcst nor
the rules: what they hold for selecting codes comes from leaklint/catalogue.py."""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from leaklint import _rule_catalogue, catalogue

# Runs leaklint in a fresh interpreter and prints which heavy modules it imported.
PROBE = textwrap.dedent("""
    import sys
    from leaklint.cli import main
    code = main(sys.argv[1:])
    # Besides libcst and the rules, modules only writing files, SARIF, errors or worker
    # processes need: a warm run's start-up is most of its time.
    needless = {"libcst", "secrets", "traceback", "pkgutil", "concurrent.futures", "multiprocessing"}
    heavy = sorted(m for m in sys.modules
                   if m in needless or m.startswith(("leaklint.rules", "leaklint.engine")))
    print("EXIT", code, "HEAVY", ",".join(heavy) or "none", file=sys.stderr)
""")


def run_leaklint(*args, cwd) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    return done.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("source", [
    "import threading\nthreading.Thread(target=print).start()\n",  # a finding
    "import threading\nt = threading.Thread(target=print)\nt.start()\nt.join()\n",  # clean
])
def test_a_warm_run_imports_neither_libcst_nor_the_rules(tmp_path, source):
    (tmp_path / "mod.py").write_text(source)
    args = ["--isolated", "--cache-dir", str(tmp_path / "cache"), "mod.py"]
    cold = run_leaklint(*args, cwd=tmp_path)
    assert "libcst" in cold  # the file was linted
    warm = run_leaklint(*args, cwd=tmp_path)
    assert warm.endswith("HEAVY none"), warm
    assert warm.split()[1] == cold.split()[1]  # the same exit status


@pytest.mark.parametrize("fixture", ["project_bases", "project_globals", "project_factories"])
def test_a_warm_run_resolves_project_requirements_without_libcst(tmp_path, fixture):
    """Findings that depend on other modules are resolved on every run (warm too), from
    the cached summaries: that needs no tree."""
    shutil.copytree(Path(__file__).parent / "fixtures" / fixture, tmp_path / fixture)
    args = ["--isolated", "--cache-dir", str(tmp_path / "cache"), fixture]
    cold = run_leaklint(*args, cwd=tmp_path)
    assert cold.split()[:2] == ["EXIT", "1"]  # the fixture has findings
    warm = run_leaklint(*args, cwd=tmp_path)
    assert warm == "EXIT 1 HEAVY none", warm


def test_the_generated_catalogue_is_current_and_true():
    assert _rule_catalogue.RULES_DIGEST == catalogue.rules_digest(), \
        "leaklint/_rule_catalogue.py is stale: run python scripts/gen_rules_doc.py"
    assert catalogue._from_catalogue() == catalogue.from_rule_classes()
    assert catalogue._options_from_catalogue() == tuple(catalogue.options_from_rule_classes().values())
    assert catalogue._triggers_from_catalogue() == catalogue.triggers_from_rule_classes()


def _clear_catalogue_caches():
    for cached in (catalogue._current_catalogue, catalogue._from_catalogue,
                   catalogue._options_from_catalogue, catalogue._triggers_from_catalogue):
        cached.cache_clear()


def test_a_stale_catalogue_is_not_used(monkeypatch):
    monkeypatch.setattr(_rule_catalogue, "RULES", (("LKL999", "made-up", True, True, ()),))
    monkeypatch.setattr(_rule_catalogue, "OPTIONS", (("made-up", "int", 1, "help", False, None),))
    monkeypatch.setattr(_rule_catalogue, "TRIGGERS", (("LKL999", ("made",), ("up",), ()),))
    _clear_catalogue_caches()
    try:
        assert [r.code for r in catalogue._from_catalogue()] == ["LKL999"]  # the digest matches
        assert catalogue._options_from_catalogue() == (catalogue.OptionInfo("made-up", int, 1, "help", False, None),)
        assert catalogue._triggers_from_catalogue() == (
            catalogue.RuleTriggers("LKL999", ("made",), ("up",), ()),)
        _clear_catalogue_caches()
        monkeypatch.setattr(_rule_catalogue, "RULES_DIGEST", "0" * 32)  # a rule edited since
        assert catalogue._from_catalogue() == catalogue.from_rule_classes()
        assert catalogue._options_from_catalogue() == tuple(catalogue.options_from_rule_classes().values())
        assert catalogue._triggers_from_catalogue() == catalogue.triggers_from_rule_classes()
    finally:
        _clear_catalogue_caches()
