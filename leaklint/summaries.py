"""Function summaries, and what a call creates.

A *summary* says what one function, method or property of a module does with the
resources it touches, in plain data (strings, ints, tuples, no libcst node), so that it can
be computed once per module, cached by file content as JSON, and consulted for functions
imported from another module (issue 17's project pass):

- `returns`: the fresh values it returns (or, for a `@contextmanager`, yields) on every
  path: created right there by a constructor (`threading.Thread(...)`), a class of the
  module, or another factory, and not kept anywhere else. Each is a `Fresh`: the class's
  qualified name and what the function already did to it (methods called: `start`;
  attributes set: `daemon`). Empty when any returned value is not such a fresh value (a
  parameter, a global, `self._pool`, a value also stored elsewhere): not a factory.
- `params`: per parameter, the methods called on it and whether it escapes (returned,
  stored, passed on): "releases its parameter" is `calls` meeting a kind's release methods.
- `self_calls`: for a method, the `(attribute, method)` pairs of `self.X.m()` calls:
  "joins `self._t`" is `("_t", "join")`.

Summaries are computed lazily, one function at a time, when a call to it is asked about
(`summary_of`), and kept in `index.shared`; `module_summaries` computes them all.

`created(index, call)` answers "what does this call create?" for a constructor and for a
call to a factory of the module alike; `creations(index, classes)` enumerates every
creation of some classes (constructors, local subclasses, factory calls, and the reads of
a `@property` / `cached_property` that builds one), which the rule families use instead of
matching qualified names themselves. `track_creation` follows one such creation with the
lifecycle tracer, counting what the factory already did (a factory that starts its thread
makes each caller's thread started).
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Collection, Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

import libcst as cst

from leaklint.index import ClassInfo, FileIndex, iter_children
from leaklint.lifecycle import (
    LOGGING_METHODS,
    NEUTRAL_BUILTINS,
    Lifecycle,
    ResourceKind,
    track,
    track_self_attribute,
)

# Bump when the meaning of a field changes: cached summaries of another version are stale.
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Fresh:
    """A fresh value a factory hands out."""

    # Qualified name of what constructs it ("threading.Thread", "requests.session"); for a
    # class of the module, its dotted path there ("Worker", "Outer.Inner").
    cls: str
    local_class: bool = False
    # For a class of the module: the qualified names of the other modules' classes it
    # derives from (through the module's own classes), sorted.
    bases: Tuple[str, ...] = ()
    # Methods the factory calls on it before handing it out ("start"), sorted.
    calls: Tuple[str, ...] = ()
    # Attributes the factory sets on it ("daemon", "headers"), sorted.
    stores: Tuple[str, ...] = ()
    # Made a daemon: `daemon=` not False (or `**kwargs` that may carry it) at creation,
    # `x.daemon = <not False>`, `x.setDaemon(...)`.
    daemon: bool = False


@dataclass(frozen=True)
class ParamUse:
    """What a function does with one of its parameters."""

    name: str
    position: Optional[int]  # index among the positional parameters, `self` counted; None: keyword-only
    calls: Tuple[str, ...] = ()  # methods called on it, sorted ("__enter__" for `with p:`, "await")
    escapes: bool = False  # returned, stored, passed to another call: someone else may release it


@dataclass(frozen=True)
class FunctionSummary:
    qualname: str  # dotted path in the module: "start_worker", "Client._make_session"
    # "function", "method", "property" (property / cached_property: read, not called),
    # "contextmanager" (`returns` is what it yields), "async" (never a factory today).
    kind: str = "function"
    returns: Tuple[Fresh, ...] = ()  # empty: not a factory
    params: Tuple[ParamUse, ...] = ()
    self_calls: Tuple[Tuple[str, str], ...] = ()  # sorted (attribute, method) pairs

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "FunctionSummary":
        return cls(
            qualname=data["qualname"], kind=data["kind"],
            returns=tuple(Fresh(**{**item, "bases": tuple(item["bases"]),
                                   "calls": tuple(item["calls"]),
                                   "stores": tuple(item["stores"])})
                          for item in data["returns"]),
            params=tuple(ParamUse(**{**item, "calls": tuple(item["calls"])})
                         for item in data["params"]),
            self_calls=tuple((a, m) for a, m in data["self_calls"]))

    @property
    def fresh(self) -> Optional[Fresh]:
        """The one fresh value every path returns, or None (not a factory, or several
        values the factory treats differently)."""
        return self.returns[0] if len(self.returns) == 1 else None


def dumps(summaries: Dict[str, FunctionSummary]) -> str:
    """A module's summaries as JSON text (the format a cache keeps)."""
    return json.dumps({"version": FORMAT_VERSION,
                       "functions": [s.to_json() for s in summaries.values()]}, sort_keys=True)


