"""Resource lifecycle analysis, shared by every "never released" rule.

A resource is created by a call (`threading.Thread(...)`, `asyncio.create_task(...)`,
`subprocess.Popen(...)`). From that call we follow the value through the file:

- into local names and their aliases (all uses in the binding scope and nested scopes),
- into containers (`threads.append(t)`, `[Thread(...) for ...]`, `d[k] = t`) and back out
  (`for t in threads`, `threads[0]`, `threads.pop()`),
- onto `self` attributes, followed across every method of the class (and of its local
  base classes and subclasses),
- onto private attributes of other objects (`op._timer = ...`), followed to every
  `X._timer` of the module, and onto attributes of an object only `self` holds
  (`self._state.buffer = ...`, `_state` a private instance of a class of the module),
- into module globals, followed across the module,
- into the parameters of the local functions it is handed to, when the kind asks
  (`follow_local_functions`: plain calls, methods, thread/process targets, partials).

Every family uses this one tracer: a kind declares what releases it and how far the
roads are trusted (`ResourceKind`); the queue family, for one, reads its puts and gets
off `Lifecycle.member_uses`. Where a value *comes from* (backward) is `values.py`.

Each use is classified. The resource is *released* (a release method is called, it is
awaited, used as a context manager, passed to a releasing function, or a bound release
method is handed out as a callback), *escapes* (returned, yielded, passed to a call we
don't know, stored in something we don't track), or neither. Only a resource that is
activated, never released and never escapes is *dropped*: a finding.

Following the value is flow-insensitive: a join in `finally`, after a `try`, or in
another method all count. Kinds that ask for it (`every_path`) then get one flow-sensitive
check, for a value held only in local names of one function and released there: is a
release reached on every way from the activation to the function's exit
(leaklint/flow.py)? `Lifecycle.skipped` names the way that skips it. It errs towards
"escaped" whenever a use is not understood, because a leak linter that cries wolf gets
disabled.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Collection, Dict, FrozenSet, List, Optional, Set, Tuple, cast

import libcst as cst

from leaklint.flow import SkippedRelease, reached_uses, skipped_release
from leaklint.index import FileIndex, walk
from leaklint.project import base_requirements
from leaklint.values import (
    PARTIALS,
    positional_args,
    resolve_callable,
    source_order,
    spawned_callable,
)

# Builtins that look at a value without keeping it.
NEUTRAL_BUILTINS = frozenset({
    "builtins.print", "builtins.len", "builtins.isinstance", "builtins.id", "builtins.repr",
    "builtins.str", "builtins.type", "builtins.hash", "builtins.bool", "builtins.format",
    "builtins.callable", "builtins.hasattr", "builtins.issubclass",
})
# Methods of a logger (any object): logging a value does not keep it.
LOGGING_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception",
                             "critical", "log", "fatal"})
# Builtins that make a new container from an iterable of resources.
CONTAINER_COPIES = frozenset({"builtins.list", "builtins.tuple", "builtins.set",
                              "builtins.frozenset", "builtins.sorted", "builtins.reversed",
                              "builtins.iter"})
# Container methods that add/remove elements: neutral for the resources inside.
CONTAINER_MUTATORS = frozenset({"append", "appendleft", "add", "extend", "extendleft",
                                "insert", "remove", "discard", "clear", "update",
                                "setdefault", "sort", "reverse", "count", "index", "keys"})
# Container methods returning one element.
CONTAINER_TAKERS = frozenset({"pop", "popleft", "popitem", "get", "__getitem__"})
# Container methods returning a container of the same elements.
CONTAINER_VIEWS = frozenset({"values", "copy"})
# Calls that take ownership of a context manager and close it.
CONTEXT_TAKERS = frozenset({"enter_context", "enter_async_context", "push",
                            "push_async_exit"})


@dataclass(frozen=True)
class ResourceKind:
    """What makes one kind of resource released, as the rules declare it, and how far
    its family trusts the roads a value takes."""

    noun: str
    release_methods: FrozenSet[str]
    # Methods that make the resource live (`start`); empty: live from creation.
    activate_methods: FrozenSet[str] = frozenset()
    # Qualified names of functions that release resources passed to them
    # (`asyncio.gather`).
    release_functions: FrozenSet[str] = frozenset()
    awaitable: bool = False
    context_manager: bool = False
    # A value bound to a module global counts as handed off (other modules may reach it).
    globals_escape: bool = False
    # Qualified names of functions that only look at resources passed to them.
    neutral_functions: FrozenSet[str] = frozenset()
    # Follow a resource handed to a function of the same file into that function's
    # parameter, instead of treating the call as an escape: a plain call, a method of
    # `self`'s class, a local class (its `__init__`), a thread or process target
    # (`args=(x,)`, `kwargs={"x": x}`), `functools.partial`, `executor.submit`, ...
    follow_local_functions: bool = False
    # Follow the value into lists, tuples, sets and dicts and back out; False: a value
    # stored in a container escapes.
    follow_containers: bool = True
    # The attributes of the value the family understands (None: all of them). Any
    # other attribute, a subscript or an iteration of the value is an escape.
    known_attributes: Optional[FrozenSet[str]] = None
    # A value on a public `self` attribute (no leading underscore) may be used by the
    # class's users: an escape.
    public_attributes_escape: bool = False
    # A `self` attribute of a class deriving from a class of another module (other
    # than the inert ones, leaklint/project.py): code there may use it. Not an escape
    # when the base can be named: `Lifecycle.requirements` then says what the project
    # must show (the base leaves the attribute alone) for a report to stand.
    foreign_bases_escape: bool = False
    # Note which uses may see another value (`q = Queue(); ...; q = Queue()`,
    # `out = out or Queue()`): `Lifecycle.member_uses` marks them weak.
    weak_uses: bool = False
    # Check that a release is reached on every way out of the function (explicit early
    # exits always; exceptions raised by calls for the kinds `track` is told).
    every_path: bool = False


@dataclass
class Lifecycle:
    creation: cst.CSTNode
    holder: str = "discarded"
    released: bool = False
    escaped: bool = False
    # Why it escaped (for debugging and messages): "returned", "passed to f", ...
    escape_reason: str = ""
    activated: bool = False
    method_calls: Dict[str, List[cst.Call]] = field(default_factory=dict)
    # attr -> values stored (`t.daemon = True`); None: a store of no known value.
    attribute_stores: Dict[str, List[Optional[cst.CSTNode]]] = field(default_factory=dict)
    # Plain attribute reads on the resource (`proc.pid`, `proc.stdout`): attr -> nodes.
    attribute_reads: Dict[str, List[cst.Attribute]] = field(default_factory=dict)
    # Every call or read of an attribute of the value, in the order found: (attribute,
    # the call, or the bound method handed out as in `f(q.put)`, weak). A weak use may
    # see another value (only noted for kinds with `weak_uses`).
    member_uses: List[Tuple[str, cst.CSTNode, bool]] = field(default_factory=list)
    # ids of every expression found to evaluate to the value.
    value_nodes: Set[int] = field(default_factory=set)
    # Functions (FunctionDef or Lambda) the value was followed into as a parameter.
    callees: Set[cst.CSTNode] = field(default_factory=set)
    # What must hold in the project's other modules for the value not to have escaped
    # (leaklint/project.py): kept on `self` in a class whose base class is defined in
    # another module, that base leaves the attribute alone (kinds with
    # `foreign_bases_escape`).
    requirements: List[tuple] = field(default_factory=list)
    # `self` attributes the resource was followed into: (ClassInfo, attribute name).
    self_attributes: List[tuple] = field(default_factory=list)
    # Where it was released and activated (calls, `with` items, awaits).
    release_sites: List[cst.CSTNode] = field(default_factory=list)
    activation_sites: List[cst.CSTNode] = field(default_factory=list)
    # Held only in local names (never in a container, on `self`, in a global or passed
    # into another function): the only values whose paths are checked.
    local_only: bool = True
    # A way from the activation to the function's exit that passes no release (kinds
    # with `every_path` only): released, but not on every path.
    skipped: Optional[SkippedRelease] = None

    def dropped(self, kind: ResourceKind) -> bool:
        if self.skipped is not None:
            return True
        if self.released or self.escaped:
            return False
        return self.activated or not kind.activate_methods


def self_releasing_methods(index: FileIndex, classdef: cst.ClassDef,
                           release_methods: FrozenSet[str]) -> FrozenSet[str]:
    """Methods of a resource subclass defined in the file that release the object itself
    (`def stop(self): ...; self.join()`), directly or through another such method: calling
    them on an instance is a release too."""
    info = index.classes.get(classdef)
    if info is None:
        return frozenset()
    family = index.class_family(info)
    calls_on_self: Dict[str, Set[str]] = {}
    for member in family:
        for method_scope, param in member.self_params:
            name = cast(cst.FunctionDef, method_scope.node).name.value  # a method's scope
            called = calls_on_self.setdefault(name, set())
            for use in index.uses(method_scope, param):
                method = index.method_call(use)
                if method is not None:
                    called.add(method[0])
    releasing = set(release_methods)
    changed = True
    while changed:
        changed = False
        for name, called in calls_on_self.items():
            if name not in releasing and called & releasing:
                releasing.add(name)
                changed = True
    return frozenset(releasing - set(release_methods))


def track(index: FileIndex, creation: cst.CSTNode, kind: ResourceKind,
          activated: bool = False, every_use: bool = False,
          exception_paths: Collection[str] = ()) -> Lifecycle:
    """Follow the value produced by `creation` and classify its lifecycle. With
    `every_use`, keep following after a release or an escape, to collect every method
    called on it (the blocking-wait rules want each `join()`, not the first). For a kind
    with `every_path` whose noun is in `exception_paths`, an exception raised by a call
    also counts as a way that can skip the release."""
    tracer = _Tracer(index, kind)
    tracer.every_use = every_use
    tracer.result = Lifecycle(creation=creation, activated=activated)
    tracer.result.holder = tracer.describe_holder(creation)
    tracer.trace(creation, "item")
    result = tracer.result
    if kind.every_path and result.released and not result.escaped and result.local_only:
        result.skipped = _skipped_release(index, kind, result, kind.noun in exception_paths)
    return result


def _skipped_release(index: FileIndex, kind: ResourceKind, lifecycle: Lifecycle,
                     exception_paths: bool) -> Optional[SkippedRelease]:
    """The flow check, for a value created, activated and released in one function."""
    function = index.enclosing_function(lifecycle.creation)
    if function is None:
        return None  # module level: script code, run once
    if kind.activate_methods and not lifecycle.activation_sites:
        return None  # activated elsewhere (a class that starts itself)
    activations = lifecycle.activation_sites or [lifecycle.creation]
    sites = [*activations, *lifecycle.release_sites]
    if any(index.enclosing_function(site) is not function for site in sites):
        return None  # released in a nested function: when it runs is not known here
    # The local names it is held in, as the calls on it spell them (`t.join()`): a branch
    # testing one of them absent (`if not proc: return`) has nothing to release.
    holders = frozenset(site.func.value.value for site in sites
                        if isinstance(site, cst.Call) and isinstance(site.func, cst.Attribute)
                        and isinstance(site.func.value, cst.Name))
    return skipped_release(index, cast(cst.FunctionDef, function.node), lifecycle.creation,
                           activations,
                           lifecycle.release_sites, exception_paths, holders)


def track_self_attribute(index: FileIndex, info, attr: str, node: cst.CSTNode,
                         kind: ResourceKind, activated: bool = False,
                         every_use: bool = False) -> Lifecycle:
    """Classify a value that lives in `self.<attr>` of the class `info` without an
    assignment leaklint sees (a `@property` / `cached_property` that builds it): follow
    every `self.<attr>` read across the class family. `node` is where it is reported."""
    tracer = _Tracer(index, kind)
    tracer.every_use = every_use
    tracer.result = Lifecycle(creation=node, activated=activated, holder=f"'self.{attr}'")
    tracer.follow_self_attribute(info, attr, "item")
    return tracer.result


class _Tracer:
    """The one forward tracer: every family's value is followed here, the families
    differ only by their `ResourceKind`."""

    def __init__(self, index: FileIndex, kind: ResourceKind):
        self.index = index
        self.kind = kind
        self.parent = index.parent
        self.result: Lifecycle
        self._seen: Set[tuple] = set()
        self.every_use = False
        # The uses being followed may see another value (see ResourceKind.weak_uses).
        self.weak = False

    # -- events -------------------------------------------------------------------
    def release(self, site: cst.CSTNode) -> None:
        self.result.released = True
        self.result.release_sites.append(site)

    def escape(self, reason: str = "") -> None:
        if not self.result.escaped:
            self.result.escaped = True
            self.result.escape_reason = reason

    def done(self) -> bool:
        if self.every_use:
            return False
        if self.kind.every_path:  # every release site is wanted, for the flow check
            return self.result.escaped
        return self.result.released or self.result.escaped

    def strict(self) -> bool:
        """Uses of the value the family does not know are escapes."""
        return self.kind.known_attributes is not None

    # -- holders ------------------------------------------------------------------
    def describe_holder(self, node: cst.CSTNode) -> str:
        unpacked_into = self.index.unpacked_targets(node)
        if unpacked_into:  # `a, b = Pool(), Pool()`: the second is kept in `b`
            return "'" + self.index.module.code_for_node(unpacked_into[0]) + "'"
        parent = self.parent.get(node)
        # `p = Pool() if n else None`, `self.pool = self.pool or Pool()`: kept in `p`
        while (isinstance(parent, cst.BooleanOperation)
               or isinstance(parent, cst.IfExp) and parent.test is not node):
            node, parent = parent, self.parent.get(parent)
        if isinstance(parent, cst.AssignTarget) or isinstance(parent, cst.Assign):
            assign = parent if isinstance(parent, cst.Assign) else self.parent.get(parent)
            if isinstance(assign, cst.Assign) and assign.targets:
                return "'" + self.index.module.code_for_node(assign.targets[0].target) + "'"
        if isinstance(parent, cst.Arg):
            call = self.parent.get(parent)
            if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute):
                if call.func.attr.value in CONTAINER_MUTATORS:
                    return "'" + self.index.module.code_for_node(call.func.value) + "'"
        if isinstance(parent, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            outer = self.parent.get(parent)
            if isinstance(outer, cst.Assign) and outer.targets:
                return "'" + self.index.module.code_for_node(outer.targets[0].target) + "'"
        if isinstance(parent, cst.AnnAssign) and parent.value is node:
            return "'" + self.index.module.code_for_node(parent.target) + "'"
        return "discarded"

    # -- tracing ------------------------------------------------------------------
    def trace(self, node: cst.CSTNode, mode: str, weak: Optional[bool] = None) -> None:
        """`node` evaluates to the resource (mode "item") or to a container of them.
        `weak`: the use may see another value (see ResourceKind.weak_uses)."""
        if weak is None:
            weak = self.weak
        key = (id(node), mode, weak)
        if key in self._seen or self.done():
            return
        self._seen.add(key)
        if mode != "item":
            self.result.local_only = False
        parent = self.parent.get(node)
        if parent is None:
            return
        saved, self.weak = self.weak, weak
        try:
            if mode == "item":
                self.result.value_nodes.add(id(node))
                self._trace_item(node, parent)
            else:
                self._trace_container(node, parent)
        finally:
            self.weak = saved

    def _weaker(self, other: cst.CSTNode) -> bool:
        """`x or other`, `x if c else other`: the result is another value unless the
        other operand is None."""
        return self.weak or (self.kind.weak_uses and not _is_none(other))

    def _trace_common(self, node, parent, mode) -> bool:
        """Contexts that mean the same for an item and a container. True if handled."""
        if isinstance(parent, (cst.Return, cst.Yield)):
            self.escape("returned")
        elif isinstance(parent, cst.Await):
            if self.kind.awaitable:
                self.release(parent)
            else:
                self.escape("awaited")
        elif isinstance(parent, (cst.AssignTarget, cst.Assign, cst.AnnAssign)) and not _is_target(node, parent):
            assign = parent if not isinstance(parent, cst.AssignTarget) else self.parent.get(parent)
            if isinstance(assign, cst.Assign):
                targets = [t.target for t in assign.targets]
            else:  # an AssignTarget's parent is always an Assign
                targets = [cast(cst.AnnAssign, assign).target]
            for target in targets:
                self.bind_target(target, mode)
        elif isinstance(parent, cst.NamedExpr) and parent.value is node:
            self.bind_target(parent.target, mode)
            self.trace(parent, mode)
        elif isinstance(parent, cst.Arg):
            self._trace_argument(node, parent, mode)
        elif isinstance(parent, (cst.Expr, cst.Del)):
            pass  # evaluated and dropped, or deleted: nothing keeps it
        elif isinstance(parent, (cst.Comparison, cst.ComparisonTarget, cst.If, cst.While,
                                 cst.Assert, cst.UnaryOperation, cst.FormattedStringExpression)):
            pass  # looked at, not kept
        elif isinstance(parent, cst.BooleanOperation):
            # `t and t.join()`: the operand's value may flow on as the result
            if self.parent.get(parent) is not None and not isinstance(self.parent.get(parent), (cst.If, cst.While, cst.Expr)):
                other = parent.right if parent.left is node else parent.left
                self.trace(parent, mode, self._weaker(other))
        elif isinstance(parent, cst.IfExp):
            if parent.test is not node:
                other = parent.orelse if parent.body is node else parent.body
                self.trace(parent, mode, self._weaker(other))
        elif isinstance(parent, cst.WithItem) and parent.item is node:
            if self.kind.context_manager:
                self.release(parent)
            elif parent.asname is not None:
                self.bind_target(parent.asname.name, mode)
        elif isinstance(parent, (cst.Element, cst.StarredElement)) and parent.value is node:
            unpacked_into = self.index.unpacked_targets(node)
            if unpacked_into is not None:  # `a, b = Pool(), Pool()`: follow `b` alone
                for unpacked in unpacked_into:
                    self.bind_target(unpacked, mode)
                return True
            holder = self.parent.get(parent)
            if (mode == "item" and isinstance(parent, cst.Element) and isinstance(holder, cst.Tuple)
                    and self.kind.follow_local_functions and self._follow_args_tuple(holder, parent)):
                return True
            if mode == "item" and self.kind.follow_containers and isinstance(holder, (cst.List, cst.Tuple, cst.Set)):
                self.trace(holder, "container")
            else:
                self.escape("stored in a container")
        elif isinstance(parent, cst.DictElement) and parent.value is node:
            holder = self.parent.get(parent)
            if mode == "item" and self.kind.follow_local_functions and self._follow_kwargs_dict(parent):
                return True
            if mode == "item" and self.kind.follow_containers and isinstance(holder, cst.Dict):
                self.trace(holder, "container")
            else:
                self.escape("stored in a dict")
        elif isinstance(parent, (cst.Lambda,)):
            self.escape("returned by a lambda")
        else:
            return False
        return True

    def _trace_item(self, node, parent) -> None:
        kind = self.kind
        if isinstance(parent, cst.Attribute) and parent.value is node:
            self._trace_member(parent)
            return
        if isinstance(parent, cst.Subscript) or isinstance(parent, cst.SubscriptElement):
            if self.strict():
                self.escape("subscripted")
            return  # `t[...]` on a resource: looked at
        if self._trace_common(node, parent, "item"):
            return
        if isinstance(parent, (cst.ListComp, cst.SetComp, cst.GeneratorExp)) and parent.elt is node:
            if kind.follow_containers:
                self.trace(parent, "container")
            else:
                self.escape("stored in a container")
        elif isinstance(parent, cst.DictComp) and parent.value is node:
            if kind.follow_containers:
                self.trace(parent, "container")
            else:
                self.escape("stored in a dict")
        elif isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
            if self.strict():
                self.escape("iterated")
            # else iterating over a resource (a pool's results): looked at
        else:
            self.escape("stored")

    def _trace_member(self, attribute: cst.Attribute) -> None:
        """`value.attr`: a method called, a bound method handed out, an attribute read
        or stored."""
        kind = self.kind
        attr = attribute.attr.value
        holder = self.parent.get(attribute)
        if _is_target(attribute, holder):
            value = _assigned_value(attribute, holder, self.parent)
            self.result.attribute_stores.setdefault(attr, []).append(value)
            return
        if isinstance(holder, cst.Call) and holder.func is attribute:
            self.result.member_uses.append((attr, holder, self.weak))
            self.result.method_calls.setdefault(attr, []).append(holder)
            if attr in kind.release_methods:
                self.release(holder)
            if attr in kind.activate_methods:
                self.result.activated = True
                self.result.activation_sites.append(holder)
            if attr == "__enter__" and kind.context_manager:
                self.release(holder)
        else:
            self.result.member_uses.append((attr, attribute, self.weak))
            if attr in kind.release_methods and not isinstance(holder, _LOOKED_AT):
                # `atexit.register(executor.shutdown)`: the release is handed out. A bare
                # `t.join` statement or a test of it (`if t.join:`) calls nothing.
                self.release(attribute)
            else:
                self.result.attribute_reads.setdefault(attr, []).append(attribute)
        if kind.known_attributes is not None and attr not in kind.known_attributes:
            self.escape(f"attribute {attr} used")

    def _trace_container(self, node, parent) -> None:
        if isinstance(parent, cst.Attribute) and parent.value is node:
            attr = parent.attr.value
            holder = self.parent.get(parent)
            if isinstance(holder, cst.Call) and holder.func is parent:
                if attr in self.kind.release_methods:
                    # A collection of its own kind with the release method (socketserver's
                    # `self._threads.join()`): it releases what it holds.
                    self.release(holder)
                elif attr in CONTAINER_TAKERS:
                    self.trace(holder, "item")
                elif attr in CONTAINER_VIEWS:
                    self.trace(holder, "container")
                elif attr == "items":
                    self._trace_pairs(holder)
            return
        if isinstance(parent, cst.Subscript) and parent.value is node:
            if not _is_target(parent, self.parent.get(parent)):
                self.trace(parent, "item")
            return
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
            self.bind_target(parent.target, "item")
            return
        if isinstance(parent, cst.AugAssign):
            return  # `threads += [...]`
        if self._trace_common(node, parent, "container"):
            return
        self.escape()

    def _trace_pairs(self, call: cst.Call) -> None:
        """`for key, value in d.items()` / `for i, t in enumerate(ts)`: follow the second."""
        parent = self.parent.get(call)
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is call:
            target = parent.target
            if isinstance(target, cst.Tuple) and len(target.elements) == 2:
                self.bind_target(target.elements[1].value, "item")
                return
        self.escape()


    def _trace_argument(self, node, arg: cst.Arg, mode: str) -> None:
        call = self.parent.get(arg)
        if not isinstance(call, cst.Call):
            self.escape("passed on")
            return
        index = self.index
        name = index.call_name(call)
        if name in self.kind.release_functions:
            self.release(call)
            return
        if name in NEUTRAL_BUILTINS or name in self.kind.neutral_functions:
            return
        func = call.func
        if mode == "item" and name == "builtins.enumerate":
            self.escape("enumerated")
            return
        if mode == "container":
            if name in CONTAINER_COPIES:
                self.trace(call, "container")
                return
            if name == "builtins.enumerate":
                self._trace_pairs(call)
                return
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in LOGGING_METHODS:
                return
            if method in CONTEXT_TAKERS:
                self.release(call)
                return
            if (mode == "item" and self.kind.follow_containers
                    and method in ("append", "appendleft", "add", "insert", "setdefault")):
                self.trace_container_expr(func.value)
                return
        if self.kind.follow_local_functions and mode == "item" and self._follow_into(call, arg):
            return
        self.escape("passed to " + " ".join(index.module.code_for_node(func).split()))

    # -- into the functions a value is handed to ----------------------------------
    def _follow_into(self, call: cst.Call, arg: cst.Arg) -> bool:
        """`helper(x)`, `self.helper(x)`, `Worker(x)`, `partial(f, x)`, `submit(f, x)`
        with the callee defined in this file: follow the parameter inside it. False when
        the shape is not understood (the caller then treats the value as escaped)."""
        if arg.star:
            return False
        index = self.index
        func, offset = resolve_callable(index, call.func)
        if func is not None:
            return self._follow_parameter(func, offset, call, arg)
        if (index.call_name(call) in PARTIALS and arg.keyword is None and call.args
                and call.args[0] is not arg and not any(a.star for a in call.args)):
            # functools.partial(f, x): x becomes one of f's leading arguments
            func, offset = resolve_callable(index, call.args[0].value)
            if func is not None:
                return self._follow_position(func, offset + positional_args(call).index(arg) - 1)
        spawn = spawned_callable(index, call)
        if spawn is not None:
            target, _, extra = spawn
            if arg.keyword is None and extra is not None and arg in extra:
                func, offset = resolve_callable(index, target)
                if func is not None:
                    return self._follow_position(func, offset + extra.index(arg))
        return False

    def _follow_args_tuple(self, tup: cst.Tuple, element: cst.Element) -> bool:
        """`Thread(target=f, args=(x,))`: the tuple's position maps onto f's parameters."""
        arg = self.parent.get(tup)
        call = self.parent.get(arg) if isinstance(arg, cst.Arg) else None
        if not isinstance(call, cst.Call) or any(
                isinstance(e, cst.StarredElement) for e in tup.elements):
            return False
        spawn = spawned_callable(self.index, call)
        if spawn is None or spawn[1] is not arg:
            return False
        func, offset = resolve_callable(self.index, spawn[0])
        if func is None:
            return False
        return self._follow_position(func, offset + list(tup.elements).index(element))

    def _follow_kwargs_dict(self, element: cst.DictElement) -> bool:
        """`Thread(target=f, kwargs={"x": x})`: the key names f's parameter."""
        mapping = self.parent.get(element)
        arg = self.parent.get(mapping) if mapping is not None else None
        call = self.parent.get(arg) if isinstance(arg, cst.Arg) else None
        key = element.key
        if not (isinstance(call, cst.Call) and isinstance(key, cst.SimpleString)
                and isinstance(arg, cst.Arg) and arg.keyword is not None
                and arg.keyword.value == "kwargs"):
            return False
        spawn = spawned_callable(self.index, call)
        if spawn is None:
            return False
        func, _ = resolve_callable(self.index, spawn[0])
        if func is None or not isinstance(key.evaluated_value, str):
            return False
        return self._follow_named(func, key.evaluated_value)

    def _follow_parameter(self, func, offset: int, call: cst.Call, arg: cst.Arg) -> bool:
        if arg.keyword is not None:
            return self._follow_named(func, arg.keyword.value)
        if any(a.star for a in call.args[: call.args.index(arg)]):
            return False  # passed after *args: its position is unknown
        return self._follow_position(func, offset + positional_args(call).index(arg))

    def _follow_position(self, func, position: int) -> bool:
        params = func.params
        ordered = [*params.posonly_params, *params.params]
        if position >= len(ordered):
            return False  # taken by *args
        return self._follow_param_name(func, ordered[position].name.value)

    def _follow_named(self, func, name: str) -> bool:
        params = func.params
        if name not in [p.name.value for p in (*params.params, *params.kwonly_params)]:
            return False  # taken by **kwargs
        return self._follow_param_name(func, name)

    def _follow_param_name(self, func, name: str) -> bool:
        key = ("param", id(func), name, self.weak)
        if key in self._seen:
            return True
        self._seen.add(key)
        scope = self.index.scope_of_node.get(func)
        if scope is None:
            return False
        if len(scope.bindings.get(name, ())) != 1 and not self.kind.weak_uses:
            return False  # the parameter is rebound inside the function
        self.result.local_only = False
        self.result.callees.add(func)
        for use in self.index.uses(scope, name):
            self.trace(use, "item")
            if self.done():
                break
        return True

    # -- where values are stored ------------------------------------------------
    def bind_target(self, target: cst.CSTNode, mode: str) -> None:
        index = self.index
        if not isinstance(target, cst.Name) or index.target_scope(target) is index.module_scope:
            self.result.local_only = False
        if isinstance(target, cst.Name):
            owner = index.target_scope(target)
            if owner is None:
                self.escape("bound where we don't look")
                return
            if owner is index.module_scope and (self.kind.globals_escape
                                                or _exported(index, target.value)):
                self.escape("a module global other modules may read")
                return
            reach = self._binding_reach(owner, target) if self.kind.weak_uses else None
            for use in self._uses_of_binding(owner, target, mode):
                weak = self.weak
                if reach is not None:
                    position = reach[0].get(id(use), -1)
                    weak = weak or not (reach[1] < position < reach[2])
                self.trace(use, mode, weak)
                if self.done():
                    return
        elif isinstance(target, cst.Attribute):
            info = index.class_of_self(target.value)
            if info is None:
                held = _held_object_class(index, target.value)
                if held is not None:
                    self.follow_held_attribute(held, target.value, target.attr.value, mode)
                elif _private(target.attr.value):
                    self.follow_private_attribute(target.attr.value, mode)
                else:
                    self.escape("stored on an object")
            elif self.kind.public_attributes_escape and not target.attr.value.startswith("_"):
                self.escape("public attribute: users of the class may read it")
            else:
                self.follow_self_attribute(info, target.attr.value, mode)
        elif isinstance(target, cst.Subscript):
            if (self.kind.follow_containers and mode == "item"
                    and isinstance(target.value, (cst.Name, cst.Attribute))):
                self.trace_container_expr(target.value)
            else:
                self.escape("stored in a container")
        else:
            self.escape("unpacked")  # unpacking and other shapes

    def _binding_reach(self, owner, target: cst.Name):
        """(source order, position of this binding, position of the next binding of the
        name in the same scope) when the name is bound more than once; else None."""
        bindings = owner.bindings.get(target.value, ())
        if len(bindings) < 2:
            return None
        order = source_order(self.index, self.index.module)
        mine = order.get(id(target), -1)
        later = [order.get(id(b.target if b.target is not None else b.node), -1)
                 for b in bindings if b.target is not target]
        later = [p for p in later if p > mine]
        return order, mine, min(later) if later else 1 << 60

    def _uses_of_binding(self, owner, target: cst.Name, mode: str) -> List[cst.Name]:
        """The loads of `target`'s name in `owner`; for a kind checked on every path, and a
        local name bound more than once, only those this binding reaches (leaklint.flow)."""
        uses = self.index.uses(owner, target.value)
        bindings = owner.bindings.get(target.value, ())
        if not (self.kind.every_path and mode == "item" and owner.kind == "function"
                and len(bindings) > 1):
            return uses
        others = [b.target for b in bindings if b.kind != "param" and b.target is not target]
        if any(other is None for other in others):
            return uses
        return reached_uses(self.index, cast(cst.FunctionDef, owner.node), target, others, uses)

    def trace_container_expr(self, expr: cst.CSTNode) -> None:
        """`expr` is a container the resource was put into (`d[k] = t`)."""
        self.result.local_only = False
        if isinstance(expr, cst.Name):
            owner = self.index.binding_scope(expr)
            if owner is None or owner is self.index.module_scope:
                self.escape("stored in a global container")  # someone else may reach it
                return
            if not all(_fresh_container(self.index, b)
                       for b in owner.bindings.get(expr.value, ())):
                # a parameter, or an alias of a container someone else holds
                # (`children = self.children`): the caller may reach it
                self.escape("stored in a container someone else holds")
                return
            for use in self.index.uses(owner, expr.value):
                if use is not expr:
                    self.trace(use, "container")
        elif isinstance(expr, cst.Attribute):
            info = self.index.class_of_self(expr.value)
            if info is None or not _own_container(self.index, info, expr.attr.value):
                # an object of some other class (salt's `SubprocessList().add(proc)`
                # joins what it is given), or one the caller passed in
                self.escape("stored in a container on an object")
            else:
                self.follow_self_attribute(info, expr.attr.value, "container")
        else:
            self.escape("stored in a container")

    def follow_held_attribute(self, held, holder: cst.CSTNode, attr: str, mode: str) -> None:
        """`self._state.buffer = Queue()`, where `self._state` only ever holds instances
        of a class of this module that nobody else can reach (see _held_object_class):
        the value's uses are the `self._state.buffer` reads across the owner's class
        family and the `self.buffer` reads in the held class's own methods."""
        if not isinstance(holder, cst.Attribute):
            return  # _held_object_class only answers for an attribute
        owner = self.index.class_of_self(holder.value)
        key = ("held", id(held.node), attr, mode, self.weak)
        if key in self._seen or owner is None:
            return
        self._seen.add(key)
        reads: List[cst.CSTNode] = []
        for member in self.index.class_family(owner):
            for node in member.self_attrs.get(holder.attr.value, ()):
                outer = self.parent.get(node)
                if isinstance(outer, cst.Attribute) and outer.value is node and outer.attr.value == attr:
                    reads.append(outer)
        for member in self.index.class_family(held):
            reads.extend(member.self_attrs.get(attr, ()))
        for read in reads:
            if _is_target(read, self.parent.get(read)):
                continue  # another value stored (often None)
            self.trace(read, mode)
            if self.done():
                return

    def follow_private_attribute(self, attr: str, mode: str) -> None:
        """`op._timer = Timer(...)`, `self._state._buffer = Queue()`: stored on an object
        other than `self`. When a class of this module has the attribute (`self._timer`
        in a method, or `_timer` in its body), every `X._timer` read in the file may be
        the value: a private name is, by convention, only used by its class's module. A
        name also spelled as a string (`getattr(op, "_timer")`) may be reached unseen."""
        key = ("private", attr, mode, self.weak)
        if key in self._seen:
            return
        self._seen.add(key)
        if attr in _string_constants(self.index):
            self.escape("attribute named in a string")
            return
        if not _owned_attribute(self.index, attr):
            # no class of this module has it (`client._read_task` of a class defined
            # elsewhere): that module's code uses it too
            self.escape("private attribute of a class of another module")
            return
        for node in self.index.attributes_by_name.get(attr, ()):
            if _is_target(node, self.parent.get(node)):
                continue  # another value stored (often None)
            self.trace(node, mode)
            if self.done():
                return

    def follow_self_attribute(self, info, attr: str, mode: str) -> None:
        self.result.local_only = False
        index = self.index
        key = ("self", id(info.node), attr, mode, self.weak)
        if key in self._seen:
            return
        self._seen.add(key)
        self.result.self_attributes.append((info, attr))
        own_nodes = set()
        for member in index.class_family(info):
            for node in member.self_attrs.get(attr, ()):
                own_nodes.add(node)
            if self.kind.foreign_bases_escape:
                requirements = base_requirements(index, member.node, attr)
                if requirements is None:
                    self.escape("a base class defined elsewhere may use it")
                    return
                self.result.requirements.extend(requirements)
        # The attribute reached from outside the class (`worker._thread.join()`): someone
        # else may release it.
        all_self = index.self_attribute_nodes()
        for node in index.attributes_by_name.get(attr, ()):
            if node not in all_self and node not in own_nodes:
                self.escape("attribute reached from outside the class")
                return
        for node in own_nodes:
            holder = self.parent.get(node)
            if _is_target(node, holder):
                continue  # another value assigned to the attribute (often None)
            self.trace(node, mode)
            if self.done():
                return


