"""Stopping when told: real SIGINT and SIGTERM sent to a real `python -m leaklint` run.

Each run gets its own session (so its own process group, whose id is its pid): a Ctrl-C
typed in a terminal reaches the whole group, `kill PID` only the main process, and after
the run no member of the group may be left. Every wait has a timeout.
"""
from __future__ import annotations

import multiprocessing
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from leaklint import interrupts
from leaklint.runner import FileResult, ResultCache

ROOT = Path(__file__).resolve().parent.parent
# A signal must be acted on within this long (the brief: "within a second"; the margin
# is for a loaded machine, where the interpreter's own exit takes a few hundred ms).
STOP_SECONDS = 2.0
JOBS = 2


def leaky_files(folder: Path, count: int = 200) -> Path:
    """Enough work for a run of several seconds with two workers (it is never finished)."""
    body = "import threading\n\n" + "".join(
        f"def f{i}(x):\n    t = threading.Thread(target=print, args=(x,))\n    t.start()\n"
        f"    return [y * 2 for y in range(x) if y % 3]\n\n" for i in range(40))
    folder.mkdir()
    for number in range(count):
        (folder / f"m{number:04d}.py").write_text(body)
    return folder


def descendants(pid: int) -> list:
    """Processes below `pid`, from /proc (workers are children; a forkserver's are deeper)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    # pid (name) state ppid ...: the name may hold spaces, split after it
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def group_members(group: int) -> list:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                if int(fields[2]) == group:
                    members.append(f"{entry} state {fields[0]}")
            except (OSError, ValueError, IndexError):
                pass
    return members


class Run:
    """`python -m leaklint ARGS` in its own process group, watched."""

    def __init__(self, cwd: Path, *args: str, stderr=subprocess.PIPE):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("LEAKLINT_CACHE_DIR", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "leaklint", *args], cwd=cwd, env=env,
            stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        self.group = self.process.pid

    def wait_for_workers(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while len(descendants(self.process.pid)) < count:
            assert self.process.poll() is None, f"ended early: {self.stderr()}"
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        time.sleep(0.5)  # let them get into their files
        assert self.process.poll() is None, "the run was too short to be interrupted"

    def send(self, signum: int, to_group: bool = False) -> None:
        if to_group:  # what a terminal does on Ctrl-C
            os.killpg(self.group, signum)
        else:
            os.kill(self.process.pid, signum)

    def wait(self, timeout: float = 30.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            pytest.fail(f"still running {timeout}s after the signal")

    def stderr(self) -> str:
        return self.process.stderr.read().decode(errors="replace")

    def group_is_gone(self, timeout: float = 2.0) -> bool:
        """No process left in the run's group (the exited main process's killed workers
        may take a moment to be reaped)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                os.killpg(self.group, 0)
            except ProcessLookupError:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def kill_group(self) -> None:
        try:
            os.killpg(self.group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


@pytest.fixture
def run_in(tmp_path):
    runs = []

    def start(*args: str, **options) -> Run:
        runs.append(Run(tmp_path, *args, **options))
        return runs[-1]

    yield start
    for run in runs:  # whatever a failing test left behind
        run.kill_group()
        if run.process.stderr:
            run.process.stderr.close()


@pytest.mark.parametrize("signum, to_group, code, message", [
    (signal.SIGINT, True, 130, "leaklint: interrupted"),  # Ctrl-C in a terminal
    (signal.SIGINT, False, 130, "leaklint: interrupted"),  # kill -INT PID
    (signal.SIGTERM, False, 143, "leaklint: terminated"),  # kill PID, docker stop, systemd
    (signal.SIGTERM, True, 143, "leaklint: terminated"),  # kill -TERM -PGID
], ids=["ctrl-c", "sigint", "sigterm", "sigterm-group"])
def test_a_signal_stops_a_parallel_run_and_its_workers_at_once(tmp_path, run_in, signum, to_group,
                                                               code, message):
    folder = leaky_files(tmp_path / "project")
    run = run_in("--jobs", str(JOBS), "--no-cache", str(folder))
    run.wait_for_workers(JOBS)
    sent = time.monotonic()
    run.send(signum, to_group)
    assert run.wait() == code
    elapsed = time.monotonic() - sent
    assert elapsed < STOP_SECONDS
    assert run.group_is_gone(), f"left behind: {group_members(run.group)}"
    assert run.stderr() == message + "\n"  # no traceback from the workers or at exit


def test_workers_of_a_killed_main_process_exit_by_themselves(tmp_path, run_in):
    folder = leaky_files(tmp_path / "project")
    run = run_in("--jobs", str(JOBS), "--no-cache", str(folder))
    run.wait_for_workers(JOBS)
    run.send(signal.SIGKILL)  # nothing can run in it: the workers are on their own
    assert run.wait() == -signal.SIGKILL
    # They notice within ORPHAN_CHECK_SECONDS, even in the middle of a file.
    assert run.group_is_gone(timeout=interrupts.ORPHAN_CHECK_SECONDS + STOP_SECONDS), \
        f"left behind: {group_members(run.group)}"


def test_a_second_ctrl_c_does_not_hang(tmp_path, run_in):
    folder = leaky_files(tmp_path / "project")
    run = run_in("--jobs", str(JOBS), "--no-cache", str(folder))
    run.wait_for_workers(JOBS)
    sent = time.monotonic()
    run.send(signal.SIGINT, to_group=True)
    time.sleep(0.05)  # an impatient user
    try:
        run.send(signal.SIGINT, to_group=True)
    except ProcessLookupError:
        pass  # already done
    # 130, or killed by the second SIGINT once the interpreter, exiting, has put back
    # the default action (and the workers were gone already).
    assert run.wait() in (130, -signal.SIGINT)
    assert time.monotonic() - sent < STOP_SECONDS
    assert run.group_is_gone(), f"left behind: {group_members(run.group)}"
    assert "Traceback" not in run.stderr()


def test_ctrl_c_stops_a_one_job_run(tmp_path, run_in):
    folder = leaky_files(tmp_path / "project")
    run = run_in("--jobs", "1", "--no-cache", str(folder))
    time.sleep(2.5)  # imports, configuration, the first files
    assert run.process.poll() is None, "the run was too short to be interrupted"
    sent = time.monotonic()
    run.send(signal.SIGINT, to_group=True)
    assert run.wait() == 130
    assert time.monotonic() - sent < STOP_SECONDS
    assert run.stderr() == "leaklint: interrupted\n"


def test_a_terminated_run_writes_no_cache(tmp_path, run_in):
    folder = leaky_files(tmp_path / "project")
    cache = tmp_path / "cache"
    run = run_in("--jobs", str(JOBS), "--cache-dir", str(cache), str(folder))
    run.wait_for_workers(JOBS)
    run.send(signal.SIGTERM)
    assert run.wait() == 143
    # Nothing at all: not a partial cache, and no temporary file of one.
    assert not cache.exists()


@pytest.mark.slow  # 5 s: the line appears after progress.DELAY seconds
def test_on_a_terminal_the_progress_line_is_erased_before_interrupted(tmp_path, run_in):
    folder = leaky_files(tmp_path / "project")
    terminal, their_end = pty.openpty()
    run = run_in("--jobs", str(JOBS), "--no-cache", str(folder), stderr=their_end)
    os.close(their_end)
    shown = b""
    deadline = time.monotonic() + 60
    while b"linting" not in shown:  # after progress.DELAY seconds
        assert time.monotonic() < deadline and run.process.poll() is None, shown
        if select.select([terminal], [], [], 0.5)[0]:
            shown += os.read(terminal, 4096)
    run.send(signal.SIGINT, to_group=True)
    assert run.wait() == 130
    while select.select([terminal], [], [], 0.5)[0]:
        try:
            shown += os.read(terminal, 4096)
        except OSError:  # EIO: the other end is closed
            break
    os.close(terminal)
    text = shown.decode().replace("\r\n", "\n")  # the terminal's own line ending
    drawn = re.findall(r"\rlinting (\d+)/200 files", text)
    assert drawn and all(0 <= int(done) < 200 for done in drawn)
    assert re.fullmatch(r"(\rlinting \d+/200 files *)+\r +\rleaklint: interrupted\n", text), text


# -- the pieces, in-process ----------------------------------------------------------------
def test_a_signal_while_the_cache_is_written_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    cache = ResultCache(str(tmp_path / "cache"), "key")
    cache.store(FileResult(str(source), [], digest="1" * 32, stat=None))
    cache.save()
    before = Path(cache.file).read_bytes()

    def terminated(*args):  # SIGTERM between writing the new file and putting it in place
        raise interrupts.Terminated()

    cache.store(FileResult(str(source), [], digest="2" * 32, stat=None))
    monkeypatch.setattr(os, "replace", terminated)
    with pytest.raises(interrupts.Terminated):
        cache.save()
    assert Path(cache.file).read_bytes() == before
    assert [p.name for p in Path(cache.file).parent.iterdir()] == [Path(cache.file).name]  # no .tmp


def test_sigterm_raises_terminated_inside_and_is_put_back_after():
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with pytest.raises(interrupts.Terminated):
        with interrupts.sigterm_raises():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # interrupted by the handler well before
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_sigterm_is_left_alone_when_someone_else_handles_it(monkeypatch):
    def theirs(signum, frame):
        pass

    previous = signal.signal(signal.SIGTERM, theirs)
    try:
        with interrupts.sigterm_raises():
            assert signal.getsignal(signal.SIGTERM) is theirs
        assert signal.getsignal(signal.SIGTERM) is theirs
    finally:
        signal.signal(signal.SIGTERM, previous)


def _report_signals(connection) -> None:
    """In a new process: its blocked signals, then again after `set_up_worker`."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    interrupts.set_up_worker()
    connection.send((sorted(blocked), sorted(signal.pthread_sigmask(signal.SIG_BLOCK, [])),
                     signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
                     signal.getsignal(signal.SIGTERM) is signal.SIG_DFL))


def test_workers_are_born_with_the_stop_signals_blocked_until_set_up():
    receiver, sender = multiprocessing.Pipe(duplex=False)
    with interrupts.blocked_in_new_processes():
        process = multiprocessing.Process(target=_report_signals, args=(sender,))
        process.start()
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == set()  # the parent's mask is back
    assert receiver.poll(30)
    born_blocked, blocked_after, ignores_sigint, dies_of_sigterm = receiver.recv()
    process.join(10)
    assert set(born_blocked) >= {signal.SIGINT, signal.SIGTERM}
    assert not set(blocked_after) & {signal.SIGINT, signal.SIGTERM}
    assert ignores_sigint and dies_of_sigterm


def _send_half_a_result_and_die() -> None:
    """What a worker killed in the middle of sending its result leaves in the pipe."""
    result_queue = multiprocessing.current_process()._args[1]  # see ProcessPoolExecutor
    os.write(result_queue._writer.fileno(), struct.pack("!i", 1_000_000) + b"x" * 100)
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork",
                    reason="reaches into the pool's internals as they are with fork")
def test_killing_workers_frees_a_pool_stuck_on_half_a_result():
    pool = ProcessPoolExecutor(max_workers=2)
    manager_writer = pool._result_queue._writer
    try:
        pool.submit(_send_half_a_result_and_die)
        manager = pool._executor_manager_thread
        deadline = time.monotonic() + 30
        while all(p.is_alive() for p in list(pool._processes.values())):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.2)  # the pool's thread is now reading the rest, forever
        started = time.monotonic()
        interrupts.kill_workers(pool)
        manager.join(5)
        assert not manager.is_alive()
        assert time.monotonic() - started < STOP_SECONDS
    finally:
        manager_writer.close()  # so that a failure does not hang pytest's exit
