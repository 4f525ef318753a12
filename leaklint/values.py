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

from typing import Callable, Dict, List, Optional, Set

import libcst as cst

from leaklint.index import FileIndex, walk


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
        return _built_by_factory(index, expr) or [expr]
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
        from leaklint.summaries import fresh_of  # summaries imports lifecycle, which imports this

        if fresh_of(index, expr) is not None:
            # A property that builds the value (`@cached_property def session(self):
            # return requests.Session()`).
            return _built_by_factory(index, expr)
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
            sources.extend(_built_by_factory(index, value) or [value])
        elif isinstance(value, (cst.Name, cst.Attribute)):
            sub = value_sources(index, value, depth + 1)
            if sub is None:
                return None
            sources.extend(sub)
        else:
            return None
    return sources or None


# Attributes whose setting changes how a client sends or times out its calls: a factory
# that sets one (`s.request = functools.partial(s.request, timeout=5)`) configures it.
_CONFIGURING_STORES = frozenset({
    "request", "send", "get", "post", "put", "patch", "delete", "head", "options", "open",
    "urlopen", "timeout", "adapters"})


def _built_by_factory(index: FileIndex, node: cst.CSTNode) -> Optional[List[cst.Call]]:
    """For a call to a factory of this file (`self._make_session()`) or a read of a
    property building the value, the constructor calls inside it: what the value is,
    with the constructor's own arguments (`PoolManager(timeout=5)`). None when the
    factory does more to the value than set plain attributes (`s.mount(...)` may install
    a timeout): the value is then of unknown make."""
    from leaklint.summaries import factory_sources, fresh_of  # see value_sources

    sources = factory_sources(index, node)
    if not sources:
        return None
    fresh = fresh_of(index, node)
    if fresh is None or fresh.calls or _CONFIGURING_STORES & set(fresh.stores):
        return None
    return sources


def single_binding_value(index: FileIndex, name: cst.Name) -> Optional[cst.CSTNode]:
    """The value of a name bound exactly once (an assignment or a `with ... as`)."""
    bindings = index.bindings_of(name)
    if len(bindings) == 1 and bindings[0].kind in ("assign", "with", "annassign"):
        return bindings[0].value
    return None


def is_result_of(index: FileIndex, expr: cst.CSTNode, names, depth: int = 0) -> bool:
    """`expr` evaluates to the result of a call to one of `names` (directly or through a
    name bound once to such a call)."""
    if isinstance(expr, cst.Call):
        return index.call_name(expr) in names
    if isinstance(expr, cst.Name) and depth < 3:
        value = single_binding_value(index, expr)
        return value is not None and is_result_of(index, value, names, depth + 1)
    return False


# ------------------------------------------------------- calls that run a callable
# What the forward tracer needs to follow a value into the function it is handed to.
THREAD_FACTORIES = frozenset({"threading.Thread", "multiprocessing.Process",
                              "multiprocessing.context.Process"})
CONTEXT_FACTORIES = frozenset({"multiprocessing.get_context"})
PARTIALS = frozenset({"functools.partial"})


def positional_args(call: cst.Call) -> List[cst.Arg]:
    return [a for a in call.args if a.keyword is None and not a.star]


def _keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def is_context_process(index: FileIndex, call: cst.Call) -> bool:
    """`get_context("spawn").Process(...)`."""
    func = call.func
    return (isinstance(func, cst.Attribute) and func.attr.value == "Process"
            and is_result_of(index, func.value, CONTEXT_FACTORIES))


