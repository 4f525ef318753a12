"""LKL101: a started, non-daemon thread that is never joined and never handed off."""
from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from leaklint.index import FileIndex
from leaklint.lifecycle import (
    ResourceKind,
    self_releasing_methods,
    stopped_by_sentinel,
    worker_method,
)
from leaklint.project import RETURNS, STARTED, require
from leaklint.rules._common import (
    EVERY_PATH_DOC,
    EXCEPTION_PATHS,
    FACTORIES_DOC,
    class_starts_itself,
    creation_is_daemon,
    held_as,
    keyword,
    made_daemon,
    unreleased,
)
from leaklint.rules._threads import THREAD_CLASSES, TIMER_CLASSES, describe_target, thread_creations
from leaklint.rules.base import Report, Rule, last_names
from leaklint.summaries import made_by, track_creation

THREAD = ResourceKind("thread", release_methods=frozenset({"join"}),
                      activate_methods=frozenset({"start"}), every_path=True)
TIMER = ResourceKind("timer", release_methods=frozenset({"join", "cancel"}),
                     activate_methods=frozenset({"start"}), every_path=True)


class ThreadNotJoined(Rule):
    code = "LKL101"
    name = "thread-not-joined"
    summary = "A non-daemon thread or timer is started but never joined (or cancelled)."
    what_it_does = (
        "Finds `threading.Thread` and `threading.Timer` objects (and subclasses of "
        "`Thread` defined in the same module) that are started, are not daemon threads "
        "(`t.daemon = self.daemon_threads` with `daemon_threads = False` in the class body, "
        "never changed, is not a daemon), and are never joined: not where they are created, not through a list they are "
        "kept in, and not in any method of the class when kept on `self`. A thread that "
        "is returned, stored in a registry or container that leaves the function, or "
        "passed to another function is assumed to be joined there and is not reported. "
        "A thread kept on a private attribute of another object (`op._timer = Timer(...)`) "
        "is followed to every `X._timer` of the module (a private name is the module's "
        "own); on a public one (`op.timer`), or named in a string (`getattr(op, "
        "\"_timer\")`), it is assumed to be handled elsewhere. One on an "
        "object only `self` holds (`self._state.timer`, `_state` an instance of a class of "
        "the module never handed out) is followed across both classes. "
        "A thread told to stop in a way that really reaches it is not reported either: its "
        "worker method loops on `self.Q.get()` and leaves the loop on a sentinel (`if job "
        "is None: return`, `iter(self.Q.get, STOP)`) that another method of the class puts "
        "on that same queue (`def stop(self): self.Q.put(None)`), once per thread when "
        "several share the queue. Still reported, on purpose: a sentinel put on another "
        "queue; closing the socket the thread blocks on (on Linux, `close()` from another "
        "thread does not wake a thread blocked in `accept()` or `recv()`: it blocks on); "
        "and short helper threads (leaklint cannot prove a target finishes soon, the "
        "thread's exception is lost all the same, and `join()` or `daemon=True` states "
        "the intent at no cost).") + EVERY_PATH_DOC + FACTORIES_DOC + (
        " A function imported from another module of the project counts as a factory when "
        "that module's summary says it returns a fresh thread it started and did not make a "
        "daemon (`self._beat = start_heartbeat()`, kept on `self` and never joined; a local "
        "is not followed); its module is "
        "read from the project on disk. The calling file is linted only when it writes the "
        "word `Thread` (a comment or a `Thread` annotation is enough).")
    why_bad = (
        "Nobody waits for the thread, so nobody sees it fail, nobody can stop it, and the "
        "interpreter blocks at exit until every non-daemon thread finishes. Threads "
        "started in a loop and never joined pile up: the Python analogue of a goroutine "
        "leak. Exceptions raised in the thread vanish into stderr.")
    example = (
        "import threading\n\n"
        "def fetch_all(urls):\n"
        "    for url in urls:\n"
        "        threading.Thread(target=download, args=(url,)).start()\n")
    use_instead = (
        "import threading\n\n"
        "def fetch_all(urls):\n"
        "    threads = [threading.Thread(target=download, args=(url,)) for url in urls]\n"
        "    for t in threads:\n"
        "        t.start()\n"
        "    for t in threads:\n"
        "        t.join()\n\n"
        "# or: concurrent.futures.ThreadPoolExecutor in a `with` block; or daemon=True\n"
        "# when the thread may be killed at exit.\n")
    invalid = (
        "import threading\n\ndef f():\n    threading.Thread(target=print).start()\n",
        "from threading import Thread as T\n\ndef f():\n    t = T(target=print)\n    t.start()\n",
        "import threading\n\ndef f(n):\n    ts = [threading.Thread(target=print) for _ in range(n)]\n"
        "    for t in ts:\n        t.start()\n",
        "import threading\n\nclass S:\n    def start(self):\n"
        "        self._t = threading.Thread(target=self.run)\n        self._t.start()\n"
        "    def run(self):\n        pass\n",
        "import threading\n\nclass Worker(threading.Thread):\n    def run(self):\n        pass\n\n"
        "Worker().start()\n",
        "import threading\n\ndef f():\n    threading.Timer(5, print).start()\n",
        "import threading\n\ndef f(skip):\n    t = threading.Thread(target=print)\n"
        "    t.start()\n    if skip:\n        return\n    t.join()\n",
    )
    valid = (
        "import threading\n\ndef f():\n    t = threading.Thread(target=print)\n    t.start()\n"
        "    try:\n        pass\n    finally:\n        t.join()\n",
        "import threading\n\ndef f():\n    threading.Thread(target=print, daemon=True).start()\n",
        "import threading\n\ndef f():\n    t = threading.Thread(target=print)\n"
        "    t.daemon = True\n    t.start()\n",
        "import threading\n\ndef f():\n    t = threading.Thread(target=print)\n    t.start()\n"
        "    return t\n",
        "import threading\n\ndef f():\n    threading.Thread(target=print)\n",
        "import threading\n\nclass S:\n    def start(self):\n"
        "        self._t = threading.Thread(target=self.run)\n        self._t.start()\n"
        "    def run(self):\n        pass\n    def close(self):\n        self._t.join()\n",
        "class Thread:\n    def start(self):\n        pass\n\nThread().start()\n",
        "import threading\n\ndef f():\n    t = threading.Timer(5, print)\n    t.start()\n"
        "    t.cancel()\n",
        "import threading\n\ndef f(wait):\n    t = threading.Thread(target=print)\n"
        "    t.start()\n    if wait:\n        t.join()\n",
    )
    trigger_words = ("Thread", "Timer")
    trigger_names = last_names(THREAD_CLASSES, TIMER_CLASSES)
    # A call of a function imported from another module of the project, kept on `self`
    # (`self._beat = start_heartbeat()`: summaries.imported_candidate, project.RETURNS),
    # spells no name of a thread: the file reaches this rule when it writes `Thread`.
    name_free_words = ("Thread",)
    options = (EXCEPTION_PATHS,)

    def check(self, index: FileIndex) -> Iterator[Report]:
        for creation in thread_creations(index, THREAD_CLASSES | TIMER_CLASSES, imported=True):
            call, subclass = creation.node, creation.subclass
            is_timer = subclass is None and creation.qualname in TIMER_CLASSES
            if subclass is not None and index.class_inherits(subclass, TIMER_CLASSES):
                is_timer = True
            if creation_is_daemon(index, creation):
                continue
            kind = TIMER if is_timer else THREAD
            if subclass is not None:  # `def stop(self): self.join()` releases too
                extra = self_releasing_methods(index, subclass, kind.release_methods)
                kind = replace(kind, release_methods=kind.release_methods | extra)
            started = subclass is not None and class_starts_itself(subclass)
            lifecycle = track_creation(index, creation, kind, activated=started,
                                       exception_paths=self.settings["exception-paths"])
            if not lifecycle.dropped(kind):
                continue
            if made_daemon(lifecycle, index):
                continue
            if (not is_timer and creation.call is not None and not creation.factory
                    and self._told_to_stop(index, creation.call, subclass)):
                continue
            release = "`cancel()` or `join()`" if is_timer else "`join()`"
            if creation.imported:
                # A function of another module: the finding stands only if its summary
                # says it returns a fresh thread it started (and did not make a daemon).
                require(index, call, self.code,
                        (RETURNS, creation.imported, creation.qualname, STARTED))
            yield Report(call, self._message(index, creation, is_timer, lifecycle),
                         fix=f"call {release} on it before its owner is done, or pass "
                             f"`daemon=True` if it may be killed at exit")

    @staticmethod
    def _told_to_stop(index, call, subclass) -> bool:
        """The thread's worker method loops on `self.Q.get()` until a sentinel another
        method of the class puts on that same queue: the stop reaches the thread."""
        target = keyword(call, "target")
        positionals = [a for a in call.args if a.keyword is None and not a.star]
        if target is None and len(positionals) > 1:
            target = positionals[1]
        worker = worker_method(index, target.value if target is not None else None, subclass)
        # Instances of a Thread subclass each read a queue of their own.
        shared = call if subclass is None else None
        return worker is not None and stopped_by_sentinel(index, shared, *worker)

    @staticmethod
    def _message(index, creation, is_timer, lifecycle) -> str:
        call, subclass, holder = creation.node, creation.subclass, lifecycle.holder
        what = "timer" if is_timer else "thread"
        if subclass is not None:
            what = f"{what} `{subclass.name.value}`"
        target = ""
        if creation.call is not None and not creation.factory:
            target = describe_target(index, creation.call, subclass, 1)
        running = f" running {target}" if target and subclass is None else ""
        if is_timer and lifecycle.skipped is not None:
            left = unreleased(index, lifecycle, "cancelled", "cancels it")
        elif is_timer:
            left = unreleased(index, lifecycle, "cancelled or joined", "cancels or joins it")
        else:
            left = unreleased(index, lifecycle, "joined", "joins it")
        return (f"{what}{held_as(holder, call, index)}{made_by(creation)}{running} "
                f"is started but {left}")
