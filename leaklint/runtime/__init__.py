"""Runtime leak checks, goleak for Python: what threads, timers, tasks, processes, pools,
executors and Popen children a piece of code leaves behind.

    from leaklint.runtime import verify_none, find, snapshot

    with verify_none():           # raises LeakError naming what the block left alive
        start_service()

    @verify_none(max_wait=2.0)    # also a decorator (async functions too)
    def test_service(): ...

    leaks = find(ignore=before)   # goleak's Find: what is alive now (and not in `before`)

The pytest plugin (`pytest --leaklint`) is built on the same functions. This package
imports nothing heavy: the static cross-check (does `leaklint` flag the creating line?)
loads the linter only when a leak is reported.
"""
from __future__ import annotations

import fnmatch
import functools
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field, fields, replace
from types import FrameType
from typing import List, Literal, Optional, Tuple

from leaklint.runtime import probes

__all__ = ["Frame", "Leak", "LeakError", "Options", "Snapshot", "find", "find_with_retry",
           "format_leaks", "snapshot", "verify_none"]

KINDS = ("thread", "timer", "task", "process", "pool", "executor", "popen")

# The static rule describing each kind of leak (code, name): the first is shown; any of
# them on the creating line counts as "leaklint reports it statically".
RULES = {
    "thread": (("LKL101", "thread-not-joined"),),
    "timer": (("LKL101", "thread-not-joined"),),
    "task": (("LKL201", "task-dropped"), ("LKL202", "task-never-awaited")),
    "process": (("LKL501", "process-not-joined"),),
    "pool": (("LKL503", "pool-not-closed"),),
    "executor": (("LKL502", "executor-not-shut-down"),),
    "popen": (("LKL504", "popen-not-waited"),),
}

# Long-lived helpers of test runners, never a test's leak: anyio's pytest runner keeps
# one task running across the tests that share its event loop.
DEFAULT_IGNORE_TOP_FUNCTIONS = ("anyio._backends._asyncio.TestRunner._run_tests_and_fixtures",
                                "anyio._backends._asyncio.TestRunner._call_in_runner_task")


@dataclass(frozen=True)
class Options:
    """How leaks are looked for. Every field is also a `[tool.leaklint.runtime]` key (with
    dashes) and a keyword of `verify_none`, `find` and `@pytest.mark.leaklint(...)`."""

    daemon_threads: bool = False  # report daemon threads too
    max_wait: float = 0.5  # seconds to let leaks that are ending end (retry with backoff)
    ignore_top_functions: Tuple[str, ...] = ()  # target / coroutine / program, glob patterns
    ignore_any_functions: Tuple[str, ...] = ()  # any function on a thread's or task's stack
    ignore_thread_names: Tuple[str, ...] = ()  # glob patterns on Thread.name
    kinds: Tuple[str, ...] = KINDS  # what to look for
    static_check: bool = True  # say whether `leaklint` flags the creating line

    def updated(self, mapping: dict, where: str = "") -> "Options":
        """A copy with `mapping`'s keys (dashes or underscores) applied; list options are
        added to, not replaced. ValueError names a bad key or value."""
        known = {f.name: f for f in fields(self)}
        changes = {}
        for raw_key, value in mapping.items():
            key = raw_key.replace("-", "_")
            prefix = f"{where}{raw_key}: "
            if key not in known:
                raise ValueError(f"{prefix}unknown option (known: "
                                 f"{', '.join(name.replace('_', '-') for name in known)})")
            if key in ("daemon_threads", "static_check"):
                if not isinstance(value, bool):
                    raise ValueError(f"{prefix}expected true or false, got {value!r}")
            elif key == "max_wait":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise ValueError(f"{prefix}expected a number of seconds >= 0, got {value!r}")
                value = float(value)
            else:
                if isinstance(value, str):
                    value = [value]
                if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"{prefix}expected a list of strings, got {value!r}")
                if key == "kinds":
                    unknown = sorted(set(value) - set(KINDS))
                    if unknown:
                        raise ValueError(f"{prefix}unknown kind(s) {', '.join(unknown)} "
                                         f"(known: {', '.join(KINDS)})")
                    value = tuple(value)
                else:
                    value = tuple(getattr(self, key)) + tuple(value)
            changes[key] = value
        return replace(self, **changes)


