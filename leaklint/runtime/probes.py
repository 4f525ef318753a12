"""What is alive, kind by kind, and where it was created.

Enumeration needs no set-up: threads come from `threading.enumerate()`, child processes
from multiprocessing's own table, Popen children from `subprocess._active`. Everything
else (where an object was created, event loops, executors, pools, every Popen) is only
known while `install()` is in effect: it wraps a few constructors and `start` methods to
note the creating call's stack (a tuple of code objects and line numbers, no frames, so
no local variable is kept alive) in weak tables, and `uninstall()` puts the originals
back. Nothing here joins, polls, kills or shuts down anything: a child's state is peeked
at with `waitid(WNOWAIT)`, which leaves it to whoever owns it to reap.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import weakref
from types import CodeType, FrameType
from typing import Iterator, List, Optional, Tuple

# A creation stack: innermost call first, as (code object, line number) pairs.
Stack = Tuple[Tuple[CodeType, int], ...]

STACK_LIMIT = 40
# Depth given to sys.set_coroutine_origin_tracking_depth while installed: where each
# coroutine object was created (`cr_origin`), which is where its task was created.
COROUTINE_ORIGIN_DEPTH = 16

# object -> (creation stack, time.monotonic() at creation)
_origins: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_loops: "weakref.WeakSet" = weakref.WeakSet()
_executors: "weakref.WeakSet" = weakref.WeakSet()
_pools: "weakref.WeakSet" = weakref.WeakSet()
_popens: "weakref.WeakSet" = weakref.WeakSet()
_processes: "weakref.WeakSet" = weakref.WeakSet()
# process -> its target's qualified name: Process.start() forgets the target
_process_targets: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
# Tasks still pending when asyncio.run / asyncio.Runner (or a backport of it) shut their
# loop down, which cancels them, described then (as Leaks): the tasks themselves are gone
# by the time anyone checks. Snapshots remember how long the list was.
pending_at_shutdown: list = []
MAX_PENDING_AT_SHUTDOWN = 1000

_install_count = 0
_restore: List[Tuple[object, str, object]] = []
_previous_origin_depth: Optional[int] = None
_lock = threading.Lock()


def snapshot_of(weak_collection) -> list:
    """A list of a weak set's items (a weak dictionary's keys). Iterating one runs Python
    code, during which another thread may add to it: try again then."""
    for _ in range(100):
        try:
            return list(weak_collection)
        except RuntimeError:  # changed size during iteration
            continue
    return []


def capture_stack(skip: int = 1) -> Stack:
    """The caller's stack (skipping `skip` frames of ours), innermost first."""
    frame: Optional[FrameType] = sys._getframe(skip + 1)
    stack: List[Tuple[CodeType, int]] = []
    while frame is not None and len(stack) < STACK_LIMIT:
        stack.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    return tuple(stack)


def origin_of(obj) -> Optional[Tuple[Stack, float]]:
    try:
        return _origins.get(obj)
    except TypeError:  # not weakly referenceable
        return None


def _note(obj, skip: int) -> None:
    try:
        _origins[obj] = (capture_stack(skip + 1), time.monotonic())
    except TypeError:
        pass


# --- the wrappers installed while the plugin (or verify_none) is active ---------------

def _wrap(owner, name: str, make_wrapper) -> None:
    original = owner.__dict__[name]
    _restore.append((owner, name, original))
    wrapper = make_wrapper(original)
    wrapper.__wrapped__ = original
    setattr(owner, name, wrapper)


def _noting_before(track: Optional["weakref.WeakSet"]):
    """A wrapper that notes the creating stack, then calls the original."""
    def make(original):
        def wrapper(self, *args, **kwargs):
            _note(self, 1)
            if track is not None:
                track.add(self)
            return original(self, *args, **kwargs)
        return wrapper
    return make


def qualified_name(function) -> str:
    """module.qualname of a function, method or class ("" when it has none)."""
    function = getattr(function, "__func__", function)
    module = getattr(function, "__module__", None) or ""
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", "")
    if not name:
        return ""
    return f"{module}.{name}" if module else name


def _process_start(original):
    def start(self, *args, **kwargs):
        _note(self, 1)
        _processes.add(self)
        target = getattr(self, "_target", None)
        _process_targets[self] = qualified_name(target if target is not None else type(self).run)
        return original(self, *args, **kwargs)
    return start


def process_target(process) -> str:
    return _process_targets.get(process, "")


def _popen_init(original):
    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)  # a failed start (no such program) is no child
        _note(self, 1)
        _popens.add(self)
    return __init__


