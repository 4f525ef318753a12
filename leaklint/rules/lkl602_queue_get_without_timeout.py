"""LKL602 (off by default): a blocking `get()` on a queue with no timeout."""
from __future__ import annotations

from typing import Iterator, Tuple

from leaklint.index import FileIndex
from leaklint.rules._queues import QUEUE_NAMES, classify_creation
from leaklint.rules._waits import (
    GET,
    SHARED_EXEMPTIONS_DOC,
    Wait,
    WaitRule,
    receiver_text,
    waits_on,
)


def _creations(index: FileIndex):
    for call in index.calls:
        kind = classify_creation(index, call)
        if kind is not None and kind[0] != "asyncio":
            yield call, kind[1]


class QueueGetWithoutTimeout(WaitRule):
    code = "LKL602"
    name = "queue-get-without-timeout"
    summary = "A blocking `get()` on a thread or process queue with no timeout."
    what_it_does = (
        "Finds `get()` that blocks with no timeout (no `timeout=`, or `timeout=None`, and "
        "not `block=False`) on a `queue.Queue` (Lifo, Priority, Simple), a "
        "`multiprocessing` queue or a `Manager().Queue()`. The get of a worker loop is how "
        "a consumer is meant to wait for work and is not reported: a get in a `while` "
        "loop, or in a loop that stops on a sentinel (`item = q.get()` and an `if` "
        "testing `item` that leaves the loop). asyncio queues are LKL607." + SHARED_EXEMPTIONS_DOC)
    why_bad = (
        "The get returns only when someone puts. If every producer has died, or the "
        "result it waits for was never sent because of an exception on the other side, "
        "the caller blocks forever and nothing reports why.")
    example = (
        "import queue\nimport threading\n\n"
        "def fetch(url):\n"
        "    results = queue.Queue()\n"
        "    threading.Thread(target=lambda: results.put(download(url)), daemon=True).start()\n"
        "    return results.get()\n")
    use_instead = (
        "import queue\nimport threading\n\n"
        "def fetch(url):\n"
        "    results = queue.Queue()\n"
        "    threading.Thread(target=lambda: results.put(download(url)), daemon=True).start()\n"
        "    return results.get(timeout=30)  # raises queue.Empty instead of hanging\n")
    invalid = (
        "import queue\n\ndef f(start):\n    q = queue.Queue()\n    start(q)\n    return q.get()\n",
        "import multiprocessing\n\nclass C:\n    def __init__(self):\n"
        "        self._results = multiprocessing.Queue()\n\n    def latest(self):\n"
        "        return self._results.get(True, None)\n",
    )
    valid = (
        "import queue\n\ndef f(start):\n    q = queue.Queue()\n    start(q)\n"
        "    return q.get(timeout=5)\n",
        "import queue\n\ndef f(start):\n    q = queue.Queue()\n    start(q)\n"
        "    return q.get(False)\n",
        "def f(q):\n    return q.get()\n",
        "import queue\n\ndef f(start):\n    q = queue.Queue()\n    start(q)\n    while True:\n"
        "        item = q.get()\n        if item is None:\n            break\n        print(item)\n",
    )
    trigger_words = ("Queue",)
    trigger_names = QUEUE_NAMES
    worker_loops_ok = True

    def waits(self, index: FileIndex) -> Iterator[Wait]:
        return waits_on(index, _creations(index), GET)

    def message(self, index: FileIndex, wait: Wait) -> Tuple[str, str]:
        return (f"{receiver_text(index, wait.call)} on a `{wait.what}` waits with no timeout "
                f"for an item that may never come",
                "`get(timeout=...)`, and handle `queue.Empty`")
