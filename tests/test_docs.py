"""docs/rules.md is generated from the rules and must never drift from them."""
import importlib.util
from pathlib import Path

from leaklint.diagnostics import TOOL_CODES
from leaklint.registry import all_rules

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("gen_rules_doc", ROOT / "scripts" / "gen_rules_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rules_doc_is_up_to_date():
    current = (ROOT / "docs" / "rules.md").read_text()
    assert current == _generator().render(), "docs/rules.md is stale: run python scripts/gen_rules_doc.py"


def test_every_code_has_a_section():
    text = (ROOT / "docs" / "rules.md").read_text()
    for code in [r.code for r in all_rules()] + list(TOOL_CODES):
        assert f"### {code}: " in text, code
