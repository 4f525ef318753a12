"""leaklint.flow: the control-flow check behind "released on only some paths" (the
fixtures paths_explicit.py and paths_exceptions.py show each shape; these tests pin the
messages and the graph's corners)."""
import textwrap

import pytest

from leaklint.engine import Linter
from leaklint.registry import all_rules

EVERY_KIND = ["thread", "timer", "process", "pool", "executor", "subprocess"]


def messages(source, exception_paths=()):
    settings = {"exception-paths": list(exception_paths)}
    linter = Linter([rule(settings) for rule in all_rules() if rule.default_enabled])
    return [(f.line, f.code, f.message)
            for f in linter.lint_text(source, "example.py")]


THREAD = ("import threading\n\n"
          "def f(skip, g):\n"
          "    t = threading.Thread(target=g)\n"
          "    t.start()\n")


def with_body(body):
    return THREAD + textwrap.indent(body, "    ")


def test_message_names_the_return_and_its_line():
    found = messages(with_body("if skip:\n    return 1\nt.join()\n"))
    assert found == [(4, "LKL101", "thread `t` running `g()` is started but not joined "
                                    "on the `return` at line 7")]


def test_message_names_the_raising_call_only_when_asked():
    source = with_body("g()\nt.join()\n")
    assert messages(source) == []
    assert messages(source, ["thread"]) == [
        (4, "LKL101", "thread `t` running `g()` is started but not joined when `g()` raises")]
    assert messages(source, ["timer"]) == []  # only the kinds named


def test_long_call_is_named_by_its_line():
    source = with_body("some.rather_long_module_name.function_name()\nt.join()\n")
    assert messages(source, EVERY_KIND)[0][2].endswith("not joined when a call at line 6 raises")


@pytest.mark.parametrize("body, kinds", [
    # every way out of the try passes the finally's join, exceptions too
    ("try:\n    if skip:\n        return 1\n    g()\nfinally:\n    t.join()\n", EVERY_KIND),
    # a finally that does not release, then the join: the normal end goes on to it, and
    # the handler catches what the body raises
    ("try:\n    g()\nexcept ValueError:\n    pass\nfinally:\n    print(1)\nt.join()\n", EVERY_KIND),
    # an endless loop left only by break, to the join
    ("while True:\n    if g():\n        break\nt.join()\n", []),
    # a break in a loop body with a finally still reaches the join after the loop
    ("for x in g():\n    try:\n        if x:\n            break\n    finally:\n"
     "        print(x)\nt.join()\n", []),
    # match: every case falls through to the join. No skip on 3.9: libcst reads a match
    # statement on every Python (CPython's guard refuses it there, and libcst still
    # parses it), so the findings must be the same there too.
    ("match skip:\n    case 1:\n        g()\n    case _:\n        pass\nt.join()\n", []),
    # the release inside a `return` statement
    ("return t.join()\n", EVERY_KIND),
])
def test_released_on_every_path(body, kinds):
    assert messages(with_body(body), kinds) == []


@pytest.mark.parametrize("body, where", [
    ("try:\n    if skip:\n        return 1\nfinally:\n    print(1)\nt.join()\n", "on the `return` at line 8"),
    ("for x in g():\n    try:\n        return x\n    finally:\n        print(x)\nt.join()\n",
     "on the `return` at line 8"),
    ("match skip:\n    case 1:\n        raise ValueError\nt.join()\n", "on the `raise` at line 8"),
    ("while True:\n    if g():\n        return\n    break\nt.join()\n", "on the `return` at line 8"),
])
def test_skipped(body, where):
    found = messages(with_body(body))
    assert len(found) == 1 and found[0][2].endswith(where), found


def test_nested_finally_copies_are_bounded(monkeypatch):
    # Each `finally` is built once per way in; past MAX_NODES the function is not checked.
    from leaklint import flow

    body = "if skip:\n    return 1\nt.join()\n"
    for _ in range(3):
        body = "try:\n" + textwrap.indent(body, "    ") + "finally:\n    print(1)\n"
    source = with_body("if skip:\n    return 2\n" + body)
    assert messages(source) != []
    monkeypatch.setattr(flow, "MAX_NODES", 5)
    assert messages(source) == []
