"""LKL501: a started, non-daemon multiprocessing.Process never joined."""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from leaklint.index import FileIndex
from leaklint.lifecycle import ResourceKind
from leaklint.rules._common import (
    EVERY_PATH_DOC,
    EXCEPTION_PATHS,
    FACTORIES_DOC,
    argument,
    class_starts_itself,
    creation_is_daemon,
    held_as,
    made_daemon,
    owned_by_class,
    quote_callable,
    unreleased,
)
from leaklint.rules._processes import PROCESS_CLASSES, creations, deliberate, kind_for
from leaklint.rules.base import Report, Rule, last_names
from leaklint.summaries import made_by, track_creation

# `is_alive()` polls the child and reaps it once it has exited (typically in a loop), as
# reading `exitcode` does. `terminate()` and `kill()` only send a signal: the killed child
# is not reaped until someone joins it (or the next process starts, or the parent exits).
PROCESS = ResourceKind("process",
                       release_methods=frozenset({"join", "is_alive"}),
                       activate_methods=frozenset({"start"}),
                       follow_local_functions=True, every_path=True)


class ProcessNotJoined(Rule):
    code = "LKL501"
    name = "process-not-joined"
    summary = "A non-daemon multiprocessing.Process is started but never joined."
    what_it_does = (
        "Finds `multiprocessing.Process` objects (also `multiprocessing.get_context(...)"
        ".Process`, through a context variable or chained, and subclasses of `Process` "
        "defined in the same module) that are started, are not daemon processes, and are "
        "never joined or polled (`is_alive()`, `exitcode`, which reap an exited child): "
        "not where they are created, not through a "
        "list they are kept in, and not in any method of the class when kept on `self`. "
        "A process that is returned, stored in a container or object that leaves the "
        "function, or passed to another function is assumed to be handled there. "
        "`terminate()` or `kill()` alone does not count: they only send a signal, and the "
        "killed child still has to be joined.") + EVERY_PATH_DOC + FACTORIES_DOC
    why_bad = (
        "Nobody waits for the child process: its exit status is never collected (it stays "
        "a zombie until the parent exits), its failure goes unnoticed, and the parent "
        "blocks at exit in multiprocessing's atexit handler until every non-daemon child "
        "finishes. Processes started in a loop and never joined pile up.")
    example = (
        "import multiprocessing\n\n"
        "def crunch_all(chunks):\n"
        "    for chunk in chunks:\n"
        "        p = multiprocessing.Process(target=crunch, args=(chunk,))\n"
        "        p.start()\n")
    use_instead = (
        "import multiprocessing\n\n"
        "def crunch_all(chunks):\n"
        "    procs = [multiprocessing.Process(target=crunch, args=(c,)) for c in chunks]\n"
        "    for p in procs:\n"
        "        p.start()\n"
        "    for p in procs:\n"
        "        p.join()\n\n"
        "# or: multiprocessing.Pool / ProcessPoolExecutor in a `with` block; or daemon=True\n"
        "# when the child may be killed when the parent exits.\n")
    invalid = (
        "import multiprocessing\n\ndef f():\n    multiprocessing.Process(target=print).start()\n",
        "from multiprocessing import Process as P\n\ndef f():\n    p = P(target=print)\n    p.start()\n",
        "import multiprocessing as mp\n\ndef f():\n    ctx = mp.get_context('spawn')\n"
        "    p = ctx.Process(target=print)\n    p.start()\n",
        "import multiprocessing\n\ndef f():\n"
        "    multiprocessing.get_context('fork').Process(target=print).start()\n",
        "import multiprocessing\n\nclass Worker(multiprocessing.Process):\n"
        "    def run(self):\n        pass\n\nWorker().start()\n",
        "import multiprocessing\n\nclass S:\n    def start(self):\n"
        "        self._p = multiprocessing.Process(target=print)\n        self._p.start()\n",
        "import multiprocessing\n\ndef f():\n    p = multiprocessing.Process(target=print)\n"
        "    p.start()\n    p.terminate()\n",
    )
    valid = (
        "import multiprocessing\n\ndef f():\n    p = multiprocessing.Process(target=print)\n"
        "    p.start()\n    try:\n        pass\n    finally:\n        p.join()\n",
        "import multiprocessing\n\ndef f():\n"
        "    multiprocessing.Process(target=print, daemon=True).start()\n",
        "import multiprocessing\n\ndef f():\n    p = multiprocessing.Process(target=print)\n"
        "    p.daemon = True\n    p.start()\n",
        "import multiprocessing\n\ndef f():\n    p = multiprocessing.Process(target=print)\n"
        "    p.start()\n    return p\n",
        "import multiprocessing\n\ndef f():\n    p = multiprocessing.Process(target=print)\n"
        "    p.start()\n    p.terminate()\n    p.join()\n",
        "import multiprocessing\n\nclass S:\n    def start(self):\n"
        "        self._p = multiprocessing.Process(target=print)\n        self._p.start()\n"
        "    def close(self):\n        self._p.join()\n",
        "class Process:\n    def start(self):\n        pass\n\nProcess().start()\n",
    )
    trigger_words = ("Process",)
    trigger_names = last_names(PROCESS_CLASSES)
    options = (EXCEPTION_PATHS,)

    def check(self, index: FileIndex) -> Iterator[Report]:
        for creation in creations(index, PROCESS_CLASSES, ("Process",)):
            call, subclass = creation.node, creation.subclass
            if creation_is_daemon(index, creation):
                continue
            started = subclass is not None and class_starts_itself(subclass)
            kind = kind_for(index, PROCESS, subclass)
            lifecycle = track_creation(index, creation, kind, activated=started,
                                       exception_paths=self.settings["exception-paths"])
            if not lifecycle.dropped(kind):
                continue
            if deliberate(index, call, creation.qualname, lifecycle):
                continue
            if "exitcode" in lifecycle.attribute_reads:
                continue  # reading exitcode polls (and reaps) the child
            if made_daemon(lifecycle, index):
                continue
            yield Report(call, self._message(index, creation, lifecycle),
                         fix="call `join()` on it before its owner is done (`terminate()` first "
                             "to stop it early), or pass `daemon=True` if it may be killed at exit")

    @staticmethod
    def _message(index, creation, lifecycle) -> str:
        holder, call, subclass = lifecycle.holder, creation.node, creation.subclass
        if subclass is not None:
            what = f"process `{subclass.name.value}`{made_by(creation)}"
        elif creation.call is None or creation.factory:
            what = f"process{held_as(holder, call, index)}{made_by(creation)}"
        else:
            target = argument(creation.call, "target", 1)
            running = ""
            if target is not None:
                suffix = "()" if isinstance(target, (cst.Name, cst.Attribute)) else ""
                running = quote_callable(index, target, suffix)
            what = f"process{held_as(holder, call, index)}"
            what += f" running {running}" if running else ""
        # Not "never reaped": multiprocessing reaps finished children when another one
        # starts, and joins the rest at exit.
        joined = unreleased(index, lifecycle, "joined", "joins it")
        killed = [m for m in ("terminate", "kill") if m in lifecycle.method_calls]
        if killed and lifecycle.skipped is None:
            joined = joined if owned_by_class(holder) else "is " + joined
            return f"{what} gets `{killed[0]}()` but {joined}: it stays a zombie"
        return f"{what} is started but {joined}"
