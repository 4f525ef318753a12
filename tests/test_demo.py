"""The bundled demo the README runs shows one leak of every family, and nothing else."""
from pathlib import Path

from leaklint.engine import Linter
from leaklint.registry import all_rules

DEMO = Path(__file__).resolve().parent.parent / "leaklint" / "demo" / "leaky_service.py"


def test_demo_shows_every_family_and_no_false_positive():
    text = DEMO.read_text()
    findings = Linter([rule() for rule in all_rules() if rule.default_enabled]).lint_text(text, str(DEMO))
    assert {f.code[:4] for f in findings} == {"LKL1", "LKL2", "LKL3", "LKL4", "LKL5"}
    lines = text.splitlines()
    clean_from = next(n for n, line in enumerate(lines, 1) if line.startswith("class CleanHeartbeat"))
    assert all(f.line < clean_from for f in findings), "the clean example must stay clean"
