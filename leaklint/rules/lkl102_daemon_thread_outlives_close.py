"""LKL102: a daemon thread its owner tells to stop in `close()` but never joins."""
from __future__ import annotations

from dataclasses import replace
from typing import FrozenSet, Iterator, Optional

import libcst as cst

from leaklint.index import FileIndex
from leaklint.lifecycle import (
    ResourceKind,
    self_releasing_methods,
    stop_signal,
    track,
    worker_method,
)
from leaklint.rules._common import (
    class_sets_daemon,
    class_starts_itself,
    held_as,
    is_false_flag,
    keyword,
)
from leaklint.rules._threads import THREAD_CLASSES, TIMER_CLASSES, describe_target, thread_creations
from leaklint.rules.base import Report, Rule, last_names

THREAD = ResourceKind("thread", release_methods=frozenset({"join"}),
                      activate_methods=frozenset({"start"}))


class DaemonThreadOutlivesClose(Rule):
    code = "LKL102"
    name = "daemon-thread-outlives-close"
    summary = "A daemon thread its owner tells to stop in `close()` but never joins."
    what_it_does = (
        "Finds a started daemon thread that its owner tells to stop but never joins. The "
        "owner is the class whose method the thread runs: a `threading.Thread(target="
        "self._run, daemon=True)` kept on `self` (or in a container on `self`), or a daemon "
        "subclass of `Thread` defined in the module, which owns its own `run`. Telling it "
        "to stop is a closing method of that class - `close`, `stop`, `shutdown`, "
        "`terminate`, `cancel`, `quit`, `disconnect`, `__exit__`, `__aexit__`, directly or "
        "through methods it calls on `self` - that sets a flag the worker reads "
        "(`self._running = False`: a literal or a constant), or signals an attribute it "
        "reads (`self._stopped.set()`, `.clear()`, `self._queue.put(STOP)`). Not reported: "
        "a thread joined anywhere in the class (with or without a timeout; for a subclass, "
        "also through its own method that joins `self`), returned or handed to other code; "
        "an owner with no closing method, or whose closing method tells the thread nothing "
        "(a background daemon meant to live as long as the process: that is what "
        "`daemon=True` says); a thread not kept on `self` (its owner could not join it); a "
        "thread running a plain function, a closure or a lambda (leaklint does not look "
        "at what it reads); `**options` that may or may not make it a daemon; non-daemon "
        "threads (LKL101's). Off by default: the 9,001 files of the corpus hold no "
        "instance of the shape (notes/daemon-owner-corpus.md), so its precision on shipped "
        "code is unmeasured; select it with `--extend-select LKL102`.")
    why_bad = (
        "Setting the flag only asks the thread to stop: it may be in the middle of an "
        "iteration, and finishes it after `close()` has returned. It then races with what "
        "the caller does next - closes the socket or file the thread still writes to, "
        "reopens the owner and starts a second thread beside the first, or lets the "
        "interpreter shut down under it (a daemon thread killed at exit can die holding a "
        "lock or half-way through a write). Two real fixes added exactly the missing join "
        "to `close()`.")
    example = (
        "import threading\n\n"
        "class Poller:\n"
        "    def start(self):\n"
        "        self._stopped = threading.Event()\n"
        "        self._thread = threading.Thread(target=self._poll, daemon=True)\n"
        "        self._thread.start()\n\n"
        "    def _poll(self):\n"
        "        while not self._stopped.wait(1.0):\n"
        "            self.refresh()\n\n"
        "    def close(self):\n"
        "        self._stopped.set()\n")
    use_instead = (
        "import threading\n\n"
        "class Poller:\n"
        "    def start(self):\n"
        "        self._stopped = threading.Event()\n"
        "        self._thread = threading.Thread(target=self._poll, daemon=True)\n"
        "        self._thread.start()\n\n"
        "    def _poll(self):\n"
        "        while not self._stopped.wait(1.0):\n"
        "            self.refresh()\n\n"
        "    def close(self):\n"
        "        self._stopped.set()\n"
        "        self._thread.join(timeout=5)\n")
    invalid = (
        "import threading\n\nclass P:\n    def start(self):\n"
        "        self._t = threading.Thread(target=self._run, daemon=True)\n"
        "        self._t.start()\n    def _run(self):\n        while self._running:\n"
        "            pass\n    def stop(self):\n        self._running = False\n",
        "import threading\n\nclass W(threading.Thread):\n    def __init__(self):\n"
        "        super().__init__(daemon=True)\n        self._stop_event = threading.Event()\n"
        "    def run(self):\n        self._stop_event.wait()\n"
        "    def close(self):\n        self._stop_event.set()\n\n"
        "class Owner:\n    def __init__(self):\n        self.w = W()\n        self.w.start()\n",
    )
    valid = (
        # joined after the signal, with a timeout
        "import threading\n\nclass P:\n    def start(self):\n"
        "        self._t = threading.Thread(target=self._run, daemon=True)\n"
        "        self._t.start()\n    def _run(self):\n        while self._running:\n"
        "            pass\n    def stop(self):\n        self._running = False\n"
        "        self._t.join(timeout=5)\n",
        # no closing method: a daemon meant to live as long as the process
        "import threading\n\nclass P:\n    def start(self):\n"
        "        self._t = threading.Thread(target=self._run, daemon=True)\n"
        "        self._t.start()\n    def _run(self):\n        while self._running:\n"
        "            pass\n",
        # close() does not tell the thread anything
        "import threading\n\nclass P:\n    def start(self):\n"
        "        self._t = threading.Thread(target=self._run, daemon=True)\n"
        "        self._t.start()\n    def _run(self):\n        while True:\n"
        "            pass\n    def close(self):\n        self._file.close()\n",
    )
    trigger_words = ("Thread",)
    trigger_names = last_names(THREAD_CLASSES)
    default_enabled = False

    def check(self, index: FileIndex) -> Iterator[Report]:
        for creation in thread_creations(index, THREAD_CLASSES):
            if creation.factory or creation.call is None:
                continue  # what a factory's thread runs is in the factory's body: not read yet
            call, subclass = creation.call, creation.subclass
            if subclass is not None and index.class_inherits(subclass, TIMER_CLASSES):
                continue
            worker = worker_method(index, _target(call), subclass)
            if worker is None:
                continue
            kind = THREAD
            joining: FrozenSet[str] = frozenset()
            if subclass is not None:  # `def stop(self): ...; self.join()` joins too
                joining = self_releasing_methods(index, subclass, kind.release_methods)
                kind = replace(kind, release_methods=kind.release_methods | joining)
            started = subclass is not None and class_starts_itself(subclass)
            lifecycle = track(index, call, kind, activated=started)
            if not lifecycle.dropped(kind):
                continue
            if subclass is None and not lifecycle.self_attributes:
                continue  # the owner could not join it if it wanted to
            if not _daemon(index, call, subclass, lifecycle):
                continue
            owner, method = worker
            signal = stop_signal(index, owner, method, joining=joining)
            if signal is None:
                continue
            yield Report(call, _message(index, call, subclass, lifecycle.holder, signal.closer),
                         fix=f"join it in `{signal.closer}()` after telling it to stop "
                             f"(with a timeout if it may hang)")