@dataclass
class Frame:
    filename: str
    lineno: int
    function: str
    qualified: str = ""  # module.qualname when known (current stacks), for ignores

    def render(self) -> str:
        import linecache
        line = linecache.getline(self.filename, self.lineno).strip()
        text = f'    File "{self.filename}", line {self.lineno}, in {self.function}'
        return text + (f"\n      {line}" if line else "")


@dataclass
class Leak:
    """One thing left alive: what it is, its state, where it was created, where it is."""

    kind: str
    what: str  # "thread 'Thread-3 (worker)' (non-daemon)"
    state: str
    top_function: str = ""
    created: List[Frame] = field(default_factory=list)  # innermost first
    created_span: Optional[Tuple[int, int]] = None  # lines of the creating function
    current: Optional[List[Frame]] = None  # innermost first; threads and tasks
    may_end: bool = True  # could still end by itself: worth retrying
    obj: object = field(default=None, repr=False, compare=False)  # the thread, task, Popen...

    @property
    def rule(self) -> Tuple[str, str]:
        return RULES[self.kind][0]

    @property
    def creating_frame(self) -> Optional[Frame]:
        """The innermost creating frame that is not in the standard library (the line that
        started the thread, created the pool, and so on)."""
        for frame in self.created:
            if not _is_library(frame.filename):
                return frame
        return self.created[0] if self.created else None


class LeakError(AssertionError):
    """Raised by verify_none: `leaks` holds what was found."""

    def __init__(self, leaks: List[Leak], static_check: bool = True):
        self.leaks = leaks
        super().__init__(format_leaks(leaks, static_check=static_check))


class Snapshot:
    """What was alive when it was taken (goleak's IgnoreCurrent), held weakly."""

    def __init__(self, empty: bool = False) -> None:
        self._objects: "weakref.WeakSet" = weakref.WeakSet()
        self._ids: set = set()  # objects that cannot be weakly referenced (none known)
        # entries of probes.pending_at_shutdown before this one were there already
        self.shutdown_tasks_seen = 0 if empty else len(probes.pending_at_shutdown)
        if not empty:
            self.add_current()

    def add_current(self) -> None:
        for obj in _everything_alive():
            self.add(obj)

    def add(self, obj) -> None:
        try:
            self._objects.add(obj)
        except TypeError:
            self._ids.add(id(obj))

    def __contains__(self, obj) -> bool:
        try:
            return obj in self._objects
        except TypeError:
            return id(obj) in self._ids


def snapshot() -> Snapshot:
    return Snapshot()


def _everything_alive():
    yield from probes.threads()
    yield from probes.pending_tasks()
    yield from probes.child_processes()
    yield from probes.pools()
    yield from probes.executors()
    yield from probes.popens()


# --- finding ---------------------------------------------------------------------------

def _options(options: Optional[Options], overrides: dict) -> Options:
    options = options or Options()
    return options.updated(overrides) if overrides else options


