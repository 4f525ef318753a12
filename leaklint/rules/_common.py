"""Small helpers every rule family uses: reading a call's arguments, recognising
constants, quoting source, and telling a creation that is meant to fail (a test of an
error path) from a real one. Threads and processes share the daemon helpers."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from leaklint.flow import describe
from leaklint.index import FileIndex, walk
from leaklint.option_checks import path_kinds
from leaklint.rules.base import Option


# -- arguments ---------------------------------------------------------------------
def keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def has_star_kwargs(call: cst.Call) -> bool:
    return any(arg.star == "**" for arg in call.args)


def argument(call: cst.Call, name: str, position: Optional[int]) -> Optional[cst.CSTNode]:
    """The value passed as `name=` or at `position`; None when absent or when a `*args`
    before the position makes it unknowable."""
    arg = keyword(call, name)
    if arg is not None:
        return arg.value
    if position is None:
        return None
    count = 0
    for arg in call.args:
        if arg.keyword is not None or arg.star == "**":
            continue
        if arg.star == "*":
            return None
        if count == position:
            return arg.value
        count += 1
    return None


# -- constants and source ----------------------------------------------------------
def is_none(expr: Optional[cst.CSTNode]) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def is_false(expr: Optional[cst.CSTNode]) -> bool:
    """`False` or `None`: a flag that is off."""
    return isinstance(expr, cst.Name) and expr.value in ("False", "None")


def is_false_flag(index: Optional[FileIndex], expr: Optional[cst.CSTNode]) -> bool:
    """`False`/`None`, or `self.X` where the class body sets `X = False` and nothing
    changes it (`t.daemon = self.daemon_threads` with `daemon_threads = False`)."""
    if is_false(expr):
        return True
    return index is not None and expr is not None and is_false(index.class_constant(expr))


def short_source(index: FileIndex, node: cst.CSTNode, limit: int = 60, ellipsis: bool = False) -> str:
    """The node's code on one line; longer than `limit`: cut with "..." or, without
    `ellipsis`, the empty string (the caller then leaves it out of the message)."""
    text = " ".join(index.module.code_for_node(node).split())
    if len(text) <= limit:
        return text
    return text[: limit - 3] + "..." if ellipsis else ""


# -- creations meant to fail ------------------------------------------------------
RAISES_METHODS = frozenset({"assertRaises", "assertRaisesRegex", "assertRaisesRegexp"})
RAISES_FUNCTIONS = frozenset({"pytest.raises"})


def is_raises_call(index: FileIndex, expr: cst.CSTNode) -> bool:
    """`self.assertRaises(...)` / `pytest.raises(...)`."""
    if not isinstance(expr, cst.Call):
        return False
    if isinstance(expr.func, cst.Attribute) and expr.func.attr.value in RAISES_METHODS:
        return True
    return index.call_name(expr) in RAISES_FUNCTIONS


def _block_fails(block: cst.CSTNode) -> bool:
    """An `else:` of a `try` that raises or calls `fail(...)`: the try was expected to raise."""
    for node in walk(block):
        if isinstance(node, cst.Raise):
            return True
        if isinstance(node, cst.Call):
            func = node.func
            name = func.attr.value if isinstance(func, cst.Attribute) else (
                func.value if isinstance(func, cst.Name) else "")
            if name == "fail":
                return True
    return False


def expected_to_fail(index: FileIndex, node: cst.CSTNode) -> bool:
    """`node` is meant to raise: it sits in `with self.assertRaises(...)` /
    `pytest.raises(...)`, or in a `try:` whose `else:` fails the test. Nothing is created."""
    child: cst.CSTNode = node
    for ancestor in index.ancestors(node):
        if isinstance(ancestor, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return False
        if isinstance(ancestor, cst.With) and child is ancestor.body:
            if any(is_raises_call(index, item.item) for item in ancestor.items):
                return True
        if (isinstance(ancestor, cst.Try) and child is ancestor.body
                and ancestor.orelse is not None and _block_fails(ancestor.orelse)):
            return True
        child = ancestor
    return False


# -- daemon threads and processes ----------------------------------------------------
def class_sets_daemon(classdef: cst.ClassDef) -> bool:
    """A Thread/Process subclass that makes itself a daemon (`daemon = True` in the body,
    `self.daemon = True`, `setDaemon(True)`, or `daemon=` passed to the base __init__)."""
    for node in walk(classdef.body):
        if isinstance(node, cst.Call):
            arg = keyword(node, "daemon")
            if arg is not None and not is_false(arg.value):
                return True
            if isinstance(node.func, cst.Attribute) and node.func.attr.value == "setDaemon":
                return True
        elif isinstance(node, cst.AssignTarget):
            target = node.target
            name = target.attr.value if isinstance(target, cst.Attribute) else (
                target.value if isinstance(target, cst.Name) else None)
            if name == "daemon":
                return True
    return False


def class_starts_itself(classdef: cst.ClassDef) -> bool:
    """`self.start()` inside the class's __init__: created means started."""
    for statement in classdef.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == "__init__":
            for node in walk(statement.body):
                if (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
                        and node.func.attr.value == "start"
                        and isinstance(node.func.value, cst.Name)
                        and node.func.value.value == "self"):
                    return True
    return False


