"""LKL402: `urllib.request.urlopen` or `OpenerDirector.open` with no timeout."""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from leaklint.index import FileIndex
from leaklint.rules._timeouts import (URLLIB_FUNCTIONS, URLLIB_OPENER_METHODS, URLLIB_OPENERS,
                                      call_label, sets_default_socket_timeout, timeout_arg,
                                      value_sources)
from leaklint.rules.base import Report, Rule

FIX = "pass timeout= (the third positional argument), e.g. urlopen(url, timeout=30)"


class UrllibNoTimeout(Rule):
    code = "LKL402"
    name = "urllib-no-timeout"
    summary = "urllib.request.urlopen() or an opener's open() has no timeout, or timeout=None."
    what_it_does = (
        "Finds calls of `urllib.request.urlopen(url, data=None, timeout=...)` and of "
        "`open(fullurl, data=None, timeout=...)` on an opener made by "
        "`urllib.request.build_opener()` or `OpenerDirector()` that pass no timeout, "
        "neither as the keyword nor as the third positional argument, or pass None. "
        "`**kwargs` and `*args` are trusted (they may carry one). A file that calls "
        "`socket.setdefaulttimeout()` with a value is not reported: that default is what "
        "urllib falls back to.")
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
    trigger_words = ("urllib",)

    def check(self, index: FileIndex) -> Iterator[Report]:
        for call in index.calls:
            func = call.func
            name = index.call_name(call)
            entry = URLLIB_FUNCTIONS.get(name) if name else None
            opener = False
            if entry is None:
                if not isinstance(func, cst.Attribute):
                    continue
                entry = URLLIB_OPENER_METHODS.get(func.attr.value)
                if entry is None:
                    continue
                sources = value_sources(index, func.value)
                if not sources or any(index.call_name(s) not in URLLIB_OPENERS for s in sources):
                    continue
                opener = True
            state, _ = timeout_arg(call, entry.position)
            if state == "given" or sets_default_socket_timeout(index):
                continue
            problem = "passes timeout=None" if state == "none" else "has no timeout"
            what = "an urllib opener's open()" if opener else "urlopen()"
            yield Report(call, (
                f"`{call_label(index, call)}` ({what}) {problem}: urllib falls back to the "
                f"socket default timeout, which is none unless socket.setdefaulttimeout() "
                f"is called, so a server that never answers blocks this thread forever; "
                f"{FIX}"), fix=FIX)