# Contexts where a value is only evaluated or tested, never kept or called later.
_LOOKED_AT = (cst.Expr, cst.If, cst.While, cst.Assert, cst.Comparison, cst.ComparisonTarget,
              cst.UnaryOperation, cst.FormattedStringExpression)


def _is_target(node: cst.CSTNode, parent: Optional[cst.CSTNode]) -> bool:
    """True when `node` is being assigned to (not read)."""
    if isinstance(parent, cst.AssignTarget):
        return parent.target is node
    if isinstance(parent, (cst.AnnAssign, cst.AugAssign)):
        return parent.target is node
    return False


def _assigned_value(target, holder, parents) -> Optional[cst.CSTNode]:
    if isinstance(holder, cst.AssignTarget):
        assign = parents.get(holder)
        return assign.value if isinstance(assign, cst.Assign) else None
    if isinstance(holder, cst.AnnAssign):
        return holder.value
    return None


_FRESH_CONTAINER_CALLS = frozenset({
    "builtins.list", "builtins.dict", "builtins.set", "collections.deque",
    "collections.defaultdict", "collections.OrderedDict", "collections.Counter"})


def _own_container(index: FileIndex, info, attr: str) -> bool:
    """Every value the class gives `self.<attr>` is a container made right there (or
    None): what is put into it is the class's to release, as for a local container."""
    for member in index.class_family(info):
        for node in member.self_attrs.get(attr, ()):
            assigned, value = index.assigned_value(node)
            if not assigned:
                continue
            if value is None:
                if isinstance(index.parent.get(node), cst.AugAssign):
                    continue  # `self.x += [t]`: the container it already was
                return False  # unpacking of an unknown value
            if (isinstance(value, cst.Name) and value.value == "None") or _fresh_container_value(
                    index, value):
                continue
            return False
    return True