def spawned_callable(index: FileIndex, call: cst.Call):
    """For a call that runs a callable later, (callable expr, the `args` Arg holding a
    tuple of its arguments or None, list of positional Args passed straight through or
    None). None when `call` is not such a call."""
    name = index.call_name(call)
    func = call.func
    if name in THREAD_FACTORIES or is_context_process(index, call):
        target = _keyword(call, "target")
        args = _keyword(call, "args")
        if target is None:
            return None
        if args is not None and not isinstance(args.value, cst.Tuple):
            return None
        return target.value, args, None
    if isinstance(func, cst.Attribute):
        method = func.attr.value
        pos = positional_args(call)
        if name == "asyncio.to_thread" or method in ("submit", "to_thread", "call_soon",
                                                     "call_soon_threadsafe", "apply_async",
                                                     "start_new_thread"):
            if method in ("apply_async", "start_new_thread"):
                if len(pos) >= 1:
                    args = pos[1] if len(pos) > 1 else _keyword(call, "args")
                    if args is not None and not isinstance(args.value, cst.Tuple):
                        return None
                    return pos[0].value, args, None
                return None
            if pos:
                return pos[0].value, None, pos[1:]
        if method == "run_in_executor" and len(pos) >= 2:
            return pos[1].value, None, pos[2:]
    elif name == "asyncio.to_thread":
        pos = positional_args(call)
        if pos:
            return pos[0].value, None, pos[1:]
    return None


def _is_static(method: cst.FunctionDef) -> bool:
    for decorator in method.decorators:
        if isinstance(decorator.decorator, cst.Name) and decorator.decorator.value == "staticmethod":
            return True
    return False


def resolve_callable(index: FileIndex, expr: Optional[cst.CSTNode], depth: int = 0):
    """(FunctionDef or Lambda of this file, number of leading parameters already bound)
    that calling `expr` runs: a lambda, a function, a local class's `__init__`, a method
    of `self`'s class, a `functools.partial` of one, a parameter every caller in the file
    fills with the same one; (None, 0) when unknown."""
    if expr is None or depth > 2:
        return None, 0
    if isinstance(expr, cst.Lambda):
        return expr, 0
    if isinstance(expr, cst.Name):
        bindings = index.bindings_of(expr)
        if len(bindings) == 1:
            binding = bindings[0]
            if binding.kind == "def" and isinstance(binding.node, cst.FunctionDef):
                return binding.node, (1 if binding.scope.kind == "class" else 0)
            if binding.kind == "class" and isinstance(binding.node, cst.ClassDef):
                info = index.classes.get(binding.node)
                if info is not None and "__init__" in info.methods:
                    return info.methods["__init__"], 1
            if binding.kind == "assign" and isinstance(binding.value, cst.Call):
                if index.call_name(binding.value) in PARTIALS:
                    return _partial(index, binding.value)
            if binding.kind == "param" and isinstance(binding.node, cst.FunctionDef):
                return _passed_callable(index, binding.node, expr.value, depth)
        return None, 0
    if isinstance(expr, cst.Attribute):
        info = index.class_of_self(expr.value)
        if info is not None:
            for member in index.class_family(info):
                method = member.methods.get(expr.attr.value)
                if method is not None:
                    if _is_static(method):
                        return method, 0
                    return method, 1
        return None, 0
    if isinstance(expr, cst.Call) and index.call_name(expr) in PARTIALS:
        return _partial(index, expr)
    return None, 0


def _passed_callable(index: FileIndex, func: cst.FunctionDef, param: str, depth: int):
    """`def run(target, q): Process(target=target, args=(q,))`: the function every call
    of `run` in the file passes as `target`, when they all pass the same one and `run`
    is used nowhere else (a reference handed out may be called with anything)."""
    scope = index.scope_of_node.get(func)
    outer = scope.parent if scope is not None else None
    if outer is None or outer.kind not in ("module", "function"):
        return None, 0  # a method: its callers are not all visible
    if len(outer.bindings.get(func.name.value, ())) != 1:
        return None, 0
    params = func.params
    ordered = [p.name.value for p in (*params.posonly_params, *params.params)]
    keywords = ordered + [p.name.value for p in params.kwonly_params]
    if param not in keywords:
        return None, 0
    found = None
    for use in index.uses(outer, func.name.value):
        call = index.parent.get(use)
        if not (isinstance(call, cst.Call) and call.func is use) or any(a.star for a in call.args):
            return None, 0
        arg = _keyword(call, param)
        if arg is None and param in ordered:
            passed = positional_args(call)
            position = ordered.index(param)
            arg = passed[position] if position < len(passed) else None
        if arg is None:
            return None, 0  # the default
        target = resolve_callable(index, arg.value, depth + 1)
        if target[0] is None or (found is not None and target != found):
            return None, 0
        found = target
    return found if found is not None else (None, 0)


