"""LKL304: a process that puts to a multiprocessing queue is joined before the parent
gets from that queue."""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from leaklint.index import FileIndex
from leaklint.lifecycle import ResourceKind, track
from leaklint.rules._common import SNIPPET_LIMIT
from leaklint.rules._queues import (
    QUEUE_NAMES,
    analyze,
    function_of,
    quoted_holder,
    share_requirements,
    source_order,
    text_of,
)
from leaklint.rules.base import Report, Rule
from leaklint.values import is_context_process, resolve_callable, spawned_callable

_PROCESS = ResourceKind("process", release_methods=frozenset())
_PROCESS_CLASSES = frozenset({"multiprocessing.Process", "multiprocessing.context.Process"})


def _inside(index: FileIndex, node: cst.CSTNode, func: cst.CSTNode) -> bool:
    return node is func or any(a is func for a in index.ancestors(node))


# Anything that repeats: a put inside it may run any number of times.
_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
# A constant at most this long (as written) pickles to a few dozen bytes.
_SMALL_CONSTANT = 100


# Calls that return a number (or a bool): a few bytes once pickled.
_SCALAR_CALLS = frozenset({
    "builtins.int", "builtins.float", "builtins.bool", "builtins.len", "builtins.abs",
    "builtins.round", "random.randint", "random.random", "random.uniform",
    "random.randrange", "os.getpid", "time.time", "time.monotonic",
})


def _small_value(index: FileIndex, value: cst.CSTNode, depth: int = 0) -> bool:
    """A literal of at most _SMALL_CONSTANT characters, a number from a call in
    _SCALAR_CALLS, or a local name every assignment of which is one of those."""
    if depth > 3:
        return False
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
        value = value.expression
    if isinstance(value, (cst.Integer, cst.Float, cst.SimpleString)):
        return len(index.module.code_for_node(value)) <= _SMALL_CONSTANT
    if isinstance(value, cst.Call):
        return index.call_name(value) in _SCALAR_CALLS
    if isinstance(value, cst.Name):
        if value.value in ("None", "True", "False"):
            return True
        bindings = index.bindings_of(value)
        return bool(bindings) and all(
            b.kind == "assign" and b.value is not None and _small_value(index, b.value, depth + 1)
            for b in bindings)
    return False


def _only_small_constants(index: FileIndex, puts, func: cst.CSTNode) -> bool:
    """Every put of the child puts a small scalar (`q.put(None)`, `q.put("done")`,
    `q.put(delay)` with `delay = randint(1, 60)`) and none repeats: the data are far below
    the pipe buffer (64 KiB on Linux), so the child's feeder thread flushes them and the
    child exits; joining first cannot deadlock."""
    if not puts:
        return False
    for put in puts:
        if not isinstance(put, cst.Call) or len(put.args) < 1 or put.args[0].star:
            return False
        if not _small_value(index, put.args[0].value):
            return False
        for ancestor in index.ancestors(put):
            if ancestor is func:
                break
            if isinstance(ancestor, _LOOPS):
                return False
    return True


