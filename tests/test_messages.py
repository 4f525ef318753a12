"""Every rule's message says what leaks in one short line; how to fix it is Report.fix.

Runs every rule over its own `invalid` examples, its documented example and the fixtures,
and checks each message: at most 160 characters, one line, one clause of fact (no `;`
introducing advice), code quoted with backticks only, and no fix text in it.
"""
import re
from pathlib import Path

import pytest

from leaklint.engine import Linter
from leaklint.registry import all_rules

RULES = all_rules()
FIXTURES = Path(__file__).parent / "fixtures"
MAX_MESSAGE = 160


def _findings():
    found = []
    for rule in RULES:
        linter = Linter([rule()])
        for number, source in enumerate(rule.invalid + (rule.example,)):
            found += [(f"{rule.code} example {number}", f)
                      for f in linter.lint_text(source, "example.py")]
    linter = Linter([rule() for rule in RULES])
    for path in sorted(FIXTURES.glob("*.py")):
        found += [(path.name, f) for f in linter.lint_text(path.read_text(), str(path))]
    return [(where, f) for where, f in found if not f.code.startswith("LKL0")]


FINDINGS = _findings()


def test_every_rule_is_covered():
    assert {f.code for _, f in FINDINGS} == {rule.code for rule in RULES}


@pytest.mark.parametrize("where,finding", FINDINGS,
                         ids=[f"{w}:{f.line}:{f.code}" for w, f in FINDINGS])
def test_message_is_one_short_line_without_the_fix(where, finding):
    message = finding.message
    assert len(message) <= MAX_MESSAGE, message
    assert "\n" not in message and message == message.strip()
    assert ";" not in message, f"advice after a `;` belongs in the fix: {message}"
    assert finding.fix, f"{finding.code} has no fix"
    assert finding.fix not in message
    # The fix's words are not repeated in the message (e.g. "pass daemon=True").
    assert not re.search(r"\b(call|pass|use|await it|cancel it|consume)\b .*\b(or|instead)\b",
                         message), message
    # One quoting style for code: backticks, balanced, never 'quotes'.
    assert message.count("`") % 2 == 0, message
    outside = re.sub(r"`[^`]*`", "", message)
    assert not re.search(r"'[\w.\[\]()]+'", outside), message
    assert not re.search(r"\b\w+\(\)", outside), f"unquoted call in: {message}"