def _partial(index: FileIndex, call: cst.Call):
    args = positional_args(call)
    if not args or len(args) != len([a for a in call.args if a.keyword is None]):
        return None, 0
    func, offset = resolve_callable(index, args[0].value)
    if func is None:
        return None, 0
    return func, offset + len(args) - 1


def source_order(index: FileIndex, root: cst.CSTNode) -> Dict[int, int]:
    """Each node under `root` (by id) -> its position in source order; cached per file."""
    cache = index.shared.get("source_order")
    if cache is None:
        cache = index.shared["source_order"] = {}
    order = cache.get(id(root))
    if order is None:
        order = {id(node): number for number, node in enumerate(walk(root))}
        cache[id(root)] = order
    return order


# ------------------------------------------- what a `*args` or `**kwargs` carries
# Both answer None whenever anything could add to the container unseen: a parameter,
# a container passed to a call, stored, returned, or changed in a way not read here.
_READ_ONLY_METHODS = frozenset({"get", "keys", "items", "values", "copy", "pop", "count",
                                "index", "__contains__"})


def sequence_items(index: FileIndex, expr: cst.CSTNode, depth: int = 0
                   ) -> Optional[List[cst.CSTNode]]:
    """The items `*expr` spreads, when every one is visible: a list or tuple literal,
    or a local name bound to one and only added to by `append`/`extend`/`insert` of
    visible items (`handlers = [ProxyHandler(p)]; handlers.append(HTTPSHandler(...))`)."""
    if depth > 3:
        return None
    if isinstance(expr, (cst.List, cst.Tuple)):
        items: List[cst.CSTNode] = []
        for element in expr.elements:
            if isinstance(element, cst.StarredElement):
                inner = sequence_items(index, element.value, depth + 1)
                if inner is None:
                    return None
                items.extend(inner)
            else:
                items.append(element.value)
        return items
    if not isinstance(expr, cst.Name):
        return None
    parts = _built_locally(index, expr, depth, sequence_items, _items_added)
    return None if parts is None else [item for part in parts for item in part]


def _built_locally(index: FileIndex, name: cst.Name, depth: int, contents: Callable,
                   added_by: Callable) -> Optional[list]:
    """For a function's local `name` bound only by plain assignments: `contents(value)` of
    each value bound to it and `added_by(use)` of each other use (what that use adds to
    the container). None when one of them is unknown, or the name is not such a local."""
    scope = index.binding_scope(name)
    bindings = index.bindings_of(name)
    if scope is None or scope is index.module_scope or not bindings:
        return None
    parts = []
    for binding in bindings:
        if binding.kind != "assign" or binding.value is None:
            return None
        inner = contents(index, binding.value, depth + 1)
        if inner is None:
            return None
        parts.append(inner)
    for use in index.uses(scope, name.value):
        if use is name:
            continue
        added = added_by(index, use, depth)
        if added is None:
            return None
        parts.append(added)
    return parts


