"""LKL301: a queue that is put to but never read anywhere it is visible."""
from __future__ import annotations

from typing import Iterator

from leaklint.index import FileIndex
from leaklint.rules._queues import (
    QUEUE_NAMES,
    analyze,
    first_in_source,
    outlives_call,
    quoted_holder,
)
from leaklint.rules.base import Report, Rule


class QueuePutNeverRead(Rule):
    code = "LKL301"
    name = "queue-put-never-read"
    summary = "Items are put on a queue that nothing ever gets from."
    what_it_does = (
        "Finds `queue`, `asyncio` and `multiprocessing` queues (also from "
        "`get_context()` and `Manager()`) that are put to (`put`, `put_nowait`) but never "
        "read (`get`, `get_nowait`, `iter(q.get, sentinel)`, handed to a function that "
        "reads it) anywhere the queue is visible: the function and its nested functions "
        "for a local, every method of the class for a private `self._attribute`, the "
        "module for a global. A queue kept on a public attribute may be read by users of "
        "the class: not reported. A module global listed in `__all__` is not reported "
        "either; any other global is, as 'never read in this module', unless another "
        "module of the project uses it (`rpc.request_queue.get()`, `from rpc import "
        "request_queue`: the modules of the same source root and its packages are looked at). A queue "
        "kept on `self` in a class whose base class is defined in another module of the "
        "project is followed as if the base were local, when the base never touches the "
        "attribute; a base outside the project may read it. A queue that escapes (returned, yielded, stored elsewhere, passed to a "
        "function this file does not define) is assumed to be read there and is not "
        "reported. A local queue that only the function itself fills, without ever "
        "blocking (non-blocking puts, an unbounded queue, or no more puts than it holds), "
        "is not reported either: it dies with the call and leaves nothing behind. The "
        "finding is at the first put.")
    why_bad = (
        "Nobody takes the items: an unbounded queue grows without limit, and a bounded one "
        "blocks its producer forever once it is full - the Python form of a goroutine "
        "sending on a channel nobody receives from.")
    example = (
        "import queue\n\n"
        "results = queue.Queue()\n\n"
        "def record(value):\n"
        "    results.put(value)\n")
    use_instead = (
        "import queue\n\n"
        "results = queue.Queue()\n\n"
        "def record(value):\n"
        "    results.put(value)\n\n"
        "def drain():\n"
        "    while not results.empty():\n"
        "        print(results.get_nowait())\n")
    invalid = (
        "import queue\n\ndef f(items):\n    q = queue.Queue(maxsize=8)\n    for i in items:\n"
        "        q.put(i)\n",
        "import asyncio\n\nasync def f(items):\n    q = asyncio.Queue(maxsize=1)\n"
        "    for i in items:\n        await q.put(i)\n",
        "import queue\n\nclass Sink:\n    def __init__(self):\n        self._q = queue.Queue()\n"
        "    def write(self, line):\n        self._q.put(line)\n",
        "from multiprocessing import Process, Queue\n\ndef child(q):\n    q.put(1)\n\n"
        "def main():\n    q = Queue()\n    p = Process(target=child, args=(q,))\n    p.start()\n"
        "    p.join()\n",
    )
    valid = (
        "import queue\n\ndef f():\n    q = queue.Queue()\n    q.put(1)\n    return q\n",
        "import queue\n\ndef f(consume):\n    q = queue.Queue()\n    q.put(1)\n    consume(q)\n",
        "import queue\n\nclass Sink:\n    def __init__(self):\n        self._q = queue.Queue()\n"
        "    def write(self, line):\n        self._q.put(line)\n"
        "    def read(self):\n        return self._q.get()\n",
        "import queue, threading\n\ndef reader(q):\n    for item in iter(q.get, None):\n"
        "        print(item)\n\ndef f():\n    q = queue.Queue()\n"
        "    t = threading.Thread(target=reader, args=(q,))\n    t.start()\n    q.put(1)\n"
        "    q.put(None)\n    t.join()\n",
        "import queue\n\ndef f(items):\n    q = queue.Queue()\n    for i in items:\n"
        "        q.put_nowait(i)\n",
        "import queue\n\nclass Sink:\n    def __init__(self):\n        self.pending = queue.Queue()\n"
        "    def write(self, line):\n        self.pending.put(line)\n",
        "import requests\n\ndef f(url):\n    requests.put(url, timeout=5)\n",
        "class Cache:\n    def put(self, k):\n        pass\n\ndef f():\n    c = Cache()\n    c.put(1)\n",
    )
    trigger_words = ("Queue",)
    trigger_names = QUEUE_NAMES

    def check(self, index: FileIndex) -> Iterator[Report]:
        for info in analyze(index):
            if info.escaped or not info.puts or info.gets or info.task_dones:
                continue
            if not outlives_call(index, info):
                continue  # a local queue filled without blocking dies with its frame
            put = first_in_source(index, info.puts)
            holder = quoted_holder(info)
            blocks = " and `put()` blocks once it is full" if info.maxsize != 0 else ""
            # A module global may be read by a module that imports it, which one file
            # cannot show: say only what this file shows.
            where = " in this module" if info.scope_kind == "global" else ""
            yield Report(
                put,
                f"{holder} is put to but never read{where}: its items pile up{blocks}",
                fix="consume it with `get()` (a reader thread or task, or a drain loop), or "
                    "drop the queue")
