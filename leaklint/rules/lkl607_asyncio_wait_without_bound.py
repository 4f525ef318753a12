"""LKL607 (off by default): awaiting an asyncio queue, event, condition or bare future
with no bound."""
from __future__ import annotations

from typing import Iterator, Tuple

import libcst as cst

from leaklint.index import FileIndex
from leaklint.rules._asyncio import _resolver
from leaklint.rules._common import short_source
from leaklint.rules._queues import ASYNC_QUEUES
from leaklint.rules._waits import (
    SHARED_EXEMPTIONS_DOC,
    Signature,
    Wait,
    WaitRule,
    local_subclass_creations,
    waits_on,
)
from leaklint.rules.base import last_names
from leaklint.values import value_sources

PLAIN = Signature(None)
QUEUE_METHODS = {"get": PLAIN}
SIGNALS = frozenset({"asyncio.Event", "asyncio.Condition", "asyncio.locks.Event",
                     "asyncio.locks.Condition"})
SIGNAL_METHODS = {"wait": PLAIN, "wait_for": PLAIN}
FUTURES = frozenset({"asyncio.Future", "asyncio.futures.Future"})


def _future_creation(index: FileIndex, call: cst.Call) -> bool:
    """`asyncio.Future()` or `loop.create_future()` on a known event loop."""
    if index.call_name(call) in FUTURES:
        return True
    func = call.func
    return (isinstance(func, cst.Attribute) and func.attr.value == "create_future"
            and _resolver(index).is_loop(func.value))


def _awaited_futures(index: FileIndex) -> Iterator[Wait]:
    """`await fut` where `fut` is only ever a future made here: its result is set by a
    peer that may never do it."""
    for call in index.calls:  # cheap guard: no future made in the file, nothing to do
        if _future_creation(index, call):
            break
    else:
        return
    for node in index.parent:
        if not isinstance(node, cst.Await) or not isinstance(node.expression, (cst.Name, cst.Attribute)):
            continue
        sources = value_sources(index, node.expression)
        if sources and all(_future_creation(index, s) for s in sources):
            yield Wait(node, "await", sources[0], "asyncio future")


class AsyncioWaitWithoutBound(WaitRule):
    code = "LKL607"
    name = "asyncio-wait-without-bound"
    summary = "Awaiting an asyncio queue, event, condition or bare future with no bound."
    what_it_does = (
        "Finds `await q.get()` on an `asyncio.Queue` (Lifo, Priority), `await e.wait()` / "
        "`await c.wait()` / `await c.wait_for(...)` on an `asyncio.Event` or `Condition`, "
        "and `await fut` on a future made by `asyncio.Future()` or `loop.create_future()`, "
        "created in the file, when nothing bounds the await (`asyncio.wait_for()`, "
        "`asyncio.timeout()`). Awaiting a task is not reported: the task is the peer, "
        "and it runs. The get of a worker loop (in a `while` loop, or in a loop that stops "
        "on a sentinel) is not reported." + SHARED_EXEMPTIONS_DOC)
    why_bad = (
        "These awaits end only when another coroutine puts, sets, notifies or sets the "
        "future's result. If that coroutine was cancelled or died on an exception, the "
        "awaiting task is suspended forever - a leaked task that holds everything it "
        "references and never reports.")
    example = (
        "import asyncio\n\n"
        "class Rpc:\n"
        "    def __init__(self):\n"
        "        self._reply = asyncio.Queue()\n\n"
        "    async def call(self, request):\n"
        "        await self._send(request)\n"
        "        return await self._reply.get()\n")
    use_instead = (
        "import asyncio\n\n"
        "class Rpc:\n"
        "    def __init__(self):\n"
        "        self._reply = asyncio.Queue()\n\n"
        "    async def call(self, request):\n"
        "        await self._send(request)\n"
        "        return await asyncio.wait_for(self._reply.get(), timeout=30)\n")
    invalid = (
        "import asyncio\n\nasync def f(start):\n    done = asyncio.Event()\n    start(done)\n"
        "    await done.wait()\n",
        "import asyncio\n\nasync def f(send):\n    fut = asyncio.get_running_loop().create_future()\n"
        "    send(fut)\n    return await fut\n",
    )
    valid = (
        "import asyncio\n\nasync def f(start):\n    done = asyncio.Event()\n    start(done)\n"
        "    await asyncio.wait_for(done.wait(), 5)\n",
        "import asyncio\n\nasync def f(start):\n    done = asyncio.Event()\n    start(done)\n"
        "    async with asyncio.timeout(5):\n        await done.wait()\n",
        "async def f(q):\n    return await q.get()\n",
        "import asyncio\n\nasync def f(work):\n    task = asyncio.create_task(work())\n"
        "    return await task\n",
    )
    trigger_words = ("asyncio",)
    trigger_names = last_names(ASYNC_QUEUES, SIGNALS, FUTURES, ("create_future",))
    worker_loops_ok = True

    def waits(self, index: FileIndex) -> Iterator[Wait]:
        queues = local_subclass_creations(index, ASYNC_QUEUES)
        yield from waits_on(index, queues, QUEUE_METHODS, awaited=True)
        yield from waits_on(index, local_subclass_creations(index, SIGNALS), SIGNAL_METHODS,
                            awaited=True)
        yield from _awaited_futures(index)

    def message(self, index: FileIndex, wait: Wait) -> Tuple[str, str]:
        if isinstance(wait.call, cst.Await):
            text = short_source(index, wait.call, 40) or "await"
            return (f"`{text}` waits with no bound for a future whose result may never be set",
                    "`await asyncio.wait_for(fut, timeout=...)`")
        what = wait.what.replace("asyncio.queues.", "asyncio.").replace("asyncio.locks.", "asyncio.")
        call = short_source(index, wait.call, 40) or wait.method + "()"
        return (f"`await {call}` on an `{what}` waits with no bound for a peer that may be gone",
                "wrap it in `asyncio.wait_for(..., timeout=...)` or `asyncio.timeout()`")
