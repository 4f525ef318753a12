"""LKL603 (off by default): `wait()` on an event, condition or barrier with no timeout."""
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

KINDS = ("Event", "Condition", "Barrier")
METHODS = {"wait": Signature(0), "wait_for": Signature(1)}


class EventWaitWithoutTimeout(WaitRule):
    code = "LKL603"
    name = "event-wait-without-timeout"
    summary = "`wait()` on an event, condition or barrier with no timeout."
    what_it_does = (
        "Finds `wait()` / `wait_for(predicate)` with no timeout (or `timeout=None`) on a "
        "`threading` or `multiprocessing` `Event`, `Condition` or `Barrier` (also from "
        "`get_context()`). asyncio's are LKL607." + SHARED_EXEMPTIONS_DOC)
    why_bad = (
        "The wait ends only when another thread sets the event or notifies the condition. "
        "If that thread died on an exception first, the waiter is blocked forever; a "
        "timeout lets it notice and give up or retry.")
    example = (
        "import threading\n\n"
        "class Client:\n"
        "    def __init__(self):\n"
        "        self._connected = threading.Event()\n\n"
        "    def send(self, data):\n"
        "        self._connected.wait()\n"
        "        self._sock.sendall(data)\n")
    use_instead = (
        "import threading\n\n"
        "class Client:\n"
        "    def __init__(self):\n"
        "        self._connected = threading.Event()\n\n"
        "    def send(self, data):\n"
        "        if not self._connected.wait(timeout=30):\n"
        "            raise TimeoutError('not connected')\n"
        "        self._sock.sendall(data)\n")
    invalid = (
        "import threading\n\ndef f(start):\n    done = threading.Event()\n    start(done)\n"
        "    done.wait()\n",
        "import threading\n\nclass C:\n    def __init__(self):\n"
        "        self._cond = threading.Condition()\n\n    def take(self):\n"
        "        with self._cond:\n            self._cond.wait_for(self.ready)\n",
    )
    valid = (
        "import threading\n\ndef f(start):\n    done = threading.Event()\n    start(done)\n"
        "    done.wait(5)\n",
        "def f(done):\n    done.wait()\n",
        "import asyncio\n\nasync def f():\n    done = asyncio.Event()\n    await done.wait()\n",
    )
    trigger_words = KINDS
    trigger_names = KINDS

    def waits(self, index: FileIndex) -> Iterator[Wait]:
        return waits_on(index, sync_primitive_creations(index, KINDS), METHODS)

    def message(self, index: FileIndex, wait: Wait) -> Tuple[str, str]:
        return (f"{receiver_text(index, wait.call)} on a `{wait.what}` waits with no timeout "
                f"for a signal that may never come",
                "`wait(timeout=...)`, and handle the timeout")
