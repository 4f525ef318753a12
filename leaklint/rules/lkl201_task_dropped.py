"""LKL201: the task or future created by create_task / ensure_future / run_in_executor is
thrown away on the spot."""
from __future__ import annotations

from typing import Iterator

from leaklint.index import FileIndex
from leaklint.rules._asyncio import (
    TASK_NAMES,
    describe_coroutine,
    dropped_tasks,
    holder,
    is_coroutine_source,
    never_iterated,
)
from leaklint.rules._common import FACTORIES_DOC
from leaklint.rules.base import Report, Rule
from leaklint.summaries import made_by_call


class TaskDropped(Rule):
    code = "LKL201"
    name = "task-dropped"
    summary = "The task or future returned by create_task / ensure_future / run_in_executor is discarded."
    what_it_does = (
        "Finds `asyncio.create_task(...)`, `asyncio.ensure_future(coro)`, "
        "`loop.create_task(...)` and `loop.run_in_executor(...)` calls whose result is "
        "thrown away (or only looked at, e.g. `.set_name()`), however the loop was "
        "reached: `asyncio.get_running_loop()`, `get_event_loop()`, `new_event_loop()`, a "
        "variable or `self` attribute holding one, a parameter annotated "
        "`asyncio.AbstractEventLoop`, or a chained `asyncio.get_event_loop().create_task(...)`. "
        "Names are resolved through imports and assignments, never by spelling: the "
        "`create_task` method of any other object (a to-do client, Celery, Jira) and "
        "`TaskGroup.create_task` are not matched, nor is a `loop` parameter of unknown type. "
        "A result with a done callback attached (`.add_done_callback(...)`) is handled. "
        "A task returned by a lambda handed to `loop.call_soon(...)`, "
        "`call_soon_threadsafe`, `call_later` or `call_at` is discarded too: the loop "
        "ignores what a callback returns. `ensure_future(x)` kept in a variable or looked "
        "at is reported only when `x` is provably a coroutine (a call of an `async def` "
        "of the file or of an asyncio coroutine function): given a future it creates no "
        "task. As a statement of its own, `ensure_future(x())` of an unknown awaitable is "
        "reported: given a future, that statement would do nothing. Wrapping another "
        "creation, `ensure_future(loop.run_in_executor(...))`, it is that creation. An "
        "unannotated constructor parameter kept as `self.loop` / `self._loop` is trusted "
        "to be the loop in a class deriving from an asyncio protocol or transport (the "
        "loop creates those and hands itself in); elsewhere it is not (measured on the "
        "corpus: such parameters were as often a TaskGroup as a loop). Nothing inside `with "
        "self.assertRaises(...)` / `pytest.raises(...)` is reported. A task dropped in "
        "the coroutine given to `asyncio.run()` is still reported: the run cancels it at "
        "the end, but until then nothing references it. A generator "
        "expression of `create_task(...)` calls that nothing iterates (a statement, or bound "
        "to a name never used) creates no task at all: that is reported as what it is, work "
        "that never starts." + FACTORIES_DOC)
    why_bad = (
        "The event loop keeps only a weak reference to a task: a task nobody references can "
        "be garbage-collected mid-flight (\"Task was destroyed but it is pending!\"). Nobody "
        "awaits it, so its exception is only logged when it is collected (\"Task exception "
        "was never retrieved\"), nobody can cancel it on shutdown, and it runs on after its "
        "owner is gone. A discarded `run_in_executor` future loses the function's exception "
        "the same way.")
    example = (
        "import asyncio\n\n"
        "async def handle(event):\n"
        "    asyncio.create_task(audit(event))\n"
        "    return 'ok'\n")
    use_instead = (
        "import asyncio\n\n"
        "background_tasks = set()\n\n"
        "async def handle(event):\n"
        "    task = asyncio.create_task(audit(event))\n"
        "    background_tasks.add(task)\n"
        "    task.add_done_callback(background_tasks.discard)\n"
        "    return 'ok'\n\n"
        "# or: async with asyncio.TaskGroup() as tg: tg.create_task(audit(event))\n")
    invalid = (
        "import asyncio\n\nasync def f():\n    asyncio.create_task(g())\n",
        "from asyncio import ensure_future as ef\n\nasync def g():\n    pass\n\nasync def f():\n    ef(g())\n",
        "import asyncio\n\nasync def f():\n    loop = asyncio.get_running_loop()\n"
        "    loop.create_task(g())\n",
        "import asyncio\n\ndef f():\n    asyncio.get_event_loop().create_task(g())\n",
        "import asyncio\n\nasync def f():\n    loop = asyncio.get_running_loop()\n"
        "    loop.run_in_executor(None, print, 1)\n",
        "import asyncio\n\nclass C:\n    def __init__(self):\n"
        "        self.loop = asyncio.new_event_loop()\n"
        "    def go(self):\n        self.loop.create_task(g())\n",
        "import asyncio\n\nasync def f():\n    asyncio.create_task(g()).set_name('g')\n",
        "import asyncio\n\ndef f(event):\n    asyncio.ensure_future(event.wait())\n",
        "import asyncio\n\ndef f():\n    loop = asyncio.get_event_loop()\n"
        "    asyncio.ensure_future(loop.run_in_executor(None, print))\n",
        "import asyncio\n\nclass P(asyncio.Protocol):\n    def __init__(self, loop):\n"
        "        self._loop = loop\n    def data_received(self, data):\n"
        "        self._loop.create_task(g(data))\n",
        "import asyncio\n\nasync def g():\n    pass\n\ndef on_signal():\n"
        "    asyncio.get_event_loop().call_soon_threadsafe(lambda: asyncio.create_task(g()))\n",
    )
    valid = (
        "import asyncio\n\nasync def f():\n    t = asyncio.create_task(g())\n    await t\n",
        "import asyncio\n\nasync def f(events):\n    async with asyncio.TaskGroup() as tg:\n"
        "        for e in events:\n            tg.create_task(g(e))\n",
        "async def f(todo_client):\n    todo_client.create_task('buy milk')\n",
        "def f(loop):\n    loop.create_task(g())\n",
        "import asyncio\n\nasync def f():\n"
        "    asyncio.create_task(g()).add_done_callback(print)\n",
        "import asyncio\n\nasync def f(fut):\n    asyncio.ensure_future(fut)\n",
        "import asyncio\n\nasyncio.run(g())\n",
        "import asyncio\n\ndef f(event):\n    fut = asyncio.ensure_future(event.wait())\n"
        "    return fut.done()\n",
    )
    trigger_words = ("create_task", "ensure_future", "run_in_executor")
    trigger_names = TASK_NAMES

    def check(self, index: FileIndex) -> Iterator[Report]:
        for call, what, coro, lifecycle in dropped_tasks(index):
            target = describe_coroutine(index, coro, what)
            running = f" running {target}" if target else made_by_call(index, call)
            if never_iterated(index, call):
                # A generator expression nobody iterates never calls create_task(): there
                # is no task to drop, but the work the code meant to start never starts.
                lost = f"{target} never runs" if target else "no task is created"
                yield Report(call, f"generator of `{what}()` calls is never iterated: {lost}",
                             fix="iterate it, e.g. `await asyncio.gather(*tasks)` over a list of "
                                 "the tasks, or drop it")
                continue
            if holder(index, call, lifecycle) not in ("discarded", "'_'"):
                continue
            if what == "run_in_executor":
                # The executor holds the work item and asyncio chains the futures, so the
                # call runs to the end; what is lost is its outcome.
                message = (f"future of `run_in_executor()`{running} is dropped: its result "
                           f"and exception are lost")
                fix = "await the future, or keep it and check its result"
            elif what == "ensure_future" and not is_coroutine_source(index, coro):
                # An awaitable of unknown kind, in a statement of its own: only a
                # coroutine makes that statement do anything.
                message = (f"result of `ensure_future()`{running} is dropped: given a "
                           f"coroutine, its task may be garbage-collected mid-flight")
                fix = ("keep a reference and await or cancel it (a set plus "
                       "`add_done_callback(set.discard)`), or await the awaitable")
            else:
                # Only what always holds: a coroutine may well log its own errors.
                message = f"task{running} is dropped: it may be garbage-collected mid-flight"
                fix = ("keep a reference and await or cancel it (a set plus "
                       "`add_done_callback(set.discard)`, or an `asyncio.TaskGroup`)")
            yield Report(call, message, fix=fix)