def _loop_init(original):
    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        _loops.add(self)
    return __init__


def _cancel_all_tasks_wrapper(original):
    def _cancel_all_tasks(loop, *args, **kwargs):
        import asyncio
        try:
            from leaklint.runtime import task_leak
            for task in asyncio.all_tasks(loop):
                if not task.done() and not task_is_cancelling(task):
                    if len(pending_at_shutdown) < MAX_PENDING_AT_SHUTDOWN:
                        pending_at_shutdown.append(task_leak(task, at_shutdown=True))
        except Exception:  # never break the runner's shutdown
            pass
        return original(loop, *args, **kwargs)
    return _cancel_all_tasks


def _runner_modules() -> Iterator[object]:
    """Modules whose `_cancel_all_tasks(loop)` cancels what is left when a loop is shut
    down: asyncio.run / asyncio.Runner, and the Runner backports used by pytest-asyncio
    and anyio before Python 3.11 (only those already imported)."""
    yield sys.modules["asyncio.runners"]
    if "anyio" in sys.modules and sys.version_info < (3, 11):  # its backend loads late
        try:
            import anyio._backends._asyncio  # noqa: F401
        except Exception:
            pass
    for name in ("backports.asyncio.runner.runner", "anyio._backends._asyncio"):
        module = sys.modules.get(name)
        if module is not None and "_cancel_all_tasks" in vars(module):
            yield module


def install() -> None:
    """Start noting creations (nested calls are counted; the last `uninstall` undoes)."""
    global _install_count, _previous_origin_depth
    with _lock:
        _install_count += 1
        if _install_count > 1:
            return
        import asyncio.base_events
        import asyncio.runners
        import concurrent.futures.process
        import concurrent.futures.thread
        import multiprocessing.pool
        import multiprocessing.process

        _wrap(threading.Thread, "start", _noting_before(None))
        _wrap(multiprocessing.process.BaseProcess, "start", _process_start)
        _wrap(multiprocessing.pool.Pool, "__init__", _noting_before(_pools))
        _wrap(concurrent.futures.thread.ThreadPoolExecutor, "__init__", _noting_before(_executors))
        _wrap(concurrent.futures.process.ProcessPoolExecutor, "__init__", _noting_before(_executors))
        _wrap(subprocess.Popen, "__init__", _popen_init)
        _wrap(asyncio.base_events.BaseEventLoop, "__init__", _loop_init)
        for module in _runner_modules():
            _wrap(module, "_cancel_all_tasks", _cancel_all_tasks_wrapper)
        _previous_origin_depth = sys.get_coroutine_origin_tracking_depth()
        if _previous_origin_depth < COROUTINE_ORIGIN_DEPTH:
            sys.set_coroutine_origin_tracking_depth(COROUTINE_ORIGIN_DEPTH)


def uninstall() -> None:
    global _install_count
    with _lock:
        if _install_count == 0:
            return
        _install_count -= 1
        if _install_count:
            return
        while _restore:
            owner, name, original = _restore.pop()
            setattr(owner, name, original)
        if _previous_origin_depth is not None:
            sys.set_coroutine_origin_tracking_depth(_previous_origin_depth)


def installed() -> bool:
    return _install_count > 0


# --- children: peek without reaping ---------------------------------------------------

def child_state(pid: int) -> str:
    """"running", "exited" (a zombie nobody reaped), "gone" (reaped by someone else or
    not our child) or "unknown" (no waitid on this system)."""
    if not hasattr(os, "waitid"):
        return "unknown"
    try:
        result = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return "gone"
    except OSError:
        return "unknown"
    return "running" if result is None else "exited"


def process_state(process) -> Optional[str]:
    """A multiprocessing process's state, or None when it is no leak: never started,
    another process's child, or already reaped (joined, or polled by multiprocessing)."""
    popen = getattr(process, "_popen", None)
    if popen is None or getattr(process, "_parent_pid", None) != os.getpid():
        return None
    if getattr(popen, "returncode", None) is not None:
        return None
    sentinel = getattr(popen, "sentinel", None)
    if sentinel is not None:  # readable once the child has exited, for every start method
        from multiprocessing.connection import wait
        try:
            return "exited, never joined" if wait([sentinel], 0) else "running"
        except (OSError, ValueError):
            return None
    state = child_state(popen.pid)
    return None if state == "gone" else {"exited": "exited, never joined"}.get(state, state)


