"""The runtime leak check (leaklint.runtime and its pytest plugin): real threads, timers,
tasks, processes, pools, executors and Popen children, leaked and not, under pytest.

Generated tests run in this process (`runpytest_inprocess`), so what they leak on
purpose is alive here afterwards: the `leftovers` fixture finds it (with `find`) and
releases it (stops, joins, kills, waits for) once the run is over. Leaked threads wait on
`leaklint_test_leftovers.stop`, an Event the fixture sets.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import types

import pytest

# Imported here once: pytester's in-process runs drop the modules a run imported, and
# a second copy of these would not pickle work for the first one's executor.
import asyncio.runners  # noqa: F401,E402
import concurrent.futures.process  # noqa: F401,E402
import multiprocessing.pool  # noqa: F401,E402

from leaklint.runtime import LeakError, Options, find, probes, snapshot, verify_none

LEFTOVERS = "leaklint_test_leftovers"
# plugins the generated tests do not need cost seconds per run on a busy machine
FAST = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:xdist",
        "-p", "no:xdist.looponfail", "-o", "asyncio_default_fixture_loop_scope=function")
# unless a test says otherwise, leaks are given 0.1 s to end rather than 0.5
SHORT_WAIT = "[tool.leaklint.runtime]\nmax-wait = 0.1\n"


def _release(obj) -> None:
    if isinstance(obj, threading.Timer):
        obj.cancel()
        obj.join(5)
    elif isinstance(obj, threading.Thread):
        obj.join(5)
    elif isinstance(obj, subprocess.Popen):
        obj.kill()
        obj.wait(5)
    elif isinstance(obj, multiprocessing.process.BaseProcess):
        obj.kill()
        obj.join(5)
    elif hasattr(obj, "terminate") and hasattr(obj, "_pool"):  # a Pool
        obj.terminate()
        obj.join()
    elif hasattr(obj, "shutdown"):  # an executor
        obj.shutdown(wait=True)


@pytest.fixture
def leftovers(monkeypatch):
    """`import leaklint_test_leftovers as L` in a generated test: `L.stop`, an Event the
    leaked workers wait on. Whatever was leaked is released afterwards."""
    module = types.ModuleType(LEFTOVERS)
    module.stop = threading.Event()
    monkeypatch.setitem(sys.modules, LEFTOVERS, module)
    before = snapshot()
    shutdown_tasks = len(probes.pending_at_shutdown)
    yield module
    module.stop.set()
    for leak in find(before):  # leaked daemon threads end with `stop` too
        if leak.obj is not None:
            _release(leak.obj)
    # tasks the generated tests left on their loops were recorded; they are gone now
    del probes.pending_at_shutdown[shutdown_tasks:]


@pytest.fixture
def run(pytester, leftovers):
    """run(test_source, *args): pytest on one generated test file, in this process."""
    def run_tests(source: str, *args: str, ini: str = SHORT_WAIT):
        pytester.makepyfile(test_generated=source)
        pytester.makefile(".toml", pyproject=ini)
        return pytester.runpytest_inprocess(*FAST, *args)
    return run_tests


THREAD_LEAK = """
import threading
import leaklint_test_leftovers as L

def worker():
    L.stop.wait()

def test_thread():
    thread = threading.Thread(target=worker, name="the-worker")
    thread.start()
"""


def test_a_leaked_thread_fails_its_test_with_the_report(run):
    result = run(THREAD_LEAK, "--leaklint")
    result.assert_outcomes(passed=1, errors=1)
    out = result.stdout.str()
    assert "ERROR at teardown of test_thread" in out
    assert "left behind 1 thing that was not alive before it started" in out
    assert "thread 'the-worker' (non-daemon) running test_generated.worker: alive" in out
    # LKL101 flags the Thread(...) call, the line before the start() that created it
    assert ("rule: LKL101 thread-not-joined; leaklint reports it statically in the creating "
            "function: test_generated.py:8:14 LKL101") in out
    created = out.index("created at (most recent call last):")
    assert 'test_generated.py", line 9, in test_thread' in out[created:]
    assert "thread.start()" in out[created:]
    now = out.index("now at (most recent call last):")
    assert 'test_generated.py", line 5, in worker' in out[now:]
    assert "L.stop.wait()" in out[now:]
    assert result.ret == 1


def test_a_joined_thread_passes(run):
    result = run(THREAD_LEAK.replace("thread.start()", "thread.start(); L.stop.set(); thread.join()"),
                 "--leaklint")
    result.assert_outcomes(passed=1)


def test_a_thread_that_ends_within_the_retry_bound_passes_and_not_without_it(run):
    source = """
