"""LKL306: `join()` on a queue whose consumer can leave its loop on an exception before
calling `task_done()` for the item it took."""
from __future__ import annotations

from typing import Iterator, List, Optional, cast

import libcst as cst

from leaklint.index import FileIndex, walk
from leaklint.lifecycle import LOGGING_METHODS, NEUTRAL_BUILTINS
from leaklint.rules._queues import (
    QUEUE_NAMES,
    QueueInfo,
    analyze,
    first_in_source,
    function_of,
    source_order,
)
from leaklint.rules.base import Report, Rule
from leaklint.values import value_sources

BROAD_EXCEPTIONS = frozenset({"Exception", "BaseException"})


def _calls_on(index: FileIndex, info: QueueInfo, method: str) -> List[cst.Call]:
    """`q.METHOD(...)` calls on this queue: those the queue analysis followed (into
    consumers' parameters too) and those whose receiver is provably this queue."""
    found = {}
    for call in index.calls:
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == method):
            continue
        if id(func.value) in info.uses:
            found[id(call)] = call
            continue
        if isinstance(func.value, (cst.Name, cst.Attribute)):
            sources = value_sources(index, func.value)
            if sources and all(s is info.creation for s in sources):
                found[id(call)] = call
    return list(found.values())


def _is_broad(handler: cst.ExceptHandler) -> bool:
    kind = handler.type
    if kind is None:
        return True
    names = kind.elements if isinstance(kind, cst.Tuple) else [kind]
    for element in names:
        value = element.value if isinstance(element, cst.Element) else element
        if isinstance(value, cst.Name) and value.value in BROAD_EXCEPTIONS:
            return True
    return False


def _contains(root: cst.CSTNode, nodes) -> bool:
    ids = {id(n) for n in nodes}
    return any(id(n) in ids for n in walk(root))


def _leaves_early(block: cst.CSTNode) -> bool:
    return any(isinstance(n, (cst.Raise, cst.Break, cst.Continue, cst.Return)) for n in walk(block))


def _escape_path(index: FileIndex, risky: cst.Call, loop: cst.CSTNode, task_done: cst.Call,
                 task_dones: List[cst.Call]) -> bool:
    """True when an exception raised by `risky` skips every task_done(): it leaves the
    loop, or a handler swallows it and skips the task_done()."""
    child: cst.CSTNode = risky
    for ancestor in index.ancestors(risky):
        if ancestor is loop:
            return True
        if isinstance(ancestor, cst.Try) and child is not ancestor.finalbody:
            # raised in the try, a handler or the else: the finally still marks it done
            if ancestor.finalbody is not None and _contains(ancestor.finalbody, task_dones):
                return False
        if isinstance(ancestor, cst.Try) and child is ancestor.body:
            broad = [h for h in ancestor.handlers if _is_broad(h)]
            if broad:
                handler = broad[0]
                if _contains(handler, task_dones):
                    return False
                if any(isinstance(n, cst.Raise) for n in walk(handler.body)):
                    child = ancestor
                    continue  # re-raised: look further out
                # swallowed: the task_done() still runs if it comes after this try
                return _leaves_early(handler.body) or _contains(ancestor.body, [task_done])
        child = ancestor
    return True


def vulnerable_consumer(index: FileIndex, gets, task_done: cst.Call,
                        task_dones: List[cst.Call]) -> Optional[cst.Call]:
    """For a task_done() in a consumer loop, the first call between the loop's get() and
    the task_done() whose exception skips it; None when every path marks the item done."""
    loop = next((a for a in index.ancestors(task_done) if isinstance(a, (cst.While, cst.For))),
                None)
    func = function_of(index, task_done)
    if loop is None or func is None or not any(a is func for a in index.ancestors(loop)):
        return None
    order = source_order(index, func)
    done_at = order.get(id(task_done), -1)
    in_loop = [g for g in gets if any(a is loop for a in index.ancestors(g))
               and order.get(id(g), 1 << 30) < done_at]
    if not in_loop:
        return None
    get = max(in_loop, key=lambda g: order.get(id(g), -1))
    got_at = order.get(id(get), -1)
    inside_get = {id(n) for n in walk(get)}
    for node in walk(loop.body):
        if not isinstance(node, cst.Call) or id(node) in inside_get:
            continue
        if not got_at < order.get(id(node), -1) < done_at:
            continue
        if node is task_done or _harmless(index, node):
            continue
        if _escape_path(index, node, loop, task_done, task_dones):
            return node
    return None


def _harmless(index: FileIndex, call: cst.Call) -> bool:
    if index.call_name(call) in NEUTRAL_BUILTINS:
        return True
    func = call.func
    return isinstance(func, cst.Attribute) and func.attr.value in LOGGING_METHODS


