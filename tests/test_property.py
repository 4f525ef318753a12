"""Property test: every rule runs on generated programs without raising.

hypothesmith generates syntactically valid Python from the grammar; the number of
examples is bounded (LEAKLINT_HYPOTHESIS_EXAMPLES, default 60) so CI stays quick.
"""
import os

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from leaklint.engine import Linter
from leaklint.registry import all_rules

# hypothesmith compiles what it generates: its SyntaxWarnings are about random code.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

EXAMPLES = int(os.environ.get("LEAKLINT_HYPOTHESIS_EXAMPLES", "60"))

# Generated code rarely contains the words the prefilter looks for; prepend imports and
# append a few trigger-word statements so the rules really run on every example.
PRELUDE = (
    "import threading, asyncio, queue, subprocess, requests, multiprocessing\n"
    "from concurrent.futures import ThreadPoolExecutor\n"
)
TAIL = (
    "\nthreading.Thread(target=print).start()\n"
    "asyncio.ensure_future(print())\n"
    "q = queue.Queue()\nq.put(1)\n"
    "requests.get('u')\n"
    "subprocess.Popen(['x'])\n"
)

LINTER = Linter([rule() for rule in all_rules()])


def _lint(source: str):
    findings = LINTER.lint_text(source, "generated.py")
    internal = [f for f in findings if f.code == "LKL000"]
    assert not internal, internal[0].message + "\n" + internal[0].detail
    return findings


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_rules_never_raise_on_generated_programs(source):
    _lint(source)
    _lint(PRELUDE + source + TAIL)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_rules_never_raise_on_generated_syntax_trees(source):
    _lint(PRELUDE + source + TAIL)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text())
def test_engine_never_raises_on_arbitrary_text(text):
    # Arbitrary text is mostly not Python: LKL001 is fine, an exception is not.
    LINTER.lint_text("import threading\n" + text, "noise.py")
