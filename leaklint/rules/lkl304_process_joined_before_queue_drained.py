"""LKL304: a process that puts to a multiprocessing queue is joined before the parent
gets from that queue."""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from leaklint.index import FileIndex
from leaklint.lifecycle import ResourceKind, track
from leaklint.rules._queues import (analyze, function_of, source_order, spawned_callable,
                                    text_of, QueueTracer)
from leaklint.rules.base import Report, Rule

_PROCESS = ResourceKind("process", release_methods=frozenset())
_PROCESS_CLASSES = frozenset({"multiprocessing.Process", "multiprocessing.context.Process"})


def _inside(index: FileIndex, node: cst.CSTNode, func: cst.CSTNode) -> bool:
    return node is func or any(a is func for a in index.ancestors(node))


class ProcessJoinedBeforeQueueDrained(Rule):
    code = "LKL304"
    name = "process-joined-before-queue-drained"
    summary = "A process is joined before the parent gets the items it put on a queue."
    what_it_does = (
        "Finds a `multiprocessing.Process` (also `get_context().Process`) whose target "
        "puts to a `multiprocessing.Queue` passed to it, when the parent calls `join()` on "
        "the process before its first `get()` from that queue. Reported at the join. "
        "Manager queues do not have the problem and are not reported; a `join(timeout)` "
        "is not reported.")
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
                func, _ = QueueTracer(index, info).resolve_callable(spawn[0])
                if func is None or not any(_inside(index, put, func) for put in info.puts):
                    continue
                if any(_inside(index, get, func) for get in info.gets):
                    continue
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
                target = text_of(index, spawn[0])
                holder = f"`{info.holder}`" if info.holder else "the queue"
                yield Report(
                    first_join,
                    f"process running `{target}` puts to {holder} but is joined before the "
                    f"parent gets from it: a child does not exit until its queued items are "
                    f"flushed into the pipe, so this join can deadlock; get() the items "
                    f"first, then join()",
                    fix="drain the queue before joining the process")

    @staticmethod
    def _is_process(index: FileIndex, call: cst.Call) -> bool:
        if index.call_name(call) in _PROCESS_CLASSES:
            return True
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "Process":
            from leaklint.rules._queues import CONTEXT_FACTORIES, _is_factory
            return _is_factory(index, func.value, CONTEXT_FACTORIES)
        return False
