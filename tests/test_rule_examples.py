"""Each rule's own `invalid` snippets are flagged by it and its `valid` ones are not."""
import pytest

from leaklint.engine import Linter
from leaklint.registry import all_rules

RULES = all_rules()


def _cases(kind):
    for rule in RULES:
        for number, source in enumerate(getattr(rule, kind)):
            yield pytest.param(rule, source, id=f"{rule.code}-{kind}-{number}")


@pytest.mark.parametrize("rule,source", list(_cases("invalid")))
def test_invalid_example_is_flagged(rule, source):
    codes = {f.code for f in Linter([rule()]).lint_text(source, "example.py")}
    assert rule.code in codes


@pytest.mark.parametrize("rule,source", list(_cases("valid")))
def test_valid_example_is_clean(rule, source):
    findings = Linter([rule()]).lint_text(source, "example.py")
    assert [f for f in findings if f.code == rule.code] == []


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_is_documented(rule):
    assert rule.code and rule.name and rule.summary
    for section in ("what_it_does", "why_bad", "example", "use_instead"):
        assert getattr(rule, section).strip(), f"{rule.code} lacks {section}"
    assert rule.valid and rule.invalid, f"{rule.code} lacks examples"
    assert rule.trigger_words, f"{rule.code} has no trigger words: it would never run"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_example_section_is_flagged_and_fix_is_clean(rule):
    linter = Linter([rule()])
    assert rule.code in {f.code for f in linter.lint_text(rule.example, "e.py")}
    assert rule.code not in {f.code for f in linter.lint_text(rule.use_instead, "e.py")}