def find(ignore: Optional[Snapshot] = None, options: Optional[Options] = None,
         **overrides) -> List[Leak]:
    """Everything alive now that is not in `ignore` and not ignored by the options, once
    (no retry). Where each was created is known only for objects created while the
    plugin or a verify_none() was active."""
    options = _options(options, overrides)
    ignore = ignore if ignore is not None else Snapshot(empty=True)
    kinds = set(options.kinds)
    leaks: List[Leak] = []
    owned_threads = probes.executor_threads()
    owned_processes = set()
    for pool in probes.pools():
        pool_threads, pool_processes = probes.pool_workers(pool)
        owned_threads.update(pool_threads)
        owned_processes.update(pool_processes)
    for executor in probes.executors():
        owned_processes.update(probes.executor_workers(executor)[1])

    if kinds & {"thread", "timer"}:
        current_frames = sys._current_frames()
        for thread in probes.threads():
            if thread in ignore or thread in owned_threads or not thread.is_alive():
                continue
            leak = _thread_leak(thread, options, current_frames)
            if leak is not None and leak.kind in kinds:
                leaks.append(leak)
    if "task" in kinds:
        for task in probes.pending_tasks():
            if task not in ignore:
                leaks.append(task_leak(task))
        leaks.extend(probes.pending_at_shutdown[ignore.shutdown_tasks_seen:])
    if "process" in kinds:
        for process in probes.child_processes():
            if process in ignore or process in owned_processes:
                continue
            state = probes.process_state(process)
            if state is not None:
                leaks.append(_process_leak(process, state))
    if "pool" in kinds:
        for pool in probes.pools():
            if pool not in ignore:
                leak = _pool_leak(pool)
                if leak is not None:
                    leaks.append(leak)
    if "executor" in kinds:
        for executor in probes.executors():
            if executor not in ignore:
                leak = _executor_leak(executor)
                if leak is not None:
                    leaks.append(leak)
    if "popen" in kinds:
        for popen in probes.popens():
            if popen not in ignore:
                state = probes.popen_state(popen)
                if state is not None:
                    leaks.append(_popen_leak(popen, state))
    return [leak for leak in leaks if not _ignored(leak, options)]


def find_with_retry(ignore: Optional[Snapshot] = None, options: Optional[Options] = None,
                    **overrides) -> List[Leak]:
    """find(), retried with a growing pause (1 ms doubling up to 100 ms) for at most
    `max_wait` seconds while something found could still end by itself (goleak does
    the same: a thread on its way out is not a leak)."""
    options = _options(options, overrides)
    deadline = time.monotonic() + options.max_wait
    pause = 0.001
    while True:
        leaks = find(ignore, options)
        remaining = deadline - time.monotonic()
        if not any(leak.may_end for leak in leaks) or remaining <= 0:
            return leaks
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, 0.1)


def _ignored(leak: Leak, options: Options) -> bool:
    def matches(name: str, patterns) -> bool:
        return bool(name) and any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)

    top_patterns = options.ignore_top_functions + DEFAULT_IGNORE_TOP_FUNCTIONS
    if matches(leak.top_function, top_patterns + options.ignore_any_functions):
        return True
    return any(matches(frame.qualified, options.ignore_any_functions)
               for frame in leak.current or ())


_qualified = probes.qualified_name


def _creation(obj) -> Tuple[List[Frame], Optional[Tuple[int, int]], Optional[float]]:
    noted = probes.origin_of(obj)
    if noted is None:
        return [], None, None
    stack, created_at = noted
    frames = [Frame(code.co_filename, lineno, code.co_name) for code, lineno in stack]
    span = None
    for code, _ in stack:
        if not _is_library(code.co_filename):
            span = _code_span(code)
            break
    return frames, span, created_at


def _code_span(code) -> Optional[Tuple[int, int]]:
    import dis
    lines = [line for _, line in dis.findlinestarts(code) if line is not None]
    if not lines:
        return None
    return min(lines + [code.co_firstlineno]), max(lines)


def _frames_from(frame, limit: int = 200) -> List[Frame]:
    frames: List[Frame] = []
    while frame is not None and len(frames) < limit:
        code = frame.f_code
        module = frame.f_globals.get("__name__", "")
        qualname = _frame_qualname(frame)
        frames.append(Frame(code.co_filename, frame.f_lineno, code.co_name, f"{module}.{qualname}"))
        frame = frame.f_back
    return frames


def _frame_qualname(frame: FrameType) -> str:
    code = frame.f_code
    qualname = getattr(code, "co_qualname", None)  # Python 3.11+
    if qualname:
        return qualname
    # Before 3.11 a method's class is found through its first argument (self or cls).
    if code.co_argcount and code.co_varnames[0] in ("self", "cls"):
        owner = frame.f_locals.get(code.co_varnames[0])
        for klass in (owner if isinstance(owner, type) else type(owner)).__mro__:
            function = vars(klass).get(code.co_name)
            if getattr(getattr(function, "__func__", function), "__code__", None) is code:
                return f"{klass.__qualname__}.{code.co_name}"
    return code.co_name