import threading
import leaklint_test_leftovers as L
def test_short_thread():
    threading.Thread(target=L.stop.wait, args=(SECONDS,)).start()
"""
    ends_soon = source.replace("SECONDS", "0.2")
    run(ends_soon, "--leaklint", ini="[tool.leaklint.runtime]\nmax-wait = 10\n").assert_outcomes(passed=1)
    ends_later = source.replace("SECONDS", "30")  # or when `leftovers` sets L.stop
    result = run(ends_later, "--leaklint", ini="[tool.leaklint.runtime]\nmax-wait = 0.2\n")
    result.assert_outcomes(passed=1, errors=1)


def test_without_the_option_nothing_is_checked(run):
    run(THREAD_LEAK).assert_outcomes(passed=1)


def test_a_pending_timer_fails_and_a_cancelled_one_passes(run):
    source = """
import threading
import leaklint_test_leftovers as L
def test_timer():
    timer = threading.Timer(60, print)
    timer.start()
"""
    result = run(source, "--leaklint")
    result.assert_outcomes(passed=1, errors=1)
    assert "timer 'Thread-" in result.stdout.str()
    assert "interval 60 s) calling builtins.print: pending: neither fired nor cancelled" in result.stdout.str()
    assert ("LKL101 thread-not-joined; leaklint reports it statically in the creating function: "
            "test_generated.py:4:13") in result.stdout.str()
    fixed = source.replace("timer.start()", "timer.start(); timer.cancel()")
    run(fixed, "--leaklint").assert_outcomes(passed=1)


def test_daemon_threads_are_reported_only_when_asked(run):
    source = THREAD_LEAK.replace('name="the-worker"', 'name="the-worker", daemon=True')
    run(source, "--leaklint").assert_outcomes(passed=1)
    result = run(source, "--leaklint", ini="[tool.leaklint.runtime]\ndaemon-threads = true\n")
    result.assert_outcomes(passed=1, errors=1)
    assert "thread 'the-worker' (daemon)" in result.stdout.str()


# --- ignores --------------------------------------------------------------------------

@pytest.mark.parametrize("ini", [
    '[tool.leaklint.runtime]\nignore-top-functions = ["test_generated.worker"]\n',
    '[tool.leaklint.runtime]\nignore-top-functions = ["*.worker"]\n',
    '[tool.leaklint.runtime]\nignore-thread-names = ["the-*"]\n',
    # a function on the thread's current stack (threading.Event.wait is under worker)
    '[tool.leaklint.runtime]\nignore-any-functions = ["threading.Event.wait"]\n',
])
def test_ignores_in_pyproject(run, ini):
    run(THREAD_LEAK, "--leaklint", ini=ini).assert_outcomes(passed=1)


def test_ignores_on_the_marker(run):
    marker = '@pytest.mark.leaklint(ignore_top_functions=["test_generated.worker"])\n'
    source = THREAD_LEAK.replace("def test_thread", marker + "def test_thread")
    run("import pytest\n" + source, "--leaklint").assert_outcomes(passed=1)


def test_an_unknown_option_is_a_usage_error(run):
    result = run(THREAD_LEAK, "--leaklint", ini="[tool.leaklint.runtime]\nmax-wiat = 1\n")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "max-wiat: unknown option" in result.stderr.str()


# --- turning it on and off ------------------------------------------------------------

def test_the_marker_checks_one_test_and_no_leaklint_exempts_one(run):
    source = """
import threading, pytest
import leaklint_test_leftovers as L

def leak():
    threading.Thread(target=L.stop.wait).start()

@pytest.mark.leaklint
def test_marked():
    leak()

def test_unmarked():
    leak()
"""
    result = run(source)
    result.assert_outcomes(passed=2, errors=1)
    assert "ERROR at teardown of test_marked" in result.stdout.str()
    exempt = source.replace("@pytest.mark.leaklint\n", "@pytest.mark.no_leaklint\n")
    result = run(exempt, "--leaklint")
    result.assert_outcomes(passed=2, errors=1)
    assert "ERROR at teardown of test_unmarked" in result.stdout.str()


def test_a_module_marker_and_the_ini_setting(run):
    module_marked = "import pytest\npytestmark = pytest.mark.leaklint\n" + THREAD_LEAK
    run(module_marked).assert_outcomes(passed=1, errors=1)
    result = run(THREAD_LEAK, ini="[tool.pytest.ini_options]\nleaklint = true\n")
    result.assert_outcomes(passed=1, errors=1)
    result = run(THREAD_LEAK, "--no-leaklint", ini="[tool.pytest.ini_options]\nleaklint = true\n")
    result.assert_outcomes(passed=1)


def test_the_plugin_restores_what_it_wrapped(run):
    original = threading.Thread.start
    run(THREAD_LEAK, "--leaklint")
    assert threading.Thread.start is original


# --- fixtures ---------------------------------------------------------------------------

def test_wider_scoped_fixtures_are_not_the_tests_leak_function_fixtures_clean_up(run):
    source = """