def loads(text: str) -> Optional[Dict[str, FunctionSummary]]:
    """The summaries `dumps` wrote; None for another format version."""
    data = json.loads(text)
    if data.get("version") != FORMAT_VERSION:
        return None
    return {item["qualname"]: FunctionSummary.from_json(item) for item in data["functions"]}


# ===================================================================== computing summaries
_PROPERTY_DECORATORS = frozenset({"property", "cached_property"})
_PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod"})
_CONTEXT_DECORATORS = frozenset({"contextmanager"})
_MAX_DEPTH = 4  # factories calling factories


def _decorator_names(func: cst.FunctionDef) -> List[str]:
    """The last dotted component of each decorator (`functools.cached_property` ->
    "cached_property"); "?" for a decorator called with arguments or of another shape."""
    names = []
    for decorator in func.decorators:
        expr = decorator.decorator
        if isinstance(expr, cst.Name):
            names.append(expr.value)
        elif isinstance(expr, cst.Attribute):
            names.append(expr.attr.value)
        else:
            names.append("?")
    return names


def _own_nodes(func: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """Nodes of the function's body, nested functions, lambdas and classes left out."""
    stack: List[cst.CSTNode] = [func.body]
    while stack:
        node = stack.pop()
        yield node
        for child in iter_children(node):
            if not isinstance(child, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                stack.append(child)


def _own_returns(block: cst.CSTNode) -> Iterator[cst.Return]:
    """The `return` statements of a function body, nested defs and classes left out."""
    if isinstance(block, cst.SimpleStatementLine):
        for small in block.body:
            if isinstance(small, cst.Return):
                yield small
        return
    if isinstance(block, (cst.FunctionDef, cst.ClassDef)):
        return
    for name in ("body", "orelse", "handlers", "finalbody", "cases"):
        part = getattr(block, name, None)
        if isinstance(part, (list, tuple)):
            for item in part:
                yield from _own_returns(item)
        elif isinstance(part, cst.CSTNode):
            yield from _own_returns(part)


def _is_false(expr: Optional[cst.CSTNode]) -> bool:
    return isinstance(expr, cst.Name) and expr.value in ("False", "None")


def _summaries(index: FileIndex) -> Dict[cst.FunctionDef, FunctionSummary]:
    return index.shared.setdefault("summaries", {})


def _sources(index: FileIndex) -> Dict[cst.FunctionDef, List[cst.Call]]:
    """For a factory of this file, the constructor calls inside it whose results it returns
    (not part of the summary: nodes are not plain data)."""
    return index.shared.setdefault("summary_sources", {})


def summary_of(index: FileIndex, func: cst.FunctionDef, _depth: int = 0) -> FunctionSummary:
    """The summary of a function of this file (computed once)."""
    known = _summaries(index).get(func)
    if known is not None:
        return known
    # A factory calling itself (or a cycle of them) is not a factory: the placeholder
    # says so while its own summary is being computed.
    qualname = ".".join(filter(None, (index.enclosing_path(func), func.name.value)))
    _summaries(index)[func] = FunctionSummary(qualname)
    summary = _compute(index, func, qualname, _depth)
    _summaries(index)[func] = summary
    return summary


def module_summaries(index: FileIndex) -> Dict[str, FunctionSummary]:
    """Every function, method and property of the module, by dotted path (the later
    definition of a name wins, as at run time)."""
    out: Dict[str, FunctionSummary] = {}
    for scope in index.scopes:
        if scope.kind == "function" and isinstance(scope.node, cst.FunctionDef):
            summary = summary_of(index, scope.node)
            out[summary.qualname] = summary
    return out


def _compute(index: FileIndex, func: cst.FunctionDef, qualname: str, depth: int) -> FunctionSummary:
    scope = index.scope_of_node.get(func)
    decorators = _decorator_names(func)
    in_class = scope is not None and scope.class_node is not None
    if func.asynchronous is not None:
        kind = "async"
    elif any(d in _PROPERTY_DECORATORS for d in decorators):
        kind = "property"
    elif any(d in _CONTEXT_DECORATORS for d in decorators):
        kind = "contextmanager"
    else:
        kind = "method" if in_class else "function"
    params = _param_uses(index, func)
    self_calls = _self_calls(index, func)
    returns: Tuple[Fresh, ...] = ()
    known_decorators = _PROPERTY_DECORATORS | _PLAIN_DECORATORS | _CONTEXT_DECORATORS
    if kind != "async" and all(d in known_decorators for d in decorators):
        found = _returned_fresh(index, func, kind, depth)
        if found is not None:
            values, calls = found
            returns = tuple(sorted(set(values), key=repr))
            _sources(index)[func] = calls
    return FunctionSummary(qualname, kind, returns, params, self_calls)


def _returned_fresh(index: FileIndex, func: cst.FunctionDef, kind: str, depth: int
                    ) -> Optional[Tuple[List[Fresh], List[cst.Call]]]:
    """The fresh values every return (or, for a context manager, every yield) hands out,
    with their constructor calls; None when one of them is anything else."""
    returned: List[Optional[cst.CSTNode]] = []
    if kind == "contextmanager":
        for node in _own_nodes(func):
            if isinstance(node, cst.Yield):
                returned.append(node.value if isinstance(node.value, cst.BaseExpression) else None)
    else:
        # Statements only (cheap); the whole body is walked only for a candidate factory.
        returned = [r.value for r in _own_returns(func.body)]
    values: List[Fresh] = []
    calls: List[cst.Call] = []
    for value in returned:
        if value is None or (isinstance(value, cst.Name) and value.value in ("None", "False")):
            continue
        fresh = _fresh_value(index, func, value, depth)
        if fresh is None:
            return None
        values.append(fresh[0])
        calls.extend(fresh[1])
    if not values or len({(v.calls, v.stores, v.daemon) for v in values}) != 1:
        return None
    if kind != "contextmanager" and any(isinstance(node, cst.Yield) for node in _own_nodes(func)):
        return None  # a generator hands out an iterator, not what it returns
    return values, calls


def _fresh_value(index: FileIndex, func: cst.FunctionDef, value: cst.CSTNode, depth: int
                 ) -> Optional[Tuple[Fresh, List[cst.Call]]]:
    if isinstance(value, cst.Call):
        return _constructed(index, value, depth)
    if not isinstance(value, cst.Name):
        return None
    scope = index.scope_of_node.get(func)
    if scope is None or index.binding_scope(value) is not scope:
        return None  # a parameter's or an enclosing scope's value, a global
    bindings = scope.bindings.get(value.value, [])
    if len(bindings) != 1 or bindings[0].kind != "assign" or not isinstance(bindings[0].value, cst.Call):
        return None
    made = _constructed(index, bindings[0].value, depth)
    if made is None:
        return None
    fresh, calls = made
    methods = set(fresh.calls)
    stores = set(fresh.stores)
    daemon = fresh.daemon
    for use in index.uses(scope, value.value):
        parent = index.parent.get(use)
        if isinstance(parent, cst.Attribute) and parent.value is use:
            method = index.method_call(use)
            if method is not None:
                name, call = method
                methods.add(name)
                if name == "setDaemon":
                    daemon = daemon or not (call.args and _is_false(call.args[0].value))
                continue
            is_store, stored = index.assigned_value(parent)
            if is_store:
                stores.add(parent.attr.value)
                if parent.attr.value == "daemon":
                    daemon = daemon or not _is_false(stored)
            continue  # a read (`t.name`, `s.headers.update(...)`)
        if isinstance(parent, (cst.Return, cst.Yield, cst.Expr, cst.Comparison,
                               cst.ComparisonTarget, cst.If, cst.Assert)):
            continue
        if isinstance(parent, cst.Arg) and _neutral_argument(index, parent):
            continue
        return None  # stored or handed on: someone else holds it too
    return (Fresh(fresh.cls, fresh.local_class, fresh.bases, tuple(sorted(methods)),
                  tuple(sorted(stores)), daemon), calls)


def _neutral_argument(index: FileIndex, arg: cst.Arg) -> bool:
    call = index.parent.get(arg)
    if not isinstance(call, cst.Call):
        return False
    if index.call_name(call) in NEUTRAL_BUILTINS:
        return True
    return isinstance(call.func, cst.Attribute) and call.func.attr.value in LOGGING_METHODS


def _constructed(index: FileIndex, call: cst.Call, depth: int
                 ) -> Optional[Tuple[Fresh, List[cst.Call]]]:
    """What `call` makes when it is a constructor, a class of the module or a factory."""
    local = index.local_class(call.func)
    if local is not None:
        path = ".".join(filter(None, (index.enclosing_path(local), local.name.value)))
        return Fresh(path, True, _foreign_bases(index, local), daemon=_daemon_at(call)), [call]
    name = index.call_name(call)
    if name is not None:
        if name.startswith("builtins."):
            return None  # `str(x)`, `list(...)`: values, not resources
        return Fresh(name, daemon=_daemon_at(call)), [call]
    callee = callee_of(index, call)
    if callee is None or depth >= _MAX_DEPTH:
        return None
    summary = summary_of(index, callee, depth + 1)
    if summary.kind not in ("function", "method") or summary.fresh is None:
        return None
    return summary.fresh, list(_sources(index).get(callee, ()))


def _daemon_at(call: cst.Call) -> bool:
    for arg in call.args:
        if arg.star == "**":
            return True  # may carry daemon=True
        if arg.keyword is not None and arg.keyword.value == "daemon":
            return not _is_false(arg.value)
    return False


def _foreign_bases(index: FileIndex, classdef: cst.ClassDef, seen=None) -> Tuple[str, ...]:
    seen = seen if seen is not None else set()
    if classdef in seen:
        return ()
    seen.add(classdef)
    found: Set[str] = set()
    for base in classdef.bases:
        if base.keyword is not None:
            continue
        local = index.local_class(base.value)
        if local is not None:
            found.update(_foreign_bases(index, local, seen))
        else:
            name = index.qualified_name(base.value)
            if name is not None:
                found.add(name)
    return tuple(sorted(found))


def _positional_names(func: cst.FunctionDef) -> List[str]:
    params = func.params
    return [p.name.value for p in (*params.posonly_params, *params.params)]


def _param_uses(index: FileIndex, func: cst.FunctionDef) -> Tuple[ParamUse, ...]:
    scope = index.scope_of_node.get(func)
    if scope is None:
        return ()
    positional = _positional_names(func)
    out = []
    for param in (*func.params.posonly_params, *func.params.params, *func.params.kwonly_params):
        name = param.name.value
        if len(scope.bindings.get(name, ())) != 1:
            continue  # rebound inside: its uses are not all the parameter's
        calls = set()
        escapes = False
        for use in index.uses(scope, name):
            parent = index.parent.get(use)
            if isinstance(parent, cst.Attribute) and parent.value is use:
                method = index.method_call(use)
                if method is not None:
                    calls.add(method[0])
            elif isinstance(parent, cst.WithItem) and parent.item is use:
                calls.add("__enter__")
            elif isinstance(parent, cst.Await):
                calls.add("await")
            elif isinstance(parent, cst.Arg) and _neutral_argument(index, parent):
                pass
            elif isinstance(parent, (cst.Expr, cst.Comparison, cst.ComparisonTarget, cst.If,
                                     cst.While, cst.Assert, cst.UnaryOperation)):
                pass
            else:
                escapes = True
        position = positional.index(name) if name in positional else None
        out.append(ParamUse(name, position, tuple(sorted(calls)), escapes))
    return tuple(out)


def _self_calls(index: FileIndex, func: cst.FunctionDef) -> Tuple[Tuple[str, str], ...]:
    scope = index.scope_of_node.get(func)
    if scope is None or scope.class_node is None:
        return ()
    info = index.classes.get(scope.class_node)
    param = next((p for s, p in info.self_params if s is scope), None) if info else None
    if param is None:
        return ()
    pairs = set()
    for use in index.uses(scope, param):
        attribute = index.parent.get(use)
        if not (isinstance(attribute, cst.Attribute) and attribute.value is use):
            continue
        method = index.parent.get(attribute)
        call = index.parent.get(method) if method is not None else None
        if (isinstance(method, cst.Attribute) and method.value is attribute
                and isinstance(call, cst.Call) and call.func is method):
            pairs.add((attribute.attr.value, method.attr.value))
    return tuple(sorted(pairs))


# ===================================================================== resolving callees
def callee_of(index: FileIndex, call: cst.Call) -> Optional[cst.FunctionDef]:
    """The function of this file `call` calls: `name(...)` for a name bound once, to a
    def; `self.m(...)` for a method defined once in the class's family (and never
    replaced by `self.m = ...`). None for anything else. (Asked by every rule family
    for every call: kept per call.)"""
    cache: Dict[cst.Call, Optional[cst.FunctionDef]] = index.shared.setdefault("callee_of", {})
    if call not in cache:
        cache[call] = _callee(index, call)
    return cache[call]


def _callee(index: FileIndex, call: cst.Call) -> Optional[cst.FunctionDef]:
    func = call.func
    if isinstance(func, cst.Name):
        bindings = index.bindings_of(func)
        if len(bindings) == 1 and bindings[0].kind == "def":
            node = bindings[0].node
            return node if isinstance(node, cst.FunctionDef) else None
        return None
    if isinstance(func, cst.Attribute):
        info = index.class_of_self(func.value)
        if info is not None:
            return _method_of(index, info, func.attr.value)
    return None


def _method_of(index: FileIndex, info: ClassInfo, name: str) -> Optional[cst.FunctionDef]:
    cache: Dict[Tuple[int, str], Optional[cst.FunctionDef]] = index.shared.setdefault("method_of", {})
    key = (id(info), name)
    if key not in cache:
        cache[key] = _find_method(index, info, name)
    return cache[key]


def _family(index: FileIndex, info: ClassInfo) -> List[ClassInfo]:
    """The members of `index.class_family(info)` (the class, its local bases and
    subclasses, transitively), from base links resolved once per file: class_family
    compares every pair of classes each time it is asked."""
    links: Optional[Dict[int, List[ClassInfo]]] = index.shared.get("summary_class_links")
    if links is None:
        links = {id(other): [] for other in index.classes.values()}
        for other in index.classes.values():
            for base in other.node.bases:
                local = index.local_class(base.value)
                base_info = index.classes.get(local) if local is not None else None
                if base_info is not None and base_info is not other:
                    links[id(other)].append(base_info)
                    links[id(base_info)].append(other)
        index.shared["summary_class_links"] = links
    family = [info]
    seen = {id(info)}
    for member in family:  # grows while it is walked
        for related in links.get(id(member), ()):
            if id(related) not in seen:
                seen.add(id(related))
                family.append(related)
    return family


def _method_owners(index: FileIndex) -> Dict[str, List[ClassInfo]]:
    """Method name -> the classes of the file defining one by that name."""
    owners = index.shared.get("method_owners")
    if owners is None:
        owners = {}
        for info in index.classes.values():
            for name in info.methods:
                owners.setdefault(name, []).append(info)
        index.shared["method_owners"] = owners
    return owners


def _find_method(index: FileIndex, info: ClassInfo, name: str) -> Optional[cst.FunctionDef]:
    owners = _method_owners(index).get(name)
    if not owners:
        return None
    if any(index.assigned_value(node)[0] for node in index.attributes_by_name.get(name, ())):
        return None  # `self.m = ...` (or `obj.m = ...`): which callable runs is not known
    if owners == [info]:
        return info.methods[name]  # the only class defining it: nothing overrides it
    found = [member.methods[name] for member in _family(index, info) if name in member.methods]
    if len(found) != 1:
        return None  # overridden somewhere in the family: which one runs depends on the object
    return found[0]


# ===================================================================== creations
@dataclass(frozen=True)
class Creation:
    """Where a resource comes into being, as the rules see it."""

    node: cst.CSTNode  # the call; for a property, its first read (`self.pool`)
    qualname: str  # the class made (see Fresh.cls)
    subclass: Optional[cst.ClassDef] = None  # a class of this file deriving from the known one
    # The factory as written at the call site ("start_worker", "self._make_session"), ""
    # for a constructor; with what the factory did to the value.
    factory: str = ""
    fresh: Optional[Fresh] = None
    # For a property: the class and the property's name (the value lives on `self`).
    attribute: Optional[Tuple[ClassInfo, str]] = field(default=None, compare=False)
    # For a call of a function imported from another module (`imported=True` in
    # `creations`): its qualified name as this file spells it. What it returns is only
    # known from that module's summary: a rule reporting it states the requirement
    # (leaklint.project.RETURNS).
    imported: str = ""

    @property
    def call(self) -> Optional[cst.Call]:
        return self.node if isinstance(self.node, cst.Call) else None


def _matches(index: FileIndex, fresh: Fresh, classes: FrozenSet[str]) -> Optional[Tuple[str, Optional[cst.ClassDef]]]:
    if not fresh.local_class:
        return (fresh.cls, None) if fresh.cls in classes else None
    subclass = _local_class_by_path(index, fresh.cls)
    if subclass is not None and index.class_inherits(subclass, classes):
        return subclass.name.value, subclass
    return None


def _local_class_by_path(index: FileIndex, path: str) -> Optional[cst.ClassDef]:
    for node in index.classes:
        if ".".join(filter(None, (index.enclosing_path(node), node.name.value))) == path:
            return node
    return None


def factory_creation(index: FileIndex, call: cst.Call, classes: FrozenSet[str]) -> Optional[Creation]:
    """`call` calls a factory of this file handing out a fresh instance of one of
    `classes`."""
    callee = callee_of(index, call)
    if callee is None:
        return None
    summary = summary_of(index, callee)
    fresh = summary.fresh
    if fresh is None or summary.kind not in ("function", "method", "contextmanager"):
        return None
    matched = _matches(index, fresh, classes)
    if matched is None:
        return None
    written = " ".join(index.module.code_for_node(call.func).split())
    return Creation(call, matched[0], matched[1], written, fresh)


def created(index: FileIndex, call: cst.Call, classes: FrozenSet[str],
            imported: bool = False) -> Optional[Creation]:
    """What `call` creates among `classes` (qualified names): a constructor of one, of a
    subclass defined here, or a factory of this file returning a fresh one; with
    `imported`, also a candidate factory of another module (`imported_candidate`). None:
    nothing of those."""
    # `among`: either module of `try: import X except ImportError: import Y as X` may be
    # the one the rule knows
    name = index.call_name(call, among=classes)
    if name is not None and name in classes:
        return Creation(call, name)
    local = index.local_class(call.func)
    if local is not None:
        if index.class_inherits(local, classes):
            return Creation(call, local.name.value, local)
        return None
    if name is not None:
        # An import or a builtin: not a function of this file.
        return imported_candidate(index, call, name, classes) if imported else None
    return factory_creation(index, call, classes)


# The classes a call to another module's function may be a candidate creation of: those
# whose factories' summaries say all a rule needs (started, daemon).
IMPORTED_FACTORY_CLASSES = frozenset({"threading.Thread"})
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))