class ProcessJoinedBeforeQueueDrained(Rule):
    code = "LKL304"
    name = "process-joined-before-queue-drained"
    summary = "A process is joined before the parent gets the items it put on a queue."
    what_it_does = (
        "Finds a `multiprocessing.Process` (also `get_context().Process`) whose target "
        "puts to a `multiprocessing.Queue` passed to it, when the parent calls `join()` on "
        "the process before its first `get()` from that queue. Reported at the join. "
        "Manager queues do not have the problem and are not reported; a `join(timeout)` "
        "is not reported, nor is a child that only puts a few small scalars (`q.put(None)`, "
        "`q.put('done')`, `q.put(delay)` with `delay = randint(1, 60)`, none of them in a "
        "loop): they fit in the pipe buffer, so the child exits and the join returns.")
    why_bad = (
        "A process that has put items on a multiprocessing queue does not terminate until "
        "its feeder thread has flushed them into the pipe, and the pipe only drains when "
        "someone gets. Joining it first deadlocks as soon as the items exceed the pipe "
        "buffer - the case the multiprocessing docs warn about under \"Joining processes "
        "that use queues\".")
    example = (
        "import multiprocessing\n\n"
        "def work(q):\n"
        "    q.put('X' * 1000000)\n\n"
        "def main():\n"
        "    q = multiprocessing.Queue()\n"
        "    p = multiprocessing.Process(target=work, args=(q,))\n"
        "    p.start()\n"
        "    p.join()\n"
        "    return q.get()\n")
    use_instead = (
        "import multiprocessing\n\n"
        "def work(q):\n"
        "    q.put('X' * 1000000)\n\n"
        "def main():\n"
        "    q = multiprocessing.Queue()\n"
        "    p = multiprocessing.Process(target=work, args=(q,))\n"
        "    p.start()\n"
        "    result = q.get()  # drain first\n"
        "    p.join()\n"
        "    return result\n")
    invalid = (
        "from multiprocessing import Process, Queue\n\ndef work(q, n):\n    q.put(n)\n\n"
        "def main():\n    q = Queue()\n    procs = [Process(target=work, args=(q, i)) for i in range(4)]\n"
        "    for p in procs:\n        p.start()\n    for p in procs:\n        p.join()\n"
        "    return [q.get() for _ in procs]\n",
    )
    valid = (
        "import multiprocessing\n\ndef work(q):\n    q.put('done')\n\ndef main():\n"
        "    q = multiprocessing.Queue()\n"
        "    p = multiprocessing.Process(target=work, args=(q,))\n    p.start()\n"
        "    p.join()\n    return q.get()\n",
        "import multiprocessing\n\ndef work(q):\n    q.put(1)\n\ndef main():\n"
        "    q = multiprocessing.Manager().Queue()\n"
        "    p = multiprocessing.Process(target=work, args=(q,))\n    p.start()\n"
        "    p.join()\n    return q.get()\n",
        "import multiprocessing\n\ndef work(q):\n    q.put(1)\n\ndef main():\n"
        "    q = multiprocessing.Queue()\n"
        "    p = multiprocessing.Process(target=work, args=(q,))\n    p.start()\n"
        "    p.join(5)\n    return q.get()\n",
        "import multiprocessing\n\ndef work(q):\n    print(q.get())\n\ndef main():\n"
        "    q = multiprocessing.Queue()\n"
        "    p = multiprocessing.Process(target=work, args=(q,))\n    p.start()\n"
        "    q.put(1)\n    p.join()\n",
    )
    trigger_words = ("Queue",)
    trigger_names = QUEUE_NAMES

    def check(self, index: FileIndex) -> Iterator[Report]:
        for info in analyze(index):
            if info.kind != "mp" or info.escaped or not info.puts or not info.gets:
                continue
            if any(not isinstance(g, cst.Call) for g in info.gets):
                continue
            readers = {function_of(index, g) for g in info.gets}
            if len(readers) != 1:
                continue
            reader = readers.pop()
            if reader is None:
                continue
            for call in index.calls:
                if not self._is_process(index, call):
                    continue
                spawn = spawned_callable(index, call)
                if spawn is None or spawn[1] is None:
                    continue
                tup = spawn[1].value
                if not any(id(e.value) in info.uses for e in tup.elements):
                    continue
                func, _ = resolve_callable(index, spawn[0])
                if func is None or not any(_inside(index, put, func) for put in info.puts):
                    continue
                if any(_inside(index, get, func) for get in info.gets):
                    continue
                if _only_small_constants(index, [p for p in info.puts if _inside(index, p, func)], func):
                    continue  # a few bytes always fit in the pipe: the child exits
                lifecycle = track(index, call, _PROCESS)
                joins = [j for j in lifecycle.method_calls.get("join", ())
                         if not j.args and function_of(index, j) is reader]
                if not joins:
                    continue
                order = source_order(index, reader)
                first_join = min(joins, key=lambda j: order.get(id(j), 1 << 30))
                first_get = min(order.get(id(g), 1 << 30) for g in info.gets)
                if order.get(id(first_join), 1 << 30) >= first_get:
                    continue
                share_requirements(index, info, first_join)
                target = text_of(index, spawn[0])
                running = f" running `{target}()`" if len(target) <= SNIPPET_LIMIT else ""
                yield Report(
                    first_join,
                    f"process{running} is joined before {quoted_holder(info)} is drained: can "
                    f"deadlock once the queued data exceed the pipe buffer",
                    fix="`get()` every item the child puts first, then `join()` it")

    @staticmethod
    def _is_process(index: FileIndex, call: cst.Call) -> bool:
        if index.call_name(call) in _PROCESS_CLASSES:
            return True
        return is_context_process(index, call)