import threading, pytest
import leaklint_test_leftovers as L

@pytest.fixture(scope="session")
def service():
    thread = threading.Thread(target=L.stop.wait, name="session-service")
    thread.start()
    return thread

@pytest.fixture(scope="module")
def helper():
    thread = threading.Thread(target=L.stop.wait, name="module-helper")
    thread.start()
    return thread

@pytest.fixture
def per_test():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    yield thread
    stop.set()
    thread.join()

def test_first(service, helper, per_test):
    pass

def test_second(service, helper, per_test):
    pass
"""
    run(source, "--leaklint").assert_outcomes(passed=2)


def test_session_mode_checks_once_after_the_run(run):
    source = THREAD_LEAK + "\ndef test_other():\n    pass\n"
    result = run(source, "--leaklint-session")
    result.assert_outcomes(passed=2)
    assert result.ret == 1
    out = result.stdout.str()
    assert "leaklint: leaks after the whole run" in out
    assert "the test session left behind 1 thing that was not alive when it started" in out
    assert "thread 'the-worker'" in out
    fixed = THREAD_LEAK.replace("thread.start()", "thread.start(); L.stop.set(); thread.join()")
    result = run(fixed, ini='[tool.pytest.ini_options]\nleaklint = "session"\n')
    assert result.ret == 0


# --- asyncio ----------------------------------------------------------------------------

TASK_LEAK = """
import asyncio, pytest

async def forever():
    await asyncio.sleep(3600)

@pytest.mark.asyncio
async def test_task():
    task = asyncio.create_task(forever())
    await asyncio.sleep(0)
"""


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_a_pending_task_under_pytest_asyncio(run, mode):
    result = run(TASK_LEAK, "--leaklint", "-o", f"asyncio_mode={mode}")
    result.assert_outcomes(passed=1, errors=1)
    out = result.stdout.str()
    assert "task 'Task-" in out and "running test_generated.forever" in out
    assert "LKL202 task-never-awaited; leaklint reports it statically: test_generated.py:8:12 LKL202" in out
    assert 'test_generated.py", line 8, in test_task' in out  # where the coroutine was made
    assert 'test_generated.py", line 4, in forever' in out  # where it waits
    fixed = TASK_LEAK.replace("await asyncio.sleep(0)",
                              "task.cancel()\n    with pytest.raises(asyncio.CancelledError):\n        await task")
    run(fixed, "--leaklint", "-o", f"asyncio_mode={mode}").assert_outcomes(passed=1)


def test_a_pending_task_in_asyncio_run(run):
    source = """
import asyncio

async def forever():
    await asyncio.sleep(3600)

async def main():
    asyncio.ensure_future(forever())
    await asyncio.sleep(0)

def test_run():
    asyncio.run(main())
"""
    result = run(source, "--leaklint")
    result.assert_outcomes(passed=1, errors=1)
    assert "pending when its event loop was shut down" in result.stdout.str()
    fixed = source.replace("    asyncio.ensure_future(forever())\n    await asyncio.sleep(0)",
                           "    await asyncio.wait_for(forever(), 0.01) if False else None")
    run(fixed, "--leaklint").assert_outcomes(passed=1)


def test_a_pending_task_under_anyio(run):
    source = """
import asyncio, pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"

async def forever():
    await asyncio.sleep(3600)

@pytest.mark.anyio
async def test_anyio():
    asyncio.get_running_loop().create_task(forever())
    await asyncio.sleep(0)
"""
    result = run(source, "--leaklint", "-p", "no:asyncio")
    result.assert_outcomes(passed=1, errors=1)
    assert "running test_generated.forever" in result.stdout.str()
    fixed = source.replace("asyncio.get_running_loop().create_task(forever())", "pass")
    run(fixed, "--leaklint", "-p", "no:asyncio").assert_outcomes(passed=1)


# --- processes, pools, executors, Popen ---------------------------------------------------

PROCESS_LEAK = """
import multiprocessing, time
import leaklint_test_leftovers as L

def test_process():
    process = multiprocessing.get_context("fork").Process(target=time.sleep, args=(60,))
    process.start()
