"""docs/rules.md is generated from the rules and must never drift from them; no document
names a code that does not exist."""
import importlib.util
import re
from pathlib import Path

import pytest

from leaklint.cli import build_parser
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


# Every code (LKL101), prefix (LKL1, LKL10) or family (LKL1xx) the docs and --help name.
CODE_MENTION = re.compile(r"\bLKL(?P<digits>\d+)(?P<family>x*)")


def unknown_code_mentions(text: str) -> set:
    known = [rule.code for rule in all_rules()] + list(TOOL_CODES)
    unknown = set()
    for match in CODE_MENTION.finditer(text):
        prefix = "LKL" + match["digits"]
        if len(match["digits"]) + len(match["family"]) > 3:
            unknown.add(match.group())
        elif len(match["digits"]) == 3:
            if prefix not in known:
                unknown.add(match.group())
        elif not any(code.startswith(prefix) for code in known):
            unknown.add(match.group())
    return unknown


@pytest.mark.parametrize("document", ["--help", "README.md", "DEVELOPERS.md", "docs/editors.md",
                                      "docs/rules.md", "docs/runtime.md"])
def test_docs_name_only_codes_and_families_that_exist(document):
    text = build_parser().format_help() if document == "--help" else (ROOT / document).read_text()
    assert unknown_code_mentions(text) == set()


def test_unknown_code_mentions_are_found():
    assert unknown_code_mentions("LKL0xx LKL000 LKL1 LKL10 LKL101 LKL5xx LKL") == set()
    assert unknown_code_mentions("LKL8xx, LKL8, LKL109 and LKL1011") == {"LKL8xx", "LKL8", "LKL109", "LKL1011"}
