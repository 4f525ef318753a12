"""LKL402: `urllib.request.urlopen` or `OpenerDirector.open` with no timeout."""
from __future__ import annotations

from typing import Iterator, List

import libcst as cst

from leaklint.index import FileIndex
from leaklint.rules._timeouts import (
    TEST_CODE_REASON,
    TRUSTED_CONTEXTS_DOC,
    URLLIB_FUNCTIONS,
    URLLIB_OPENER_METHODS,
    URLLIB_OPENERS,
    call_label,
    local_url,
    method_calls_on,
    positional,
    sets_default_socket_timeout,
    timeout_arg,
    trusted_context,
)
from leaklint.rules.base import Report, Rule, last_names
from leaklint.values import sequence_items, value_sources

FIX = "pass `timeout=` (the third positional argument), e.g. `urlopen(url, timeout=30)`"


class UrllibNoTimeout(Rule):
    code = "LKL402"
    name = "urllib-no-timeout"
    summary = "urllib.request.urlopen() or an opener's open() has no timeout, or timeout=None."
    applies_to_tests = False
    test_code_reason = TEST_CODE_REASON
    what_it_does = (
        "Finds calls of `urllib.request.urlopen(url, data=None, timeout=...)` and of "
        "`open(fullurl, data=None, timeout=...)` on an opener made by "
        "`urllib.request.build_opener()` or `OpenerDirector()` that pass no timeout, "
        "neither as the keyword nor as the third positional argument, or pass None. "
        "`**kwargs` and `*args` are trusted (they may carry one), except that "
        "a dict whose every key is visible in the function (a literal, `dict(...)`, `d[\"k\"] = ...`, `d.update(...)` of known keys) and none is `timeout` carries none; `build_opener(*handlers)` "
        "is read handler by handler when every item of `handlers` is visible. A file that calls "
        "`socket.setdefaulttimeout()` with a value is not reported: that default is what "
        "urllib falls back to." + TRUSTED_CONTEXTS_DOC)
    why_bad = (
        "Without a timeout urllib uses the global socket default, which is no timeout "
        "unless something calls `socket.setdefaulttimeout()`: a server that accepts the "
        "connection and never answers blocks the calling thread forever.")
    example = (
        "import urllib.request\n\n"
        "def fetch(url):\n"
        "    return urllib.request.urlopen(url).read()\n")
    use_instead = (
        "import urllib.request\n\n"
        "def fetch(url):\n"
        "    with urllib.request.urlopen(url, timeout=30) as response:\n"
        "        return response.read()\n")
    invalid = (
        "from urllib.request import urlopen\n\ndef f(u):\n    return urlopen(u, None)\n",
        "import urllib.request\n\ndef f(u):\n    return urllib.request.urlopen(u, timeout=None)\n",
        "import urllib.request\n\ndef f(u):\n    opener = urllib.request.build_opener()\n"
        "    return opener.open(u)\n",
        "import urllib.request as ur\n\ndef f(u):\n    return ur.build_opener().open(u, None)\n",
    )
    valid = (
        "from urllib.request import urlopen\n\ndef f(u):\n    return urlopen(u, None, 10)\n",
        "from urllib.request import urlopen\n\ndef f(u, **kw):\n    return urlopen(u, **kw)\n",
        "import socket, urllib.request\n\nsocket.setdefaulttimeout(30)\n\n"
        "def f(u):\n    return urllib.request.urlopen(u)\n",
        "def f(opener, u):\n    return opener.open(u)\n",
        "def urlopen(u):\n    pass\n\nurlopen('x')\n",
    )
    trigger_words = ("urlopen", "build_opener", "OpenerDirector")
    trigger_names = last_names(URLLIB_FUNCTIONS, URLLIB_OPENERS)

    def check(self, index: FileIndex) -> Iterator[Report]:
        for call in index.calls:
            func = call.func
            name = index.call_name(call, among=URLLIB_FUNCTIONS)
            entry = URLLIB_FUNCTIONS.get(name) if name else None
            opener = False
            if entry is None:
                if not isinstance(func, cst.Attribute):
                    continue
                entry = URLLIB_OPENER_METHODS.get(func.attr.value)
                if entry is None:
                    continue
                if not _plain_opener(index, func.value):
                    continue
                opener = True
            state, _ = timeout_arg(call, entry.position, index=index)
            if state == "given" or sets_default_socket_timeout(index):
                continue
            url, _ = positional(call, 0)
            if url is not None and local_url(index, url.value):
                continue  # file: / data: URLs never touch the network
            receiver = func.value if opener and isinstance(func, cst.Attribute) else None
            if trusted_context(index, call, name, receiver):
                continue
            if not opener and _installs_custom_opener(index):
                continue
            problem = "passes `timeout=None`" if state == "none" else "has no timeout"
            yield Report(call, (
                f"`{call_label(index, call)}` {problem}: the socket default is none, so it can "
                f"block this thread forever"), fix=FIX)


def _known_handlers(index: FileIndex, args) -> bool:
    """Every handler is a stock urllib one (`urllib.request.ProxyHandler(...)`): a handler
    of our own or of unknown origin may be a mock, or set a timeout in http_open()."""
    handlers: List[cst.CSTNode] = []
    for arg in args:
        if arg.keyword is not None or arg.star == "**":
            return False
        if arg.star:  # `build_opener(*handlers)`: each handler, when all are visible
            items = sequence_items(index, arg.value)
            if items is None:
                return False
            handlers.extend(items)
        else:
            handlers.append(arg.value)
    for handler in handlers:
        sources = value_sources(index, handler)
        if not sources:
            return False
        for source in sources:
            name = index.call_name(source) or ""
            if not name.startswith(("urllib.request.", "urllib2.")):
                return False
    return True


def _plain_opener(index: FileIndex, receiver) -> bool:
    """An opener from build_opener()/OpenerDirector() with stock handlers only."""
    sources = value_sources(index, receiver)
    if not sources:
        return False
    for source in sources:
        name = index.call_name(source, among=URLLIB_OPENERS)
        if name not in URLLIB_OPENERS:
            return False
        if not _known_handlers(index, source.args):
            return False
    if isinstance(receiver, cst.Call):
        return not any((index.call_name(s) or "").endswith("OpenerDirector") for s in sources)
    added = method_calls_on(index, receiver, "add_handler")
    if any(not _known_handlers(index, call.args) for call in added):
        return False
    if any((index.call_name(s) or "").endswith("OpenerDirector") for s in sources):
        # A bare OpenerDirector opens only through the handlers added to it: without a
        # network one (HTTPHandler, ...) its open() never reaches a server.
        names = {index.call_name(src) for call in added for arg in call.args
                 for src in (value_sources(index, arg.value) or ())}
        if not any(name and name.rsplit(".", 1)[-1] in _NETWORK_HANDLERS for name in names):
            return False
    return True


_NETWORK_HANDLERS = frozenset({"HTTPHandler", "HTTPSHandler", "FTPHandler", "CacheFTPHandler"})


def _installs_custom_opener(index: FileIndex) -> bool:
    """`urllib.request.install_opener(opener)` with an opener we cannot vouch for: the
    module-level urlopen() then goes through it (often a mock, in tests)."""
    for call in index.calls:
        if index.call_name(call) in ("urllib.request.install_opener", "urllib2.install_opener"):
            if not call.args or not _plain_opener(index, call.args[0].value):
                return True
    return False
