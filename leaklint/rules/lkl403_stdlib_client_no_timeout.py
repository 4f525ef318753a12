"""LKL403: a standard-library network client created without a timeout."""
from __future__ import annotations

from typing import Iterator

from leaklint.index import FileIndex
from leaklint.lifecycle import ResourceKind, track
from leaklint.rules._timeouts import (
    STDLIB_CLASSES,
    STDLIB_CONNECT_METHODS,
    TEST_CODE_REASON,
    TRUSTED_CONTEXTS_DOC,
    call_label,
    positional,
    sets_default_socket_timeout,
    socket_never_used_for_io,
    timeout_arg,
    trusted_context,
)
from leaklint.rules.base import Report, Rule, last_names

# Only followed to see what is done with the object; nothing "releases" it here.
_CLIENT = ResourceKind("network client", release_methods=frozenset())


class StdlibClientNoTimeout(Rule):
    code = "LKL403"
    name = "stdlib-client-no-timeout"
    summary = ("http.client, socket.create_connection, smtplib, ftplib, poplib, imaplib or "
               "telnetlib connection made without a timeout.")
    applies_to_tests = False
    test_code_reason = TEST_CODE_REASON
    what_it_does = (
        "Finds `http.client.HTTPConnection` / `HTTPSConnection`, "
        "`socket.create_connection`, `smtplib.SMTP` / `SMTP_SSL` / `LMTP`, `ftplib.FTP` / "
        "`FTP_TLS`, `poplib.POP3` / `POP3_SSL`, `imaplib.IMAP4` / `IMAP4_SSL` and "
        "`telnetlib.Telnet` created with no timeout (or `timeout=None`). The timeout is "
        "looked for where each signature puts it on Python 3.11: the third positional of "
        "`HTTPConnection`, the second of `create_connection`, the fourth of `SMTP`, and "
        "so on. `HTTPSConnection` is special: on 3.11 its third positional is `key_file` "
        "and the timeout the fifth, and from 3.12 the timeout is keyword-only; so a third "
        "positional is never taken for a timeout, and only `timeout=` (or a fifth "
        "positional, 3.11 only) counts. `FTP()` and `Telnet()` without a host connect "
        "later: they are reported only when that `connect()`/`open()` call has no "
        "timeout either. Not reported: an object whose `.timeout` is assigned before use, "
        "a socket given `settimeout()`, and any file that calls "
        "`socket.setdefaulttimeout()` with a value." + TRUSTED_CONTEXTS_DOC)
    why_bad = (
        "These clients fall back to the global socket default, which is no timeout unless "
        "`socket.setdefaulttimeout()` is called (imaplib's own default is None): a peer "
        "that accepts the connection and never answers blocks the thread forever.")
    example = (
        "import http.client\n\n"
        "def status(host):\n"
        "    conn = http.client.HTTPConnection(host)\n"
        "    conn.request('HEAD', '/')\n"
        "    return conn.getresponse().status\n")
    use_instead = (
        "import http.client\n\n"
        "def status(host):\n"
        "    conn = http.client.HTTPConnection(host, timeout=10)\n"
        "    conn.request('HEAD', '/')\n"
        "    return conn.getresponse().status\n")
    invalid = (
        "import socket\n\ndef f(a):\n    return socket.create_connection(a)\n",
        "import smtplib\n\ndef f(h):\n    return smtplib.SMTP(h, 25)\n",
        "from http.client import HTTPSConnection\n\ndef f(h):\n    return HTTPSConnection(h, 443, None)\n",
        "import imaplib\n\ndef f(h):\n    return imaplib.IMAP4_SSL(h, timeout=None)\n",
        "import ftplib\n\ndef f(h):\n    ftp = ftplib.FTP()\n    ftp.connect(h, 21)\n    return ftp\n",
    )
    valid = (
        "import http.client\n\ndef f(h):\n    return http.client.HTTPConnection(h, 80, 10)\n",
        "import socket\n\ndef f(a):\n    return socket.create_connection(a, 5)\n",
        "import ftplib\n\ndef f(h):\n    ftp = ftplib.FTP()\n    ftp.connect(h, 21, 30)\n    return ftp\n",
        "import socket\n\ndef f(a):\n    s = socket.create_connection(a)\n    s.settimeout(5)\n    return s\n",
        "import socket, smtplib\n\nsocket.setdefaulttimeout(10)\n\ndef f(h):\n    return smtplib.SMTP(h)\n",
        "import http.client\n\ndef f(h, **kw):\n    return http.client.HTTPSConnection(h, **kw)\n",
    )
    # Every catalogued constructor is spelled somewhere in a file that calls it (even
    # `from smtplib import SMTP as S`), whatever its module is imported as.
    trigger_words = ("HTTPConnection", "HTTPSConnection", "create_connection", "SMTP", "LMTP",
                     "FTP", "POP3", "IMAP4", "Telnet")
    trigger_names = last_names(STDLIB_CLASSES)

    def check(self, index: FileIndex) -> Iterator[Report]:
        for call in index.calls:
            name = index.call_name(call, among=STDLIB_CLASSES)
            if name is None or name not in STDLIB_CLASSES:
                continue
            entry = STDLIB_CLASSES[name]
            state, _ = timeout_arg(call, entry.position, index=index)
            if state == "given":
                continue
            if sets_default_socket_timeout(index):
                return
            qual = STDLIB_CLASSES_CANONICAL.get(name, name)
            later = ""
            if not entry.connects_without_host and state == "missing":
                host_arg, starred = positional(call, 0)
                has_host = starred or host_arg is not None or any(
                    a.keyword is not None and a.keyword.value == "host" for a in call.args)
                if not has_host:
                    method, position = STDLIB_CONNECT_METHODS[qual]
                    lifecycle = track(index, call, _CLIENT)
                    connects = lifecycle.method_calls.get(method, [])
                    if not connects or all(timeout_arg(c, position, index=index)[0] == "given"
                                           for c in connects):
                        continue
                    if "timeout" in lifecycle.attribute_stores:
                        continue
                    later = f", nor does its `{method}()`"
            else:
                lifecycle = track(index, call, _CLIENT)
                if "timeout" in lifecycle.attribute_stores:
                    continue
                if "settimeout" in lifecycle.method_calls or "setblocking" in lifecycle.method_calls:
                    continue
                if qual == "socket.create_connection" and socket_never_used_for_io(lifecycle):
                    continue  # a connectivity probe: connect() is bounded by the OS
            if trusted_context(index, call, qual):
                continue
            problem = "passes `timeout=None`" if state == "none" else "has no timeout"
            label = call_label(index, call)
            # `(http.client.HTTPConnection)` when the call spells it otherwise (an alias).
            what = "" if label == f"{qual}(...)" else f" (`{qual}`)"
            yield Report(call, (
                f"`{label}`{what} {problem}{later}: it can block this thread forever"),
                fix=f"pass `timeout=<seconds>`{self._hint(qual)}")

    @staticmethod
    def _hint(qual: str) -> str:
        if qual == "http.client.HTTPSConnection":
            return " as a keyword (it is keyword-only from Python 3.12)"
        return ""


STDLIB_CLASSES_CANONICAL = {"httplib.HTTPConnection": "http.client.HTTPConnection",
                            "httplib.HTTPSConnection": "http.client.HTTPSConnection"}
