"""LKL605 (off by default): a blocking `acquire()` on a lock or semaphore with no timeout."""
from __future__ import annotations

from typing import Iterator, Tuple

from leaklint.index import FileIndex
from leaklint.rules._waits import (
    SHARED_EXEMPTIONS_DOC,
    Signature,
    Wait,
    WaitRule,
    receiver_text,
    sync_primitive_creations,
    waits_on,
)

KINDS = ("Lock", "RLock", "Semaphore", "BoundedSemaphore")
# threading: acquire(blocking=True, timeout=-1); multiprocessing: acquire(block=True, timeout=None)
METHODS = {"acquire": Signature(1, 0, ("blocking", "block"))}


class AcquireWithoutTimeout(WaitRule):
    code = "LKL605"
    name = "acquire-without-timeout"
    summary = "A blocking `acquire()` on a lock or semaphore with no timeout."
    what_it_does = (
        "Finds `acquire()` that blocks with no timeout (no `timeout=`, not "
        "`blocking=False` / `block=False`) on a `threading` or `multiprocessing` `Lock`, "
        "`RLock`, `Semaphore` or `BoundedSemaphore` created in the file. `with lock:` is "
        "not reported (it has no way to take a timeout, and the lock is released on every "
        "path), nor is its older spelling: `lock.acquire()` directly followed by `try:` "
        "whose `finally:` calls `lock.release()`." + SHARED_EXEMPTIONS_DOC)
    why_bad = (
        "An `acquire()` whose `release()` is not in a `finally:` is skipped by an "
        "exception (or an early return) in between; the next acquire then waits forever. "
        "A semaphore whose holders leak their slot starves every later caller.")
    example = (
        "import threading\n\n"
        "SLOTS = threading.Semaphore(4)\n\n"
        "def download(url):\n"
        "    SLOTS.acquire()\n"
        "    data = fetch(url)  # raises: the slot is never given back\n"
        "    SLOTS.release()\n"
        "    return data\n")
    use_instead = (
        "import threading\n\n"
        "SLOTS = threading.Semaphore(4)\n\n"
        "def download(url):\n"
        "    if not SLOTS.acquire(timeout=60):\n"
        "        raise TimeoutError('no download slot')\n"
        "    try:\n"
        "        return fetch(url)\n"
        "    finally:\n"
        "        SLOTS.release()\n")
    invalid = (
        "import threading\n\nLOCK = threading.Lock()\n\ndef f(work):\n    LOCK.acquire()\n"
        "    work()\n    LOCK.release()\n",
        "import threading\n\nLOCK = threading.RLock()\n\ndef f(work):\n    LOCK.acquire()\n"
        "    try:\n        work()\n    finally:\n        print('done')\n    LOCK.release()\n",
    )
    valid = (
        "import threading\n\nLOCK = threading.Lock()\n\ndef f():\n"
        "    if LOCK.acquire(False):\n        LOCK.release()\n",
        "import threading\n\nLOCK = threading.Lock()\n\ndef f():\n"
        "    if LOCK.acquire(timeout=1):\n        LOCK.release()\n",
        "import threading\n\nLOCK = threading.Lock()\n\ndef f():\n    with LOCK:\n        pass\n",
        "import threading\n\nLOCK = threading.Lock()\n\ndef f(work):\n    LOCK.acquire()\n"
        "    try:\n        work()\n    finally:\n        LOCK.release()\n",
        "def f(lock):\n    lock.acquire()\n",
    )
    trigger_words = ("Lock", "Semaphore")
    trigger_names = KINDS
    finally_release_ok = True

    def waits(self, index: FileIndex) -> Iterator[Wait]:
        return waits_on(index, sync_primitive_creations(index, KINDS), METHODS)

    def message(self, index: FileIndex, wait: Wait) -> Tuple[str, str]:
        return (f"{receiver_text(index, wait.call)} on a `{wait.what}` waits with no timeout "
                f"for a holder that may never release it",
                "`acquire(timeout=...)`, and handle a `False` result")