def imported_candidate(index: FileIndex, call: cst.Call, name: str,
                       classes: FrozenSet[str]) -> Optional[Creation]:
    """`x = start_heartbeat()` / `self._t = util.start_heartbeat()` with the function
    imported: it may be a factory of another module of the project handing out a fresh,
    started thread. Only a call whose value is kept on `self` is a candidate (a value kept
    and never released is what a rule reports; following every call would cost the tracer
    for nothing), and not one of the standard library or a class (CamelCase)."""
    cls = next(iter(sorted(IMPORTED_FACTORY_CLASSES & classes)), None)
    if cls is None or name.startswith("builtins.") or name.rpartition(".")[2][:1].isupper():
        return None
    if name.partition(".")[0] in _STDLIB:
        return None
    parent = index.parent.get(call)
    if not (isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is call):
        return None
    # Kept on `self` (`self._beat = start_heartbeat()`): what outlives the call and is the
    # owner's to release. A local (`x = util.parse(...)`) is far more often a plain value;
    # following each would cost the tracer and a look at the other module for nothing.
    targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
    if len(targets) != 1 or not (isinstance(targets[0], cst.Attribute)
                                 and index.class_of_self(targets[0].value) is not None):
        return None
    root = call.func
    while isinstance(root, cst.Attribute):
        root = root.value
    if not isinstance(root, cst.Name):
        return None
    bindings = index.bindings_of(root)
    if not bindings or any(b.kind != "import" for b in bindings):
        return None
    written = " ".join(index.module.code_for_node(call.func).split())
    # What the requirement asks of the factory: it starts the thread (and does not make
    # it a daemon), so the caller's value is followed as a started one.
    return Creation(call, cls, factory=written, fresh=Fresh(cls, calls=("start",)), imported=name)