def popen_state(popen) -> Optional[str]:
    if getattr(popen, "returncode", None) is not None or getattr(popen, "pid", None) is None:
        return None
    state = child_state(popen.pid)
    if state == "gone":  # reaped without Popen knowing: asyncio's child watchers do that
        return None
    if state == "exited":
        return "exited, never waited for (a zombie until reaped)"
    return "running" if state == "running" else "running or exited, never waited for"


# --- tasks ---------------------------------------------------------------------------

def task_is_cancelling(task) -> bool:
    """Cancel() was called: the task is shutting down, not leaked."""
    cancelling = getattr(task, "cancelling", None)
    if cancelling is not None and cancelling():
        return True
    if getattr(task, "_must_cancel", False):
        return True
    waiter = getattr(task, "_fut_waiter", None)
    return waiter is not None and waiter.cancelled()


def tracked_loops() -> List[object]:
    asyncio = sys.modules.get("asyncio")  # not imported: no event loop either
    if asyncio is None:
        return []
    loops = snapshot_of(_loops)
    running = asyncio.events._get_running_loop()
    if running is not None and running not in loops:
        loops.append(running)
    return loops


def pending_tasks() -> List[object]:
    """Pending tasks on every known loop (not those being cancelled)."""
    tasks: List[object] = []
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:  # no loop was ever made
        return tasks
    for loop in tracked_loops():
        try:
            loop_tasks = asyncio.all_tasks(loop)
        except Exception:
            continue
        for task in loop_tasks:
            if not task.done() and not task_is_cancelling(task):
                tasks.append(task)
    return tasks


# --- executors and pools ---------------------------------------------------------------

def executor_threads() -> set:
    """Every ThreadPoolExecutor worker thread and ProcessPoolExecutor manager thread:
    reported through their executor, never as threads of their own."""
    owned = set()
    thread_module = sys.modules.get("concurrent.futures.thread")
    if thread_module is not None:
        owned.update(snapshot_of(getattr(thread_module, "_threads_queues", {})))
    process_module = sys.modules.get("concurrent.futures.process")
    if process_module is not None:
        owned.update(snapshot_of(getattr(process_module, "_threads_wakeups", {})))
    for executor in snapshot_of(_executors):
        owned.update(executor_workers(executor)[0])
    return owned


def executor_workers(executor) -> Tuple[list, list]:
    """(worker threads, worker processes) of an executor; a ProcessPoolExecutor's threads
    are its manager and the feeder of its call queue."""
    threads = list(getattr(executor, "_threads", ()) or ())
    manager = getattr(executor, "_executor_manager_thread", None) or getattr(
        executor, "_queue_management_thread", None)
    feeder = getattr(getattr(executor, "_call_queue", None), "_thread", None)
    threads.extend(thread for thread in (manager, feeder) if thread is not None)
    processes = list((getattr(executor, "_processes", None) or {}).values())
    return threads, processes


def executor_is_shut_down(executor) -> bool:
    if hasattr(executor, "_shutdown_thread"):  # ProcessPoolExecutor
        return bool(executor._shutdown_thread)
    return bool(getattr(executor, "_shutdown", False))


POOL_HANDLERS = ("_worker_handler", "_task_handler", "_result_handler")


def pool_workers(pool) -> Tuple[list, list]:
    """(threads, processes) of a multiprocessing Pool or ThreadPool: its handler threads,
    and its workers (processes, or threads for a ThreadPool)."""
    threads = [getattr(pool, name, None) for name in POOL_HANDLERS]
    threads = [thread for thread in threads if thread is not None]
    processes: list = []
    for worker in list(getattr(pool, "_pool", ()) or ()):
        (threads if isinstance(worker, threading.Thread) else processes).append(worker)
    return threads, processes


def pools() -> List[object]:
    return snapshot_of(_pools)


def executors() -> List[object]:
    return snapshot_of(_executors)


def child_processes() -> List[object]:
    """multiprocessing children started here and not yet reaped (ours, and those started
    before install() that multiprocessing still lists)."""
    import multiprocessing.process
    found = list(getattr(multiprocessing.process, "_children", ()))
    for process in snapshot_of(_processes):
        if process not in found:
            found.append(process)
    return found


def popens() -> List[object]:
    found = snapshot_of(_popens)
    for popen in list(getattr(subprocess, "_active", None) or ()):  # dropped while running
        if not isinstance(popen, int) and popen not in found:
            found.append(popen)
    return found


def threads() -> List[threading.Thread]:
    current = threading.current_thread()
    main = threading.main_thread()
    return [thread for thread in threading.enumerate()
            if thread is not current and thread is not main
            and not isinstance(thread, threading._DummyThread)]