def _age(created_at: Optional[float]) -> str:
    return "" if created_at is None else f", alive for {time.monotonic() - created_at:.2f} s"


def _thread_leak(thread: threading.Thread, options: Options, current_frames) -> Optional[Leak]:
    if any(fnmatch.fnmatchcase(thread.name, pattern) for pattern in options.ignore_thread_names):
        return None
    timer = thread if isinstance(thread, threading.Timer) else None
    if timer is not None:
        if timer.finished.is_set():  # cancelled or fired: on its way out
            return None
        top = _qualified(timer.function)
    else:
        if thread.daemon and not options.daemon_threads:
            return None
        target = getattr(thread, "_target", None)
        top = _qualified(target) if target is not None else _qualified(type(thread).run)
    created, span, created_at = _creation(thread)
    frame = current_frames.get(thread.ident)
    daemon = "daemon" if thread.daemon else "non-daemon"
    if timer is not None:
        what = f"timer {thread.name!r} ({daemon}, interval {timer.interval} s) calling {top}"
        state = "pending: neither fired nor cancelled" + _age(created_at)
    else:
        what = f"thread {thread.name!r} ({daemon}) running {top}"
        state = "alive" + _age(created_at)
    return Leak("timer" if timer is not None else "thread", what, state, top, created, span,
                _frames_from(frame) if frame is not None else [], obj=thread)


def task_leak(task, at_shutdown: bool = False) -> Leak:
    coro = task.get_coro() if hasattr(task, "get_coro") else getattr(task, "_coro", None)
    code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
    frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    qualname = getattr(coro, "__qualname__", None) or (code.co_name if code else repr(coro))
    top = f"{module}.{qualname}" if module else qualname
    name = task.get_name() if hasattr(task, "get_name") else ""
    loop = task.get_loop() if hasattr(task, "get_loop") else None
    closed = loop is not None and loop.is_closed()
    if at_shutdown:
        state = "pending when its event loop was shut down (then cancelled by the runner)"
    elif closed:
        state = "pending on a closed event loop (it will never finish)"
    else:
        state = "pending"
    # get_stack() lists the outermost frame first
    current = [frame for f in reversed(task.get_stack()) for frame in _frames_from(f, 1)]
    may_end = not at_shutdown and loop is not None and loop.is_running() and not closed
    origin = getattr(coro, "cr_origin", None) or ()
    created = [Frame(filename, lineno, function) for filename, lineno, function in origin]
    what = f"task {name!r} running {top}" if name else f"task running {top}"
    # a task found at its loop's shutdown is described, not kept: it is cancelled next
    return Leak("task", what, state, top, created, None, current, may_end,
                obj=None if at_shutdown else task)


def _process_leak(process, state: str) -> Leak:
    target = getattr(process, "_target", None)  # start() deletes it; noted then
    top = probes.process_target(process) or _qualified(target or type(process).run)
    created, span, created_at = _creation(process)
    daemon = "daemon" if process.daemon else "non-daemon"
    what = f"process {process.name!r} (pid {process.pid}, {daemon}) running {top}"
    return Leak("process", what, state + _age(created_at), top, created, span, obj=process)


def _alive_workers(threads, processes) -> int:
    return (sum(1 for thread in threads if thread.is_alive())
            + sum(1 for process in processes if probes.process_state(process) is not None))


def _pool_leak(pool) -> Optional[Leak]:
    threads, processes = probes.pool_workers(pool)
    handlers = [getattr(pool, name, None) for name in probes.POOL_HANDLERS]
    workers = [thread for thread in threads if thread not in handlers]
    alive = _alive_workers(workers, processes)
    running = getattr(pool, "_state", None) == "RUN"
    if not running and not alive:
        return None
    created, span, created_at = _creation(pool)
    kind_name = type(pool).__name__
    if running:
        state = f"never closed or terminated, {alive} worker(s) alive"
    else:
        state = f"closed, never joined: {alive} worker(s) still alive"
    top = _qualified(type(pool))
    return Leak("pool", f"{kind_name} at {hex(id(pool))}", state + _age(created_at), top,
                created, span, may_end=not running, obj=pool)