def module_factories(index: FileIndex) -> Dict[str, Dict[str, Any]]:
    """The module's top-level functions that hand out a fresh value, by name: their
    `Fresh` as plain data (the "functions" of a module summary, leaklint.project)."""
    out: Dict[str, Dict[str, Any]] = {}
    for name, bindings in index.module_scope.bindings.items():
        if len(bindings) != 1 or bindings[0].kind != "def":
            continue
        func = bindings[0].node
        if not isinstance(func, cst.FunctionDef) or func.asynchronous is not None or func.decorators:
            continue
        # Cheap first: a factory returns a call's value or a local name.
        if not any(isinstance(r.value, (cst.Call, cst.Name)) for r in _own_returns(func.body)):
            continue
        known = _summaries(index).get(func)
        if known is not None:
            fresh = known.fresh
        else:
            # Only what it returns (`summary_of` also reads every parameter's uses, which
            # the module summary of every file linted need not pay for).
            found = _returned_fresh(index, func, "function", 0)
            values = set(found[0]) if found is not None else set()
            fresh = values.pop() if len(values) == 1 else None
        if fresh is not None:
            out[name] = asdict(fresh)
    return out


def creations(index: FileIndex, classes: FrozenSet[str], imported: bool = False) -> Iterator[Creation]:
    """Every creation of one of `classes` in the file: constructor and factory calls, and
    the first read of each property that builds one; with `imported`, the candidate
    factories of other modules too (`imported_candidate`)."""
    for call in index.calls:
        creation = created(index, call, classes, imported)
        if creation is not None:
            yield creation
    yield from _property_creations(index, classes)