def _fresh_container_value(index: FileIndex, value) -> bool:
    if isinstance(value, (cst.List, cst.Dict, cst.Set, cst.Tuple, cst.ListComp, cst.SetComp,
                          cst.DictComp)):
        return True
    return isinstance(value, cst.Call) and index.call_name(value) in _FRESH_CONTAINER_CALLS


def _fresh_container(index: FileIndex, binding) -> bool:
    """A local binding to a container made right there (`[]`, `{}`, `list()`, a
    comprehension): only this function can reach what is put into it."""
    if binding.kind == "augassign":
        return True
    if binding.kind != "assign":
        return False
    value = binding.value
    if isinstance(value, (cst.List, cst.Dict, cst.Set, cst.Tuple, cst.ListComp, cst.SetComp,
                          cst.DictComp)):
        return True
    return isinstance(value, cst.Call) and index.call_name(value) in _FRESH_CONTAINER_CALLS


def _private(attr: str) -> bool:
    """`_timer`, not `timer` nor a dunder."""
    return attr.startswith("_") and not attr.endswith("__")


def _held_object_class(index: FileIndex, holder: cst.CSTNode):
    """For `self._state` (a private attribute of `self`): the ClassInfo of the one class
    of this module it is ever assigned (or None), when that object cannot be reached but
    through `self._state.X`: every read of `self._state` in the class family is an
    attribute access, and the held class's methods use their `self` only as `self.X`.
    None otherwise."""
    if not (isinstance(holder, cst.Attribute) and _private(holder.attr.value)):
        return None
    owner = index.class_of_self(holder.value)
    if owner is None:
        return None
    name = holder.attr.value
    held = None
    for member in index.class_family(owner):
        for node in member.self_attrs.get(name, ()):
            is_store, value = index.assigned_value(node)
            if is_store:
                if value is None or not isinstance(value, cst.Call) and not _is_none(value):
                    return None
                if isinstance(value, cst.Call):
                    classdef = index.local_class(value.func)
                    if classdef is None or (held is not None and held.node is not classdef):
                        return None
                    held = index.classes.get(classdef)
                continue
            outer = index.parent.get(node)
            if not (isinstance(outer, cst.Attribute) and outer.value is node):
                return None  # `helper(self._state)`: reachable elsewhere
    if held is None:
        return None
    for outside in index.attributes_by_name.get(name, ()):
        if outside not in index.self_attribute_nodes():
            return None  # `other._state`: reached from outside the class
    for member in index.class_family(held):
        for method_scope, param in member.self_params:
            for use in index.uses(method_scope, param):
                outer = index.parent.get(use)
                if not (isinstance(outer, cst.Attribute) and outer.value is use):
                    return None  # `register(self)`: the object is handed out
    return held


