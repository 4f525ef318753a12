"""LKL303: more producers put to a bounded queue than it can hold plus what is taken."""
from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Tuple

import libcst as cst

from leaklint.index import FileIndex
from leaklint.lifecycle import ResourceKind, track
from leaklint.rules._common import SNIPPET_LIMIT
from leaklint.rules._queues import (
    QUEUE_NAMES,
    TASK_FACTORIES,
    TASK_METHODS,
    QueueInfo,
    analyze,
    function_of,
    keyword,
    positional,
    quoted_holder,
    repeat_count,
)
from leaklint.rules.base import Report, Rule
from leaklint.values import THREAD_FACTORIES, spawned_callable

_STARTABLE = ResourceKind("thread", release_methods=frozenset(), activate_methods=frozenset({"start"}))


def _spawn_sites(index: FileIndex, producer) -> Optional[List[cst.Call]]:
    """The calls that start `producer` as a thread, process or task; None when it is
    referenced any other way."""
    if isinstance(producer, cst.Lambda):
        arg = index.parent.get(producer)
        call = index.parent.get(arg) if isinstance(arg, cst.Arg) else None
        if isinstance(arg, cst.Arg) and isinstance(call, cst.Call):
            spawn = spawned_callable(index, call)
            if spawn is not None and spawn[0] is producer:
                return [call]
        return None
    scope = index.target_scope(producer.name)
    if scope is None:
        return None
    sites = []
    for use in index.uses(scope, producer.name.value):
        parent = index.parent.get(use)
        site = None
        if isinstance(parent, cst.Arg):
            call = index.parent.get(parent)
            if isinstance(call, cst.Call):
                spawn = spawned_callable(index, call)
                if spawn is not None and spawn[0] is use:
                    site = call
        elif isinstance(parent, cst.Call) and parent.func is use:
            # `create_task(producer(...))`
            arg = index.parent.get(parent)
            outer = index.parent.get(arg) if isinstance(arg, cst.Arg) else None
            if isinstance(arg, cst.Arg) and isinstance(outer, cst.Call) and arg.keyword is None:
                name = index.call_name(outer)
                if name in TASK_FACTORIES or (isinstance(outer.func, cst.Attribute)
                                              and outer.func.attr.value in TASK_METHODS):
                    site = outer
        if site is None:
            return None
        sites.append(site)
    return sites


def _started(index: FileIndex, site: cst.Call) -> bool:
    name = index.call_name(site)
    if name not in THREAD_FACTORIES and not (isinstance(site.func, cst.Attribute)
                                             and site.func.attr.value == "Process"):
        return True  # tasks and executor jobs run once created
    return track(index, site, _STARTABLE).activated


def blocked_producers(index: FileIndex, info: QueueInfo) -> Optional[Tuple[int, int, int, Dict]]:
    """(producers, maxsize, items taken, {producer function: its put}) when every put and
    get of a bounded local queue is counted; None when anything is unknown."""
    if info.escaped or info.scope_kind != "local" or not info.maxsize or not info.puts:
        return None
    creator = function_of(index, info.creation)
    if creator is None:
        return None
    taken = 0
    for get in info.gets:
        if not isinstance(get, cst.Call) or function_of(index, get) is not creator:
            return None
        n = repeat_count(index, get, creator)
        if n is None:
            return None
        taken += n
    producers: Dict[cst.CSTNode, cst.Call] = {}
    for put in info.puts:
        if not (isinstance(put, cst.Call) and isinstance(put.func, cst.Attribute)) or put.func.attr.value != "put":
            return None
        if keyword(put, "timeout") or keyword(put, "block") or len(positional(put)) != 1:
            return None
        producer = function_of(index, put)
        if producer is None or producer is creator or producer in producers:
            return None
        if repeat_count(index, put, producer) != 1:
            return None
        producers[producer] = put
    count = 0
    for producer in producers:
        sites = _spawn_sites(index, producer)
        if not sites:
            return None
        for site in sites:
            if function_of(index, site) is not creator or not _started(index, site):
                return None
            n = repeat_count(index, site, creator)
            if n is None:
                return None
            count += n
    return count, info.maxsize, taken, producers


