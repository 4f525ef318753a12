"""LKL503: a multiprocessing Pool / ThreadPool never closed-and-joined or terminated."""
from __future__ import annotations

from typing import Iterator

from leaklint.index import FileIndex
from leaklint.lifecycle import ResourceKind
from leaklint.rules._common import (
    EVERY_PATH_DOC,
    EXCEPTION_PATHS,
    FACTORIES_DOC,
    held_as,
    unreleased,
)
from leaklint.rules._processes import (
    POOL_CLASSES,
    THREAD_POOL_CLASSES,
    creations,
    deliberate,
    kind_for,
)
from leaklint.rules.base import Report, Rule, last_names
from leaklint.summaries import made_by, track_creation

# `join()` is only legal after `close()` or `terminate()`, so a join means the pool is
# being wound down; `close()` alone stops new work but nobody reaps the workers.
POOL = ResourceKind("pool", release_methods=frozenset({"join", "terminate"}),
                    context_manager=True,
                    follow_local_functions=True, every_path=True)


class PoolNotClosed(Rule):
    code = "LKL503"
    name = "pool-not-closed"
    summary = "A multiprocessing Pool or ThreadPool is never closed and joined, nor terminated."
    what_it_does = (
        "Finds `multiprocessing.Pool`, `multiprocessing.pool.ThreadPool` and "
        "`multiprocessing.get_context(...).Pool` objects (and subclasses defined in the "
        "same module) that are never wound down: not used in a `with` block or "
        "`ExitStack.enter_context`, never `close()`d and `join()`ed, never "
        "`terminate()`d (in `finally`, in another method of the class when kept on "
        "`self`, or handed out as a callback such as `atexit.register(pool.terminate)`). "
        "`close()` followed by `join()` in `finally` is the correct pattern and is not "
        "reported. A pool that is returned, stored in a container or object that leaves "
        "the function, or passed to another function is assumed to be closed there.") + EVERY_PATH_DOC + FACTORIES_DOC
    why_bad = (
        "A pool starts its worker processes (or threads) and three handler threads when it "
        "is created. If it is never closed and joined, or terminated, the workers stay "
        "alive until the interpreter exits or the garbage collector happens to finalize "
        "the pool (emitting a ResourceWarning), and a function called repeatedly leaves "
        "a new set of workers behind each time. `close()` alone stops new work but nobody "
        "waits for the workers: they are left unreaped.")
    example = (
        "import multiprocessing\n\n"
        "def crunch_all(chunks):\n"
        "    pool = multiprocessing.Pool(4)\n"
        "    return pool.map(crunch, chunks)\n")
    use_instead = (
        "import multiprocessing\n\n"
        "def crunch_all(chunks):\n"
        "    pool = multiprocessing.Pool(4)\n"
        "    try:\n"
        "        return pool.map(crunch, chunks)\n"
        "    finally:\n"
        "        pool.close()\n"
        "        pool.join()\n\n"
        "# or: `with multiprocessing.Pool(4) as pool:` (which terminates the pool on exit)\n")
    invalid = (
        "from multiprocessing import Pool\n\ndef f(xs):\n    p = Pool(2)\n"
        "    return p.map(abs, xs)\n",
        "from multiprocessing.pool import ThreadPool\n\ndef f(xs):\n"
        "    return ThreadPool(4).map(abs, xs)\n",
        "import multiprocessing\n\ndef f(xs):\n    ctx = multiprocessing.get_context('spawn')\n"
        "    pool = ctx.Pool(2)\n    out = pool.map(abs, xs)\n    pool.close()\n    return out\n",
    )
    valid = (
        "from multiprocessing import Pool\n\ndef f(xs):\n    with Pool(2) as p:\n"
        "        return p.map(abs, xs)\n",
        "from multiprocessing import Pool\n\ndef f(xs):\n    p = Pool(2)\n    try:\n"
        "        return p.map(abs, xs)\n    finally:\n        p.close()\n        p.join()\n",
        "from multiprocessing import Pool\n\ndef f(xs):\n    p = Pool(2)\n"
        "    p.map(abs, xs)\n    p.terminate()\n",
        "from multiprocessing import Pool\n\ndef f():\n    return Pool(2)\n",
    )
    trigger_words = ("Pool",)
    trigger_names = last_names(POOL_CLASSES)
    options = (EXCEPTION_PATHS,)

    def check(self, index: FileIndex) -> Iterator[Report]:
        for creation in creations(index, POOL_CLASSES, ("Pool",)):
            call, subclass, qualname = creation.node, creation.subclass, creation.qualname
            kind = kind_for(index, POOL, subclass)
            lifecycle = track_creation(index, creation, kind,
                                       exception_paths=self.settings["exception-paths"])
            if not lifecycle.dropped(kind):
                continue
            if deliberate(index, call, qualname, lifecycle):
                continue
            threads = qualname in THREAD_POOL_CLASSES or (
                subclass is not None and index.class_inherits(subclass, THREAD_POOL_CLASSES))
            yield Report(call, self._message(index, creation, threads, lifecycle),
                         fix="use it in a `with` block, or call `close()` then `join()` (or "
                             "`terminate()`) on it when done")

    @staticmethod
    def _message(index, creation, threads, lifecycle) -> str:
        holder, call, subclass = lifecycle.holder, creation.node, creation.subclass
        workers = "worker threads" if threads else "worker processes"
        held = held_as(holder, call, index)
        if subclass is not None:
            what = f"pool `{subclass.name.value}`"
        else:
            what = f"pool{held}" if held else ("`ThreadPool`" if threads else "`multiprocessing.Pool`")
            if creation.factory:
                what = f"pool{held}"
        what += made_by(creation)
        if "close" in lifecycle.method_calls and lifecycle.skipped is None:
            return (f"{what} is closed but {unreleased(index, lifecycle, 'joined', 'joins it')}: "
                    f"nobody waits for its {workers}")
        return (f"{what} is created but {unreleased(index, lifecycle, 'closed', 'closes it')}: "
                f"its {workers} outlive the work")
