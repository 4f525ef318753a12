"""LKL305: a blocking `put()` on a bounded queue in a shutdown path."""
from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from leaklint.index import FileIndex
from leaklint.rules._queues import QUEUE_NAMES, classify_creation, maxsize_of, nonblocking_put
from leaklint.rules.base import Report, Rule
from leaklint.values import value_sources

# Methods that stop or release something: they run when the consumer may be gone.
SHUTDOWN_METHODS = frozenset({"stop", "close", "aclose", "shutdown", "terminate", "__exit__",
                              "__aexit__", "__del__"})
SHUTDOWN_PREFIXES = ("stop_", "close_", "shutdown_")


def _shutdown_name(name: str) -> bool:
    bare = name if name.startswith("__") else name.lstrip("_")
    return bare in SHUTDOWN_METHODS or bare.startswith(SHUTDOWN_PREFIXES)


def shutdown_path(index: FileIndex, node: cst.CSTNode) -> Optional[str]:
    """Where `node` runs on the way out: "`stop()`" or "a `finally:` block"; None if not."""
    for ancestor in index.ancestors(node):
        if isinstance(ancestor, cst.Finally):
            return "a `finally:` block"
        if isinstance(ancestor, cst.FunctionDef):
            name = ancestor.name.value
            return f"`{name}()`" if _shutdown_name(name) else None
        if isinstance(ancestor, (cst.Lambda, cst.ClassDef)):
            return None
    return None


def bounded_queue(index: FileIndex, receiver: cst.CSTNode) -> Optional[tuple]:
    """(display name, maxsize) when every value `receiver` can be is a queue created with a
    constant maxsize > 0; None otherwise (unbounded, unknown size or unknown origin)."""
    if not isinstance(receiver, (cst.Name, cst.Attribute)):
        return None
    sources = value_sources(index, receiver)
    if not sources:
        return None
    found = None
    for source in sources:
        kind = classify_creation(index, source)
        if kind is None or kind[1].endswith("SimpleQueue"):
            return None
        size = maxsize_of(source, kind[0])
        if not size:
            return None
        found = (kind[1], size) if found is None else (found[0], min(found[1], size))
    return found


class BlockingPutOnShutdown(Rule):
    code = "LKL305"
    name = "blocking-put-on-shutdown"
    summary = "A blocking `put()` on a bounded queue in `stop()`, `close()` or a `finally:`."
    what_it_does = (
        "Finds `put()` with no timeout and not `block=False` on a queue created with a "
        "constant `maxsize` > 0 (`queue.Queue`, `asyncio.Queue`, `multiprocessing` and "
        "Manager queues), when the put runs on a shutdown path: in a method or function "
        "named `stop`, `close`, `aclose`, `shutdown`, `terminate`, `__exit__`, "
        "`__aexit__`, `__del__` (or `stop_*`, `close_*`, `shutdown_*`, with or without "
        "leading underscores), or in a `finally:` block - typically the sentinel that "
        "wakes a consumer. The queue is typed by where it was made (a local, a module "
        "global or a `self` attribute assigned in the class); a queue of unknown origin "
        "or size, or an unbounded one (a put on it never blocks), is not reported.")
    why_bad = (
        "A bounded queue's `put()` waits for room. On the way out the consumer may "
        "already have died, or the queue may be full of work nobody will take: the "
        "shutdown then blocks forever instead of finishing (a real bug in a widely used "
        "client: its `stop()` hung on a full queue).")
    example = (
        "import queue\nimport threading\n\n"
        "class Uploader:\n"
        "    def __init__(self):\n"
        "        self._queue = queue.Queue(maxsize=100)\n"
        "        self._thread = threading.Thread(target=self._run, daemon=True)\n\n"
        "    def stop(self):\n"
        "        self._queue.put(None)  # wake the consumer\n"
        "        self._thread.join(5)\n")
    use_instead = (
        "import queue\nimport threading\n\n"
        "class Uploader:\n"
        "    def __init__(self):\n"
        "        self._queue = queue.Queue(maxsize=100)\n"
        "        self._thread = threading.Thread(target=self._run, daemon=True)\n\n"
        "    def stop(self):\n"
        "        try:\n"
        "            self._queue.put(None, timeout=1)\n"
        "        except queue.Full:\n"
        "            pass  # the consumer is stuck or gone: don't wait for it\n"
        "        self._thread.join(5)\n")
    invalid = (
        "import asyncio\n\nclass C:\n    def __init__(self):\n"
        "        self._q = asyncio.Queue(10)\n\n    async def close(self):\n"
        "        await self._q.put(None)\n",
        "import queue\n\ndef run(work):\n    q = queue.Queue(maxsize=4)\n    try:\n"
        "        work(q)\n    finally:\n        q.put(None)\n",
    )
    valid = (
        "import queue\n\nclass C:\n    def __init__(self):\n        self._q = queue.Queue()\n\n"
        "    def stop(self):\n        self._q.put(None)\n",
        "import queue\n\nclass C:\n    def __init__(self):\n        self._q = queue.Queue(8)\n\n"
        "    def stop(self):\n        self._q.put(None, timeout=1)\n",
        "import queue\n\nclass C:\n    def __init__(self):\n        self._q = queue.Queue(8)\n\n"
        "    def stop(self):\n        self._q.put_nowait(None)\n",
        "import queue\n\nclass C:\n    def __init__(self):\n        self._q = queue.Queue(8)\n\n"
        "    def send(self, item):\n        self._q.put(item)\n",
        "class C:\n    def __init__(self, q):\n        self._q = q\n\n"
        "    def stop(self):\n        self._q.put(None)\n",
    )
    trigger_words = ("Queue",)
    trigger_names = QUEUE_NAMES
    test_code_reason = (
        "Reported in test files too: a test blocked forever in a put or a join hangs the "
        "whole suite, and the fix is as cheap there.")

    def check(self, index: FileIndex) -> Iterator[Report]:
        for call in index.calls:
            func = call.func
            if not (isinstance(func, cst.Attribute) and func.attr.value == "put"):
                continue
            if nonblocking_put(call) or any(arg.star for arg in call.args):
                continue
            where = shutdown_path(index, call)
            if where is None:
                continue
            queue = bounded_queue(index, func.value)
            if queue is None:
                continue
            _, size = queue
            holder = " ".join(index.module.code_for_node(func.value).split())
            yield Report(
                call,
                f"`{holder}.put()` in {where} blocks forever if the queue (`maxsize={size}`) "
                f"is full and its consumer is gone",
                fix="`put_nowait()` with a fallback when full, or `put(item, timeout=...)`")
