"""What the queue rules (LKL3xx) share: finding queue creations and following each queue.

A queue is created by `queue.Queue()` (and Lifo/Priority/Simple), `asyncio.Queue()` (and
Lifo/Priority), `multiprocessing.Queue()` / `JoinableQueue()` / `SimpleQueue()`, the same
on a context from `multiprocessing.get_context()`, or `Manager().Queue()`.

From the creation we follow the queue value where it is visible: a local name in its
function and nested functions, a `self` attribute across the class (and its local base
classes and subclasses), a module global across the module. A queue handed to a function
defined in this file (directly, as a thread/process target with `args=`, through
`functools.partial`, `executor.submit`, `asyncio.to_thread`, `loop.run_in_executor`, or
a local class's `__init__`) is followed into that function's parameter. Each use is an
event: put, get, task_done, join, neutral, or escape (returned, yielded, stored where we
don't look, passed to a call we don't know). The rules decide from the events; any escape
silences them, because a reader may be anywhere the queue went.

The analysis is computed once per file and cached on the index.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set, Tuple, TypeVar, Union, cast

import libcst as cst

from leaklint.index import FileIndex, walk
from leaklint.lifecycle import NEUTRAL_BUILTINS
from leaklint.rules._common import SNIPPET_LIMIT, keyword

THREAD_QUEUES = frozenset({"queue.Queue", "queue.LifoQueue", "queue.PriorityQueue",
                           "queue.SimpleQueue"})
ASYNC_QUEUES = frozenset({"asyncio.Queue", "asyncio.LifoQueue", "asyncio.PriorityQueue",
                          "asyncio.queues.Queue", "asyncio.queues.LifoQueue",
                          "asyncio.queues.PriorityQueue"})
MP_QUEUES = frozenset({"multiprocessing.Queue", "multiprocessing.JoinableQueue",
                       "multiprocessing.SimpleQueue", "multiprocessing.queues.Queue",
                       "multiprocessing.queues.JoinableQueue",
                       "multiprocessing.queues.SimpleQueue"})
MP_QUEUE_METHODS = frozenset({"Queue", "JoinableQueue", "SimpleQueue"})
ALL_QUEUES = THREAD_QUEUES | ASYNC_QUEUES | MP_QUEUES
MANAGER_FACTORIES = frozenset({"multiprocessing.Manager", "multiprocessing.managers.SyncManager"})
CONTEXT_FACTORIES = frozenset({"multiprocessing.get_context"})

PUT_METHODS = frozenset({"put", "put_nowait"})
GET_METHODS = frozenset({"get", "get_nowait"})
NEUTRAL_METHODS = frozenset({"qsize", "empty", "full", "close", "join_thread",
                             "cancel_join_thread", "shutdown", "maxsize"})

THREAD_FACTORIES = frozenset({"threading.Thread", "multiprocessing.Process",
                              "multiprocessing.context.Process"})
TASK_FACTORIES = frozenset({"asyncio.create_task", "asyncio.ensure_future"})
TASK_METHODS = frozenset({"create_task", "ensure_future"})
PARTIALS = frozenset({"functools.partial"})
# A queue on a public attribute (`self.queue`) may be read by users of the class.
PUBLIC_ATTRIBUTES_ESCAPE = True


@dataclass
class QueueInfo:
    creation: cst.Call
    kind: str  # "thread" | "asyncio" | "mp" | "manager"
    name: str  # the qualified class name, for messages
    holder: str = ""  # how the code refers to it: "q", "self._queue"
    scope_kind: str = ""  # "local" | "self" | "global" | "other"
    maxsize: Optional[int] = None  # a constant maxsize, 0 when unbounded
    # Each a call (`q.put(x)`) or the bound method handed out (`f(q.put)`).
    puts: List[Union[cst.Call, cst.Attribute]] = field(default_factory=list)
    gets: List[Union[cst.Call, cst.Attribute]] = field(default_factory=list)
    task_dones: List[Union[cst.Call, cst.Attribute]] = field(default_factory=list)
    joins: List[cst.Call] = field(default_factory=list)
    escaped: bool = False
    escape_reason: str = ""
    # functions (FunctionDef/Lambda) the queue was handed to as an argument
    callees: Set[cst.CSTNode] = field(default_factory=set)

    # ids of every expression found to evaluate to the queue
    uses: Set[int] = field(default_factory=set)

    @property
    def joinable(self) -> bool:
        if self.name.endswith("SimpleQueue"):
            return False
        return self.kind != "mp" or self.name.endswith("JoinableQueue")


def positional(call: cst.Call) -> List[cst.Arg]:
    return [a for a in call.args if a.keyword is None and not a.star]


def int_constant(expr: Optional[cst.CSTNode]) -> Optional[int]:
    if isinstance(expr, cst.Integer):
        try:
            return int(expr.value.replace("_", ""), 0)
        except ValueError:
            return None
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = int_constant(expr.expression)
        return -inner if inner is not None else None
    return None


def text_of(index: FileIndex, node: cst.CSTNode) -> str:
    return " ".join(index.module.code_for_node(node).split())


def single_binding_value(index: FileIndex, name: cst.Name) -> Optional[cst.CSTNode]:
    bindings = index.bindings_of(name)
    if len(bindings) == 1 and bindings[0].kind in ("assign", "with", "annassign"):
        return bindings[0].value
    return None


def _is_factory(index: FileIndex, expr: cst.CSTNode, names, depth: int = 0) -> bool:
    """`expr` evaluates to the result of a call to one of `names` (directly or through a
    name bound once to such a call)."""
    if isinstance(expr, cst.Call):
        return index.call_name(expr) in names
    if isinstance(expr, cst.Name) and depth < 3:
        value = single_binding_value(index, expr)
        return value is not None and _is_factory(index, value, names, depth + 1)
    return False


def _is_context_manager(index: FileIndex, expr: cst.CSTNode, depth: int = 0) -> bool:
    """`get_context().Manager()`, directly or through a name bound once to it."""
    if isinstance(expr, cst.Name) and depth < 3:
        value = single_binding_value(index, expr)
        return value is not None and _is_context_manager(index, value, depth + 1)
    return (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value == "Manager"
            and _is_factory(index, expr.func.value, CONTEXT_FACTORIES))


def classify_creation(index: FileIndex, call: cst.Call) -> Optional[Tuple[str, str]]:
    """(kind, display name) when `call` creates a queue."""
    name = index.call_name(call, among=ALL_QUEUES)
    if name in THREAD_QUEUES:
        return "thread", name
    if name in ASYNC_QUEUES:
        return "asyncio", "asyncio." + name.rsplit(".", 1)[1]
    if name in MP_QUEUES:
        return "mp", "multiprocessing." + name.rsplit(".", 1)[1]
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in MP_QUEUE_METHODS:
        if _is_factory(index, func.value, CONTEXT_FACTORIES):
            return "mp", "multiprocessing." + func.attr.value
        if func.attr.value == "Queue" or func.attr.value == "JoinableQueue":
            if _is_factory(index, func.value, MANAGER_FACTORIES) or _is_context_manager(
                    index, func.value):
                return "manager", "Manager()." + func.attr.value
    return None


def maxsize_of(call: cst.Call, kind: str) -> Optional[int]:
    arg = keyword(call, "maxsize")
    if arg is None:
        args = positional(call)
        if args:
            arg = args[0]
    if arg is None:
        if any(a.star for a in call.args):
            return None
        return 0
    if isinstance(arg.value, cst.Float):
        try:
            return max(math.ceil(float(arg.value.value.replace("_", ""))), 0)
        except ValueError:
            return None
    value = int_constant(arg.value)
    if value is None:
        return None
    return max(value, 0)


# ---------------------------------------------------------------------------- tracing
class QueueTracer:
    def __init__(self, index: FileIndex, info: QueueInfo):
        self.index = index
        self.parent = index.parent
        self.info = info
        self._seen: Set[tuple] = set()
        self.weak = False

    def escape(self, reason: str) -> None:
        if not self.info.escaped:
            self.info.escaped = True
            self.info.escape_reason = reason

    def trace(self, node: cst.CSTNode, weak: Optional[bool] = None) -> None:
        """`node` evaluates to the queue. A *weak* use is one that may see another value
        bound to the same name (`q = Queue(); ...; q = Queue()`): its gets and escapes
        count (they can only silence a rule) but its puts and joins do not."""
        if weak is None:
            weak = self.weak
        key = ("node", id(node), weak)
        if key in self._seen or self.info.escaped:
            return
        self._seen.add(key)
        saved, self.weak = self.weak, weak
        try:
            self._trace(node)
        finally:
            self.weak = saved

    def _trace(self, node: cst.CSTNode) -> None:
        self.info.uses.add(id(node))
        parent = self.parent.get(node)
        if parent is None:
            self.escape("unknown context")
            return
        info = self.info
        if isinstance(parent, cst.Attribute) and parent.value is node:
            attr = parent.attr.value
            holder = self.parent.get(parent)
            call = holder if isinstance(holder, cst.Call) and holder.func is parent else None
            use = call if call is not None else parent  # the call, or the method handed out
            if isinstance(holder, cst.AssignTarget) or (
                    isinstance(holder, (cst.AnnAssign, cst.AugAssign)) and holder.target is parent):
                return  # `q.attr = ...`
            if attr in PUT_METHODS:
                if not self.weak:
                    info.puts.append(use)
            elif attr in GET_METHODS:
                info.gets.append(use)
            elif attr == "task_done":
                info.task_dones.append(use)
            elif attr == "join":
                if call is not None:
                    if not self.weak:
                        info.joins.append(call)
                else:
                    info.task_dones.append(parent)  # handed out: be conservative
            elif attr in NEUTRAL_METHODS:
                pass
            else:
                self.escape(f"attribute {attr} used")
            return
        if isinstance(parent, (cst.Return, cst.Yield, cst.Await, cst.Lambda)):
            self.escape("returned")
        elif isinstance(parent, (cst.AssignTarget, cst.Assign, cst.AnnAssign)):
            assign = parent if not isinstance(parent, cst.AssignTarget) else self.parent.get(parent)
            if isinstance(assign, cst.Assign):
                targets = [t.target for t in assign.targets]
            elif isinstance(assign, cst.AnnAssign):
                targets = [assign.target]
            else:
                targets = []
            if getattr(assign, "value", None) is not node:
                self.escape("unpacked")
                return
            for target in targets:
                self.bind_target(target)
        elif isinstance(parent, cst.NamedExpr) and parent.value is node:
            self.bind_target(parent.target)
            self.trace(parent)
        elif isinstance(parent, cst.Arg):
            self.trace_argument(node, parent)
        elif isinstance(parent, (cst.Expr, cst.Del, cst.Comparison, cst.ComparisonTarget,
                                 cst.If, cst.While, cst.Assert, cst.UnaryOperation,
                                 cst.FormattedStringExpression)):
            pass
        elif isinstance(parent, cst.BooleanOperation):
            outer = self.parent.get(parent)
            if not isinstance(outer, (cst.If, cst.While, cst.Expr)):
                # `out = out or Queue()`: the result may be another queue (the caller's)
                other = parent.right if parent.left is node else parent.left
                self.trace(parent, self.weak or not _is_none(other))
        elif isinstance(parent, cst.IfExp):
            if parent.test is not node:
                other = parent.orelse if parent.body is node else parent.body
                self.trace(parent, self.weak or not _is_none(other))
        elif self.index.unpacked_targets(node) is not None:  # `a, b = Queue(), Queue()`
            for unpacked in self.index.unpacked_targets(node) or ():
                self.bind_target(unpacked)
        elif isinstance(parent, cst.Element) and isinstance(self.parent.get(parent), cst.Tuple):
            self.trace_args_tuple(node, parent)
        elif isinstance(parent, cst.DictElement) and parent.value is node:
            self.trace_kwargs_dict(parent)
        else:
            self.escape("stored")

    # -- storage ---------------------------------------------------------------------
    def bind_target(self, target: cst.CSTNode) -> None:
        index = self.index
        if isinstance(target, cst.Name):
            owner = index.target_scope(target)
            if owner is None or owner.kind == "class":
                self.escape("class attribute")
                return
            if owner is index.module_scope and _exported(index, target.value):
                self.escape("exported")
                return
            reach = self._binding_reach(owner, target)
            for use in index.uses(owner, target.value):
                weak = self.weak
                if reach is not None:
                    position = reach[0].get(id(use), -1)
                    weak = weak or not (reach[1] < position < reach[2])
                self.trace(use, weak)
                if self.info.escaped:
                    return
        elif isinstance(target, cst.Attribute):
            info = index.class_of_self(target.value)
            if info is None:
                self.escape("stored on an object")
            elif PUBLIC_ATTRIBUTES_ESCAPE and not target.attr.value.startswith("_"):
                self.escape("public attribute: users of the class may read it")
            else:
                self.follow_self_attribute(info, target.attr.value)
        else:
            self.escape("stored in a container")

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

    def follow_self_attribute(self, info, attr: str) -> None:
        index = self.index
        key = ("self", id(info.node), attr, self.weak)
        if key in self._seen:
            return
        self._seen.add(key)
        own: Set[cst.Attribute] = set()
        for member in index.class_family(info):
            own.update(member.self_attrs.get(attr, ()))
            if _foreign_base(index, member.node):
                self.escape("a base class defined elsewhere may read it")
                return
        all_self = _all_self_attrs(index)
        for node in index.attributes_by_name.get(attr, ()):
            if node not in all_self and node not in own:
                self.escape("attribute reached from outside the class")
                return
        for node in own:
            holder = self.parent.get(node)
            if isinstance(holder, cst.AssignTarget) and holder.target is node:
                continue
            if isinstance(holder, (cst.AnnAssign, cst.AugAssign)) and holder.target is node:
                continue
            self.trace(node)
            if self.info.escaped:
                return

    # -- calls -----------------------------------------------------------------------
    def trace_argument(self, node: cst.CSTNode, arg: cst.Arg) -> None:
        call = self.parent.get(arg)
        if not isinstance(call, cst.Call) or arg.star:
            self.escape("passed on")
            return
        name = self.index.call_name(call)
        if name in NEUTRAL_BUILTINS:
            return
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in (
                "debug", "info", "warning", "error", "exception", "critical", "log"):
            return
        # Thread(target=f, args=(q,)) with q passed as a keyword `kwargs` member is rare;
        # `Thread(target=f, kwargs={"q": q})` escapes (dict element).
        func, offset = self.resolve_callable(call.func)
        if func is not None:
            self.follow_parameter(func, offset, call, arg)
            return
        if name in PARTIALS and arg.keyword is None and call.args and call.args[0] is not arg:
            # functools.partial(f, q): q becomes one of f's leading arguments
            if not any(a.star for a in call.args):
                func, offset = self.resolve_callable(call.args[0].value)
                if func is not None:
                    self.follow_position(func, offset + positional(call).index(arg) - 1, None)
                    return
        spawn = spawned_callable(self.index, call)
        if spawn is not None:
            target, args_expr, extra = spawn
            if arg.keyword is None and extra is not None and arg in extra:
                func, offset = self.resolve_callable(target)
                if func is not None:
                    position = extra.index(arg)
                    self.follow_position(func, offset + position, None)
                    return
        self.escape(f"passed to {text_of(self.index, call.func)}")

    def trace_args_tuple(self, node: cst.CSTNode, element: cst.Element) -> None:
        """`Thread(target=f, args=(q,))`: the tuple's position maps onto f's parameters."""
        tup = cast(cst.Tuple, self.parent.get(element))  # as the caller checked
        arg = self.parent.get(tup)
        call = self.parent.get(arg) if isinstance(arg, cst.Arg) else None
        if isinstance(call, cst.Call) and not any(
                isinstance(e, cst.StarredElement) for e in tup.elements):
            spawn = spawned_callable(self.index, call)
            if spawn is not None and spawn[1] is arg:
                func, offset = self.resolve_callable(spawn[0])
                if func is not None:
                    position = list(tup.elements).index(element)
                    self.follow_position(func, offset + position, None)
                    return
        self.escape("stored in a tuple")

    def trace_kwargs_dict(self, element: cst.DictElement) -> None:
        """`Thread(target=f, kwargs={"q": q})`: the key names f's parameter."""
        mapping = cast(cst.Dict, self.parent.get(element))  # a DictElement's parent
        arg = self.parent.get(mapping)
        call = self.parent.get(arg) if isinstance(arg, cst.Arg) else None
        key = element.key
        if (isinstance(call, cst.Call) and isinstance(key, cst.SimpleString) and isinstance(arg, cst.Arg)
                and arg.keyword is not None and arg.keyword.value == "kwargs"):
            spawn = spawned_callable(self.index, call)
            if spawn is not None:
                func, _ = self.resolve_callable(spawn[0])
                if func is not None and isinstance(key.evaluated_value, str):
                    self.follow_named(func, key.evaluated_value)
                    return
        self.escape("stored in a dict")

    def resolve_callable(self, expr: Optional[cst.CSTNode]):
        """(FunctionDef or Lambda, number of leading parameters already bound)."""
        index = self.index
        if expr is None:
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
                        return self._partial(binding.value)
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
            return self._partial(expr)
        return None, 0

    def _partial(self, call: cst.Call):
        args = positional(call)
        if not args or len(args) != len([a for a in call.args if a.keyword is None]):
            return None, 0
        func, offset = self.resolve_callable(args[0].value)
        if func is None:
            return None, 0
        return func, offset + len(args) - 1

    def follow_parameter(self, func, offset: int, call: cst.Call, arg: cst.Arg) -> None:
        if arg.keyword is not None:
            self.follow_named(func, arg.keyword.value)
            return
        if any(a.star for a in call.args[: call.args.index(arg)]):
            self.escape("passed after *args")
            return
        position = positional(call).index(arg)
        self.follow_position(func, offset + position, call)

    def follow_position(self, func, position: int, call) -> None:
        params = func.params
        ordered = list(params.posonly_params) + list(params.params)
        if position < len(ordered):
            self.follow_param_name(func, ordered[position].name.value)
        else:
            self.escape("passed to *args")

    def follow_named(self, func, name: str) -> None:
        params = func.params
        names = [p.name.value for p in list(params.params) + list(params.kwonly_params)]
        if name in names:
            self.follow_param_name(func, name)
        else:
            self.escape("passed to **kwargs")

    def follow_param_name(self, func, name: str) -> None:
        key = ("param", id(func), name, self.weak)
        if key in self._seen:
            return
        self._seen.add(key)
        self.info.callees.add(func)
        scope = self.index.scope_of_node.get(func)
        if scope is None:
            self.escape("unknown function")
            return
        for use in self.index.uses(scope, name):
            self.trace(use)
            if self.info.escaped:
                return


