"""LKL404: a urllib3 request with no timeout at the call nor at its pool."""
from __future__ import annotations

from typing import Iterator, List, Optional, Tuple, cast

import libcst as cst

from leaklint.index import FileIndex
from leaklint.rules._timeouts import (
    TEST_CODE_REASON,
    TRUSTED_CONTEXTS_DOC,
    URLLIB3_POOL_FACTORIES,
    URLLIB3_POOL_URLOPEN_POSITION,
    URLLIB3_POOLS,
    URLLIB3_REQUEST_METHODS,
    URLLIB3_TIMEOUT_CLASSES,
    attribute_stored_on,
    call_label,
    disabled_timeout_object,
    sets_default_socket_timeout,
    timeout_arg,
    trusted_context,
)
from leaklint.rules.base import Report, Rule
from leaklint.values import value_sources

FIX = ("pass `timeout=urllib3.Timeout(connect=..., read=...)` to the `PoolManager` or "
       "connection pool, or `timeout=` to the request")
# Constructors returning a connection pool (not a manager): their urlopen() takes the
# timeout as the 8th positional.
_POOL_CLASSES = frozenset(n for n in URLLIB3_POOLS if "ConnectionPool" in n
                          or n.endswith("connection_from_url"))
_TIMEOUT_BOUNDS = ("total", "connect", "read")
_RECONFIGURED = ("timeout", "ConnectionCls", "pool_classes_by_scheme", "connection_pool_kw")


class Urllib3NoTimeout(Rule):
    code = "LKL404"
    name = "urllib3-no-timeout"
    summary = "A urllib3 request has no timeout at the call nor at its PoolManager/pool."
    applies_to_tests = False
    test_code_reason = TEST_CODE_REASON
    what_it_does = (
        "Finds `request()`, `request_encode_url()`, `request_encode_body()` and "
        "`urlopen()` calls on a `urllib3.PoolManager`, `ProxyManager`, "
        "`HTTPConnectionPool`, `HTTPSConnectionPool` or `connection_from_url()` pool "
        "(also one obtained from a manager's `connection_from_url()`/"
        "`connection_from_host()`) when neither the call nor the pool it goes through "
        "was given a timeout, or one of them was given `timeout=None` or a "
        "`urllib3.Timeout()` with no bound. The top-level `urllib3.request()` has its own "
        "3-second default: only `timeout=None` there is reported. Pools of unknown "
        "origin (a parameter) are never reported; `**kwargs` is trusted, except "
        "a dict whose every key is visible in the function (a literal, `dict(...)`, `d[\"k\"] = ...`, `d.update(...)` of known keys) and none is `timeout` carries none; a file that "
        "calls `socket.setdefaulttimeout()` with a value is not reported." + TRUSTED_CONTEXTS_DOC)
    why_bad = (
        "urllib3's default `Timeout.DEFAULT_TIMEOUT` means the socket default, which is no "
        "timeout unless `socket.setdefaulttimeout()` is called: a server that never "
        "answers blocks the calling thread forever.")
    example = (
        "import urllib3\n\n"
        "http = urllib3.PoolManager()\n\n"
        "def fetch(url):\n"
        "    return http.request('GET', url).data\n")
    use_instead = (
        "import urllib3\n\n"
        "http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=3.0, read=30.0))\n\n"
        "def fetch(url):\n"
        "    return http.request('GET', url).data\n")
    invalid = (
        "import urllib3\n\ndef f(u):\n    return urllib3.PoolManager().request('GET', u)\n",
        "import urllib3\n\ndef f(h):\n    pool = urllib3.HTTPConnectionPool(h)\n"
        "    return pool.urlopen('GET', '/')\n",
        "import urllib3\n\ndef f(u):\n    return urllib3.request('GET', u, timeout=None)\n",
        "import urllib3\n\ndef f(u):\n    http = urllib3.PoolManager(timeout=5)\n"
        "    return http.request('GET', u, timeout=None)\n",
    )
    valid = (
        "import urllib3\n\ndef f(u):\n    return urllib3.request('GET', u)\n",
        "import urllib3\n\ndef f(u):\n    return urllib3.PoolManager(timeout=3).request('GET', u)\n",
        "import urllib3\n\ndef f(u):\n    http = urllib3.PoolManager()\n"
        "    return http.request('GET', u, timeout=10)\n",
        "import urllib3\n\ndef f(h):\n    pool = urllib3.HTTPConnectionPool(h, 80, 5.0)\n"
        "    return pool.urlopen('GET', '/')\n",
        "def f(pool, u):\n    return pool.request('GET', u)\n",
    )
    trigger_words = ("urllib3",)
    trigger_names = ("urllib3",)  # every name it knows is in urllib3

    def check(self, index: FileIndex) -> Iterator[Report]:
        for call in index.calls:
            func = call.func
            name = index.call_name(call)
            if name in ("urllib3.request",):
                if _timeout_state(index, call, None) == "none":
                    yield Report(call, (
                        f"`{call_label(index, call)}` passes `timeout=None`, disabling "
                        f"`urllib3.request()`'s 3-second default: it can block forever"),
                        fix="pass `timeout=<seconds>`, or leave it out for the default")
                continue
            if not isinstance(func, cst.Attribute) or func.attr.value not in URLLIB3_REQUEST_METHODS:
                continue
            pools = _pool_chains(index, func.value)
            if not pools:
                continue
            is_pool = all(len(chain) > 1 or index.call_name(chain[0]) in _POOL_CLASSES
                          for chain in pools)
            position = URLLIB3_POOL_URLOPEN_POSITION if (
                func.attr.value == "urlopen" and is_pool) else None
            state = _timeout_state(index, call, position)
            if state == "given":
                continue
            if state == "missing":
                pool_states = [_chain_state(index, chain) for chain in pools]
                if all(s == "given" for s in pool_states):
                    continue
                problem = ("has no timeout, nor has its pool" if "none" not in pool_states
                           else "has no timeout, and its pool has `timeout=None`")
            else:
                problem = "passes `timeout=None`"
            if sets_default_socket_timeout(index):
                return
            if trusted_context(index, call, None, func.value):
                continue
            # `pool.timeout = ...`, or the connection classes swapped (often for a mock).
            if attribute_stored_on(index, func.value, _RECONFIGURED):
                continue
            yield Report(call, (
                f"`{call_label(index, call)}` {problem}: it can block this thread forever"), fix=FIX)