def _owned_attribute(index: FileIndex, attr: str) -> bool:
    """A class of this module has the attribute: `self.attr` in one of its methods, or
    `attr` bound in its body."""
    return any(attr in info.self_attrs or attr in info.scope.bindings
               for info in index.classes.values())


def _string_constants(index: FileIndex) -> Set[str]:
    """Every plain string literal of the file (computed once, only when asked)."""
    cached = index.shared.get("string_constants")
    if cached is None:
        cached = set()
        for node in walk(index.module):
            if isinstance(node, cst.SimpleString):
                value = node.evaluated_value
                if isinstance(value, str):
                    cached.add(value)
        index.shared["string_constants"] = cached
    return cached


def _is_none(expr: cst.CSTNode) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def _exported(index: FileIndex, name: str) -> bool:
    """The module lists `name` in `__all__`: other modules may read the value."""
    for binding in index.module_scope.bindings.get("__all__", ()):
        value = binding.value
        if isinstance(value, (cst.List, cst.Tuple)):
            for element in value.elements:
                if isinstance(element.value, cst.SimpleString) and element.value.evaluated_value == name:
                    return True
    return False


# -- stop signals ---------------------------------------------------------------------
# A resource nobody releases may still be told to stop by its owner, in a way that
# really reaches it: a worker thread that loops on `self.Q.get()` and leaves its loop on a
# sentinel, while another method of the class puts that sentinel on that same queue
# (`def stop(self): self.Q.put(None)`). The worker then ends by itself. Only that shape
# is learned: a sentinel put on another queue, or one sentinel for several workers, stops
# nothing; and closing a socket the worker blocks on does not wake it (see LKL101's docs).
QUEUE_PUTS = frozenset({"put", "put_nowait"})
_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def worker_method(index: FileIndex, target: Optional[cst.CSTNode],
                  subclass: Optional[cst.ClassDef]):
    """(ClassInfo, method) a thread runs: `target=self.m` gives `m` of self's class, a
    Thread subclass defined in the file its `run`; None when it is anything else."""
    if subclass is not None:
        info, name = index.classes.get(subclass), "run"
    elif isinstance(target, cst.Attribute):
        info, name = index.class_of_self(target.value), target.attr.value
    else:
        return None
    if info is None:
        return None
    for member in index.class_family(info):
        method = member.methods.get(name)
        if method is not None:
            return info, method
    return None