def _property_creations(index: FileIndex, classes: FrozenSet[str]) -> Iterator[Creation]:
    for info in index.classes.values():
        for name, method in info.methods.items():
            if not method.decorators or not (set(_decorator_names(method)) & _PROPERTY_DECORATORS):
                continue
            summary = summary_of(index, method)
            if summary.kind != "property" or summary.fresh is None:
                continue
            matched = _matches(index, summary.fresh, classes)
            if matched is None:
                continue
            reads = [node for member in _family(index, info)
                     for node in member.self_attrs.get(name, ())
                     if not index.assigned_value(node)[0]]
            if not reads:
                continue  # never read: never built
            first = min(reads, key=lambda node: _source_position(index, node))
            yield Creation(first, matched[0], matched[1], f"self.{name}", summary.fresh,
                           attribute=(info, name))


def _source_position(index: FileIndex, node: cst.CSTNode) -> int:
    # Not values.source_order's key: that one maps a root to its own table, and which of
    # the two a file computes first depends on the rules that run on it.
    order = index.shared.get("source_position")
    if order is None:
        order = {id(n): i for i, n in enumerate(_walk_all(index.module))}
        index.shared["source_position"] = order
    return order.get(id(node), 0)


def _walk_all(module: cst.Module) -> Iterator[cst.CSTNode]:
    stack: List[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(iter_children(node))))