def spawned_callable(index: FileIndex, call: cst.Call):
    """For a call that runs a callable later, (callable expr, the `args` Arg holding a
    tuple of its arguments or None, list of positional Args passed straight through or
    None). None when `call` is not such a call."""
    name = index.call_name(call)
    func = call.func
    if name in THREAD_FACTORIES or _is_context_process(index, call):
        target = keyword(call, "target")
        args = keyword(call, "args")
        if target is None:
            return None
        if args is not None and not isinstance(args.value, cst.Tuple):
            return None
        return target.value, args, None
    if isinstance(func, cst.Attribute):
        method = func.attr.value
        pos = positional(call)
        if name == "asyncio.to_thread" or method in ("submit", "to_thread", "call_soon",
                                                     "call_soon_threadsafe", "apply_async",
                                                     "start_new_thread"):
            if method in ("apply_async", "start_new_thread"):
                if len(pos) >= 1:
                    args = pos[1] if len(pos) > 1 else keyword(call, "args")
                    if args is not None and not isinstance(args.value, cst.Tuple):
                        return None
                    return pos[0].value, args, None
                return None
            if pos:
                return pos[0].value, None, pos[1:]
        if method == "run_in_executor" and len(pos) >= 2:
            return pos[1].value, None, pos[2:]
    elif name == "asyncio.to_thread":
        pos = positional(call)
        if pos:
            return pos[0].value, None, pos[1:]
    return None