def stopped_by_sentinel(index: FileIndex, creation: Optional[cst.CSTNode], info, method) -> bool:
    """The worker `method` of class `info` leaves its loop on a sentinel got from
    `self.Q`, and another method of the class puts that sentinel on `self.Q` (once per
    worker when `creation` makes several workers sharing the queue; `creation` is None
    when each worker is its own instance, with its own queue)."""
    reads = _sentinel_reads(index, info, method)
    if not reads:
        return False
    several = creation is not None and _repeats(index, creation, None)
    for member in index.class_family(info):
        for method_scope, param in member.self_params:
            if method_scope.node is method:
                continue
            for use in index.uses(method_scope, param):
                put = _self_queue_call(index, use, QUEUE_PUTS)
                if not isinstance(put, tuple) or not put[1].args or put[1].args[0].star:
                    continue  # not a call (`callback = self.Q.put`), or nothing put
                queue_name, call = put
                value = call.args[0].value
                if not _constant_like(index, value):
                    continue
                text = index.module.code_for_node(value)
                if (queue_name, text) in reads and (not several or _repeats(index, call, method_scope.node)):
                    return True
    return False


def _self_queue_call(index: FileIndex, self_use: cst.Name, methods):
    """For `self` in `self.Q.m(...)` with `m` in `methods`: ("Q", the call)."""
    queue_attr = index.parent.get(self_use)
    if not (isinstance(queue_attr, cst.Attribute) and queue_attr.value is self_use):
        return None
    method = index.parent.get(queue_attr)
    if not (isinstance(method, cst.Attribute) and method.value is queue_attr
            and method.attr.value in methods):
        return None
    call = index.parent.get(method)
    if isinstance(call, cst.Call) and call.func is method:
        return queue_attr.attr.value, call
    return method  # the bound method itself (`iter(self.Q.get, None)`)


