"""pytest plugin: fail tests that leave threads, timers, tasks, processes, pools, executors
or Popen children behind (goleak's VerifyNone / VerifyTestMain for pytest).

Registered through the `pytest11` entry point and inactive until asked for:
`pytest --leaklint` (every test), `leaklint = true` in `[tool.pytest.ini_options]`,
`@pytest.mark.leaklint` on a test, class or module (`pytestmark`), `--leaklint-session`
or `leaklint = "session"` (one check after the whole run). `@pytest.mark.no_leaklint`
exempts a test. Options: `[tool.leaklint.runtime]` in pyproject.toml and the marker's
keywords (see docs/runtime.md). Inactive, it loads nothing heavy (no libcst, asyncio or
multiprocessing: tests/test_runtime.py checks).

A test's check runs after its teardown (its function-scoped fixtures have cleaned up):
a leak is reported as an error at the test's teardown. Objects alive before the test
started, and those created while a wider-scoped (class, module, package, session)
fixture was being set up, are never the test's leaks.
"""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, List, Optional, Tuple

import pytest

if TYPE_CHECKING:  # imported lazily at run time, to keep the plugin cheap when unused
    from leaklint.runtime import Options, Snapshot

MODES = {"": "off", "false": "off", "0": "off", "no": "off", "off": "off",
         "true": "test", "1": "test", "yes": "test", "on": "test", "test": "test",
         "session": "session"}

_STATE = pytest.StashKey()
_LEAKS_TEXT = pytest.StashKey()


class _State:
    """One per pytest session (in-process pytester runs have their own)."""

    def __init__(self, per_test: bool, session: bool, options) -> None:
        self.per_test = per_test
        self.session = session
        self.options = options  # leaklint.runtime.Options, or None while not loaded
        self.installed = False
        self.test_baseline: Optional[Tuple[Snapshot, Options]] = None  # of the test being checked
        self.session_baseline: Optional[Snapshot] = None
        self.session_reports: List[str] = []  # ours and those of xdist workers

    def install(self) -> None:
        if not self.installed:
            from leaklint.runtime import probes
            probes.install()
            self.installed = True


def pytest_addoption(parser) -> None:
    group = parser.getgroup("leaklint", "leaklint runtime leak check")
    group.addoption("--leaklint", action="store_true", default=False,
                    help="fail every test that leaves threads, timers, asyncio tasks, "
                         "processes, pools, executors or Popen children behind")
    group.addoption("--leaklint-session", action="store_true", default=False,
                    help="check once, after the whole run, that nothing was left behind")
    group.addoption("--no-leaklint", action="store_true", default=False,
                    help="turn the leaklint check off, markers and configuration included")
    parser.addini("leaklint", "leaklint runtime check: true (every test), session "
                              "(once after the run) or false (only marked tests)", default="false")


def _mode(config) -> str:
    raw = str(config.getini("leaklint")).strip().lower()
    if raw not in MODES:
        raise pytest.UsageError(f"leaklint = {raw!r}: expected true, false or session")
    return MODES[raw]


def _pyproject_options(config):
    """Options from `[tool.leaklint.runtime]` of the project's pyproject.toml."""
    from leaklint.runtime import Options

    inipath = getattr(config, "inipath", None)
    candidates = [str(inipath)] if inipath and os.path.basename(str(inipath)) == "pyproject.toml" else []
    candidates.append(os.path.join(str(config.rootpath), "pyproject.toml"))
    for path in candidates:
        if os.path.isfile(path):
            if sys.version_info >= (3, 11):
                import tomllib
            else:
                import tomli as tomllib
            try:
                with open(path, "rb") as file:
                    table = tomllib.load(file).get("tool", {}).get("leaklint", {}).get("runtime", {})
                return Options().updated(table, f"{path}: [tool.leaklint.runtime] ")
            except (OSError, ValueError) as error:  # TOMLDecodeError is a ValueError
                raise pytest.UsageError(str(error)) from None
    return Options()


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "leaklint(**options): fail this test if it leaves threads, "
                                       "tasks, processes, executors or Popen children behind")
    config.addinivalue_line("markers", "no_leaklint: do not check this test for leaks")
    if config.getoption("no_leaklint"):
        return
    mode = _mode(config)
    per_test = config.getoption("leaklint") or mode == "test"
    session = config.getoption("leaklint_session") or mode == "session"
    state = _State(per_test, session, None)
    config.stash[_STATE] = state
    if per_test or session:
        state.options = _pyproject_options(config)
        state.install()


