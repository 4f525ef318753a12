"""LKL604 (off by default): `result()` on a future (or `get()` on a pool's async result)
with no timeout."""
from __future__ import annotations

from typing import Iterator, Tuple

import libcst as cst

from leaklint.index import FileIndex
from leaklint.rules._processes import is_mp_context
from leaklint.rules._waits import (
    SHARED_EXEMPTIONS_DOC,
    Signature,
    Wait,
    WaitRule,
    method_calls,
    receiver_text,
    waits_on,
)
from leaklint.rules.base import last_names

EXECUTORS = frozenset({
    "concurrent.futures.ThreadPoolExecutor", "concurrent.futures.ProcessPoolExecutor",
    "concurrent.futures.thread.ThreadPoolExecutor",
    "concurrent.futures.process.ProcessPoolExecutor"})
FUTURES = frozenset({"concurrent.futures.Future", "concurrent.futures._base.Future"})
POOLS = frozenset({"multiprocessing.Pool", "multiprocessing.pool.Pool",
                   "multiprocessing.pool.ThreadPool", "multiprocessing.dummy.Pool"})
FUTURE_METHODS = {"result": Signature(0), "exception": Signature(0)}
ASYNC_RESULT_METHODS = {"get": Signature(0), "wait": Signature(0)}
ASYNC_SUBMITS = ("apply_async", "map_async", "starmap_async")


def _futures(index: FileIndex):
    for call in index.calls:
        name = index.call_name(call)
        if name in FUTURES:
            yield call, "a `Future`"
        elif name in EXECUTORS:
            for submit in method_calls(index, call).get("submit", ()):
                yield submit, "a future from `submit()`"


def _async_results(index: FileIndex):
    for call in index.calls:
        func = call.func
        if index.call_name(call) in POOLS or (
                isinstance(func, cst.Attribute) and func.attr.value == "Pool"
                and is_mp_context(index, func.value)):
            calls = method_calls(index, call)
            for method in ASYNC_SUBMITS:
                for submit in calls.get(method, ()):
                    yield submit, f"an AsyncResult from `{method}()`"


class FutureResultWithoutTimeout(WaitRule):
    code = "LKL604"
    name = "future-result-without-timeout"
    summary = "`result()` on a future, or `get()` on a pool's AsyncResult, with no timeout."
    what_it_does = (
        "Finds `result()` / `exception()` with no timeout on a `concurrent.futures.Future` "
        "made here or returned by `submit()` on a `ThreadPoolExecutor` / "
        "`ProcessPoolExecutor` created in the file, and `get()` / `wait()` with no timeout "
        "on the AsyncResult of `apply_async()` / `map_async()` / `starmap_async()` on a "
        "`multiprocessing` pool created in the file. A future taken from `as_completed()` "
        "or given to a done-callback is finished already and is not followed." + SHARED_EXEMPTIONS_DOC)
    why_bad = (
        "A job that hangs - a stuck network call, a worker process killed so its result "
        "never arrives (a pool's AsyncResult then waits forever) - blocks the caller with "
        "it, and the caller cannot report or cancel what it is waiting for.")
    example = (
        "from concurrent.futures import ThreadPoolExecutor\n\n"
        "def handle(request):\n"
        "    future = EXECUTOR.submit(render, request)\n"
        "    return future.result()\n\n"
        "EXECUTOR = ThreadPoolExecutor(4)\n")
    use_instead = (
        "from concurrent.futures import ThreadPoolExecutor\n\n"
        "def handle(request):\n"
        "    future = EXECUTOR.submit(render, request)\n"
        "    return future.result(timeout=30)  # raises TimeoutError\n\n"
        "EXECUTOR = ThreadPoolExecutor(4)\n")
    invalid = (
        "from concurrent.futures import ThreadPoolExecutor\n\ndef f(work):\n"
        "    with ThreadPoolExecutor() as ex:\n        fs = [ex.submit(work, i) for i in range(3)]\n"
        "        return [fu.result() for fu in fs]\n",
        "import multiprocessing\n\ndef f(work):\n    pool = multiprocessing.Pool(2)\n"
        "    res = pool.apply_async(work)\n    return res.get()\n",
    )
    valid = (
        "from concurrent.futures import ThreadPoolExecutor, as_completed\n\ndef f(work):\n"
        "    with ThreadPoolExecutor() as ex:\n        fs = [ex.submit(work, i) for i in range(3)]\n"
        "        return [fu.result() for fu in as_completed(fs)]\n",
        "def f(fu):\n    return fu.result()\n",
        "import multiprocessing\n\ndef f(work):\n    pool = multiprocessing.Pool(2)\n"
        "    res = pool.apply_async(work)\n    return res.get(60)\n",
    )
    trigger_words = ("Executor", "Future", "Pool")
    trigger_names = last_names(EXECUTORS, FUTURES, POOLS)

    def waits(self, index: FileIndex) -> Iterator[Wait]:
        yield from waits_on(index, _futures(index), FUTURE_METHODS)
        yield from waits_on(index, _async_results(index), ASYNC_RESULT_METHODS)

    def message(self, index: FileIndex, wait: Wait) -> Tuple[str, str]:
        return (f"{receiver_text(index, wait.call)} on {wait.what} waits with no timeout "
                f"for a job that may never finish",
                f"`{wait.method}(timeout=...)`, and handle `TimeoutError`")
