"""LKL406: aiohttp's timeouts disabled (request timeout=None, or a ClientTimeout with no bound)."""
from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from leaklint.index import FileIndex
from leaklint.rules._timeouts import (
    AIOHTTP_METHODS,
    AIOHTTP_REQUEST,
    AIOHTTP_SESSIONS,
    AIOHTTP_TIMEOUT_BOUNDS,
    AIOHTTP_TIMEOUT_CLASSES,
    TEST_CODE_REASON,
    TRUSTED_CONTEXTS_DOC,
    call_label,
    disabled_timeout_object,
    timeout_arg,
    trusted_context,
)
from leaklint.rules.base import Report, Rule
from leaklint.values import value_sources

FIX = "pass `aiohttp.ClientTimeout(total=..., sock_read=...)` with at least one bound"


def _disabled(index: FileIndex, value: Optional[cst.CSTNode]) -> bool:
    return disabled_timeout_object(index, value, AIOHTTP_TIMEOUT_CLASSES,
                                   AIOHTTP_TIMEOUT_BOUNDS, False) is not None


class AiohttpTimeoutDisabled(Rule):
    code = "LKL406"
    name = "aiohttp-timeout-disabled"
    summary = ("An aiohttp request passes timeout=None, or a session/request gets a "
               "ClientTimeout whose bounds are all None.")
    applies_to_tests = False
    test_code_reason = TEST_CODE_REASON
    what_it_does = (
        "aiohttp bounds every request by its default `ClientTimeout(total=300, "
        "sock_connect=30)`, so the default is fine, and so are `ClientSession(timeout=None)` "
        "and `aiohttp.request(..., timeout=None)`: aiohttp 3.x treats None there like the "
        "default. The rule finds where the bounds "
        "are really switched off: a request method of a `ClientSession` (`get`, `post`, "
        "..., `request`) called with `timeout=None`, which aiohttp turns into "
        "`ClientTimeout(total=None)` with no bound at all; and a `ClientTimeout()` whose "
        "`total`, `connect`, `sock_read` and `sock_connect` are all None, passed to a "
        "`ClientSession`, to `aiohttp.request()` or to a request. Sessions of unknown "
        "type (a parameter) are never reported." + TRUSTED_CONTEXTS_DOC)
    why_bad = (
        "With no bound, a server that accepts the connection and never answers suspends the "
        "task forever: it holds its connection and everything it references, and whoever "
        "awaits it waits forever too.")
    example = (
        "import aiohttp\n\n"
        "async def fetch(url):\n"
        "    async with aiohttp.ClientSession() as session:\n"
        "        async with session.get(url, timeout=None) as response:\n"
        "            return await response.text()\n")
    use_instead = (
        "import aiohttp\n\n"
        "async def fetch(url):\n"
        "    async with aiohttp.ClientSession() as session:\n"
        "        async with session.get(url, timeout=aiohttp.ClientTimeout(total=60)) as response:\n"
        "            return await response.text()\n")
    invalid = (
        "import aiohttp\n\nasync def f():\n"
        "    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout())\n",
        "from aiohttp import ClientSession, ClientTimeout\n\nasync def f(u):\n"
        "    async with ClientSession(timeout=ClientTimeout(total=None)) as s:\n"
        "        return await s.get(u)\n",
        "import aiohttp\n\nclass C:\n    def __init__(self):\n"
        "        self.s = aiohttp.ClientSession()\n"
        "    async def f(self, u):\n        return await self.s.post(u, timeout=None)\n",
    )
    valid = (
        "import aiohttp\n\nasync def f():\n    return aiohttp.ClientSession(timeout=None)\n",
        "import aiohttp\n\nasync def f():\n    return aiohttp.ClientSession()\n",
        "import aiohttp\n\nasync def f(u):\n    async with aiohttp.request('GET', u, timeout=None) as r:\n"
        "        return await r.read()\n",
        "import aiohttp\n\nasync def f():\n"
        "    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(sock_read=30))\n",
        "async def f(session, u):\n    return await session.get(u, timeout=None)\n",
    )
    trigger_words = ("ClientSession", "ClientTimeout")
    trigger_names = ("aiohttp",)  # every name it knows is in aiohttp

    def check(self, index: FileIndex) -> Iterator[Report]:
        for report in self._check(index):
            if not (isinstance(report.node, cst.Call) and trusted_context(index, report.node)):
                yield report

    def _check(self, index: FileIndex) -> Iterator[Report]:
        for call in index.calls:
            name = index.call_name(call)
            if name in AIOHTTP_SESSIONS or name in AIOHTTP_REQUEST:
                _, value = timeout_arg(call, None)
                if _disabled(index, value):
                    what = "session" if name in AIOHTTP_SESSIONS else "request"
                    yield Report(call, (
                        f"`{call_label(index, call)}` gives the {what} a `ClientTimeout` with "
                        f"every bound None: a request can hang forever"), fix=FIX)
                continue
            func = call.func
            if not isinstance(func, cst.Attribute) or func.attr.value not in AIOHTTP_METHODS:
                continue
            sources = value_sources(index, func.value)
            if not sources or any(index.call_name(s) not in AIOHTTP_SESSIONS for s in sources):
                continue
            state, value = timeout_arg(call, None)
            if state == "none":
                problem = "passes `timeout=None` (no bound at all)"
            elif _disabled(index, value):
                problem = "passes a `ClientTimeout` with every bound None"
            else:
                continue
            yield Report(call, (
                f"`{call_label(index, call)}` {problem}, overriding the session's: it can "
                f"hang forever"), fix=FIX + ", or leave `timeout` out for the session's")