def _executor_leak(executor) -> Optional[Leak]:
    threads, processes = probes.executor_workers(executor)
    shut_down = probes.executor_is_shut_down(executor)
    if shut_down and not _alive_workers(threads, processes):
        return None
    created, span, created_at = _creation(executor)
    if hasattr(executor, "_processes"):  # its manager thread is not a worker
        alive, unit = _alive_workers([], processes), "worker process(es)"
    else:
        alive, unit = _alive_workers(threads, []), "worker thread(s)"
    if not shut_down:
        state = f"never shut down, {alive} {unit} alive"
    else:
        state = f"shut down without waiting: {alive} {unit} still running"
    return Leak("executor", f"{type(executor).__name__} at {hex(id(executor))}",
                state + _age(created_at), _qualified(type(executor)), created, span,
                may_end=shut_down, obj=executor)


def _popen_leak(popen, state: str) -> Leak:
    args = popen.args
    program = args if isinstance(args, (str, bytes)) else (args[0] if args else "")
    program = program.decode(errors="replace") if isinstance(program, bytes) else str(program)
    created, span, created_at = _creation(popen)
    shown = args if isinstance(args, (str, bytes)) else list(args)
    return Leak("popen", f"Popen (pid {popen.pid}) {shown!r}", state + _age(created_at),
                program, created, span, obj=popen)


_LIBRARY_PARTS = None


def _is_library(filename: str) -> bool:
    """Standard library, pytest/pluggy internals and this package: not the code that
    created a leak."""
    global _LIBRARY_PARTS
    if _LIBRARY_PARTS is None:
        import os
        import sysconfig
        stdlib = os.path.normcase(sysconfig.get_paths()["stdlib"]) + os.sep
        here = os.path.normcase(os.path.dirname(os.path.abspath(__file__))) + os.sep
        _LIBRARY_PARTS = (stdlib, here)
    import os
    normalized = os.path.normcase(filename)
    if normalized.startswith(_LIBRARY_PARTS) and "site-packages" not in normalized:
        return True
    return filename.startswith("<") or any(
        part in normalized for part in (f"{os.sep}_pytest{os.sep}", f"{os.sep}pluggy{os.sep}"))


# --- reporting ------------------------------------------------------------------------

def format_leaks(leaks: List[Leak], static_check: bool = True, header: str = "") -> str:
    from leaklint.runtime.report import render
    return render(leaks, static_check=static_check, header=header)


# --- verify_none ----------------------------------------------------------------------

def _is_coroutine_function(function) -> bool:
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    return code is not None and bool(code.co_flags & 0x80)  # CO_COROUTINE


class verify_none:
    """`with verify_none(**options):` or `@verify_none(**options)`: raise LeakError if the
    block leaves behind anything that was not alive when it started (after letting
    things that are ending end, up to `max_wait` seconds). Nothing is joined or killed:
    it only reports. When the block raises, its exception is left alone (not checked)."""

    def __init__(self, options: Optional[Options] = None, **overrides) -> None:
        self.options = _options(options, overrides)
        self._before: List[Snapshot] = []

    def __enter__(self) -> "verify_none":
        probes.install()
        self._before.append(Snapshot())
        return self

    def __exit__(self, exc_type, exc, tb) -> Literal[False]:
        before = self._before.pop()
        try:
            if exc_type is None:
                leaks = find_with_retry(before, self.options)
                if leaks:
                    raise LeakError(leaks, static_check=self.options.static_check)
        finally:
            probes.uninstall()
        return False

    def __call__(self, function):
        if _is_coroutine_function(function):
            import asyncio

            @functools.wraps(function)
            async def checked_coroutine(*args, **kwargs):
                with self:
                    result = await function(*args, **kwargs)
                    await asyncio.sleep(0)  # let tasks cancelled just now see it
                    return result
            return checked_coroutine

        @functools.wraps(function)
        def checked(*args, **kwargs):
            with self:
                return function(*args, **kwargs)
        return checked