def _is_context_process(index: FileIndex, call: cst.Call) -> bool:
    func = call.func
    return (isinstance(func, cst.Attribute) and func.attr.value == "Process"
            and _is_factory(index, func.value, CONTEXT_FACTORIES))


def _is_static(method: cst.FunctionDef) -> bool:
    for decorator in method.decorators:
        if isinstance(decorator.decorator, cst.Name) and decorator.decorator.value == "staticmethod":
            return True
    return False


def _all_self_attrs(index: FileIndex):
    cached = index.shared.get("all_self_attrs")
    if cached is None:
        cached = {n for c in index.classes.values() for nodes in c.self_attrs.values()
                  for n in nodes}
        index.shared["all_self_attrs"] = cached
    return cached


def _exported(index: FileIndex, name: str) -> bool:
    """The module lists `name` in `__all__`: other modules may read the queue."""
    for binding in index.module_scope.bindings.get("__all__", ()):
        value = binding.value
        if isinstance(value, (cst.List, cst.Tuple)):
            for element in value.elements:
                if isinstance(element.value, cst.SimpleString) and element.value.evaluated_value == name:
                    return True
    return False


def _is_none(expr: cst.CSTNode) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def _describe_holder(index: FileIndex, creation: cst.Call) -> Tuple[str, str]:
    node: cst.CSTNode = creation
    parent = index.parent.get(node)
    while isinstance(parent, (cst.IfExp, cst.BooleanOperation)) and getattr(parent, "test", None) is not node:
        node, parent = parent, index.parent.get(parent)
    target = None
    if isinstance(parent, cst.NamedExpr) and parent.value is node:
        target = parent.target
    elif isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
    elif isinstance(parent, cst.AnnAssign):
        target = parent.target
    if target is None:
        return "", "other"
    text = text_of(index, target)
    if isinstance(target, cst.Name):
        scope = index.target_scope(target)
        if scope is index.module_scope:
            return text, "global"
        if scope is not None and scope.kind in ("function", "lambda"):
            return text, "local"
        return text, "other"
    if isinstance(target, cst.Attribute) and index.class_of_self(target.value) is not None:
        return text, "self"
    return text, "other"


