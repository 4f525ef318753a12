"""What the thread rules share: finding thread creations and reading their options."""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

import libcst as cst

from leaklint.index import FileIndex, walk

THREAD_CLASSES = frozenset({"threading.Thread"})
TIMER_CLASSES = frozenset({"threading.Timer"})


def keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def is_false(expr: cst.CSTNode) -> bool:
    return isinstance(expr, cst.Name) and expr.value in ("False", "None")


def has_star_kwargs(call: cst.Call) -> bool:
    return any(arg.star == "**" for arg in call.args)


def class_sets_daemon(index: FileIndex, classdef: cst.ClassDef) -> bool:
    """A Thread subclass that makes itself a daemon (`daemon = True` in the body,
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


def thread_creations(index: FileIndex, classes) -> Iterator[Tuple[cst.Call, Optional[cst.ClassDef]]]:
    """Calls constructing one of `classes` or a subclass defined in this file."""
    for call in index.calls:
        name = index.call_name(call)
        if name in classes:
            yield call, None
            continue
        local = index.local_class(call.func)
        if local is not None and index.class_inherits(local, classes):
            yield call, local


def describe_target(index: FileIndex, call: cst.Call, subclass, positional: int) -> str:
    if subclass is not None:
        return f"`{subclass.name.value}`"
    arg = keyword(call, "target") or keyword(call, "function")
    if arg is None:
        positionals = [a for a in call.args if a.keyword is None and not a.star]
        if len(positionals) > positional:
            arg = positionals[positional]
    if arg is None:
        return ""
    text = " ".join(index.module.code_for_node(arg.value).split())
    return f"`{text}`" if len(text) <= 60 else ""
