"""What the queue rules (LKL3xx) share: finding queue creations and following each queue.

A queue is created by `queue.Queue()` (and Lifo/Priority/Simple), `asyncio.Queue()` (and
Lifo/Priority), `multiprocessing.Queue()` / `JoinableQueue()` / `SimpleQueue()`, the same
on a context from `multiprocessing.get_context()`, or `Manager().Queue()`.

The queue is followed by the core tracer (`lifecycle.track` with the `QUEUE` kind): a
local name in its function and nested functions, a `self` attribute across the class (and
its local base classes and subclasses), a module global across the module, and into the
parameter of a function of this file it is handed to (directly, as a thread/process
target with `args=`, through `functools.partial`, `executor.submit`, `asyncio.to_thread`,
`loop.run_in_executor`, or a local class's `__init__`). Each use is an event: put, get
(`iter(q.get, STOP)` too), task_done, join, neutral, or escape (returned, yielded, stored
where we don't look, passed to a call we don't know). The rules decide from the events;
any escape silences them, because a reader may be anywhere the queue went.

The analysis is computed once per file and cached on the index.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Set, Tuple, TypeVar, Union, cast

import libcst as cst

from leaklint.index import FileIndex
from leaklint.lifecycle import Lifecycle, ResourceKind, track
from leaklint.project import UNUSED_ELSEWHERE, require
from leaklint.rules._common import SNIPPET_LIMIT, keyword
from leaklint.rules.base import last_names
from leaklint.values import (
    CONTEXT_FACTORIES,
    is_result_of,
    single_binding_value,
)

# These moved to the core (leaklint/values.py) with the tracer; the rules may still
# import them from here.
from leaklint.values import PARTIALS as PARTIALS
from leaklint.values import THREAD_FACTORIES as THREAD_FACTORIES
from leaklint.values import positional_args as positional
from leaklint.values import source_order as source_order
from leaklint.values import spawned_callable as spawned_callable

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
# The trigger names of the queue rules (leaklint/gate.py): what every queue creation spells.
QUEUE_NAMES = last_names(ALL_QUEUES, MP_QUEUE_METHODS)

PUT_METHODS = frozenset({"put", "put_nowait"})
GET_METHODS = frozenset({"get", "get_nowait"})
NEUTRAL_METHODS = frozenset({"qsize", "empty", "full", "close", "join_thread",
                             "cancel_join_thread", "shutdown", "maxsize"})

TASK_FACTORIES = frozenset({"asyncio.create_task", "asyncio.ensure_future"})
TASK_METHODS = frozenset({"create_task", "ensure_future"})
# How the core tracer follows a queue (leaklint/lifecycle.py): into the local functions,
# thread targets and partials it is handed to; any use of the queue other than these
# methods, a queue kept in a container, on a public attribute (`self.queue`: users of the
# class may read it) or on a class with a base class from elsewhere escapes, because a
# reader may be anywhere the queue went.
QUEUE = ResourceKind(
    "queue", release_methods=frozenset(), follow_local_functions=True,
    follow_containers=False, known_attributes=PUT_METHODS | GET_METHODS | NEUTRAL_METHODS
    | {"task_done", "join"}, public_attributes_escape=True, foreign_bases_escape=True,
    weak_uses=True)


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
    # What must hold in the other modules of the project for a report on this queue to
    # stand (leaklint/project.py): its class's bases there leave it alone; as a module
    # global, no other module uses it.
    requirements: List[tuple] = field(default_factory=list)

    @property
    def joinable(self) -> bool:
        if self.name.endswith("SimpleQueue"):
            return False
        return self.kind != "mp" or self.name.endswith("JoinableQueue")


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


def _is_context_manager(index: FileIndex, expr: cst.CSTNode, depth: int = 0) -> bool:
    """`get_context().Manager()`, directly or through a name bound once to it."""
    if isinstance(expr, cst.Name) and depth < 3:
        value = single_binding_value(index, expr)
        return value is not None and _is_context_manager(index, value, depth + 1)
    return (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value == "Manager"
            and is_result_of(index, expr.func.value, CONTEXT_FACTORIES))


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
        if is_result_of(index, func.value, CONTEXT_FACTORIES):
            return "mp", "multiprocessing." + func.attr.value
        if func.attr.value == "Queue" or func.attr.value == "JoinableQueue":
            if is_result_of(index, func.value, MANAGER_FACTORIES) or _is_context_manager(
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
        _read_events(info, track(index, call, QUEUE))
        if info.scope_kind == "global":
            info.requirements.append((UNUSED_ELSEWHERE, info.holder))
        for node in [info.creation, *info.puts, *info.gets, *info.task_dones, *info.joins]:
            share_requirements(index, info, node)
        result.append(info)
    index.shared["queues"] = result
    return result


def _read_events(info: QueueInfo, lifecycle: Lifecycle) -> None:
    """The queue's events from what the tracer saw. A weak use (it may see another
    queue bound to the same name) counts for gets and task_done, which can only
    silence a rule, never for puts and joins."""
    # A queue handed to a context manager taker (`stack.enter_context(q)`) is "released"
    # for the tracer: a use we don't understand.
    info.escaped = lifecycle.escaped or lifecycle.released
    info.escape_reason = lifecycle.escape_reason or ("handed over" if lifecycle.released else "")
    info.uses = lifecycle.value_nodes
    info.requirements = list(lifecycle.requirements)
    info.callees = lifecycle.callees
    # A member use is the call, or the bound method handed out: the casts say which.
    for attr, use, weak in lifecycle.member_uses:
        if attr in PUT_METHODS:
            if not weak:
                info.puts.append(cast(Union[cst.Call, cst.Attribute], use))
        elif attr in GET_METHODS:
            info.gets.append(cast(Union[cst.Call, cst.Attribute], use))
        elif attr == "task_done":
            info.task_dones.append(cast(Union[cst.Call, cst.Attribute], use))
        elif attr == "join":
            if isinstance(use, cst.Call):
                if not weak:
                    info.joins.append(use)
            else:
                info.task_dones.append(cast(cst.Attribute, use))  # handed out: be conservative


def share_requirements(index: FileIndex, info: QueueInfo, node: cst.CSTNode) -> None:
    """A queue rule's report on `node` about `info` stands only if the queue's project
    requirements hold."""
    for requirement in info.requirements:
        require(index, node, "LKL3", requirement)


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
