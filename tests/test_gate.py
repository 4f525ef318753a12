"""The code-token gate (leaklint/gate.py) may only skip files, and rules, that cannot
produce a finding: linting with it must give exactly what linting without it gives."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from leaklint.engine import Linter
from leaklint.gate import AVAILABLE, Gate, code_tokens, compile_code
from leaklint.registry import all_rules
from leaklint.runner import LintSettings, Runner

FIXTURES = Path(__file__).parent / "fixtures"
OPTIONS = {"timeout-functions": ["mycompany.http.fetch"]}
# Python 3.9's compiler drops the attributes of constant-false blocks: no gate there.
needs_gate = pytest.mark.skipif(not AVAILABLE, reason="the gate is off before Python 3.10")
# A shipped path and a test file's path: the findings must not depend on it either way.
PATHS = ("pkg/module.py", "tests/test_module.py")
SETTINGS = LintSettings(codes=tuple(r.code for r in all_rules() if r.default_enabled))


def _rules():
    return [rule(OPTIONS) for rule in all_rules()]  # off-by-default rules too


def tokens(source: str) -> set:
    code = compile_code(source, "case.py")
    assert code is not None
    return code_tokens(code)


# -- the gate agrees with a full parse ------------------------------------------------------
def _fixture_sources():
    for path in sorted(FIXTURES.rglob("*.py")):
        yield pytest.param(path.read_text(encoding="utf-8"), id=str(path.relative_to(FIXTURES)))


@pytest.mark.parametrize("source", list(_fixture_sources()))
def test_the_gate_gives_the_findings_of_every_rule_without_it(source):
    rules = _rules()
    for path in PATHS:
        gated = Linter(rules).lint_text(source, path)
        assert gated == Linter(rules, gate=False).lint_text(source, path)
    # Each rule alone (as with --select): a rule's findings need its own names.
    for rule in rules:
        alone = Linter([rule], gate=False).lint_text(source, PATHS[0])
        if any(f.code == rule.code for f in alone):
            if AVAILABLE:
                assert Gate([rule]).reached(source, PATHS[0]) == [rule], f"{rule.code} would be skipped"
            assert Linter([rule]).lint_text(source, PATHS[0]) == alone


@needs_gate
def test_the_gate_skips_files_whose_trigger_word_is_only_in_a_comment():
    source = ("import queue  # not a Queue: a module\n\n"
              "def f(q):\n    '''Drain the Queue.'''\n    return q.get()\n")
    rules = _rules()
    gated, full = Linter(rules), Linter(rules, gate=False)
    assert gated.passes_prefilter(source)
    assert gated.lint_text(source, "m.py") == full.lint_text(source, "m.py") == []
    assert (gated.parsed, full.parsed) == (0, 1)
    assert gated.last_summary is None  # like a prefiltered file: the project parses it if needed


@needs_gate
def test_only_the_rules_a_file_reaches_run_on_it():
    source = "import threading\n\ndef f(w):\n    threading.Thread(target=w).start()\n"
    reached = Gate(_rules()).reached(source, "m.py")
    assert reached is not None
    assert {rule.code for rule in reached} == {"LKL101", "LKL102", "LKL601"}


# -- code tokens ---------------------------------------------------------------------------
@needs_gate
@pytest.mark.parametrize("source,name", [
    ("from threading import Thread as T\nT(target=print).start()\n", "Thread"),
    ("from threading import *\nThread(target=print).start()\n", "Thread"),
    ("import importlib\nth = importlib.import_module('threading')\n", "threading"),
    ("import importlib\nu = importlib.import_module('urllib.request')\n", "request"),
    ("import concurrent.futures as cf\n", "futures"),
    ("import threading\n\nclass W(threading.Thread):\n    pass\n", "Thread"),
    ("import threading\n\ndef make():\n    def inner():\n        return threading.Timer(1, print)\n"
     "    return inner\n", "Timer"),
    ("def f(t: 'Optional[threading.Thread]') -> None:\n    pass\n", "Thread"),
    ("from __future__ import annotations\n\ndef f(t: Dict[str, Thread] | None):\n    pass\n", "Thread"),
    # Dead code too: libcst and the rules see it.
    ("if False:\n    import queue\n    q = queue.SimpleQueue()\n", "SimpleQueue"),
    ("while 0:\n    x.create_task(c)\n", "create_task"),
    ("if not __debug__:\n    import subprocess\n    subprocess.Popen(['ls'])\n", "Popen"),
    ("def f():\n    return\n    import threading as t\n    t.Thread()\n", "Thread"),
    ("def f(loop):\n    return [loop.run_in_executor(None, g) for g in gs]\n", "run_in_executor"),
    ("def f(**kw):\n    return g(timeout=None, **kw)\n", "timeout"),  # keyword names
])
def test_what_the_code_spells_is_a_token(source, name):
    assert name in tokens(source)


@pytest.mark.parametrize("source", [
    "# a Thread would be wrong here\nx = 1\n",
    "'''Start a Thread per request.'''\nx = 1\n",
    "def f():\n    '''Returns a Thread, started.'''\n    return 1\n",
    "class C:\n    '''Thread: see f.'''\n",
    "print('the Thread is gone')\n",
])
def test_comments_docstrings_and_messages_are_not_tokens(source):
    assert "Thread" not in tokens(source)


# -- falling back to the parse guard -------------------------------------------------------
@pytest.mark.parametrize("tail", ["return\n", "await g()\n", "yield 1\n", "break\n"])
def test_what_only_the_compiler_rejects_is_linted_as_without_the_gate(tail):
    # symtable accepts these; compile() does not: the guard and libcst decide, as before.
    source = "import threading\n\nt = threading.Thread(target=print)\nt.start()\n" + tail
    assert compile_code(source, "m.py") is None
    assert Gate(_rules()).reached(source, "m.py") is None
    rules = _rules()
    gated = Linter(rules).lint_text(source, "m.py")
    assert gated == Linter(rules, gate=False).lint_text(source, "m.py")
    assert [f.code for f in gated] == [
        f.code for f in Linter(rules, prefilter=False).lint_text(source, "m.py")]
    assert gated  # linted: something to agree on


def test_a_syntax_error_is_reported_as_without_the_gate():
    source = "import threading\n\ndef f(:\n    threading.Thread(target=print).start()\n"
    rules = _rules()
    gated = Linter(rules).lint_text(source, "m.py")
    assert [f.code for f in gated] == ["LKL001"]
    assert gated == Linter(rules, gate=False).lint_text(source, "m.py")


# -- rules declare their names -------------------------------------------------------------
def test_dead_code_is_linted_on_every_version():
    source = "import queue\n\nif False:\n    q = queue.Queue()\n    q.put(1)\n"
    linter = Linter(_rules())
    assert [f.code for f in linter.lint_text(source, "m.py")] == ["LKL301"]
    assert linter.parsed == 1
    assert AVAILABLE == (sys.version_info >= (3, 10))


def test_every_rule_declares_its_trigger_names():
    for rule in _rules():
        assert rule.trigger_names, f"{rule.code} declares no trigger_names"
        assert all(name.isidentifier() for name in rule.trigger_names), rule.code


def test_timeout_functions_bring_their_names():
    [rule] = [r for r in _rules() if r.code == "LKL401"]
    assert "fetch" in rule.trigger_names and "requests" in rule.trigger_names
    source = "from mycompany.http import fetch as get\n\ndef f(u):\n    return get(u)\n"
    assert Gate([rule]).reached(source, "m.py") == [rule]
    assert [f.code for f in Linter([rule]).lint_text(source, "m.py")] == ["LKL401"]


def test_imported_factories_reach_lkl101_through_the_word_thread():
    # `self._beat = start_heartbeat()` spells no name of a thread: the name-free road.
    client = ("from .util import start_heartbeat\n\nclass C:\n    def __init__(self):\n"
              "        self._beat = start_heartbeat()  # {}\n")
    lkl101 = [r for r in _rules() if r.code == "LKL101"]
    unresolved = Linter(lkl101, resolve_requirements=False, gate=False)
    assert [f.code for f in unresolved.lint_text(client.format("Thread"), "pkg/c.py")] == ["LKL101"]
    assert Gate(lkl101).reached(client.format("Thread"), "pkg/c.py") == lkl101
    # Another rule's word only: the prefilter let it through, the gate does not.
    assert Gate(lkl101).reached(client.format("WorkerThread, Timer"), "pkg/c.py") == []


# -- the project pass ----------------------------------------------------------------------
@needs_gate
def test_a_module_the_gate_skipped_is_summarised_when_a_requirement_needs_it(tmp_path):
    # rpc.q is used by reader.py, which spells `Queue` only in a comment: the gate skips
    # it, and the project pass must still read it to see the use.
    (tmp_path / "rpc.py").write_text("import queue\n\nq = queue.Queue()\n\ndef f(x):\n    q.put(x)\n")
    (tmp_path / "reader.py").write_text("import rpc  # reads the Queue\n\ndef g():\n    return rpc.q.get()\n")
    paths = [str(tmp_path / "reader.py"), str(tmp_path / "rpc.py")]
    outcome = Runner(SETTINGS).run(paths)
    assert outcome.findings == []
    assert outcome.parsed == 1  # rpc.py only, by the linter
    (tmp_path / "reader.py").write_text("def g():\n    return 1  # no Queue here\n")
    assert [f.code for f in Runner(SETTINGS).run(paths).findings] == ["LKL301"]