def _items_added(index: FileIndex, use: cst.Name, depth: int) -> Optional[List[cst.CSTNode]]:
    """What one use of a sequence adds to it ([] for a read); None when unknown."""
    parent = index.parent.get(use)
    if isinstance(parent, cst.Arg):
        call = index.parent.get(parent)
        if (isinstance(call, cst.Call) and parent.star == "*") or (
                isinstance(call, cst.Call) and index.call_name(call) == "builtins.len"):
            return []  # spread into another call, or counted: read
        return None
    if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is use:
        return []
    if isinstance(parent, (cst.If, cst.While, cst.Comparison, cst.ComparisonTarget,
                           cst.UnaryOperation)):
        return []
    if isinstance(parent, cst.Attribute) and parent.value is use:
        call = index.parent.get(parent)
        if not (isinstance(call, cst.Call) and call.func is parent):
            return None
        method = parent.attr.value
        args = [a for a in call.args if not a.star and a.keyword is None]
        if len(args) != len(call.args):
            return None
        if method == "append" and len(args) == 1:
            return [args[0].value]
        if method == "insert" and len(args) == 2:
            return [args[1].value]
        if method == "extend" and len(args) == 1:
            return sequence_items(index, args[0].value, depth + 1)
        if method in _READ_ONLY_METHODS:
            return []
        return None
    return None


def mapping_keys(index: FileIndex, expr: cst.CSTNode, depth: int = 0) -> Optional[Set[str]]:
    """The keys `**expr` may pass, when all are visible: a dict literal with string keys,
    `dict(a=..)`, or a local name bound to those and only changed by `d["k"] = ...`,
    `d.update(...)`/`d.setdefault("k", ...)` of visible keys; reads (`d.get`, `**d`, `in`)
    are fine. None when a key may be added unseen."""
    if depth > 3:
        return None
    if isinstance(expr, cst.Dict):
        keys: Set[str] = set()
        for element in expr.elements:
            if isinstance(element, cst.StarredDictElement):
                inner = mapping_keys(index, element.value, depth + 1)
                if inner is None:
                    return None
                keys |= inner
            elif isinstance(element, cst.DictElement):
                key = _string(element.key)
                if key is None:
                    return None
                keys.add(key)
        return keys
    if isinstance(expr, cst.Call) and index.call_name(expr) == "builtins.dict":
        return _call_keys(index, expr, depth)
    if not isinstance(expr, cst.Name):
        return None
    parts = _built_locally(index, expr, depth, mapping_keys, _keys_added)
    return None if parts is None else set().union(*parts)


def _string(expr: Optional[cst.CSTNode]) -> Optional[str]:
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _call_keys(index: FileIndex, call: cst.Call, depth: int) -> Optional[Set[str]]:
    """The keys `dict(...)` / `d.update(...)` adds."""
    keys: Set[str] = set()
    for arg in call.args:
        if arg.keyword is not None:
            keys.add(arg.keyword.value)
            continue
        inner = mapping_keys(index, arg.value, depth + 1)
        if inner is None:
            return None
        keys |= inner
    return keys


def _keys_added(index: FileIndex, use: cst.Name, depth: int) -> Optional[Set[str]]:
    """The keys one use of a dict adds to it (empty for a read); None when unknown."""
    parent = index.parent.get(use)
    if isinstance(parent, cst.Arg):
        call = index.parent.get(parent)
        if isinstance(call, cst.Call) and parent.star == "**":
            return set()  # spread into a call: read
        return None
    if isinstance(parent, (cst.If, cst.While, cst.Comparison, cst.ComparisonTarget,
                           cst.UnaryOperation)):
        return set()
    if isinstance(parent, cst.Subscript) and parent.value is use:
        is_store, _ = index.assigned_value(parent)
        if not is_store:
            return set()  # `d["k"]`, `del d["k"]`
        elements = parent.slice
        key = _string(elements[0].slice.value) if (
            len(elements) == 1 and isinstance(elements[0].slice, cst.Index)) else None
        return {key} if key is not None else None
    if isinstance(parent, cst.Attribute) and parent.value is use:
        call = index.parent.get(parent)
        if not (isinstance(call, cst.Call) and call.func is parent):
            return None
        method = parent.attr.value
        if method == "update":
            return _call_keys(index, call, depth)
        if method == "setdefault" and call.args:
            key = _string(call.args[0].value)
            return {key} if key is not None else None
        if method in _READ_ONLY_METHODS:
            return set()
        return None
    return None
