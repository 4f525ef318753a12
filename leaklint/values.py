"""Following values through a file: the one mechanism every rule family uses.

Two directions, both built on `FileIndex` (bindings, `assigned_value`, `alternatives`):

- backward, `value_sources(expr)`: which calls can this expression be the result of?
  (`s.get(url)` -> `s = requests.Session()`); the timeout and wait rules type a
  receiver this way.
- forward, from a value (a creation call) to every place it reaches: names and their
  aliases, containers, `self` attributes across the class, module globals, and the
  parameters of the local functions it is handed to (directly, as a thread or process
  target, through `functools.partial`, `executor.submit`, ...). `lifecycle.track` and the
  queue family's `analyze` are both this tracer with different hooks.
"""
from __future__ import annotations

from typing import List, Optional, Set

import libcst as cst

from leaklint.index import FileIndex


def _is_none(expr: Optional[cst.CSTNode]) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


# ------------------------------------------------------------------ backward: sources
def assignment_value(index: FileIndex, target: cst.CSTNode):
    """The value assigned to an assignment target; (False, None) when not an assignment.
    An unknown value (`self.s += x`, `self.s, n = f()`) is the statement itself."""
    is_store, value = index.assigned_value(target)
    if is_store and value is None:
        return True, index.parent.get(target)  # unknown value
    return is_store, value


def value_sources(index: FileIndex, expr: cst.CSTNode, depth: int = 0) -> Optional[List[cst.Call]]:
    """The calls `expr` provably evaluates to the result of (any one of them), or None
    when its origin is unknown. `None` assignments are ignored (`self.s = None` then
    `self.s = Session()`)."""
    if depth > 4:
        return None
    if isinstance(expr, cst.Call):
        return [expr]
    if isinstance(expr, (cst.IfExp, cst.BooleanOperation)):
        branches = index.alternatives(expr)
        if branches == [expr]:
            return None  # `a and b`
        return _sources_of_values(index, branches, depth)
    if isinstance(expr, cst.Name):
        bindings = index.bindings_of(expr)
        if not bindings:
            return None
        values: List = []
        for b in bindings:
            if b.kind in ("assign", "annassign", "walrus") and b.value is not None:
                # `s = Session() if a else None`, `s = s or Session()`: each branch
                values.extend(index.alternatives(b.value, b.target))
            else:
                values.append(b.value if b.kind in ("assign", "annassign", "with", "walrus") else b)
        return _sources_of_values(index, values, depth)
    if isinstance(expr, cst.Attribute):
        info = index.class_of_self(expr.value)
        if info is None:
            return None
        attr = expr.attr.value
        family = index.class_family(info)
        own: Set[cst.Attribute] = set()
        for member in family:
            own.update(member.self_attrs.get(attr, ()))
        values = []
        for node in own:
            is_store, value = assignment_value(index, node)
            if is_store:
                # `self.http = self.http or PoolManager()`: the other stores, and the call
                values.extend(index.alternatives(value, node))
        # Stored from outside the class (`client.session = other`): unknown. Another
        # class's own `self.session` is another object's attribute: it does not count.
        all_self = index.self_attribute_nodes()
        for node in index.attributes_by_name.get(attr, ()):
            if node not in own and node not in all_self and assignment_value(index, node)[0]:
                return None
        # A class-level default (`session = None` in the class body).
        for member in family:
            for binding in member.scope.bindings.get(attr, ()):
                values.append(binding.value if binding.kind in ("assign", "annassign") else binding)
        if not values:
            return None
        return _sources_of_values(index, values, depth)
    return None


def _sources_of_values(index, values, depth) -> Optional[List[cst.Call]]:
    sources: List[cst.Call] = []
    for value in values:
        if value is None or isinstance(value, (cst.AugAssign,)) or not isinstance(value, cst.CSTNode):
            return None
        if _is_none(value):
            continue
        if isinstance(value, cst.Call):
            sources.append(value)
        elif isinstance(value, (cst.Name, cst.Attribute)):
            sub = value_sources(index, value, depth + 1)
            if sub is None:
                return None
            sources.extend(sub)
        else:
            return None
    return sources or None