def created_as_daemon(call: cst.Call, subclass: Optional[cst.ClassDef],
                      index: Optional[FileIndex] = None) -> bool:
    """`daemon=<not False>` at creation, `**options` that may carry it, or a subclass that
    makes itself a daemon."""
    daemon = keyword(call, "daemon")
    if daemon is not None:
        return not is_false_flag(index, daemon.value)
    if has_star_kwargs(call):
        return True
    return subclass is not None and class_sets_daemon(subclass)


def creation_is_daemon(index: FileIndex, creation) -> bool:
    """`created_as_daemon` for a creation of leaklint.summaries: a factory's value is a
    daemon when the factory made it one (its own call's arguments are the factory's)."""
    subclass = creation.subclass
    if creation.fresh is not None:
        return creation.fresh.daemon or (subclass is not None and class_sets_daemon(subclass))
    return created_as_daemon(creation.node, subclass, index)


def made_daemon(lifecycle, index: Optional[FileIndex] = None) -> bool:
    """`t.daemon = <not False>` or `t.setDaemon(<not False>)` somewhere on its way."""
    if any(value is None or not is_false_flag(index, value)
           for value in lifecycle.attribute_stores.get("daemon", ())):
        return True
    return any(not (c.args and is_false_flag(index, c.args[0].value))
               for c in lifecycle.method_calls.get("setDaemon", ()))


# -- documentation shared by the lifecycle rules ------------------------------------
# Appended to the `what_it_does` of every rule that finds creations through
# leaklint.summaries.creations().
FACTORIES_DOC = (
    " A call of a factory of the module (a function or method that returns a fresh one it "
    "created; started, made a daemon, or released by it as its body says) counts as a "
    "creation and is reported at the call, naming the factory; so does the first read of a "
    "`@property` / `cached_property` that builds one. A function returning a parameter, a "
    "global, a shared `self` attribute, or a value it also stores elsewhere is not a factory.")


# -- message parts -------------------------------------------------------------------
# Messages say what leaks in one short line (the fix travels in Report.fix); code in
# them is always quoted with backticks, and a quoted snippet is at most this long, so
# that no message grows past 160 characters.
SNIPPET_LIMIT = 32


def quote_callable(index: FileIndex, func: cst.CSTNode, suffix: str = "()") -> str:
    """`download()`, `self.beat()`: what a thread or task runs, quoted; when too long, the
    method's own name (`_fanout_multi_ring_request()`); "" when that is too long too."""
    text = " ".join(index.module.code_for_node(func).split()) + suffix
    if len(text) > SNIPPET_LIMIT and isinstance(func, cst.Attribute):
        text = func.attr.value + suffix
    return f"`{text}`" if len(text) <= SNIPPET_LIMIT else ""


def held_as(holder: str, creation: cst.CSTNode, index: FileIndex) -> str:
    """Where a message says a resource is kept: " `t`" (a name), " in `threads`" (an
    element of a container), or "" (discarded, or a name too long to quote)."""
    if not (holder.startswith("'") and holder.endswith("'")):
        return ""
    name = holder.strip("'")
    if len(name) > SNIPPET_LIMIT:
        return ""
    parent = index.parent.get(creation)
    if isinstance(parent, (cst.Arg, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
        return f" in `{name}`"
    return f" `{name}`"


def owned_by_class(holder: str) -> bool:
    """The resource is kept on `self` (or `cls`): every method of the class could release it."""
    return holder.strip("'").startswith(("self.", "cls."))


def unreleased(index: FileIndex, lifecycle, past: str, present: str) -> str:
    """What a message says was not done: "never joined", "no method of the class joins
    it", or, for a value released on some paths only, "not joined on the `return` at line
    42" / "not joined when `f()` raises" (see lifecycle's `skipped`)."""
    if lifecycle.skipped is not None:
        return f"not {past} {describe(index, lifecycle.skipped, SNIPPET_LIMIT)}"
    return never(lifecycle.holder, past, present)


# Said in the docs of each rule whose kind is checked on every path.
EVERY_PATH_DOC = (
    " A resource held only in local names of one function and released there must be "
    "released on every way out after it is started (or created, when nothing starts it): "
    "an early `return`, `raise`, `break` or `continue` that skips the release is "
    "reported, and the message names it (\"not joined on the `return` at line 42\"). A "
    "release in `finally`, a `with` block, `ExitStack`, `addCleanup`, or in an `except` "
    "that re-raises plus the normal path counts on every path; a release in only one "
    "branch of an `if` with no early exit (`if wait: t.join()`) is a choice and is not "
    "reported. A call that raises before the release is a way out only for the kinds "
    "named in the `exception-paths` option.")


EXCEPTION_PATHS = Option(
    "exception-paths", list, [],
    "Kinds of resource (any of `thread`, `timer`, `process`, `pool`, `executor`, "
    "`subprocess`) also reported when they are released on the normal path but not when "
    "a call before the release raises (`t.start(); f(); t.cancel()` with no "
    "`try/finally` or `with`), like `[\"timer\", \"pool\"]` for long-running code. "
    "None by default (on the corpus of real projects, most such findings were in code "
    "where the exception ends the program or the test); an early `return`, `raise`, "
    "`break` or `continue` that skips the release is always reported.",
    check=path_kinds)


def never(holder: str, past: str, present: str) -> str:
    """"never joined", or for a resource kept on `self`, "no method of the class joins
    it" (past: "joined", present: "joins it")."""
    if owned_by_class(holder):
        return f"no method of the class {present}"
    return f"never {past}"
