"""LKL302: `q.join()` on a queue where nothing ever calls `q.task_done()`."""
from __future__ import annotations

from typing import Iterator

from leaklint.index import FileIndex
from leaklint.rules._common import SNIPPET_LIMIT
from leaklint.rules._queues import QUEUE_NAMES, analyze, first_in_source
from leaklint.rules.base import Report, Rule


class QueueJoinWithoutTaskDone(Rule):
    code = "LKL302"
    name = "queue-join-without-task-done"
    summary = "`join()` on a queue whose items are never marked done with `task_done()`."
    what_it_does = (
        "Finds `join()` calls on a `queue.Queue`, `asyncio.Queue`, "
        "`multiprocessing.JoinableQueue` or `Manager().Queue()` that items are put to, "
        "when nothing that can see the queue ever calls `task_done()` on it (same "
        "visibility rules as LKL301; a queue that escapes is not reported).")
    why_bad = (
        "`join()` returns only when `task_done()` has been called once for every item "
        "ever put. Without any `task_done()` the counter never reaches zero and the "
        "joining thread or coroutine waits forever.")
    example = (
        "import asyncio\n\n"
        "async def run(items):\n"
        "    q = asyncio.Queue()\n"
        "    for i in items:\n"
        "        q.put_nowait(i)\n"
        "    await q.join()\n")
    use_instead = (
        "import asyncio\n\n"
        "async def run(items):\n"
        "    q = asyncio.Queue()\n\n"
        "    async def consume():\n"
        "        while True:\n"
        "            item = await q.get()\n"
        "            print(item)\n"
        "            q.task_done()\n\n"
        "    worker = asyncio.create_task(consume())\n"
        "    for i in items:\n"
        "        q.put_nowait(i)\n"
        "    await q.join()\n"
        "    worker.cancel()\n")
    invalid = (
        "import queue, threading\n\ndef work(q):\n    while True:\n        print(q.get())\n\n"
        "def f(items):\n    q = queue.Queue()\n"
        "    threading.Thread(target=work, args=(q,), daemon=True).start()\n"
        "    for i in items:\n        q.put(i)\n    q.join()\n",
        "import queue\n\ndef f():\n    q = queue.Queue()\n    q.put(1)\n    q.get()\n    q.join()\n",
    )
    valid = (
        "import queue\n\ndef f():\n    q = queue.Queue()\n    q.put(1)\n    q.get()\n"
        "    q.task_done()\n    q.join()\n",
        "import queue\n\ndef f(worker):\n    q = queue.Queue()\n    q.put(1)\n    worker(q)\n"
        "    q.join()\n",
        "import queue\n\ndef f():\n    q = queue.Queue()\n    q.join()\n",
        "import multiprocessing\n\ndef f():\n    q = multiprocessing.Queue()\n    q.put(1)\n"
        "    q.get()\n    q.close()\n    q.join_thread()\n",
    )
    trigger_words = ("Queue",)
    trigger_names = QUEUE_NAMES

    def check(self, index: FileIndex) -> Iterator[Report]:
        for info in analyze(index):
            if info.escaped or not info.joins or not info.puts or info.task_dones:
                continue
            if not info.joinable:
                continue
            join = first_in_source(index, info.joins)
            name = info.holder if info.holder and len(info.holder) <= SNIPPET_LIMIT else ""
            waits = f"`{name}.join()`" if name else "`join()`"
            yield Report(
                join,
                f"{waits} waits forever: nothing calls `task_done()` on the queue",
                fix=f"call `{name or 'q'}.task_done()` after handling each item taken with `get()`")