def _timeout_state(index: FileIndex, call: cst.Call, position: Optional[int]) -> str:
    state, value = timeout_arg(call, position, index=index)
    if state == "given" and disabled_timeout_object(
            index, value, URLLIB3_TIMEOUT_CLASSES, _TIMEOUT_BOUNDS, False) is not None:
        return "none"
    return state


def _pool_chains(index: FileIndex, receiver: cst.CSTNode, depth: int = 0) -> Optional[List[Tuple[cst.Call, ...]]]:
    """For each possible origin of `receiver`: (pool constructor, factory calls...)."""
    if depth > 3:
        return None
    sources = value_sources(index, receiver)
    if not sources:
        return None
    chains: List[Tuple[cst.Call, ...]] = []
    for source in sources:
        name = index.call_name(source)
        if name in URLLIB3_POOLS:
            chains.append((source,))
            continue
        func = source.func
        if isinstance(func, cst.Attribute) and func.attr.value in URLLIB3_POOL_FACTORIES:
            inner = _pool_chains(index, func.value, depth + 1)
            if not inner:
                return None
            chains.extend(chain + (source,) for chain in inner)
            continue
        return None
    return chains


def _chain_state(index: FileIndex, chain: Tuple[cst.Call, ...]) -> str:
    """"given" when the pool was configured with a timeout (or options that may hold one)."""
    constructor = chain[0]
    pool_class = cast(str, index.call_name(constructor))  # one of URLLIB3_POOLS (_pool_chains)
    state = _timeout_state(index, constructor, URLLIB3_POOLS[pool_class])
    for factory in chain[1:]:
        # connection_from_url(url, pool_kwargs=None) / connection_from_host(host, port,
        # scheme, pool_kwargs): pool_kwargs may carry a timeout.
        extra = [a for a in factory.args if a.keyword is not None or a.star]
        positionals = [a for a in factory.args if a.keyword is None and not a.star]
        from_url = isinstance(factory.func, cst.Attribute) and factory.func.attr.value == "connection_from_url"
        limit = 1 if from_url else 3
        if extra or len(positionals) > limit:
            return "given"
    return state