def _sentinel_reads(index: FileIndex, info, method) -> Set[tuple]:
    """{(queue attribute, sentinel source)} the worker stops on: `iter(self.Q.get, S)`,
    or `self.Q.get()` in a loop of `method` together with a comparison `x is S` / `x == S`
    in it."""
    param_scope = next((scope for member in index.class_family(info)
                        for scope, _ in member.self_params if scope.node is method), None)
    if param_scope is None:
        return set()
    param = next(p for member in index.class_family(info)
                 for scope, p in member.self_params if scope is param_scope)
    looped_gets: Set[str] = set()
    reads: Set[tuple] = set()
    for use in index.uses(param_scope, param):
        found = _self_queue_call(index, use, frozenset({"get"}))
        if isinstance(found, tuple):
            if _repeats(index, found[1], method):
                looped_gets.add(found[0])
        elif isinstance(found, cst.Attribute):  # `iter(self.Q.get, S)`
            arg = index.parent.get(found)
            call = index.parent.get(arg) if isinstance(arg, cst.Arg) else None
            queue_attr = found.value  # `self.Q` (see _self_queue_call)
            if (isinstance(call, cst.Call) and index.call_name(call) == "builtins.iter"
                    and len(call.args) == 2 and call.args[0] is arg
                    and isinstance(queue_attr, cst.Attribute)):
                reads.add((queue_attr.attr.value, index.module.code_for_node(call.args[1].value)))
    if looped_gets:
        code = index.module.code_for_node
        for node in walk(method.body):
            if (isinstance(node, cst.Comparison) and len(node.comparisons) == 1
                    and isinstance(node.comparisons[0].operator, (cst.Is, cst.Equal))):
                for side in (node.left, node.comparisons[0].comparator):
                    reads.update((queue, code(side)) for queue in looped_gets)
    return reads