def _factory_read(index: FileIndex, node: cst.CSTNode) -> Optional[cst.FunctionDef]:
    """The factory `node` runs: a call to a factory function or method of this file, or
    a read (`self.session`) of a property building a fresh value."""
    func: Optional[cst.FunctionDef] = None
    allowed: Tuple[str, ...] = ()
    if isinstance(node, cst.Call):
        func = callee_of(index, node)
        allowed = ("function", "method")
    elif isinstance(node, cst.Attribute):
        info = index.class_of_self(node.value)
        func = _method_of(index, info, node.attr.value) if info is not None else None
        allowed = ("property",)
    if func is None:
        return None
    summary = summary_of(index, func)
    if summary.kind not in allowed or summary.fresh is None:
        return None
    return func


def fresh_of(index: FileIndex, node: cst.CSTNode) -> Optional[Fresh]:
    """What the factory `node` runs hands out (see `_factory_read`), or None."""
    func = _factory_read(index, node)
    return summary_of(index, func).fresh if func is not None else None


def factory_sources(index: FileIndex, node: cst.CSTNode) -> Optional[List[cst.Call]]:
    """For a call to a factory of this file, or a read of a property that builds a value,
    the constructor calls inside it whose fresh results it hands out; None when `node`
    is neither."""
    func = _factory_read(index, node)
    if func is None:
        return None
    return list(_sources(index).get(func, ())) or None


