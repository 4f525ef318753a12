"""LKL601 (off by default): `join()` on a thread or process with no timeout."""
from __future__ import annotations

from typing import Iterator, Tuple

import libcst as cst

from leaklint.index import FileIndex
from leaklint.rules._processes import is_mp_context
from leaklint.rules._waits import (
    JOIN,
    SHARED_EXEMPTIONS_DOC,
    Wait,
    WaitRule,
    local_subclass_creations,
    receiver_text,
    waits_on,
)
from leaklint.rules.base import last_names

THREADS = frozenset({"threading.Thread", "threading.Timer"})
PROCESSES = frozenset({"multiprocessing.Process", "multiprocessing.context.Process"})


def _creations(index: FileIndex):
    for call, _ in local_subclass_creations(index, THREADS):
        yield call, "thread"
    for call, _ in local_subclass_creations(index, PROCESSES):
        yield call, "process"
    for call in index.calls:  # `get_context("spawn").Process(...)`
        func = call.func
        if (isinstance(func, cst.Attribute) and func.attr.value == "Process"
                and is_mp_context(index, func.value)):
            yield call, "process"


class JoinWithoutTimeout(WaitRule):
    code = "LKL601"
    name = "join-without-timeout"
    summary = "`join()` on a thread or process with no timeout."
    what_it_does = (
        "Finds `join()` without a timeout (or with `timeout=None`) on a `threading.Thread`, "
        "`threading.Timer`, `multiprocessing.Process` (also `get_context().Process`) or a "
        "subclass of one defined in the file, wherever the object is followed to (a local, "
        "a list of them, a `self` attribute). A join right after `terminate()` / `kill()` "
        "on the same process in the same block only reaps it and is not reported." + SHARED_EXEMPTIONS_DOC)
    why_bad = (
        "A thread or process that is stuck - waiting on a dead peer, a lock, a socket - "
        "never ends, and the join waits with it: `stop()` or `close()` never returns and "
        "the caller hangs instead of reporting the stuck worker.")
    example = (
        "import threading\n\n"
        "class Poller:\n"
        "    def start(self):\n"
        "        self._thread = threading.Thread(target=self._poll)\n"
        "        self._thread.start()\n\n"
        "    def stop(self):\n"
        "        self._stopping.set()\n"
        "        self._thread.join()\n")
    use_instead = (
        "import threading\n\n"
        "class Poller:\n"
        "    def start(self):\n"
        "        self._thread = threading.Thread(target=self._poll)\n"
        "        self._thread.start()\n\n"
        "    def stop(self):\n"
        "        self._stopping.set()\n"
        "        self._thread.join(timeout=10)\n"
        "        if self._thread.is_alive():\n"
        "            log.warning('poller did not stop')\n")
    invalid = (
        "import threading\n\ndef f(work):\n    t = threading.Thread(target=work)\n"
        "    t.start()\n    t.join()\n",
        "import multiprocessing\n\ndef f(work):\n    ps = [multiprocessing.Process(target=work) "
        "for _ in range(4)]\n    for p in ps:\n        p.start()\n    for p in ps:\n"
        "        p.join(None)\n",
    )
    valid = (
        "import threading\n\ndef f(work):\n    t = threading.Thread(target=work)\n"
        "    t.start()\n    t.join(5)\n",
        "def f(t):\n    t.join()\n",
        "import threading\n\nt = threading.Thread(target=print)\nt.start()\nt.join()\n",
        "import threading\n\ndef main():\n    t = threading.Thread(target=print)\n"
        "    t.start()\n    t.join()\n",
    )
    trigger_words = ("Thread", "Timer", "Process")
    trigger_names = last_names(THREADS, PROCESSES)
    after_kill_ok = True

    def waits(self, index: FileIndex) -> Iterator[Wait]:
        return waits_on(index, _creations(index), JOIN)

    def message(self, index: FileIndex, wait: Wait) -> Tuple[str, str]:
        return (f"{receiver_text(index, wait.call)} waits with no timeout for a {wait.what} that "
                f"may never end",
                "`join(timeout=...)`, then check `is_alive()`")