def analyze(index: FileIndex) -> List[QueueInfo]:
    """Every queue created in the file, with its events. Cached on the index."""
    cached = index.shared.get("queues")
    if cached is not None:
        return cached
    result = []
    for call in index.calls:
        kind = classify_creation(index, call)
        if kind is None:
            continue
        info = QueueInfo(creation=call, kind=kind[0], name=kind[1])
        info.holder, info.scope_kind = _describe_holder(index, call)
        info.maxsize = maxsize_of(call, info.kind) if not info.name.endswith("SimpleQueue") else 0
        QueueTracer(index, info).trace(call)
        result.append(info)
    index.shared["queues"] = result
    return result


# ---------------------------------------------------------------------------- helpers
def function_of(index: FileIndex, node: cst.CSTNode):
    """The innermost FunctionDef or Lambda holding `node`, or None at module/class level."""
    for ancestor in index.ancestors(node):
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
            return ancestor
    return None


def enclosing_loops(index: FileIndex, node: cst.CSTNode, stop: Optional[cst.CSTNode]):
    """Loops (For, While, comprehension CompFor) around `node`, innermost first, up to
    `stop` (exclusive)."""
    loops: List[cst.CSTNode] = []
    child = node
    for ancestor in index.ancestors(node):
        if ancestor is stop:
            break
        if isinstance(ancestor, (cst.For, cst.While)):
            # the iterable and the else-clause run once
            if isinstance(ancestor, cst.For) and child is ancestor.iter:
                pass
            elif child is getattr(ancestor, "orelse", None):
                pass
            else:
                loops.append(ancestor)
        elif isinstance(ancestor, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            if child is not ancestor.for_in:
                loops.append(ancestor.for_in)
        elif isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            loops.append(ancestor)  # a nested function: runs an unknown number of times
        child = ancestor
    return loops


def constant_range(index: FileIndex, loop) -> Optional[int]:
    """Iterations of `for _ in range(N)` with a constant N (also for a comprehension)."""
    if isinstance(loop, (cst.For, cst.CompFor)):
        it: Optional[cst.CSTNode] = loop.iter
        if isinstance(it, cst.Call) and index.call_name(it) == "builtins.range":
            args = positional(it)
            if len(args) == len(it.args):
                values = [value for value in (int_constant(a.value) for a in args) if value is not None]
                if len(values) < len(args):  # not all constant
                    return None
                if len(values) == 1:
                    return max(values[0], 0)
                if len(values) == 2:
                    return max(values[1] - values[0], 0)
        if isinstance(it, cst.Name):
            it = _constant_sequence(index, it)
        if isinstance(it, (cst.List, cst.Tuple)) and not any(
                isinstance(e, cst.StarredElement) for e in it.elements):
            return len(it.elements)
    return None


def _constant_sequence(index: FileIndex, name: cst.Name) -> Optional[cst.CSTNode]:
    """The tuple/list literal a name is bound to once and never changed
    (`MIRRORS = ("a", "b", "c")`), so `for m in MIRRORS` runs a known number of times."""
    bindings = index.bindings_of(name)
    if len(bindings) != 1 or bindings[0].kind != "assign":
        return None
    value = bindings[0].value
    if not isinstance(value, (cst.List, cst.Tuple)):
        return None
    for use in index.uses(bindings[0].scope, name.value):
        parent = index.parent.get(use)
        if isinstance(parent, (cst.Attribute, cst.Subscript, cst.AugAssign)) or isinstance(parent, cst.Arg):
            return None  # mutated or handed on: the length may change
    return value


def repeat_count(index: FileIndex, node: cst.CSTNode, stop) -> Optional[int]:
    """How many times `node` runs per run of `stop`, when every loop between them is a
    constant range; None when unknown."""
    count = 1
    for loop in enclosing_loops(index, node, stop):
        n = constant_range(index, loop)
        if n is None:
            return None
        count *= n
    return count


def source_order(index: FileIndex, root: cst.CSTNode) -> Dict[int, int]:
    cache = index.shared.get("source_order")
    if cache is None:
        cache = index.shared["source_order"] = {}
    order = cache.get(id(root))
    if order is None:
        order = {id(node): number for number, node in enumerate(walk(root))}
        cache[id(root)] = order
    return order


_Node = TypeVar("_Node", bound=cst.CSTNode)


def first_in_source(index: FileIndex, nodes: Iterable[_Node]) -> _Node:
    nodes = list(nodes)
    if len(nodes) == 1:
        return nodes[0]
    order = source_order(index, index.module)
    return min(nodes, key=lambda n: order.get(id(n), 1 << 30))


def quoted_holder(info: QueueInfo) -> str:
    """The queue as a message names it: `results`, or "the queue" (no name, or too long)."""
    if info.holder and len(info.holder) <= SNIPPET_LIMIT:
        return f"`{info.holder}`"
    return "the queue"


def nonblocking_put(put: cst.Call) -> bool:
    """`put_nowait`, `put(x, block=False)`, `put(x, timeout=...)` (or positional forms)."""
    if isinstance(put.func, cst.Attribute) and put.func.attr.value == "put_nowait":
        return True
    block = keyword(put, "block")
    if block is not None and isinstance(block.value, cst.Name) and block.value.value == "False":
        return True
    return keyword(put, "timeout") is not None or len(positional(put)) > 1


def outlives_call(index: FileIndex, info: QueueInfo) -> bool:
    """False for a local queue whose puts all run in the frame that made it and cannot
    block (non-blocking puts, an unbounded queue, or no more blocking puts than it
    holds): when the function returns, nothing is left waiting and the queue and its
    items are simply collected."""
    if info.scope_kind != "local":
        return True
    creator = function_of(index, info.creation)
    if creator is None:
        return True
    blocking = 0
    for put in info.puts:
        if function_of(index, put) is not creator:
            return True
        if not isinstance(put, cst.Call):
            # `self.assertRaises(QueueFull, q.put_nowait, 2)`: called right there
            if not _called_immediately(index, put):
                return True
            if put.attr.value == "put_nowait" or info.maxsize == 0:
                continue
        elif nonblocking_put(put) or info.maxsize == 0:
            continue
        count = repeat_count(index, put, creator)
        if count is None or info.maxsize is None:
            return True
        blocking += count
    return info.maxsize is not None and blocking > info.maxsize


# Calls that call the callable they are given right away (and do not keep it).
IMMEDIATE_CALLERS = frozenset({"assertRaises", "assertRaisesRegex", "assertWarns",
                               "assertWarnsRegex"})


def _called_immediately(index: FileIndex, ref: cst.CSTNode) -> bool:
    arg = index.parent.get(ref)
    call = index.parent.get(arg) if isinstance(arg, cst.Arg) else None
    if not isinstance(call, cst.Call):
        return False
    if isinstance(call.func, cst.Attribute) and call.func.attr.value in IMMEDIATE_CALLERS:
        return True
    return index.call_name(call) == "pytest.raises"


# Base classes known not to read their subclasses' queue attributes.
INERT_BASES = frozenset({"builtins.object", "threading.Thread", "multiprocessing.Process",
                         "multiprocessing.context.Process", "abc.ABC", "typing.Generic",
                         "typing.Protocol", "builtins.Exception"})


def _foreign_base(index: FileIndex, classdef: cst.ClassDef) -> bool:
    """The class derives from a class defined in another module (other than a few inert
    ones): code there may use the attribute."""
    for base in classdef.bases:
        if base.keyword is not None:
            continue
        expr = base.value
        if isinstance(expr, cst.Subscript):
            expr = expr.value
        if index.local_class(expr) is not None:
            continue
        if index.qualified_name(expr) not in INERT_BASES:
            return True
    return False