def _target(call: cst.Call) -> Optional[cst.CSTNode]:
    """What `Thread(...)` runs: `target=` or the second positional argument."""
    target = keyword(call, "target")
    if target is not None:
        return target.value
    positionals = [a for a in call.args if a.keyword is None and not a.star]
    return positionals[1].value if len(positionals) > 1 else None


def _daemon(index: FileIndex, call: cst.Call, subclass, lifecycle) -> bool:
    """Known to be a daemon: `daemon=<not False>`, a subclass that makes itself one, or
    `t.daemon = <not False>` / `t.setDaemon(...)` on its way. (`**options`, which LKL101
    takes for a possible daemon, is not known to be one.)"""
    daemon = keyword(call, "daemon")
    if daemon is not None:
        return not is_false_flag(index, daemon.value)
    if subclass is not None and class_sets_daemon(subclass):
        return True
    if any(value is not None and not is_false_flag(index, value)
           for value in lifecycle.attribute_stores.get("daemon", ())):
        return True
    return any(c.args and not is_false_flag(index, c.args[0].value)
               for c in lifecycle.method_calls.get("setDaemon", ()))


def _message(index: FileIndex, call: cst.Call, subclass, holder: str, closer: str) -> str:
    kept = held_as(holder, call, index)
    what = f"daemon thread `{subclass.name.value}`" if subclass is not None else "daemon thread"
    target = describe_target(index, call, subclass, 1)
    running = f" running {target}" if target and subclass is None else ""
    return (f"{what}{kept}{running} is told to stop in `{closer}()` but never joined: "
            f"it outlives `{closer}()`")