"""


def test_a_running_process_fails_and_a_joined_one_passes(run):
    result = run(PROCESS_LEAK, "--leaklint")
    result.assert_outcomes(passed=1, errors=1)
    out = result.stdout.str()
    assert "non-daemon) running time.sleep: running" in out
    assert ("LKL501 process-not-joined; leaklint reports it statically in the creating function: "
            "test_generated.py:5:15") in out
    fixed = PROCESS_LEAK.replace("args=(60,)", "args=(0,)").replace(
        "process.start()", "process.start(); process.join()")
    run(fixed, "--leaklint").assert_outcomes(passed=1)


def test_an_exited_process_never_joined_is_reported_as_unreaped(run):
    # waits for the child to exit without reaping it
    source = PROCESS_LEAK.replace("args=(60,)", "args=(0,)").replace(
        "process.start()",
        "process.start(); from multiprocessing.connection import wait; wait([process.sentinel], 30)")
    result = run(source, "--leaklint")
    result.assert_outcomes(passed=1, errors=1)
    assert "exited, never joined" in result.stdout.str()


# A pool or an executor nothing refers to any more is shut down when it is collected, so
# the generated tests keep theirs in a global.
def test_an_open_pool_fails_and_a_pool_in_with_passes(run):
    source = """
import multiprocessing

pool = None

def test_pool():
    global pool
    pool = multiprocessing.get_context("fork").Pool(1)
    assert pool.apply(abs, (-1,)) == 1
"""
    result = run(source, "--leaklint")
    result.assert_outcomes(passed=1, errors=1)
    out = result.stdout.str()
    assert "Pool at 0x" in out and "never closed or terminated, 1 worker(s) alive" in out
    assert "LKL503 pool-not-closed; leaklint reports it statically: test_generated.py:7:12" in out
    assert "process '" not in out  # its worker is the pool's, not reported on its own
    fixed = source.replace("== 1\n", "== 1\n    pool.close()\n    pool.join()\n")
    run(fixed, "--leaklint").assert_outcomes(passed=1)


@pytest.mark.parametrize("executor", ["ThreadPoolExecutor(1)",
                                      "ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('fork'))"])
def test_an_executor_never_shut_down_fails_and_one_in_with_passes(run, executor):
    source = f"""
import multiprocessing
from concurrent.futures import ThreadPoolExecutor, ProcessPoolExecutor

executor = None

def test_executor():
    global executor
    executor = {executor}
    assert executor.submit(abs, -1).result() == 1
"""
    result = run(source, "--leaklint")
    result.assert_outcomes(passed=1, errors=1)
    out = result.stdout.str()
    name = executor.split("(")[0]
    assert f"{name} at 0x" in out and "never shut down" in out
    assert "LKL502 executor-not-shut-down; leaklint reports it statically: test_generated.py:8:16" in out
    assert "thread '" not in out and "process '" not in out  # its workers are the executor's
    fixed = source.replace("== 1\n", "== 1\n    executor.shutdown()\n")
    run(fixed, "--leaklint").assert_outcomes(passed=1)


WAIT_WITHOUT_REAPING = "    import os; os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)\n"


@pytest.mark.skipif(not hasattr(os, "waitid"), reason="the state of a child is read with waitid")
def test_a_popen_never_waited_for_fails_and_a_waited_one_passes(run):
    # dropped, a running Popen is kept by the subprocess module, an exited one is reaped
    source = """
import subprocess, sys

def test_popen():
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
"""
    result = run(source, "--leaklint")
    result.assert_outcomes(passed=1, errors=1)
    out = result.stdout.str()
    assert "Popen (pid " in out and ": running" in out
    assert "LKL504 popen-not-waited" in out
    exited = source.replace("time.sleep(60)", "pass").replace(
        "def test_popen():\n    subprocess.Popen(",
        "process = None\n\ndef test_popen():\n    global process\n    process = subprocess.Popen(",
    ) + WAIT_WITHOUT_REAPING
    result = run(exited, "--leaklint")
    assert "exited, never waited for (a zombie until reaped)" in result.stdout.str()
    fixed = exited.replace(WAIT_WITHOUT_REAPING, "    process.wait()\n")
    run(fixed, "--leaklint").assert_outcomes(passed=1)


def test_what_leaklint_does_not_see_statically_is_said(run):
    source = """
import threading
import leaklint_test_leftovers as L

workers = []

def test_kept_in_a_global():
    thread = threading.Thread(target=L.stop.wait)
    workers.append(thread)
    thread.start()
"""
    result = run(source, "--leaklint")
    assert "leaklint does not report it statically (no LKL101 in test_kept_in_a_global, lines 6-9 of" \
        in result.stdout.str()


# --- pytest-xdist -------------------------------------------------------------------------

@pytest.mark.slow
def test_under_xdist_each_worker_checks_its_tests(pytester):
    pytester.makepyfile(test_generated="""
