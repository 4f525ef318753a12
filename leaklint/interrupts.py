"""Stopping when told: Ctrl-C (SIGINT) and SIGTERM, in the main process and its workers.

- The main process turns SIGTERM into `Terminated`, an exception like the
  `KeyboardInterrupt` Python makes of SIGINT, so both unwind the run the same way: the
  workers are killed, nothing is written to the cache, and `leaklint` exits 130 (SIGINT)
  or 143 (SIGTERM), 128 + the signal's number, as a shell reports a process killed by it.
- Workers ignore SIGINT (a Ctrl-C reaches the whole process group, and stopping them is
  the main process's business) and take SIGTERM's default action (they die at once).
- A worker whose main process was killed outright (SIGKILL) exits by itself within
  `ORPHAN_CHECK_SECONDS`.
- Workers are started with both signals blocked and unblock them once set up, so that a
  signal arriving while one is being born neither kills it halfway through its start-up
  with a traceback nor runs the main process's handler in it.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
# How long a stopped pool's thread may take to notice its workers are dead.
MANAGER_JOIN_SECONDS = 1.0
# How often a worker checks that the main process is still there.
ORPHAN_CHECK_SECONDS = 0.5


class Terminated(BaseException):
    """SIGTERM arrived. A BaseException, as KeyboardInterrupt: no `except Exception` on the
    way up may swallow it."""


def _raise_terminated(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def sigterm_raises():
    """While inside, SIGTERM raises `Terminated` in the main thread (usable as a decorator).

    Left alone when SIGTERM is not at its default action (ignored by whoever started us, or
    handled by a program that calls leaklint in-process), or outside the main thread
    (where no handler can be installed)."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def blocked_in_new_processes():
    """Processes started inside are born with SIGINT and SIGTERM blocked (a process
    inherits the signal mask of the thread that forks it); `set_up_worker` unblocks them.
    A signal that arrives meanwhile for this process is handled right after."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def set_up_worker() -> None:
    """In a worker process, first thing: ignore SIGINT, die of SIGTERM, then unblock both
    (a SIGTERM that arrived while blocked kills the worker now; a SIGINT is dropped)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the main process's handler
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def exit_when_orphaned(interval: float = ORPHAN_CHECK_SECONDS) -> None:
    """In a worker: exit once the main process is gone. Killed in a way it cannot act on
    (SIGKILL, the OOM killer), it stops nobody, and a worker left alone would finish its
    files and then wait for more forever (it holds the work pipe's write end itself)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:  # an orphan is adopted by another process
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="leaklint-orphan-watch", daemon=True).start()


def kill_workers(pool) -> None:
    """Stop a `concurrent.futures.ProcessPoolExecutor` now, without waiting for anything:
    the files the workers are on are not worth finishing, and SIGKILL leaves nothing of
    ours half done in them (they only read files and send results back).

    The pool has no public way to do this before Python 3.14 (`kill_workers()`, which
    does the first half): this reads its private `_processes`, `_result_queue` and
    `_executor_manager_thread` (all there from 3.9 to 3.14), each with getattr so that a
    future change costs only the second half."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    result_queue = getattr(pool, "_result_queue", None)
    manager = getattr(pool, "_executor_manager_thread", None)
    for process in processes:
        try:
            process.kill()
        except (OSError, ValueError, AttributeError):  # gone already, or never started
            pass
    pool.shutdown(wait=False, cancel_futures=True)
    # A worker killed halfway through sending a result leaves half a message in the pipe.
    # The pool's thread would wait for the rest forever (and the interpreter waits for that
    # thread when it exits), because this process holds the pipe's write end too: closing
    # it turns the wait into an end-of-file, which the pool takes for a broken pool.
    writer = getattr(result_queue, "_writer", None)
    if writer is not None:
        writer.close()
    # That thread reaps the workers and ends in a moment. Waited for here, briefly, rather
    # than by the interpreter at exit, where a second Ctrl-C would print a traceback.
    if manager is not None:
        manager.join(timeout=MANAGER_JOIN_SECONDS)
