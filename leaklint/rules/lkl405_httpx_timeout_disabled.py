"""LKL405: httpx's 5-second default timeout explicitly disabled."""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from leaklint.index import FileIndex
from leaklint.lifecycle import ResourceKind, track
from leaklint.rules._timeouts import (
    HTTPX_CLIENTS,
    HTTPX_FUNCTIONS,
    HTTPX_METHODS,
    HTTPX_TIMEOUT_CLASSES,
    TEST_CODE_REASON,
    TRUSTED_CONTEXTS_DOC,
    call_label,
    disabled_timeout_object,
    timeout_arg,
    trusted_context,
)
from leaklint.rules.base import Report, Rule
from leaklint.values import value_sources

FIX = "pass a bound, e.g. `timeout=httpx.Timeout(10.0, connect=5.0)`, or leave it out for the 5 s default"
_BOUNDS = ("connect", "read", "write", "pool")
_CLIENT = ResourceKind("httpx client", release_methods=frozenset())


def _state(index: FileIndex, call: cst.Call) -> str:
    state, value = timeout_arg(call, None)
    if state == "given" and disabled_timeout_object(
            index, value, HTTPX_TIMEOUT_CLASSES, _BOUNDS, True) is not None:
        return "none"
    return state


class HttpxTimeoutDisabled(Rule):
    code = "LKL405"
    name = "httpx-timeout-disabled"
    summary = "An httpx call or Client disables the default timeout (timeout=None)."
    applies_to_tests = False
    test_code_reason = TEST_CODE_REASON
    what_it_does = (
        "httpx has a 5-second default timeout, so a call without one is fine. This rule "
        "finds where it is switched off: `timeout=None` (or an `httpx.Timeout(None)` with "
        "no bound) passed to `httpx.get/post/.../request/stream`, to `httpx.Client` / "
        "`AsyncClient`, or to a request method of such a client. A client created with "
        "`timeout=None` is not reported when every request made on it in the file passes "
        "a timeout of its own and the client does not leave the function or class." + TRUSTED_CONTEXTS_DOC)
    why_bad = (
        "With every bound disabled, a server that accepts the connection and never answers "
        "blocks the thread (or the task, with AsyncClient) forever.")
    example = (
        "import httpx\n\n"
        "def fetch(url):\n"
        "    return httpx.get(url, timeout=None).json()\n")
    use_instead = (
        "import httpx\n\n"
        "def fetch(url):\n"
        "    return httpx.get(url, timeout=httpx.Timeout(30.0, connect=5.0)).json()\n")
    invalid = (
        "import httpx\n\ndef f():\n    return httpx.Client(timeout=None)\n",
        "import httpx\n\nasync def f(u):\n    async with httpx.AsyncClient() as c:\n"
        "        return await c.get(u, timeout=None)\n",
        "import httpx\n\ndef f(u):\n    return httpx.post(u, timeout=httpx.Timeout(None))\n",
        "import httpx\n\nNO_LIMIT = httpx.Timeout(None)\n\ndef f(u):\n"
        "    return httpx.stream('GET', u, timeout=NO_LIMIT)\n",
    )
    valid = (
        "import httpx\n\ndef f(u):\n    return httpx.get(u)\n",
        "import httpx\n\ndef f(u):\n    return httpx.get(u, timeout=httpx.Timeout(None, read=30))\n",
        "import httpx\n\ndef f(u):\n    with httpx.Client(timeout=None) as c:\n"
        "        return c.get(u, timeout=10)\n",
        "def f(client, u):\n    return client.get(u, timeout=None)\n",
    )
    trigger_words = ("httpx",)
    trigger_names = ("httpx",)  # every name it knows is in httpx

    def check(self, index: FileIndex) -> Iterator[Report]:
        for report in self._check(index):
            if not (isinstance(report.node, cst.Call) and trusted_context(index, report.node)):
                yield report

    def _check(self, index: FileIndex) -> Iterator[Report]:
        for call in index.calls:
            name = index.call_name(call)
            if name in HTTPX_FUNCTIONS:
                if _state(index, call) == "none":
                    yield self._report(index, call, "")
                continue
            if name in HTTPX_CLIENTS:
                if _state(index, call) == "none" and not self._every_request_overrides(index, call):
                    yield self._report(index, call, " for all its requests")
                continue
            func = call.func
            if not isinstance(func, cst.Attribute) or func.attr.value not in HTTPX_METHODS:
                continue
            sources = value_sources(index, func.value)
            if not sources or any(index.call_name(s) not in HTTPX_CLIENTS for s in sources):
                continue
            if _state(index, call) == "none":
                yield self._report(index, call, "")

    @staticmethod
    def _every_request_overrides(index: FileIndex, call: cst.Call) -> bool:
        lifecycle = track(index, call, _CLIENT)
        if lifecycle.escaped:
            return False
        requests = [c for m, calls in lifecycle.method_calls.items() if m in HTTPX_METHODS
                    for c in calls]
        return bool(requests) and all(_state(index, c) == "given" for c in requests)

    @staticmethod
    def _report(index: FileIndex, call: cst.Call, scope: str) -> Report:
        return Report(call, (
            f"`{call_label(index, call)}` passes `timeout=None`, disabling httpx's 5 s "
            f"default{scope}: it can block forever"), fix=FIX)
