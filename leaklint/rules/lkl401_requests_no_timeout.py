"""LKL401: a `requests` call (module function or Session method) with no timeout."""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

import libcst as cst

from leaklint.index import FileIndex
from leaklint.option_checks import dotted_names
from leaklint.rules._common import SNIPPET_LIMIT, has_star_kwargs
from leaklint.rules._timeouts import (
    REQUESTS_ADAPTER,
    REQUESTS_FUNCTIONS,
    REQUESTS_SESSION_CLASSES,
    REQUESTS_SESSION_METHODS,
    TEST_CODE_REASON,
    TRUSTED_CONTEXTS_DOC,
    attribute_stored_on,
    call_label,
    class_defines,
    keyword,
    local_subclass_of,
    method_calls_on,
    timeout_arg,
    trusted_context,
)
from leaklint.rules.base import Option, Report, Rule
from leaklint.values import value_sources

FIX = "pass `timeout=(connect, read)`, e.g. `timeout=(3.05, 30)` (requests has no default)"


class RequestsNoTimeout(Rule):
    code = "LKL401"
    name = "requests-no-timeout"
    summary = "A requests call (function or Session method) has no timeout, or timeout=None."
    applies_to_tests = False
    test_code_reason = TEST_CODE_REASON
    what_it_does = (
        "Finds calls of `requests.get/options/head/post/put/patch/delete/request` and of the "
        "same methods (and `send`) on a `requests.Session` that pass no `timeout` or pass "
        "`timeout=None`. A session is recognised however it is reached: `s = "
        "requests.Session()`, `with requests.Session() as s`, `requests.Session().get(...)`, "
        "a module global, a `self` attribute assigned a Session in the class, or a "
        "function, method or property of the module returning a fresh Session "
        "(`self._session = self._make_session()`) that does no more to it than set plain "
        "attributes (one that mounts an adapter or replaces `request` is trusted). Names are "
        "resolved through imports: a local `requests` dict, a parameter or `self.requests` "
        "is not the library, and `session.get(...)` on a session of unknown type (a "
        "parameter, a SQLAlchemy session) is not reported. A variable or expression passed "
        "as timeout is trusted, and so is `**kwargs` (it may carry one), except that "
        "a dict whose every key is visible in the function (a literal, `dict(...)`, `d[\"k\"] = ...`, `d.update(...)` of known keys) and none is `timeout` carries none. A session that "
        "mounts an adapter other than the plain `HTTPAdapter` (the usual way to set a "
        "default timeout), or a local Session subclass that overrides `request`/`send`, is "
        "trusted. The `timeout-functions` option adds your own wrappers: calls of them "
        "must pass `timeout=` as well." + TRUSTED_CONTEXTS_DOC)
    why_bad = (
        "requests has no default timeout, and `requests.Session` has no session-wide one: "
        "without `timeout=`, a server that accepts the connection and never answers blocks "
        "the calling thread forever. A worker pool slowly fills with such threads: the "
        "Python analogue of a slow goroutine leak.")
    example = (
        "import requests\n\n"
        "def fetch(url):\n"
        "    return requests.get(url).json()\n")
    use_instead = (
        "import requests\n\n"
        "def fetch(url):\n"
        "    return requests.get(url, timeout=(3.05, 30)).json()\n")
    invalid = (
        "import requests\n\ndef f(u):\n    return requests.post(u, json={})\n",
        "import requests\n\ndef f(u):\n    return requests.get(u, timeout=None)\n",
        "from requests import Session\n\ndef f(u):\n    s = Session()\n    return s.get(u)\n",
        "import requests\n\ndef f(u):\n    with requests.Session() as s:\n        return s.put(u)\n",
        "import requests\n\ndef f(u):\n    return requests.Session().head(u)\n",
        "import requests\n\nclass C:\n    def __init__(self):\n        self.http = requests.Session()\n"
        "    def fetch(self, u):\n        return self.http.get(u)\n",
        "import requests as r\n\ndef f(u):\n    return r.request('GET', u)\n",
    )
    valid = (
        "import requests\n\ndef f(u, t):\n    return requests.get(u, timeout=t)\n",
        "import requests\n\ndef f(u, **kw):\n    return requests.get(u, **kw)\n",
        "def f(requests, u):\n    return requests.get(u)\n",
        "requests = {}\n\ndef f(u):\n    return requests.get(u)\n",
        "def f(session, u):\n    return session.get(u)\n",
        "import requests\n\nclass C:\n    def f(self, u):\n        return self.requests.get(u)\n",
        "import requests\n\ndef f(u):\n    s = requests.Session()\n    return s.request('GET', u, None, None, None, None, None, None, 5)\n",
    )
    # Whatever spells the import (`import os,requests`, `from  requests import get`, a
    # continued line), the module name is in the text.
    trigger_words: Tuple[str, ...] = ("requests",)  # and the words `timeout-functions` bring
    # Every name it knows is in requests (and the names `timeout-functions` bring).
    trigger_names: Optional[Tuple[str, ...]] = ("requests",)
    options = (
        Option("timeout-functions", list, [],
               "Qualified names of your own functions that must be given a `timeout=` "
               "keyword, like `[\"mycompany.http.fetch\"]`; a call of one without "
               "`timeout=` (or with `timeout=None`) is reported by LKL401.",
               check=dotted_names, adds_triggers=True),
    )

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        extra = tuple(self.settings.get("timeout-functions") or ())
        self.extra_functions = frozenset(extra)
        if extra:
            words = {name.rsplit(".", 1)[-1] for name in extra}
            self.trigger_words = tuple(sorted(set(type(self).trigger_words) | words))
            self.trigger_names = tuple(sorted(set(type(self).trigger_names or ()) | words))

    def check(self, index: FileIndex) -> Iterator[Report]:
        for call in index.calls:
            func = call.func
            name = index.call_name(call, among=REQUESTS_FUNCTIONS)
            function_entry = REQUESTS_FUNCTIONS.get(name) if name is not None else None
            if function_entry is not None:
                state, _ = timeout_arg(call, function_entry.position, index=index)
                if state != "given" and not trusted_context(index, call, name):
                    yield Report(call, self._function_message(index, call, state), fix=FIX)
                continue
            if name is not None and name in self.extra_functions:
                state, _ = timeout_arg(call, None, index=index)
                if state != "given" and not trusted_context(index, call, name):
                    yield Report(call, self._wrapper_message(index, call, name, state),
                                 fix="pass `timeout=<seconds>`")
                continue
            if not isinstance(func, cst.Attribute):
                continue
            entry = REQUESTS_SESSION_METHODS.get(func.attr.value)
            if entry is None:
                continue
            if not self._is_plain_session(index, func.value):
                continue
            state, _ = timeout_arg(call, entry.position, index=index)
            if state != "given" and not trusted_context(index, call, None, func.value):
                yield Report(call, self._session_message(index, call, state), fix=FIX)

    # ------------------------------------------------------------------ sessions
    def _is_plain_session(self, index: FileIndex, receiver: cst.CSTNode) -> bool:
        """True when `receiver` is provably a requests Session with no default timeout
        mechanism of its own (no custom adapter, no overridden request/send)."""
        sources = value_sources(index, receiver)
        if not sources:
            return False
        for source in sources:
            name = index.call_name(source, among=REQUESTS_SESSION_CLASSES)
            if name in REQUESTS_SESSION_CLASSES:
                continue
            subclass = local_subclass_of(index, source, REQUESTS_SESSION_CLASSES)
            if subclass is None or class_defines(subclass, (
                    "request", "send", "__init__", *REQUESTS_SESSION_METHODS)):
                return False
        if isinstance(receiver, cst.Call):
            return True
        # `s.mount(prefix, TimeoutAdapter())`: an adapter may set a default timeout in
        # send(); only the plain HTTPAdapter is known not to.
        for mount in method_calls_on(index, receiver, "mount"):
            adapter = keyword(mount, "adapter") or (mount.args[1] if len(mount.args) > 1 else None)
            if adapter is None or has_star_kwargs(mount):
                return False
            adapter_sources = value_sources(index, adapter.value)
            if not adapter_sources or any(index.call_name(s) not in REQUESTS_ADAPTER
                                          for s in adapter_sources):
                return False
        # `s.request = functools.partial(s.request, timeout=5)`
        if attribute_stored_on(index, receiver, ("request", "send", *REQUESTS_SESSION_METHODS)):
            return False
        return True

    # ------------------------------------------------------------------ messages
    @staticmethod
    def _problem(state: str) -> str:
        return "passes `timeout=None`" if state == "none" else "has no timeout"

    def _function_message(self, index, call, state) -> str:
        return (f"`{call_label(index, call)}` {self._problem(state)}: a server that never "
                f"answers blocks this thread forever")

    def _session_message(self, index, call, state) -> str:
        return (f"`{call_label(index, call)}` on a `requests.Session` {self._problem(state)}: "
                f"it can block this thread forever")

    def _wrapper_message(self, index, call, name, state) -> str:
        listed = f"`{name}`" if len(name) <= SNIPPET_LIMIT else "it"
        return (f"`{call_label(index, call)}` {self._problem(state)}: {listed} is listed in "
                f"`timeout-functions`")
