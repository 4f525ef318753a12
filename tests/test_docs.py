"""docs/rules.md is generated from the rules and must never drift from them; no document
names a code that does not exist."""
import importlib.util
import re
from pathlib import Path

import pytest

from leaklint.cli import build_parser
from leaklint.diagnostics import TOOL_CODES
from leaklint.engine import Linter
from leaklint.registry import all_rules
from leaklint.rules.base import Rule

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "docs" / "design.md"
# The code of docs/design.md's worked example: a rule that is not shipped. Should a real
# rule take this code, give the example another one.
EXAMPLE_CODE = "LKL505"


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
                                      "docs/rules.md", "docs/runtime.md", "docs/design.md"])
def test_docs_name_only_codes_and_families_that_exist(document):
    text = build_parser().format_help() if document == "--help" else (ROOT / document).read_text()
    allowed = {EXAMPLE_CODE} if document == "docs/design.md" else set()
    assert unknown_code_mentions(text) - allowed == set()


def worked_example() -> type:
    """The rule class of docs/design.md's worked example, run from the page's code."""
    block = re.search(r"```python\n(.*?)```", DESIGN.read_text(), re.S)
    assert block, "docs/design.md has no python code block"
    namespace: dict = {}
    exec(compile(block.group(1), str(DESIGN), "exec"), namespace)
    return next(value for value in namespace.values()
                if isinstance(value, type) and issubclass(value, Rule) and value.code)


def test_design_worked_example_is_not_a_shipped_code():
    rule = worked_example()
    assert rule.code == EXAMPLE_CODE
    assert EXAMPLE_CODE not in {r.code for r in all_rules()}


def test_design_worked_example_works():
    # What tests/test_rule_examples.py checks of a shipped rule, so that the page teaches
    # code that runs against today's core.
    rule = worked_example()
    linter = Linter([rule()])
    for section in ("name", "summary", "what_it_does", "why_bad", "trigger_words"):
        assert getattr(rule, section), section
    for source in (rule.example, *rule.invalid):
        assert [f.code for f in linter.lint_text(source, "e.py")] == [rule.code], source
    for source in (rule.use_instead, *rule.valid):
        assert linter.lint_text(source, "e.py") == [], source


def test_design_names_only_files_that_exist():
    text = DESIGN.read_text()
    named = set(re.findall(r"`((?:leaklint|tests|scripts)/[\w/]+\.py)`", text))
    # The worked example's own files are what a newcomer would create.
    missing = {path for path in named if not (ROOT / path).exists()
               and EXAMPLE_CODE.lower() not in path and "managers" not in path}
    assert named and missing == set()


def test_unknown_code_mentions_are_found():
    assert unknown_code_mentions("LKL0xx LKL000 LKL1 LKL10 LKL101 LKL5xx LKL") == set()
    assert unknown_code_mentions("LKL8xx, LKL8, LKL109 and LKL1011") == {"LKL8xx", "LKL8", "LKL109", "LKL1011"}


# What the page's "What you did not write" says the core does for the example rule.
CORE_FOR_FREE = {
    "from multiprocessing import Manager as M\ndef f():\n    m = M()\n    m.dict()\n": 1,
    "try:\n    import multiprocess as mp\nexcept ImportError:\n    import multiprocessing as mp\n"
    "def f():\n    m = mp.Manager()\n": 1,
    "import contextlib, multiprocessing\ndef f():\n    with contextlib.ExitStack() as s:\n"
    "        s.enter_context(multiprocessing.Manager())\n": 0,
    "import multiprocessing\ndef f():\n    m = multiprocessing.Manager()\n    try:\n"
    "        m.dict()\n    finally:\n        m.shutdown()\n": 0,
    "import multiprocessing\ndef stop(x):\n    x.shutdown()\ndef f():\n"
    "    m = multiprocessing.Manager()\n    stop(m)\n": 0,
    "import multiprocessing\ndef stop(x):\n    print(x)\ndef f():\n"
    "    m = multiprocessing.Manager()\n    stop(m)\n": 1,
    "import atexit, multiprocessing\ndef f():\n    m = multiprocessing.Manager()\n"
    "    atexit.register(m.shutdown)\n": 0,
    "import multiprocessing\ndef f(registry):\n    registry.add(multiprocessing.Manager())\n": 0,
}


@pytest.mark.parametrize("source,count", CORE_FOR_FREE.items())
def test_design_worked_example_gets_the_core_for_free(source, count):
    rule = worked_example()
    assert len(Linter([rule()]).lint_text(source, "e.py")) == count