def track_creation(index: FileIndex, creation: Creation, kind: ResourceKind,
                   activated: bool = False, every_use: bool = False,
                   exception_paths: Collection[str] = ()) -> Lifecycle:
    """`lifecycle.track` for a creation: a factory's own calls on the value count (a
    factory that starts its thread hands out a started thread; one that closes its pool
    hands out a released one), and a property's value is followed on `self`."""
    fresh = creation.fresh
    prior = set(fresh.calls) if fresh is not None else set()
    activated = activated or bool(prior & kind.activate_methods)
    if creation.attribute is not None:
        info, name = creation.attribute
        lifecycle = track_self_attribute(index, info, name, creation.node, kind,
                                         activated=activated, every_use=every_use)
    else:
        lifecycle = track(index, creation.node, kind, activated=activated, every_use=every_use,
                          exception_paths=exception_paths)
    if prior & kind.release_methods or (kind.context_manager and "__enter__" in prior):
        lifecycle.released = True
    return lifecycle


def made_by_call(index: FileIndex, call: cst.Call) -> str:
    """`made_by` for a call already known to create something: " returned by `spawn()`"
    when it calls a factory of this file, "" otherwise."""
    callee = callee_of(index, call)
    if callee is None or summary_of(index, callee).fresh is None:
        return ""
    written = " ".join(index.module.code_for_node(call.func).split())
    return made_by(Creation(call, "", factory=written))


def made_by(creation: Creation) -> str:
    """" returned by `start_worker()`" / " built by a property", or "" for a
    constructor: what a message adds after the resource's noun."""
    if not creation.factory:
        return ""
    written = creation.factory
    if len(written) > 24:  # a long receiver chain: the factory's own name says enough
        written = written.rsplit(".", 1)[-1]
    if creation.attribute is not None:
        return " built by a property"  # the holder, `self.<name>`, is named already
    return f" returned by `{written}()`"


__all__ = ["Creation", "Fresh", "FunctionSummary", "ParamUse", "created", "creations",
           "dumps", "factory_sources", "fresh_of", "imported_candidate", "loads", "made_by",
           "made_by_call", "module_factories", "module_summaries", "summary_of",
           "track_creation"]