class ProducersOutnumberQueue(Rule):
    code = "LKL303"
    name = "producers-outnumber-queue"
    summary = "More producers put to a bounded queue than it holds plus what is taken."
    what_it_does = (
        "Finds a bounded queue (`maxsize=N`) that K producers put to - threads, processes "
        "or asyncio tasks started a constant number of times (`for _ in range(K)`) - while "
        "the function that made the queue takes only G items with `get()`. When "
        "K > N + G, K - N - G producers wait in `put()` forever. Reported at the put, with "
        "the number of producers left blocked. Only counts that are all known are "
        "compared: a `while` loop, a get in another function or a queue that escapes "
        "silences the rule.")
    why_bad = (
        "This is Go's classic goroutine leak (several senders, one receive) in Python: "
        "the blocked producers never finish, keep their thread, process or task alive "
        "and hold whatever they reference; every call leaks more of them.")
    example = (
        "import queue\nimport threading\n\n"
        "def fetch_all():\n"
        "    results = queue.Queue(maxsize=1)\n\n"
        "    def fetch():\n"
        "        results.put(query())\n\n"
        "    for _ in range(3):\n"
        "        threading.Thread(target=fetch, daemon=True).start()\n"
        "    return results.get()\n")
    use_instead = (
        "import queue\nimport threading\n\n"
        "def fetch_all():\n"
        "    results = queue.Queue(maxsize=3)  # room for every producer\n\n"
        "    def fetch():\n"
        "        results.put(query())\n\n"
        "    for _ in range(3):\n"
        "        threading.Thread(target=fetch, daemon=True).start()\n"
        "    return results.get()\n")
    invalid = (
        "import asyncio\n\nasync def f():\n    q = asyncio.Queue(1)\n\n"
        "    async def produce():\n        await q.put(1)\n\n"
        "    tasks = [asyncio.create_task(produce()) for _ in range(4)]\n"
        "    return await q.get(), tasks\n",
    )
    valid = (
        "import queue, threading\n\ndef f():\n    q = queue.Queue(maxsize=1)\n\n"
        "    def produce():\n        q.put(1)\n\n"
        "    for _ in range(2):\n        threading.Thread(target=produce, daemon=True).start()\n"
        "    return q.get()\n",
        "import queue, threading\n\ndef f():\n    q = queue.Queue(maxsize=1)\n\n"
        "    def produce():\n        q.put(1)\n\n"
        "    for _ in range(3):\n        threading.Thread(target=produce, daemon=True).start()\n"
        "    return [q.get() for _ in range(3)]\n",
        "import queue, threading\n\ndef f(n):\n    q = queue.Queue(maxsize=1)\n\n"
        "    def produce():\n        q.put(1)\n\n"
        "    for _ in range(n):\n        threading.Thread(target=produce, daemon=True).start()\n"
        "    return q.get()\n",
    )
    trigger_words = ("Queue",)
    trigger_names = QUEUE_NAMES

    def check(self, index: FileIndex) -> Iterator[Report]:
        for info in analyze(index):
            counts = blocked_producers(index, info)
            if counts is None:
                continue
            producers, maxsize, taken, puts = counts
            blocked = producers - maxsize - taken
            if blocked <= 0:
                continue
            holder = quoted_holder(info)
            for producer, put in puts.items():
                who = (f"`{producer.name.value}`" if isinstance(producer, cst.FunctionDef)
                       and len(producer.name.value) <= SNIPPET_LIMIT else
                       "a lambda" if isinstance(producer, cst.Lambda) else "one function")
                yield Report(
                    put,
                    f"{producers} producers ({who}) put to {holder} (`maxsize={maxsize}`) but "
                    f"{taken} item{'s are' if taken != 1 else ' is'} taken: {blocked} "
                    f"{'stay' if blocked != 1 else 'stays'} blocked in `put()` forever",
                    fix=f"take every item (`get()` {producers} times), make room for all "
                        f"(`maxsize={producers}` or unbounded), or use `put_nowait()`")
