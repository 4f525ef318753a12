"""LKL202: a task kept in a variable, container or `self` attribute that nothing ever
awaits, gathers, cancels or hands off."""
from __future__ import annotations

from typing import Iterator

from leaklint.index import FileIndex
from leaklint.rules._asyncio import (
    TASK_NAMES,
    describe_coroutine,
    dropped_pending_set,
    dropped_tasks,
    early_return_reason,
    never_iterated,
    pending_after_wait,
)
from leaklint.rules._asyncio import holder as kept_in
from leaklint.rules._common import FACTORIES_DOC, SNIPPET_LIMIT, owned_by_class
from leaklint.rules.base import Report, Rule
from leaklint.summaries import made_by_call


class TaskNeverAwaited(Rule):
    code = "LKL202"
    name = "task-never-awaited"
    summary = "A task is kept in a variable, container or attribute but never awaited, gathered or cancelled."
    what_it_does = (
        "Follows each task or future made by `asyncio.create_task`, `asyncio.ensure_future`, "
        "`loop.create_task` or `loop.run_in_executor` through local names and aliases, "
        "lists, sets and dicts of tasks, and `self` attributes across every method of the "
        "class. It is reported when nothing awaits it, passes it to `asyncio.gather`, "
        "`wait`, `wait_for`, `shield` or `as_completed` (also as `*tasks`), calls "
        "`cancel()`, `result()`, `exception()` or `add_done_callback()` on it, and it is not "
        "handed to someone else: returned, yielded, passed to a call we don't know, stored "
        "in a module global, or in a container or object that leaves the function. The "
        "classic worker-pool bug is one: workers created in a list, `await queue.join()`, "
        "and the workers never cancelled. Awaiting after a `try` or cancelling in "
        "`finally` count as releases (the analysis is flow-insensitive). Tasks handed only "
        "to `asyncio.wait(..., return_when=FIRST_COMPLETED / FIRST_EXCEPTION)` or "
        "`asyncio.wait(..., timeout=...)` whose pending set is then dropped (`done, _ = "
        "await asyncio.wait(...)`) are reported too, once, at the `wait()` call: the losers "
        "run on. A task whose `cancelled()` state is checked, or whose `done()` is asserted, "
        "is taken to be finished by someone else (a runner's cancel-all at shutdown); a "
        "container the code prunes with `remove()` / `discard()` is the keep-a-reference "
        "pattern and is not reported. A task kept in a local variable of the coroutine "
        "given to `asyncio.run()` (when that is the only way the coroutine is run), and "
        "the tasks an early-returning `asyncio.wait()` leaves pending there, are not "
        "reported: `asyncio.run()` cancels every task still pending when the coroutine "
        "returns and reports their exceptions (`loop.run_until_complete()` does neither). "
        "Still reported, on purpose: a task kept on `self` only for its strong reference, "
        "whose coroutine ends by itself when its connection closes. The reference keeps "
        "it from being garbage-collected, but only the peer can end it, its exception is "
        "never retrieved, and the owner's close cannot stop it: cancel it there." + FACTORIES_DOC)
    why_bad = (
        "A task nobody awaits or cancels runs on after its owner is gone: a worker blocked "
        "on `queue.get()` stays pending forever (\"Task was destroyed but it is pending!\" at "
        "shutdown), its exception is never seen, and the resources it holds are never "
        "released. Holding the task in a variable only delays the problem.")
    example = (
        "import asyncio\n\n"
        "async def crawl(urls):\n"
        "    queue = asyncio.Queue()\n"
        "    for url in urls:\n"
        "        queue.put_nowait(url)\n"
        "    workers = [asyncio.create_task(worker(queue)) for _ in range(3)]\n"
        "    await queue.join()\n")
    use_instead = (
        "import asyncio\n\n"
        "async def crawl(urls):\n"
        "    queue = asyncio.Queue()\n"
        "    for url in urls:\n"
        "        queue.put_nowait(url)\n"
        "    workers = [asyncio.create_task(worker(queue)) for _ in range(3)]\n"
        "    try:\n"
        "        await queue.join()\n"
        "    finally:\n"
        "        for w in workers:\n"
        "            w.cancel()\n"
        "        await asyncio.gather(*workers, return_exceptions=True)\n")
    invalid = (
        "import asyncio\n\nasync def f():\n    t = asyncio.create_task(g())\n    return 1\n",
        "import asyncio\n\nasync def f(q):\n"
        "    ws = [asyncio.create_task(w(q)) for _ in range(3)]\n    await q.join()\n",
        "import asyncio\n\nclass C:\n    async def start(self):\n"
        "        self._t = asyncio.create_task(self.run())\n"
        "    async def run(self):\n        pass\n",
        "import asyncio\n\nasync def g(i):\n    pass\n\nasync def f(items):\n    tasks = []\n    for i in items:\n"
        "        tasks.append(asyncio.ensure_future(g(i)))\n    print(len(tasks))\n",
        "import asyncio\n\nasync def f(a, b):\n"
        "    done, _ = await asyncio.wait([asyncio.create_task(a), asyncio.create_task(b)],\n"
        "                                 return_when=asyncio.FIRST_COMPLETED)\n",
    )
    valid = (
        "import asyncio\n\nasync def f():\n    t = asyncio.create_task(g())\n    try:\n"
        "        pass\n    finally:\n        t.cancel()\n",
        "import asyncio\n\nasync def f(q):\n"
        "    ws = [asyncio.create_task(w(q)) for _ in range(3)]\n    await q.join()\n"
        "    for x in ws:\n        x.cancel()\n",
        "import asyncio\n\nasync def f(items):\n"
        "    ts = [asyncio.create_task(g(i)) for i in items]\n    await asyncio.gather(*ts)\n",
        "import asyncio\n\nasync def f():\n    t = asyncio.create_task(g())\n    return t\n",
        "import asyncio\n\nclass C:\n    async def start(self):\n"
        "        self._t = asyncio.create_task(self.run())\n"
        "    async def stop(self):\n        self._t.cancel()\n",
        "import asyncio\n\nTASKS = set()\n\nasync def f():\n"
        "    t = asyncio.create_task(g())\n    TASKS.add(t)\n"
        "    t.add_done_callback(TASKS.discard)\n",
        "import asyncio\n\nasync def f(a, b):\n"
        "    done, pending = await asyncio.wait([asyncio.create_task(a), asyncio.create_task(b)],\n"
        "                                       return_when=asyncio.FIRST_COMPLETED)\n"
        "    for t in pending:\n        t.cancel()\n",
    )
    trigger_words = ("create_task", "ensure_future", "run_in_executor")
    trigger_names = TASK_NAMES

    def check(self, index: FileIndex) -> Iterator[Report]:
        for call, what, coro, lifecycle in dropped_tasks(index):
            holder = kept_in(index, call, lifecycle)
            if holder in ("discarded", "'_'") or never_iterated(index, call):  # LKL201's
                continue
            target = describe_coroutine(index, coro, what)
            running = f" running {target}" if target else made_by_call(index, call)
            thing = "future of `run_in_executor()`" if what == "run_in_executor" else "task"
            bare = holder.strip("'").split("[")[0]
            kept = f" is kept in `{bare}`" if len(bare) <= SNIPPET_LIMIT else " is kept"
            if owned_by_class(bare):
                left = "but no method of the class awaits or cancels it"
            else:
                left = "but never awaited or cancelled"
            yield Report(call, f"{thing}{running}{kept} {left}",
                         fix="await it (`asyncio.gather()`/`wait()`), or `cancel()` it in a "
                             "`finally` block or close method")
        groups: dict = {}
        for call, _what, _coro, wait_call, _reason in pending_after_wait(index):
            groups.setdefault(wait_call, []).append(call)
        for wait_call, tasks in groups.items():
            reason = early_return_reason(index, wait_call)
            pending = dropped_pending_set(index, wait_call)
            count = f"{len(tasks)} tasks" if len(tasks) > 1 else "a task"
            # One finding per wait() call: only the tasks it leaves pending leak.
            if pending:
                fate = f"`{pending}` gets them and nobody cancels them"
                fix = f"cancel what it leaves pending: `for t in {pending}: t.cancel()`"
                if pending == "_":
                    fix = ("bind the pending set to a name and cancel its tasks: "
                           "`for t in pending: t.cancel()`")
            else:
                fate = "the pending set is discarded"
                fix = ("bind the pending set (`done, pending = await asyncio.wait(...)`) "
                       "and cancel its tasks: `for t in pending: t.cancel()`")
            yield Report(wait_call, f"`asyncio.wait(..., {reason})` may leave {count} "
                                    f"pending: {fate}", fix=fix)
