"""LKL502: a concurrent.futures executor given work but never shut down."""
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
from leaklint.rules._processes import EXECUTOR_CLASSES, creations, deliberate, kind_for
from leaklint.rules.base import Report, Rule, last_names
from leaklint.summaries import made_by, track_creation

EXECUTOR = ResourceKind("executor", release_methods=frozenset({"shutdown"}),
                        activate_methods=frozenset({"submit", "map"}),
                        context_manager=True,
                        follow_local_functions=True, every_path=True)


class ExecutorNotShutDown(Rule):
    code = "LKL502"
    name = "executor-not-shut-down"
    summary = "A ThreadPoolExecutor or ProcessPoolExecutor is used but never shut down."
    what_it_does = (
        "Finds `concurrent.futures.ThreadPoolExecutor` and `ProcessPoolExecutor` objects "
        "(and subclasses defined in the same module) that are given work (`submit`, `map`) "
        "but are never shut down: not used in a `with` block or `ExitStack.enter_context`, "
        "no `shutdown()` call (also in `finally`, in another method of the class when kept "
        "on `self`, or in any function of the module for a module-level executor), and "
        "no `shutdown` handed out as a callback (`atexit.register(ex.shutdown)`). An "
        "executor that is returned, stored in a container or object that leaves the "
        "function, or passed to another function is assumed to be shut down there.") + EVERY_PATH_DOC + FACTORIES_DOC
    why_bad = (
        "The executor's worker threads or processes outlive the work: they sit idle until "
        "the interpreter exits, and every call of the function makes a new pool of them. "
        "A ProcessPoolExecutor that is never shut down also leaves its management thread "
        "and pipes behind, and exceptions from shutdown never surface.")
    example = (
        "from concurrent.futures import ThreadPoolExecutor\n\n"
        "def fetch_all(urls):\n"
        "    executor = ThreadPoolExecutor(max_workers=8)\n"
        "    return list(executor.map(download, urls))\n")
    use_instead = (
        "from concurrent.futures import ThreadPoolExecutor\n\n"
        "def fetch_all(urls):\n"
        "    with ThreadPoolExecutor(max_workers=8) as executor:\n"
        "        return list(executor.map(download, urls))\n")
    invalid = (
        "import concurrent.futures\n\ndef f(xs):\n"
        "    ex = concurrent.futures.ProcessPoolExecutor()\n    return list(ex.map(abs, xs))\n",
        "from concurrent.futures.thread import ThreadPoolExecutor as TPE\n\ndef f():\n"
        "    TPE().submit(print)\n",
        "from concurrent.futures import ThreadPoolExecutor\n\nclass S:\n"
        "    def __init__(self):\n        self._ex = ThreadPoolExecutor()\n"
        "    def run(self, fn):\n        return self._ex.submit(fn)\n",
    )
    valid = (
        "from concurrent.futures import ThreadPoolExecutor\n\ndef f(xs):\n"
        "    with ThreadPoolExecutor() as ex:\n        return list(ex.map(abs, xs))\n",
        "from concurrent.futures import ThreadPoolExecutor\n\ndef f(xs):\n"
        "    ex = ThreadPoolExecutor()\n    try:\n        return list(ex.map(abs, xs))\n"
        "    finally:\n        ex.shutdown(wait=False)\n",
        "import atexit\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
        "EX = ThreadPoolExecutor()\natexit.register(EX.shutdown)\n\n"
        "def f(fn):\n    return EX.submit(fn)\n",
        "from concurrent.futures import ThreadPoolExecutor\n\nclass S:\n"
        "    def __init__(self):\n        self._ex = ThreadPoolExecutor()\n"
        "    def run(self, fn):\n        return self._ex.submit(fn)\n"
        "    def close(self):\n        self._ex.shutdown()\n",
        "import contextlib\nfrom concurrent.futures import ThreadPoolExecutor\n\ndef f(fn):\n"
        "    with contextlib.ExitStack() as stack:\n"
        "        ex = stack.enter_context(ThreadPoolExecutor())\n        ex.submit(fn)\n",
        "from concurrent.futures import ThreadPoolExecutor\n\ndef f():\n"
        "    ex = ThreadPoolExecutor()\n    return ex\n",
    )
    trigger_words = ("PoolExecutor",)
    trigger_names = last_names(EXECUTOR_CLASSES)
    options = (EXCEPTION_PATHS,)

    def check(self, index: FileIndex) -> Iterator[Report]:
        for creation in creations(index, EXECUTOR_CLASSES):
            call, subclass, qualname = creation.node, creation.subclass, creation.qualname
            kind = kind_for(index, EXECUTOR, subclass)
            lifecycle = track_creation(index, creation, kind,
                                       exception_paths=self.settings["exception-paths"])
            if not lifecycle.dropped(kind):
                continue
            if deliberate(index, call, qualname, lifecycle):
                continue
            yield Report(call, self._message(index, creation, lifecycle),
                         fix="use the executor in a `with` block, or call `shutdown()` on it when done")

    @staticmethod
    def _message(index, creation, lifecycle) -> str:
        call, qualname, subclass = creation.node, creation.qualname, creation.subclass
        holder = lifecycle.holder
        cls = qualname.rsplit(".", 1)[-1]
        workers = "processes" if "Process" in qualname else "threads"
        if subclass is not None:
            workers = "threads or processes"
        held = held_as(holder, call, index)
        what = f"executor{held}" if held else f"`{cls}`"
        if creation.factory:
            what = f"executor{held}{made_by(creation)}"
        return (f"{what} is given work but {unreleased(index, lifecycle, 'shut down', 'shuts it down')}: "
                f"its worker {workers} outlive the work")