def test_messages_aim_under_100_characters():
    lengths = sorted(len(f.message) for _, f in FINDINGS)
    assert lengths[len(lengths) // 2] < 100  # the median


def lint(source: str, code: str):
    rule = next(r for r in RULES if r.code == code)
    return [f for f in Linter([rule()]).lint_text(source, "m.py") if f.code == code]


def test_long_names_do_not_push_a_message_over_the_limit():
    name = "a_rather_long_attribute_name_that_goes_on"
    source = (
        "import subprocess\n\n"
        "class Service:\n"
        "    def start(self):\n"
        f"        self.{name} = subprocess.Popen(['some_program_with_a_long_name', '--flag'])\n")
    (finding,) = lint(source, "LKL504")
    assert len(finding.message) <= MAX_MESSAGE
    source = ("import threading\n\nclass Service:\n    def start(self):\n"
              f"        self.{name} = threading.Timer(5, self.{name}_callback)\n"
              f"        self.{name}.start()\n")
    (finding,) = lint(source, "LKL101")
    assert len(finding.message) <= MAX_MESSAGE


# -- messages never claim more than is true -------------------------------------------
def test_run_in_executor_says_what_is_lost():
    (finding,) = lint("import asyncio\n\nasync def f():\n    loop = asyncio.get_running_loop()\n"
                      "    loop.run_in_executor(None, print, 1)\n", "LKL201")
    assert "result and exception" in finding.message
    assert "garbage" not in finding.message  # the executor keeps the work item alive


WAIT = ("import asyncio\n\nasync def f(a, b):\n"
        "    tasks = [asyncio.create_task(a), asyncio.create_task(b)]\n"
        "    {binding}await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)\n")


@pytest.mark.parametrize("binding,named,fix", [
    ("done, _ = ", "`_` gets them", "bind the pending set to a name"),
    ("done, leftovers = ", "`leftovers` gets them", "for t in leftovers: t.cancel()"),
    ("", "the pending set is discarded", "done, pending = await asyncio.wait(...)"),
])
def test_wait_first_completed_points_at_the_wait_and_names_the_binding(binding, named, fix):
    (finding,) = lint(WAIT.format(binding=binding), "LKL202")
    assert (finding.line, finding.column) == (5, 5 + len(binding) + len("await "))
    assert "`asyncio.wait(..., return_when=FIRST_COMPLETED)`" in finding.message
    assert "2 tasks" in finding.message
    assert named in finding.message
    assert fix in finding.fix


def test_a_generator_of_create_task_nobody_iterates_creates_no_task():
    source = ("import asyncio\n\nasync def work(x):\n    pass\n\n"
              "async def f(xs):\n    (asyncio.create_task(work(x)) for x in xs)\n"
              "    unused = (asyncio.create_task(work(x)) for x in xs)\n")
    findings = lint(source, "LKL201")
    assert [f.line for f in findings] == [7, 8]
    for finding in findings:
        assert "never iterated" in finding.message and "`work()` never runs" in finding.message
        assert "dropped" not in finding.message
    assert lint(source, "LKL202") == []


def test_join_before_drain_can_deadlock_only_past_the_pipe_buffer():
    template = ("import multiprocessing\n\ndef work(q):\n{body}\n\n"
                "def main():\n    q = multiprocessing.Queue()\n"
                "    p = multiprocessing.Process(target=work, args=(q,))\n    p.start()\n"
                "    p.join()\n    return q.get()\n")
    (finding,) = lint(template.format(body="    q.put(make_report())"), "LKL304")
    assert "can deadlock once the queued data exceed the pipe buffer" in finding.message
    # A few small constants always fit in the pipe: the child exits, the join returns.
    assert lint(template.format(body="    q.put(None)\n    q.put('done')"), "LKL304") == []
    # ... but not when they repeat, nor when a constant is large.
    assert lint(template.format(body="    for _ in range(10**6):\n        q.put(1)"), "LKL304")
    assert lint(template.format(body=f"    q.put('{'x' * 200}')"), "LKL304")


def test_a_long_method_call_is_named_by_the_method():
    source = ("import asyncio\n\nclass Ring:\n    async def _fanout_multi_ring_request(self):\n"
              "        pass\n\n    async def on_event(self):\n"
              "        asyncio.create_task(self._fanout_multi_ring_request())\n")
    (finding,) = lint(source, "LKL201")
    assert finding.message.startswith("task running `_fanout_multi_ring_request()` is dropped")


def test_messages_do_not_overclaim_what_happens_to_a_process_or_task():
    (process,) = lint("import multiprocessing\n\ndef f():\n"
                      "    multiprocessing.Process(target=print).start()\n", "LKL501")
    # multiprocessing reaps finished children when another starts, and joins at exit.
    assert "reap" not in process.message
    (task,) = lint("import asyncio\n\nasync def f():\n    asyncio.create_task(g())\n", "LKL201")
    # The coroutine may log its own errors; only the reference rule always holds.
    assert task.message == "task running `g()` is dropped: it may be garbage-collected mid-flight"


def test_a_module_global_queue_is_only_said_to_be_unread_in_this_module():
    # Another module may import it and read it (idlelib's rpc.request_queue): one file
    # cannot show that, so the message says only what the file shows.
    source = "import queue\n\nrequests = queue.Queue()\n\ndef ask(x):\n    requests.put(x)\n"
    (finding,) = lint(source, "LKL301")
    assert finding.message == "`requests` is put to but never read in this module: its items pile up"
    local = "import queue, threading\n\ndef f(x):\n    q = queue.Queue()\n    threading.Thread(target=q.put, args=(x,)).start()\n"
    assert all("in this module" not in f.message for f in lint(local, "LKL301"))


@pytest.mark.parametrize("source,holder", [
    ("from multiprocessing import Pool\n\ndef f():\n    a, b = Pool(), Pool()\n    a.close()\n    a.join()\n", "`b`"),
    ("from multiprocessing import Pool\n\ndef f(n):\n    p = Pool() if n else None\n", "`p`"),
    ("from multiprocessing import Pool\n\nclass C:\n    pool = None\n\n    def run(self):\n"
     "        self.pool = self.pool or Pool()\n", "`self.pool`"),
])
def test_message_names_where_a_value_arriving_by_another_road_is_kept(source, holder):
    # Unpacked, conditional and `x or Pool()` values are named by the target they go to.
    findings = [f for f in Linter([rule() for rule in RULES]).lint_text(source, "m.py")
                if f.code == "LKL503"]
    assert len(findings) == 1 and f"pool {holder} is created" in findings[0].message