class QueueJoinConsumerCanExit(Rule):
    code = "LKL306"
    name = "queue-join-consumer-can-exit"
    summary = "`join()` on a queue whose consumer can skip `task_done()` on an exception."
    what_it_does = (
        "Finds `join()` on a joinable queue (`queue.Queue`, `asyncio.Queue`, "
        "`multiprocessing.JoinableQueue`, Manager queues) when a consumer loop in the file "
        "takes items with `get()` and calls `task_done()`, but a call between the two can "
        "raise and skip the `task_done()`: the exception leaves the loop (the consumer "
        "thread or task dies), or an `except` swallows it and goes on without marking "
        "the item done. A `task_done()` in a `finally:` (or in the broad `except` that "
        "catches it) is safe. Reported at the join, naming the consumer and the call. "
        "Queues without any `task_done()` are LKL302.")
    why_bad = (
        "`join()` returns when `task_done()` has been called once for every item put. An "
        "item whose handling raised is never marked done, so the count never reaches "
        "zero: the join blocks forever, and with a dead consumer the items after it are "
        "never taken either.")
    example = (
        "import queue\nimport threading\n\n"
        "def worker(q):\n"
        "    while True:\n"
        "        item = q.get()\n"
        "        process(item)  # raises: the thread dies, task_done() never runs\n"
        "        q.task_done()\n\n"
        "def run(items):\n"
        "    q = queue.Queue()\n"
        "    threading.Thread(target=worker, args=(q,), daemon=True).start()\n"
        "    for item in items:\n"
        "        q.put(item)\n"
        "    q.join()\n")
    use_instead = (
        "import queue\nimport threading\n\n"
        "def worker(q):\n"
        "    while True:\n"
        "        item = q.get()\n"
        "        try:\n"
        "            process(item)\n"
        "        finally:\n"
        "            q.task_done()\n\n"
        "def run(items):\n"
        "    q = queue.Queue()\n"
        "    threading.Thread(target=worker, args=(q,), daemon=True).start()\n"
        "    for item in items:\n"
        "        q.put(item)\n"
        "    q.join()\n")
    invalid = (
        "import asyncio\n\nasync def run(items, handle):\n    q = asyncio.Queue()\n\n"
        "    async def consume():\n        while True:\n            item = await q.get()\n"
        "            try:\n                await handle(item)\n            except Exception:\n"
        "                continue\n            q.task_done()\n\n"
        "    task = asyncio.create_task(consume())\n    for i in items:\n"
        "        q.put_nowait(i)\n    await q.join()\n    task.cancel()\n",
    )
    valid = (
        "import queue, threading\n\ndef worker(q, handle):\n    while True:\n"
        "        item = q.get()\n        try:\n            handle(item)\n        except Exception:\n"
        "            pass\n        q.task_done()\n\n"
        "def run(items, handle):\n    q = queue.Queue()\n"
        "    threading.Thread(target=worker, args=(q, handle), daemon=True).start()\n"
        "    for i in items:\n        q.put(i)\n    q.join()\n",
        "import queue, threading\n\ndef worker(q):\n    while True:\n        item = q.get()\n"
        "        print(item)\n        q.task_done()\n\n"
        "def run(items):\n    q = queue.Queue()\n"
        "    threading.Thread(target=worker, args=(q,), daemon=True).start()\n"
        "    for i in items:\n        q.put(i)\n    q.join()\n",
    )
    trigger_words = ("Queue",)
    trigger_names = QUEUE_NAMES
    test_code_reason = (
        "Reported in test files too: a test blocked forever in a put or a join hangs the "
        "whole suite, and the fix is as cheap there.")

    def check(self, index: FileIndex) -> Iterator[Report]:
        for info in analyze(index):
            if not info.joinable:
                continue
            joins = [j for j in _calls_on(index, info, "join") if not j.args]
            task_dones = _calls_on(index, info, "task_done")
            if not joins or not task_dones:
                continue
            gets = _calls_on(index, info, "get")
            for task_done in task_dones:
                risky = vulnerable_consumer(index, gets, task_done, task_dones)
                if risky is None:
                    continue
                consumer = function_of(index, task_done)
                who = (f"`{consumer.name.value}`" if isinstance(consumer, cst.FunctionDef)
                       else "a consumer")
                join = first_in_source(index, joins)
                receiver = cast(cst.Attribute, join.func).value  # `q.join()`, as _calls_on finds it
                holder = " ".join(index.module.code_for_node(receiver).split())
                call = " ".join(index.module.code_for_node(risky.func).split())
                yield Report(
                    join,
                    f"`{holder}.join()` can wait forever: if `{call}(...)` in {who} raises, "
                    f"that item is never marked `task_done()`",
                    fix="call `task_done()` in a `finally:` around the handling of each item")
                break