import threading, time

def test_leak():
    threading.Thread(target=time.sleep, args=(3,)).start()

def test_clean():
    pass
""")
    pytester.makefile(".toml", pyproject=SHORT_WAIT)
    args = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-n", "2")
    result = pytester.runpytest_subprocess(*args, "--leaklint")
    result.assert_outcomes(passed=2, errors=1)
    assert "ERROR at teardown of test_leak" in result.stdout.str() or "test_leak" in result.stdout.str()
    assert "running time.sleep" in result.stdout.str()
    result = pytester.runpytest_subprocess(*args, "--leaklint-session")
    assert result.ret == 1
    assert "xdist worker gw" in result.stdout.str()


# --- verify_none / find outside pytest ---------------------------------------------------

def test_verify_none_as_a_context_manager():
    stop = threading.Event()
    try:
        with pytest.raises(LeakError) as raised:
            with verify_none(max_wait=0.05):
                threading.Thread(target=stop.wait, name="cm-leak").start()
        assert [leak.kind for leak in raised.value.leaks] == ["thread"]
        assert "thread 'cm-leak'" in str(raised.value)
    finally:
        stop.set()
    with verify_none():
        thread = threading.Thread(target=time.sleep, args=(0,))
        thread.start()
        thread.join()


@pytest.mark.no_leaklint  # leaky() leaks a task on purpose (`pytest --leaklint` would see it)
def test_verify_none_as_a_decorator_of_an_async_function():
    @verify_none(max_wait=0)
    async def leaky():
        asyncio.get_running_loop().create_task(asyncio.sleep(3600))

    @verify_none(max_wait=0)
    async def clean():
        task = asyncio.get_running_loop().create_task(asyncio.sleep(3600))
        task.cancel()

    with pytest.raises(LeakError) as raised:
        asyncio.run(leaky())
    assert [leak.kind for leak in raised.value.leaks] == ["task"]
    asyncio.run(clean())


def test_find_and_snapshot():
    stop = threading.Event()
    before = snapshot()
    thread = threading.Thread(target=stop.wait, name="found")
    thread.start()
    try:
        assert [leak.what for leak in find(before)] == ["thread 'found' (non-daemon) running threading.Event.wait"]
        assert "found" in " ".join(leak.what for leak in find())
        assert find(snapshot()) == []
        assert find(before, Options(kinds=("popen",))) == []
    finally:
        stop.set()
        thread.join()


def test_options_are_checked():
    with pytest.raises(ValueError, match="max_wait: expected a number"):
        Options().updated({"max_wait": "soon"})
    with pytest.raises(ValueError, match="unknown kind"):
        Options().updated({"kinds": ["goroutine"]})
    assert Options().updated({"ignore-thread-names": "a"}).updated(
        {"ignore_thread_names": ["b"]}).ignore_thread_names == ("a", "b")


def test_the_plugin_module_imports_nothing_heavy():
    code = ("import sys, leaklint.runtime.pytest_plugin; "
            "print(sorted(m for m in ('libcst', 'asyncio', 'leaklint.engine', 'multiprocessing', "
            "'concurrent.futures') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_pytest_is_no_runtime_dependency():
    from pathlib import Path
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
    assert not [dep for dep in project["dependencies"] if dep.lower().startswith("pytest")]
    assert project["entry-points"]["pytest11"] == {"leaklint": "leaklint.runtime.pytest_plugin"}


def test_the_linter_leaves_the_runtime_table_to_the_plugin(tmp_path):
    from leaklint.config import ConfigError, load_config

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.leaklint]\nselect = ["LKL1"]\n[tool.leaklint.runtime]\nmax-wait = 2\n')
    assert load_config(str(pyproject)).select == ["LKL1"]
    pyproject.write_text('[tool.leaklint]\nruntime = 2\n')
    with pytest.raises(ConfigError, match="runtime: expected a table"):
        load_config(str(pyproject))


def test_docs_describe_every_option_and_their_example_is_valid():
    import re
    from dataclasses import fields
    from pathlib import Path

    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    text = (Path(__file__).parent.parent / "docs" / "runtime.md").read_text()
    for option in fields(Options):
        assert f"| `{option.name.replace('_', '-')}` |" in text, option.name
    example = re.search(r"```toml\n(\[tool\.leaklint\.runtime\].*?)```", text, re.S).group(1)
    table = tomllib.loads(example)["tool"]["leaklint"]["runtime"]
    assert Options().updated(table).ignore_thread_names == ("sentry-*",)