def pytest_unconfigure(config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None and state.installed:
        from leaklint.runtime import probes
        probes.uninstall()
        state.installed = False


def _things(leaks) -> str:
    if len(leaks) == 1:
        return "1 thing that was not alive"
    return f"{len(leaks)} things that were not alive"


def _state(config) -> Optional[_State]:
    return config.stash.get(_STATE, None)


def _item_options(item, state: _State):
    """The options for this test, or None when it is not checked."""
    if item.get_closest_marker("no_leaklint") is not None:
        return None
    markers = list(item.iter_markers("leaklint"))
    if not markers and not state.per_test:
        return None
    if state.options is None:
        state.options = _pyproject_options(item.config)
    options = state.options
    for marker in reversed(markers):  # the closest marker is applied last
        if marker.args:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.leaklint takes keywords only "
                                    f"(use @pytest.mark.no_leaklint to exempt a test)")
        try:
            options = options.updated(marker.kwargs, "@pytest.mark.leaklint: ")
        except ValueError as error:
            raise pytest.UsageError(f"{item.nodeid}: {error}") from None
    return options


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_setup(item):
    state = _state(item.config)
    if state is not None:
        options = _item_options(item, state)
        if options is not None:
            from leaklint.runtime import Snapshot
            state.install()
            state.test_baseline = (Snapshot(), options)
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    yield
    state = _state(request.config)
    if state is not None and state.test_baseline is not None and fixturedef.scope != "function":
        # what a class/module/session fixture started belongs to that scope, not the test
        state.test_baseline[0].add_current()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        yield
    finally:
        state = _state(item.config)
        if state is not None and state.test_baseline is not None:
            baseline, options = state.test_baseline
            state.test_baseline = None
            from leaklint.runtime import find_with_retry, format_leaks
            leaks = find_with_retry(baseline, options)
            if leaks:
                header = f"leaklint: {item.nodeid} left behind {_things(leaks)} before it started"
                item.stash[_LEAKS_TEXT] = format_leaks(leaks, options.static_check, header)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when != "teardown":
        return
    text = item.stash.get(_LEAKS_TEXT, None)
    if text is None:
        return
    del item.stash[_LEAKS_TEXT]
    report = outcome.get_result()
    if report.outcome == "failed":  # a teardown error too: show both
        text = f"{report.longreprtext}\n\n{text}"
    report.outcome = "failed"
    report.longrepr = text


def pytest_sessionstart(session) -> None:
    state = _state(session.config)
    if state is not None and state.session:
        from leaklint.runtime import Snapshot
        state.session_baseline = Snapshot()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    state = _state(session.config)
    if state is None or not state.session:
        return
    # pytest-xdist's controller runs no test: its workers check themselves
    controller = session.config.pluginmanager.hasplugin("dsession")
    if state.session_baseline is not None and not controller:
        from leaklint.runtime import find_with_retry, format_leaks
        leaks = find_with_retry(state.session_baseline, state.options)
        if leaks:
            workerinput = getattr(session.config, "workerinput", None)  # set in xdist workers
            whose = f"xdist worker {workerinput['workerid']}" if workerinput else "the test session"
            header = f"leaklint: {whose} left behind {_things(leaks)} when it started"
            text = format_leaks(leaks, state.options.static_check, header)
            workeroutput = getattr(session.config, "workeroutput", None)
            if workeroutput is not None:  # an xdist worker: the controller reports it
                workeroutput["leaklint"] = text
            else:
                state.session_reports.append(text)
    if state.session_reports and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist controller: a worker finished; keep its session-wide leak report."""
    state = _state(node.config)
    text = getattr(node, "workeroutput", {}).get("leaklint")
    if state is not None and text:
        state.session_reports.append(text)


def pytest_terminal_summary(terminalreporter) -> None:
    state = _state(terminalreporter.config)
    if state is not None and state.session_reports:
        terminalreporter.section("leaklint: leaks after the whole run", sep="=", red=True)
        for text in state.session_reports:
            terminalreporter.write_line(text)