def _repeats(index: FileIndex, node: cst.CSTNode, within: Optional[cst.CSTNode]) -> bool:
    """`node` sits in a loop or comprehension (inside `within`, or inside its function)."""
    for ancestor in index.ancestors(node):
        if ancestor is within or (within is None and isinstance(ancestor, cst.FunctionDef)):
            return False
        if isinstance(ancestor, _LOOPS):
            return True
    return False


def _constant_like(index: FileIndex, value: cst.CSTNode) -> bool:
    """A sentinel: a literal (`None`, `"stop"`, `0`), a module-level or class-level name
    (`_STOP = object()`), or an attribute of `self` or of a name (`self._sentinel`,
    `Worker.STOP`); never a local variable or parameter, which carries data."""
    if isinstance(value, (cst.Integer, cst.Float, cst.SimpleString)):
        return True
    if isinstance(value, cst.Name):
        if value.value in ("None", "True", "False", "Ellipsis"):
            return True
        scope = index.binding_scope(value)
        return scope is not None and scope.kind in ("module", "class")
    if isinstance(value, cst.Attribute):
        return isinstance(value.value, cst.Name)
    return isinstance(value, cst.Ellipsis)


# -- owners that tell their threads to stop --------------------------------------------
# A class whose closing method (`close()`, `stop()`, `__exit__`...) tells its worker
# thread to stop - sets a flag or an Event the worker reads, puts a sentinel on a queue
# the worker reads - means the thread to end when the owner closes. Telling is not
# waiting: without a join, the thread is still running when `close()` returns, and races
# with whatever comes next (the interpreter's shutdown, a reopened owner, the file or
# socket the caller now closes). Daemon threads are the case: nothing else ever waits for
# them.
CLOSING_METHODS = frozenset({"close", "stop", "shutdown", "terminate", "__exit__",
                             "__aexit__", "cancel", "quit", "disconnect"})
