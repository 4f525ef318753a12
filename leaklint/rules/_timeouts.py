"""The timeout catalogue shared by the LKL4xx rules.

Every network entry point we know is listed with where its timeout can be passed (the
keyword, and the 0-based positional index when it has one, `self` not counted) and what
the library falls back to without one. Signatures were read from the libraries
themselves: CPython 3.11 (`inspect.signature`), requests 2.34, urllib3 2.8, httpx 0.28
and aiohttp 3.14.

Values are typed by where they come from, never by their spelling: a receiver is a
`requests.Session` only when every binding of the name (or every assignment of the
`self` attribute across the class) is a call constructing one; a parameter, a value of
unknown origin, or anything assigned elsewhere is of unknown type and never flagged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

import libcst as cst

from leaklint.index import FileIndex
from leaklint.rules._common import SNIPPET_LIMIT, is_none, keyword, short_source
from leaklint.values import assignment_value, mapping_keys
from leaklint.values import value_sources as value_sources  # moved to the core; kept importable

# Appended to every LKL4xx rule's documentation: the contexts all of them trust.
TRUSTED_CONTEXTS_DOC = (
    " Also never reported: a call inside a timeout scope (`with eventlet.Timeout(5):`, "
    "`asyncio.timeout()`, anyio/trio `fail_after()`) or passed to `asyncio.wait_for()`; "
    "a call in a test marked `@pytest.mark.timeout(...)`; a call inside "
    "`pytest.raises(...)` / `assertRaises(...)` (expected to fail before it waits); a "
    "callee or object replaced by `mock.patch(...)` / `patch.object(...)`; and a call in "
    "a function that takes a `timeout` parameter and tests it (the caller decided).")

# Why no LKL4xx rule applies to test files by default (the `test-ignore` default).
TEST_CODE_REASON = (
    "Not reported in test files by default (it is in the default `test-ignore`): a call "
    "without a timeout in a test talks to a local fixture server, and the test suite's own "
    "timeout (pytest-timeout, the CI job's limit) guards it. Set `test-ignore = []` to "
    "report it there too.")


@dataclass(frozen=True)
class Entry:
    """One callable: where its timeout goes and what happens without it."""

    library: str
    position: Optional[int]  # 0-based positional index of the timeout (None: keyword only)
    default: str  # what the library falls back to, for the message
    keyword: str = "timeout"


# --------------------------------------------------------------------- requests
REQUESTS_DEFAULT = "no timeout at all (requests waits forever by default)"
REQUESTS_FUNCTIONS = {
    f"{module}.{name}": Entry("requests", None, REQUESTS_DEFAULT)
    for module in ("requests", "requests.api")
    for name in ("get", "options", "head", "post", "put", "patch", "delete", "request")
}
REQUESTS_SESSION_CLASSES = frozenset({"requests.Session", "requests.sessions.Session",
                                      "requests.session", "requests.sessions.session"})
# Session.request(method, url, params, data, headers, cookies, files, auth, timeout, ...)
REQUESTS_SESSION_METHODS = {
    **{name: Entry("requests", None, REQUESTS_DEFAULT)
       for name in ("get", "options", "head", "post", "put", "patch", "delete", "send")},
    "request": Entry("requests", 8, REQUESTS_DEFAULT),
}
REQUESTS_ADAPTER = frozenset({"requests.adapters.HTTPAdapter", "requests.HTTPAdapter"})

# --------------------------------------------------------------------- urllib
SOCKET_DEFAULT = "the socket default timeout, which is none unless socket.setdefaulttimeout() is called"
URLLIB_FUNCTIONS = {
    "urllib.request.urlopen": Entry("urllib.request", 2, SOCKET_DEFAULT),
    "urllib2.urlopen": Entry("urllib2", 2, SOCKET_DEFAULT),
}
URLLIB_OPENERS = frozenset({"urllib.request.build_opener", "urllib.request.OpenerDirector",
                            "urllib2.build_opener", "urllib2.OpenerDirector"})
# OpenerDirector.open(fullurl, data=None, timeout=...)
URLLIB_OPENER_METHODS = {"open": Entry("urllib.request", 2, SOCKET_DEFAULT)}

# --------------------------------------------------------------------- stdlib clients
# Python 3.11 signatures. HTTPSConnection is (host, port, key_file, cert_file, timeout, ...)
# on 3.11 and (host, port=None, *, timeout=...) from 3.12: its 3rd positional is
# `key_file`, never a timeout, so only the keyword (or a 5th positional, 3.11 only) counts.
# `needs_host`: the constructor connects only when given a host; without one, the timeout
# can still be given to the later connect()/open() call (see STDLIB_CONNECT_METHODS).


@dataclass(frozen=True)
class StdlibEntry(Entry):
    connects_without_host: bool = True


STDLIB_CLASSES: Dict[str, StdlibEntry] = {
    "http.client.HTTPConnection": StdlibEntry("http.client", 2, SOCKET_DEFAULT),
    "http.client.HTTPSConnection": StdlibEntry("http.client", 4, SOCKET_DEFAULT),
    "socket.create_connection": StdlibEntry("socket", 1, SOCKET_DEFAULT),
    "smtplib.SMTP": StdlibEntry("smtplib", 3, SOCKET_DEFAULT),
    "smtplib.SMTP_SSL": StdlibEntry("smtplib", 5, SOCKET_DEFAULT),
    "smtplib.LMTP": StdlibEntry("smtplib", 4, SOCKET_DEFAULT),
    "ftplib.FTP": StdlibEntry("ftplib", 4, SOCKET_DEFAULT, connects_without_host=False),
    "ftplib.FTP_TLS": StdlibEntry("ftplib", 7, SOCKET_DEFAULT, connects_without_host=False),
    "poplib.POP3": StdlibEntry("poplib", 2, SOCKET_DEFAULT),
    "poplib.POP3_SSL": StdlibEntry("poplib", 4, SOCKET_DEFAULT),
    "imaplib.IMAP4": StdlibEntry("imaplib", 2, "no timeout (imaplib's default is timeout=None)"),
    "imaplib.IMAP4_SSL": StdlibEntry("imaplib", 5, "no timeout (imaplib's default is timeout=None)"),
    "telnetlib.Telnet": StdlibEntry("telnetlib", 2, SOCKET_DEFAULT, connects_without_host=False),
}
# Python 2 spellings that name the same classes.
for _old, _new in (("httplib.HTTPConnection", "http.client.HTTPConnection"),
                   ("httplib.HTTPSConnection", "http.client.HTTPSConnection")):
    STDLIB_CLASSES[_old] = STDLIB_CLASSES[_new]
# Where a constructor without a host connects later, and where that call takes a timeout.
STDLIB_CONNECT_METHODS = {
    "ftplib.FTP": ("connect", 2), "ftplib.FTP_TLS": ("connect", 2),
    "telnetlib.Telnet": ("open", 2),
}

# --------------------------------------------------------------------- urllib3
URLLIB3_DEFAULT = ("urllib3's default Timeout.DEFAULT_TIMEOUT, i.e. the socket default: "
                   "no timeout unless socket.setdefaulttimeout() is called")
URLLIB3_POOLS: Dict[str, Optional[int]] = {  # constructor -> timeout position
    "urllib3.PoolManager": None,
    "urllib3.poolmanager.PoolManager": None,
    "urllib3.ProxyManager": None,
    "urllib3.poolmanager.ProxyManager": None,
    "urllib3.proxy_from_url": None,
    "urllib3.poolmanager.proxy_from_url": None,
    "urllib3.HTTPConnectionPool": 2,
    "urllib3.connectionpool.HTTPConnectionPool": 2,
    "urllib3.HTTPSConnectionPool": 2,
    "urllib3.connectionpool.HTTPSConnectionPool": 2,
    "urllib3.connection_from_url": None,
    "urllib3.connectionpool.connection_from_url": None,
}
# Methods of a pool manager returning a pool configured like the manager (plus kwargs).
URLLIB3_POOL_FACTORIES = frozenset({"connection_from_url", "connection_from_host"})
# RequestMethods.request(method, url, body, fields, headers, json, **urlopen_kw);
# HTTPConnectionPool.urlopen(method, url, body, headers, retries, redirect,
# assert_same_host, timeout, ...); PoolManager.urlopen(method, url, redirect, **kw).
URLLIB3_REQUEST_METHODS: Dict[str, Optional[int]] = {
    "request": None, "request_encode_url": None, "request_encode_body": None, "urlopen": None,
}
URLLIB3_POOL_URLOPEN_POSITION = 7
URLLIB3_TIMEOUT_CLASSES = frozenset({"urllib3.Timeout", "urllib3.util.Timeout",
                                     "urllib3.util.timeout.Timeout"})

# --------------------------------------------------------------------- httpx
HTTPX_FUNCTIONS = frozenset(f"httpx.{name}" for name in (
    "get", "options", "head", "post", "put", "patch", "delete", "request", "stream"))
HTTPX_CLIENTS = frozenset({"httpx.Client", "httpx.AsyncClient"})
HTTPX_METHODS = frozenset({"get", "options", "head", "post", "put", "patch", "delete",
                           "request", "stream", "send", "build_request"})
HTTPX_TIMEOUT_CLASSES = frozenset({"httpx.Timeout"})

# --------------------------------------------------------------------- aiohttp
AIOHTTP_SESSIONS = frozenset({"aiohttp.ClientSession", "aiohttp.client.ClientSession"})
AIOHTTP_METHODS = frozenset({"get", "options", "head", "post", "put", "patch", "delete",
                             "request", "_request"})
AIOHTTP_REQUEST = frozenset({"aiohttp.request", "aiohttp.client.request"})
AIOHTTP_TIMEOUT_CLASSES = frozenset({"aiohttp.ClientTimeout", "aiohttp.client.ClientTimeout"})
AIOHTTP_TIMEOUT_BOUNDS = ("total", "connect", "sock_read", "sock_connect")


# ===================================================================== argument reading
def positional(call: cst.Call, position: Optional[int]) -> Tuple[Optional[cst.Arg], bool]:
    """The positional argument at `position`, and whether a `*args` may reach it."""
    if position is None:
        return None, False
    count = 0
    for arg in call.args:
        if arg.keyword is not None or arg.star == "**":
            continue
        if arg.star == "*":
            return None, True
        if count == position:
            return arg, False
        count += 1
    return None, False


def timeout_arg(call: cst.Call, position: Optional[int], name: str = "timeout",
                index: Optional[FileIndex] = None):
    """("missing" | "none" | "given", the argument expression or None).

    "given" covers every expression we cannot prove to be None: a variable, a constant,
    `**kwargs` that may carry a timeout (with the `index`, a dict whose every key is
    visible and none is `name` carries none) and `*args` reaching the position.
    """
    arg = keyword(call, name)
    if arg is None:
        arg, starred = positional(call, position)
        if starred:
            return "given", None
    if arg is None:
        return ("given", None) if _kwargs_may_pass(index, call, name) else ("missing", None)
    return ("none", arg.value) if _disables(arg.value) else ("given", arg.value)


def _kwargs_may_pass(index: Optional[FileIndex], call: cst.Call, name: str) -> bool:
    """A `**mapping` of the call may carry the keyword `name`."""
    for arg in call.args:
        if arg.star == "**":
            keys = mapping_keys(index, arg.value) if index is not None else None
            if keys is None or name in keys:
                return True
    return False


def _disables(expr: cst.CSTNode) -> bool:
    """`None`, or a `(None, None)` (connect, read) tuple: no bound at all."""
    if is_none(expr):
        return True
    return (isinstance(expr, cst.Tuple) and bool(expr.elements)
            and all(isinstance(e, cst.Element) and is_none(e.value) for e in expr.elements))


def short(index: FileIndex, node: cst.CSTNode, limit: int = 50) -> str:
    return short_source(index, node, limit, ellipsis=True)


def call_label(index: FileIndex, call: cst.Call) -> str:
    """`requests.get(...)` style: the callee as written."""
    return short(index, call.func, SNIPPET_LIMIT) + "(...)"


def local_subclass_of(index: FileIndex, call: cst.Call, classes) -> Optional[cst.ClassDef]:
    local = index.local_class(call.func)
    if local is not None and index.class_inherits(local, classes):
        return local
    return None


def class_defines(classdef: cst.ClassDef, names: Iterable[str]) -> bool:
    names = set(names)
    for statement in classdef.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value in names:
            return True
    return False


def receiver_uses(index: FileIndex, receiver: cst.CSTNode) -> List[cst.CSTNode]:
    """Every expression reading the same object as `receiver`: the uses of its name, or
    the `self.X` accesses across the class family."""
    if isinstance(receiver, cst.Name):
        scope = index.binding_scope(receiver)
        if scope is None:
            return []
        return list(index.uses(scope, receiver.value))
    if isinstance(receiver, cst.Attribute):
        info = index.class_of_self(receiver.value)
        if info is None:
            return []
        out: List[cst.CSTNode] = []
        for member in index.class_family(info):
            out.extend(member.self_attrs.get(receiver.attr.value, ()))
        return out
    return []


def method_calls_on(index: FileIndex, receiver: cst.CSTNode, method: str) -> List[cst.Call]:
    out = []
    for use in receiver_uses(index, receiver):
        called = index.method_call(use)
        if called is not None and called[0] == method:
            out.append(called[1])
    return out


def attribute_stored_on(index: FileIndex, receiver: cst.CSTNode, names) -> bool:
    """`receiver.NAME = ...` or `receiver.NAME[key] = ...` somewhere (NAME in `names`)."""
    for use in receiver_uses(index, receiver):
        attr = index.parent.get(use)
        if not (isinstance(attr, cst.Attribute) and attr.value is use and attr.attr.value in names):
            continue
        if assignment_value(index, attr)[0]:
            return True
        holder = index.parent.get(attr)
        if isinstance(holder, cst.Subscript) and holder.value is attr and assignment_value(index, holder)[0]:
            return True
    return False


def sets_default_socket_timeout(index: FileIndex) -> bool:
    """`socket.setdefaulttimeout(<not None>)` in this file: the stdlib and urllib3
    defaults are then bounded."""
    cached = index.shared.get("default_socket_timeout")
    if cached is not None:
        return cached
    found = False
    for node in index.attributes_by_name.get("setdefaulttimeout", ()):
        call = index.parent.get(node)
        if isinstance(call, cst.Call) and call.func is node:
            if index.qualified_name(node) == "socket.setdefaulttimeout" and not (
                    call.args and is_none(call.args[0].value)):
                found = True
                break
    if not found:
        for call in index.calls:
            if isinstance(call.func, cst.Name) and call.func.value == "setdefaulttimeout":
                if index.qualified_name(call.func) == "socket.setdefaulttimeout":
                    found = True
                    break
    index.shared["default_socket_timeout"] = found
    return found


def disabled_timeout_object(index: FileIndex, expr: Optional[cst.CSTNode], classes,
                            bounds: Tuple[str, ...], first_positional_is_default: bool,
                            depth: int = 0) -> Optional[cst.Call]:
    """When `expr` is (a name bound only to) a timeout object of `classes` whose every
    bound is None, that constructor call."""
    if expr is None or depth > 3:
        return None
    if isinstance(expr, cst.Name):
        bindings = index.bindings_of(expr)
        if len(bindings) != 1 or bindings[0].kind != "assign" or bindings[0].value is None:
            return None
        return disabled_timeout_object(index, bindings[0].value, classes, bounds,
                                       first_positional_is_default, depth + 1)
    if not isinstance(expr, cst.Call) or index.call_name(expr) not in classes:
        return None
    if any(arg.star for arg in expr.args):
        return None
    named = {}
    positionals = []
    for arg in expr.args:
        if arg.keyword is not None:
            named[arg.keyword.value] = arg.value
        else:
            positionals.append(arg.value)
    if first_positional_is_default:
        # httpx.Timeout(default, *, connect, read, write, pool): the default applies to
        # every bound not given; httpx rejects a Timeout() with neither.
        default = positionals[0] if positionals else named.get("timeout")
        if default is None or not is_none(default):
            return None
        return expr if all(is_none(v) for k, v in named.items() if k in bounds) else None
    # aiohttp.ClientTimeout(total, connect, sock_read, sock_connect, ...) and
    # urllib3.Timeout(total, connect, read): every bound defaults to None.
    values = dict(zip(bounds, positionals))
    values.update({k: v for k, v in named.items() if k in bounds})
    return expr if all(is_none(v) for v in values.values()) else None


# ===================================================================== bounded elsewhere
# A call lexically inside `with <timeout scope>:` is bounded by it: eventlet/gevent
# `Timeout(5)`, `asyncio.timeout()`, `async_timeout.timeout()`, anyio/trio `fail_after()`.
# Matched on the last component of the callee, resolved or not: in the trusting
# direction a spelling is good enough.
_TIMEOUT_SCOPE_NAMES = ("timeout", "timeout_at", "fail_after", "fail_at", "move_on_after",
                        "move_on_at")
_IO_FREE_SOCKET_METHODS = frozenset({
    "close", "shutdown", "setsockopt", "getsockopt", "getsockname", "getpeername",
    "fileno", "detach", "__enter__", "__exit__"})


def _last_name(expr: cst.CSTNode) -> str:
    if isinstance(expr, cst.Call):
        expr = expr.func
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    if isinstance(expr, cst.Name):
        return expr.value
    return ""


def _dotted_spelling(expr: cst.CSTNode) -> str:
    if isinstance(expr, cst.Call):
        expr = expr.func
    if isinstance(expr, cst.Attribute):
        base = _dotted_spelling(expr.value)
        return f"{base}.{expr.attr.value}" if base else expr.attr.value
    if isinstance(expr, cst.Name):
        return expr.value
    return ""


def _is_timeout_scope(expr: cst.CSTNode) -> bool:
    name = _last_name(expr).lower()
    return name in _TIMEOUT_SCOPE_NAMES or name.endswith("timeout")


def _expects_failure(expr: cst.CSTNode) -> bool:
    """`with pytest.raises(...)` / `with self.assertRaises(...)`: the call is expected to
    fail (an invalid URL, a refused connection, an empty pool), not to wait on a peer."""
    return isinstance(expr, cst.Call) and _last_name(expr) in (
        "raises", "assertRaises", "assertRaisesRegex", "assertRaisesRegexp")


def bounded_elsewhere(index: FileIndex, call: cst.CSTNode) -> bool:
    """The call (or an `await`) runs under a timeout that is not its own: inside `with Timeout(...)`,
    `asyncio.wait_for(call, t)`, or a function/class marked with a timeout decorator
    (`@pytest.mark.timeout(10)`, `pytestmark = pytest.mark.timeout(...)`)."""
    parent = index.parent.get(call)
    if isinstance(parent, cst.Arg):
        outer = index.parent.get(parent)
        if isinstance(outer, cst.Call) and _last_name(outer) == "wait_for":
            return True
    for node in index.ancestors(call):
        if isinstance(node, cst.With):
            if any(_is_timeout_scope(item.item) or _expects_failure(item.item)
                   for item in node.items):
                return True
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            for decorator in node.decorators:
                if "timeout" in _dotted_spelling(decorator.decorator).lower():
                    return True
    for binding in index.module_scope.bindings.get("pytestmark", ()):
        if binding.value is not None and "timeout" in index.module.code_for_node(binding.value):
            return True
    return False


def caller_decides_timeout(index: FileIndex, call: cst.Call) -> bool:
    """The enclosing function takes a timeout parameter and tests it (`if timeout is not
    None: connect(addr, timeout)` / `else: connect(addr)`): the timeout-less call is the
    deliberate path for a caller who asked for none."""
    scope = index.enclosing_function(call)
    if scope is None:
        return False
    for name in scope.bindings:
        if "timeout" not in name.lower():
            continue
        if not any(b.kind == "param" for b in scope.bindings[name]):
            continue
        for use in index.uses(scope, name):
            parent = index.parent.get(use)
            if isinstance(parent, (cst.Comparison, cst.ComparisonTarget, cst.UnaryOperation,
                                   cst.BooleanOperation)):
                return True
            if isinstance(parent, (cst.If, cst.While)) and parent.test is use:
                return True
            if isinstance(parent, cst.IfExp) and parent.test is use:
                return True
    return False


_PATCHERS = ("patch", "object", "setattr", "multiple")


def _patch_target(index: FileIndex, patcher: cst.CSTNode) -> Optional[str]:
    """For `mock.patch("a.b.c")` / `monkeypatch.setattr("a.b.c", ...)`: "a.b.c"."""
    if not isinstance(patcher, cst.Call) or _last_name(patcher) not in ("patch", "setattr"):
        return None
    if not patcher.args or not isinstance(patcher.args[0].value, cst.SimpleString):
        return None
    try:
        target = patcher.args[0].value.evaluated_value
        return target if isinstance(target, str) else None  # b"a.b" names nothing to mock
    except Exception:  # pragma: no cover - odd literals
        return None


def _target_covers(target: str, qualname: str) -> bool:
    parts = target.split(".")
    for start in range(len(parts)):
        tail = ".".join(parts[start:])
        if qualname == tail or qualname.startswith(tail + "."):
            return True
    return False


def mocked(index: FileIndex, call: cst.Call, qualname: Optional[str],
           receiver: Optional[cst.CSTNode] = None) -> bool:
    """The callee is replaced by a mock where the call runs: a `@mock.patch("...")`
    decorator or `with mock.patch("..."):` naming it (or a module on its path), or the
    receiver handed to `mock.patch.object(receiver, ...)` / `monkeypatch.setattr(...)`."""
    if qualname:
        for node in index.ancestors(call):
            patchers = []
            if isinstance(node, cst.With):
                patchers = [item.item for item in node.items]
            elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
                patchers = [d.decorator for d in node.decorators]
            for patcher in patchers:
                target = _patch_target(index, patcher)
                if target and _target_covers(target, qualname):
                    return True
    if receiver is not None:
        for use in receiver_uses(index, receiver):
            arg = index.parent.get(use)
            if isinstance(arg, cst.Arg) and arg.value is use:
                outer = index.parent.get(arg)
                if isinstance(outer, cst.Call) and _last_name(outer) in ("object", "setattr") \
                        and outer.args and outer.args[0] is arg:
                    return True
    return False


def socket_never_used_for_io(lifecycle) -> bool:
    """A connected socket that is only closed (a connectivity probe) cannot hang: the
    connect itself is bounded by the OS."""
    if lifecycle.escaped:
        return False
    return all(method in _IO_FREE_SOCKET_METHODS for method in lifecycle.method_calls)


_LOCAL_SCHEMES = ("file:", "data:")


def _literal_prefix(expr: cst.CSTNode) -> Optional[str]:
    if isinstance(expr, cst.SimpleString):
        try:
            value = expr.evaluated_value
        except Exception:  # pragma: no cover
            return None
        return value if isinstance(value, str) else None
    if isinstance(expr, cst.ConcatenatedString):
        return _literal_prefix(expr.left)
    if isinstance(expr, cst.FormattedString):
        first = expr.parts[0] if expr.parts else None
        return first.value if isinstance(first, cst.FormattedStringText) else None
    if isinstance(expr, cst.BinaryOperation):
        return _literal_prefix(expr.left)
    return None


def local_url(index: FileIndex, expr: Optional[cst.CSTNode], depth: int = 0) -> bool:
    """A `file:` or `data:` URL (literal, or a name only ever bound to one): no network."""
    if expr is None or depth > 3:
        return False
    if isinstance(expr, cst.Name):
        bindings = index.bindings_of(expr)
        return bool(bindings) and all(
            b.kind == "assign" and b.value is not None and local_url(index, b.value, depth + 1)
            for b in bindings)
    prefix = _literal_prefix(expr)
    return prefix is not None and prefix.lower().startswith(_LOCAL_SCHEMES)


def trusted_context(index: FileIndex, call: cst.Call, qualname: Optional[str] = None,
                    receiver: Optional[cst.CSTNode] = None) -> bool:
    """Every reason shared by the LKL4xx rules to trust a call whose own arguments show
    no timeout: bounded by an enclosing timeout scope, the callee or receiver mocked, or
    the enclosing function deciding on its caller's timeout."""
    return (bounded_elsewhere(index, call) or mocked(index, call, qualname, receiver)
            or caller_decides_timeout(index, call))