# Calls on `self.X` that change what a worker reading `self.X` sees: an Event set or
# cleared, something put on a queue.
SIGNAL_CALLS = frozenset({"set", "clear", "put", "put_nowait"})


@dataclass(frozen=True)
class StopSignal:
    """How an owner tells its worker to stop: `closer` (a closing method, `close`) sets
    or signals `self.<attribute>`, which the worker reads; `node` is that store or call."""

    closer: str
    attribute: str
    node: cst.CSTNode


def stop_signal(index: FileIndex, owner, worker,
                joining: FrozenSet[str] = frozenset()) -> Optional[StopSignal]:
    """The first closing method of class `owner` (a ClassInfo) that, itself or through
    methods it calls on `self`, stores to or signals (`SIGNAL_CALLS`) an attribute of
    `self` that the `worker` method (or a method it calls on `self`) reads. `worker` is a
    method of `owner`'s family (see `worker_method`). Closing methods named in `joining`
    also wait for the worker (a Thread subclass's `stop()` that ends in `self.join()`):
    they are not the ones looked for. None when there is no such method."""
    family = index.class_family(owner)
    reads = {attr for node in _self_attribute_uses(index, family, [worker])
             if not index.assigned_value(node)[0] for attr in (node.attr.value,)}
    if not reads:
        return None
    for closer in sorted(CLOSING_METHODS - joining):
        methods = [m for member in family for name, m in member.methods.items()
                   if name == closer and m is not worker]
        for node in _self_attribute_uses(index, family, methods):
            if node.attr.value not in reads:
                continue
            assigned, value = index.assigned_value(node)
            if assigned and value is not None and _constant_like(index, value):
                return StopSignal(closer, node.attr.value, node)  # a flag: `self._running = False`
            method = index.parent.get(node)
            if (isinstance(method, cst.Attribute) and method.value is node
                    and method.attr.value in SIGNAL_CALLS
                    and isinstance(index.parent.get(method), cst.Call)):
                return StopSignal(closer, node.attr.value, node)
    return None


def _self_attribute_uses(index: FileIndex, family, methods) -> List[cst.Attribute]:
    """Every `self.X` in `methods` and in the methods of `family` they call on `self`
    (`self._cleanup()`), transitively."""
    scopes = {scope.node: (scope, param) for member in family
              for scope, param in member.self_params}
    found: List[cst.Attribute] = []
    todo = list(methods)
    seen: Set[int] = set()
    while todo:
        method = todo.pop()
        if id(method) in seen or method not in scopes:
            continue
        seen.add(id(method))
        scope, param = scopes[method]
        for use in index.uses(scope, param):
            attribute = index.parent.get(use)
            if not (isinstance(attribute, cst.Attribute) and attribute.value is use):
                continue
            found.append(attribute)
            call = index.parent.get(attribute)
            if isinstance(call, cst.Call) and call.func is attribute:
                todo.extend(member.methods[attribute.attr.value] for member in family
                            if attribute.attr.value in member.methods)
    return found
