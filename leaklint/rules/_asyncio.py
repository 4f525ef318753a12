"""What the asyncio task rules (LKL2xx) share: which expressions are event loops, which
calls create tasks or futures, what releases a task, and how to name its coroutine.

Loop resolution is by provenance, never by spelling: an expression is an event loop when
it is a call of `asyncio.get_running_loop()` / `get_event_loop()` / `new_event_loop()`
(through any import alias), a name or `self` attribute every assignment of which is such a
loop (or None), a parameter annotated as an event loop, or `loop or asyncio.get_event_loop()`
style fallbacks. A parameter called `loop` of unknown type is not a loop, so
`client.create_task("buy milk")` or a Celery/Jira client's `create_task` never matches;
the one exception is a constructor parameter kept as `self.loop` / `self._loop` in a class
deriving from an asyncio protocol or transport (PROTOCOL_CLASSES).
"""
from __future__ import annotations

from typing import Dict, Iterator, Optional, Sequence, Tuple

import libcst as cst

from leaklint.index import FileIndex
from leaklint.lifecycle import ResourceKind, stopped_by_sentinel, worker_method
from leaklint.rules._common import argument, expected_to_fail, is_none, quote_callable
from leaklint.rules.base import last_names
from leaklint.summaries import factory_creation

# Functions returning an event loop.
LOOP_FACTORIES = frozenset({
    "asyncio.get_running_loop", "asyncio.get_event_loop", "asyncio.new_event_loop",
    "asyncio.events.get_running_loop", "asyncio.events.get_event_loop",
    "asyncio.events.new_event_loop", "asyncio.SelectorEventLoop", "asyncio.ProactorEventLoop",
    "asyncio.DefaultEventLoopPolicy.new_event_loop", "uvloop.new_event_loop",
    "uvloop.Loop",
})
# `asyncio.get_event_loop_policy().get_event_loop()` and friends.
POLICY_GETTERS = frozenset({"asyncio.get_event_loop_policy", "asyncio.events.get_event_loop_policy"})
POLICY_METHODS = frozenset({"get_event_loop", "new_event_loop"})
# Annotations that make a parameter an event loop.
LOOP_TYPES = frozenset({
    "asyncio.AbstractEventLoop", "asyncio.BaseEventLoop", "asyncio.events.AbstractEventLoop",
    "asyncio.base_events.BaseEventLoop", "asyncio.SelectorEventLoop",
    "asyncio.ProactorEventLoop", "uvloop.Loop",
})
# asyncio's protocol and transport classes: the event loop creates them and hands them
# the loop, so in a class deriving from one, a constructor parameter kept as `self.loop`
# / `self._loop` is trusted to be the loop even without an annotation. Elsewhere an
# unannotated parameter is not: measured on the corpus (notes/roads-corpus.md), dropped
# `X.create_task(...)` on a bare parameter were as often a TaskGroup (`g`) as a loop.
PROTOCOL_CLASSES = frozenset({
    f"asyncio.{module}{name}"
    for module in ("", "protocols.", "transports.")
    for name in ("BaseProtocol", "Protocol", "BufferedProtocol", "DatagramProtocol",
                 "SubprocessProtocol", "BaseTransport", "ReadTransport", "WriteTransport",
                 "Transport", "DatagramTransport", "SubprocessTransport")
} | {"asyncio.StreamReaderProtocol", "asyncio.streams.StreamReaderProtocol"})
LOOP_ATTRIBUTES = frozenset({"loop", "_loop", "event_loop", "_event_loop"})
# Module-level functions that create a task or future from a coroutine.
TASK_FUNCTIONS = frozenset({
    "asyncio.create_task", "asyncio.tasks.create_task", "asyncio.ensure_future",
    "asyncio.tasks.ensure_future",
})
ENSURE_FUTURE = frozenset({"asyncio.ensure_future", "asyncio.tasks.ensure_future"})
# What a task factory of the module may return (ensure_future makes a task only of a
# coroutine, which a factory's parameter is not known to be).
CREATE_TASK = frozenset({"asyncio.create_task", "asyncio.tasks.create_task"})
# Loop methods that create a task or future.
LOOP_TASK_METHODS = frozenset({"create_task", "run_in_executor"})
# The trigger names of the task rules (leaklint/gate.py): what every task creation spells.
TASK_NAMES = last_names(TASK_FUNCTIONS, LOOP_TASK_METHODS)
# Functions that await, wait for or take over the tasks passed to them.
GATHERERS = frozenset({
    f"asyncio.{prefix}{name}"
    for prefix in ("", "tasks.")
    for name in ("gather", "wait", "wait_for", "shield", "as_completed")
})

TASK = ResourceKind(
    "task",
    # cancel() stops it; result()/exception() collect its outcome; a done callback is
    # somebody handling the outcome (the documented `tasks.add(t);
    # t.add_done_callback(tasks.discard)` pattern keeps a strong reference meanwhile).
    release_methods=frozenset({"cancel", "result", "exception", "add_done_callback",
                               "__await__"}),
    release_functions=GATHERERS,
    awaitable=True,
    globals_escape=True,
)


class LoopResolver:
    """Answers `is_loop(expr)` for one file, with a cache."""

    def __init__(self, index: FileIndex):
        self.index = index
        self._cache: Dict[cst.CSTNode, bool] = {}
        self._attr_cache: Dict[Tuple[int, str], bool] = {}

    def is_loop(self, expr: Optional[cst.CSTNode], depth: int = 0) -> bool:
        if expr is None or depth > 6:
            return False
        cached = self._cache.get(expr)
        if cached is not None:
            return cached
        self._cache[expr] = False  # cycles resolve to "not a loop"
        result = self._resolve(expr, depth)
        self._cache[expr] = result
        return result

    def _loop_or_none(self, expr, depth) -> Optional[bool]:
        """True: a loop; None: the literal None, or a bare parameter (it shares the
        variable with a loop, so it is meant to be one: `self.loop = loop` in one branch,
        `self.loop = asyncio.new_event_loop()` in the other); False: anything else."""
        if is_none(expr):
            return None
        if self.is_loop(expr, depth + 1):
            return True
        if isinstance(expr, cst.Name):
            bindings = self.index.bindings_of(expr)
            if bindings and all(b.kind == "param" for b in bindings):
                return None
        return False

    def _all_loops(self, values, depth, trusted_params: bool = False) -> bool:
        """Every value is a loop or None, and one at least is a loop. With
        `trusted_params`, a bare parameter counts as a loop (see PROTOCOL_CLASSES)."""
        seen_loop = False
        for value in values:
            verdict = self._loop_or_none(value, depth)
            if verdict is None and trusted_params and not is_none(value):
                verdict = True
            if verdict is False:
                return False
            if verdict:
                seen_loop = True
        return seen_loop

    def _resolve(self, expr: cst.CSTNode, depth: int) -> bool:
        index = self.index
        if isinstance(expr, cst.Call):
            name = index.call_name(expr)
            if name in LOOP_FACTORIES:
                return True
            func = expr.func
            if (isinstance(func, cst.Attribute) and func.attr.value in POLICY_METHODS
                    and isinstance(func.value, cst.Call)
                    and index.call_name(func.value) in POLICY_GETTERS):
                return True
            return False
        if isinstance(expr, cst.Name):
            return self._name_is_loop(expr, depth)
        if isinstance(expr, cst.Attribute):
            info = index.class_of_self(expr.value)
            if info is None:
                return False
            return self._self_attr_is_loop(info, expr.attr.value, depth)
        if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or):
            # `loop or asyncio.get_event_loop()`: the fallback says what the value is.
            return self.is_loop(expr.right, depth + 1)
        if isinstance(expr, cst.IfExp):
            # `loop if loop is not None else asyncio.get_event_loop()`
            body, orelse = expr.body, expr.orelse
            return (self.is_loop(body, depth + 1) or self.is_loop(orelse, depth + 1)) and all(
                is_none(v) or isinstance(v, (cst.Name, cst.Attribute)) or self.is_loop(v, depth + 1)
                for v in (body, orelse))
        return False

    def _name_is_loop(self, name: cst.Name, depth: int) -> bool:
        index = self.index
        bindings = index.bindings_of(name)
        if not bindings:
            return False
        values = []
        params = []
        for binding in bindings:
            if binding.kind in ("assign", "annassign", "walrus") and binding.value is not None:
                values.append(binding.value)
            elif binding.kind == "annassign" and binding.value is None:
                continue  # `loop: asyncio.AbstractEventLoop` declaration
            elif binding.kind == "param":
                params.append(binding)
            else:
                return False
        for binding in params:
            if self._param_is_loop(binding):
                continue
            # `loop = loop or asyncio.get_event_loop()`: the parameter is replaced by a
            # fallback whose type says what the parameter is meant to be.
            if not any(isinstance(v, (cst.BooleanOperation, cst.IfExp)) and self.is_loop(v, depth + 1)
                       for v in values):
                return False
        if not values:
            return bool(params)
        return self._all_loops(values, depth)

    def _param_is_loop(self, binding) -> bool:
        param = self.index.parent.get(binding.target)
        if not isinstance(param, cst.Param) or param.annotation is None:
            return False
        annotation = param.annotation.annotation
        # `Optional[AbstractEventLoop]` / `AbstractEventLoop | None` count too.
        if isinstance(annotation, cst.Subscript) and len(annotation.slice) == 1:
            element = annotation.slice[0].slice
            if isinstance(element, cst.Index):
                annotation = element.value
        elif isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
            annotation = annotation.right if is_none(annotation.left) else annotation.left
        return self.index.qualified_name(annotation) in LOOP_TYPES

    def _self_attr_is_loop(self, info, attr: str, depth: int) -> bool:
        key = (id(info.node), attr)
        cached = self._attr_cache.get(key)
        if cached is not None:
            return cached
        self._attr_cache[key] = False
        index = self.index
        values = []
        for member in _lineage(index, info):
            for node in member.self_attrs.get(attr, ()):
                holder = index.parent.get(node)
                if isinstance(holder, cst.AssignTarget) and holder.target is node:
                    assign = index.parent.get(holder)
                    if not isinstance(assign, cst.Assign):
                        self._attr_cache[key] = False
                        return False
                    values.append(assign.value)
                elif isinstance(holder, cst.AnnAssign) and holder.target is node:
                    if holder.value is not None:
                        values.append(holder.value)
                elif isinstance(holder, cst.AugAssign) and holder.target is node:
                    return False
        trusted = attr in LOOP_ATTRIBUTES and any(
            index.class_inherits(member.node, PROTOCOL_CLASSES) for member in _lineage(index, info))
        result = self._all_loops(values, depth, trusted)
        self._attr_cache[key] = result
        return result


def _lineage(index: FileIndex, info) -> list:
    """The class with its local ancestors and descendants: the methods that may run on
    one instance (siblings sharing a base do not)."""
    def bases(member):
        out = []
        for base in member.node.bases:
            local = index.local_class(base.value)
            if local is not None and local in index.classes:
                out.append(index.classes[local])
        return out

    lineage = [info]
    stack = [info]
    while stack:  # ancestors
        for base in bases(stack.pop()):
            if base not in lineage:
                lineage.append(base)
                stack.append(base)
    stack = [info]
    while stack:  # descendants
        current = stack.pop()
        for other in index.classes.values():
            if other not in lineage and current in bases(other):
                lineage.append(other)
                stack.append(other)
    return lineage


def _resolver(index: FileIndex) -> LoopResolver:
    resolver = index.shared.get("loop_resolver")
    if resolver is None:
        resolver = LoopResolver(index)
        index.shared["loop_resolver"] = resolver
    return resolver


# asyncio functions that return a coroutine (so ensure_future() makes a new task of it).
ASYNCIO_COROUTINES = frozenset({
    f"asyncio.{name}" for name in (
        "sleep", "wait_for", "wait", "open_connection", "start_server",
        "open_unix_connection", "start_unix_server", "create_subprocess_exec",
        "create_subprocess_shell", "to_thread")
})


def _is_async_def(node) -> bool:
    return isinstance(node, cst.FunctionDef) and node.asynchronous is not None


def _is_coroutine_call(index: FileIndex, call: cst.Call) -> bool:
    """A call that provably returns a coroutine: of an `async def` of this file (a
    function, or a method reached through `self`), or of an asyncio coroutine function."""
    func = call.func
    if index.qualified_name(func) in ASYNCIO_COROUTINES:
        return True
    if isinstance(func, cst.Name):
        bindings = index.bindings_of(func)
        return bool(bindings) and all(b.kind == "def" and _is_async_def(b.node) for b in bindings)
    if isinstance(func, cst.Attribute):
        info = index.class_of_self(func.value)
        if info is None:
            return False
        methods = [m.methods.get(func.attr.value) for m in index.class_family(info)]
        methods = [m for m in methods if m is not None]
        return bool(methods) and all(_is_async_def(m) for m in methods)
    return False


def _is_coroutine_source(index: FileIndex, expr: Optional[cst.CSTNode]) -> bool:
    """For ensure_future(x): is `x` provably a coroutine (so a new task is made), rather
    than a future or task handed back unchanged (tornado's `Event.wait()` returns a
    Future; ensure_future() of it makes no task)?"""
    if isinstance(expr, cst.Call):
        return _is_coroutine_call(index, expr)
    if isinstance(expr, cst.Name):
        bindings = index.bindings_of(expr)
        if len(bindings) == 1 and bindings[0].kind == "assign":
            value = bindings[0].value
            return isinstance(value, cst.Call) and _is_coroutine_call(index, value)
    return False


def _asserted(index: FileIndex, call: cst.Call) -> bool:
    """`assert t.done()`, `self.assertTrue(t.done())`: the test checks the task finished."""
    for node in index.ancestors(call):
        if isinstance(node, cst.Assert):
            return True
        if isinstance(node, cst.Call):
            func = node.func
            name = func.attr.value if isinstance(func, cst.Attribute) else (
                func.value if isinstance(func, cst.Name) else "")
            if name.startswith("assert"):
                return True
        if isinstance(node, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
            return False
    return False


_ADDERS = frozenset({"append", "add", "insert", "appendleft"})
_PRUNERS = frozenset({"remove", "discard"})


def _container_of(index: FileIndex, call: cst.Call) -> Optional[cst.CSTNode]:
    """The container expression a creation goes straight into (`tasks.append(create_task(
    ...))`, `self._tasks.add(...)`), if any."""
    parent = index.parent.get(call)
    if isinstance(parent, cst.Arg):
        outer = index.parent.get(parent)
        if (isinstance(outer, cst.Call) and isinstance(outer.func, cst.Attribute)
                and outer.func.attr.value in _ADDERS):
            return outer.func.value
    return None


def pruned_container(index: FileIndex, call: cst.Call) -> bool:
    """The task goes into a container the code prunes (`tasks.remove(t)` once
    `t.done()`, `tasks.discard`): the documented keep-a-reference pattern, spelled out."""
    container = _container_of(index, call)
    uses: Sequence[cst.CSTNode]
    if isinstance(container, cst.Name):
        owner = index.binding_scope(container)
        if owner is None:
            return False
        uses = index.uses(owner, container.value)
    elif isinstance(container, cst.Attribute):
        info = index.class_of_self(container.value)
        if info is None:
            return False
        uses = [n for m in index.class_family(info) for n in m.self_attrs.get(container.attr.value, ())]
    else:
        return False
    for use in uses:
        attribute = index.parent.get(use)
        if (isinstance(attribute, cst.Attribute) and attribute.value is use
                and attribute.attr.value in _PRUNERS):
            return True
    return False


def finished_elsewhere(index: FileIndex, lifecycle) -> bool:
    """Evidence that something we cannot see finishes the task: the code asks whether it
    was cancelled (`t.cancelled()`: only meaningful if someone cancels it, e.g. a runner's
    cancel-all at shutdown), or asserts that it is done."""
    if lifecycle.method_calls.get("cancelled"):
        return True
    return any(_asserted(index, c) for c in lifecycle.method_calls.get("done", ()))


def task_creations(index: FileIndex) -> Iterator[Tuple[cst.Call, str, Optional[cst.CSTNode]]]:
    """Every call creating an asyncio task or future: (call, what, coroutine expression)
    where `what` is "create_task", "ensure_future" or "run_in_executor"."""
    resolver = _resolver(index)
    for call in index.calls:
        if factory_creation(index, call, CREATE_TASK) is not None:
            # `spawn(work())` with `def spawn(coro): return asyncio.create_task(coro)`
            yield call, "create_task", None
            continue
        created = _task_creation(index, resolver, call)
        if created is not None:
            yield (call, *created)


def _task_creation(index: FileIndex, resolver: LoopResolver, call: cst.Call, depth: int = 0
                   ) -> Optional[Tuple[str, Optional[cst.CSTNode]]]:
    func = call.func
    if isinstance(func, cst.Attribute):
        attr = func.attr.value
        if attr not in LOOP_TASK_METHODS and attr not in ("ensure_future",):
            return None
    elif not isinstance(func, cst.Name):
        return None
    name = index.call_name(call, among=TASK_FUNCTIONS)
    if name in ENSURE_FUTURE:
        coro = argument(call, "coro_or_future", 0)
        if _is_coroutine_source(index, coro):
            return "ensure_future", coro
        if not isinstance(coro, cst.Call) or depth > 2:
            return None
        # ensure_future() hands a task or future back unchanged: wrapping a creation
        # (`ensure_future(loop.run_in_executor(...))`) is that creation.
        inner = _task_creation(index, resolver, coro, depth + 1)
        if inner is not None:
            return inner
        if _bare_statement(index, call):
            # Of an unknown awaitable, kept by nobody: a coroutine's task is dropped, and
            # of a future, the statement would do nothing at all. Assigned or looked at
            # (`ensure_future(e.wait()).done()`), it stays unknown.
            return "ensure_future", coro
        return None
    if name in TASK_FUNCTIONS:
        return "create_task", argument(call, "coro", 0)
    if isinstance(func, cst.Attribute) and func.attr.value in LOOP_TASK_METHODS:
        if not resolver.is_loop(func.value):
            return None
        if func.attr.value == "create_task":
            return "create_task", argument(call, "coro", 0)
        return "run_in_executor", argument(call, "func", 1)
    return None


def _bare_statement(index: FileIndex, call: cst.Call) -> bool:
    statement = index.parent.get(call)
    return isinstance(statement, cst.Expr) and statement.value is call


def is_coroutine_source(index: FileIndex, expr: Optional[cst.CSTNode]) -> bool:
    return _is_coroutine_source(index, expr)


def describe_coroutine(index: FileIndex, expr: Optional[cst.CSTNode], what: str) -> str:
    """`audit()` for `create_task(audit(event))`, `blocking_io` for run_in_executor."""
    if expr is None:
        return ""
    if isinstance(expr, cst.Call) and what != "run_in_executor":
        return quote_callable(index, expr.func)
    if isinstance(expr, (cst.Name, cst.Attribute)):  # run_in_executor's function
        return quote_callable(index, expr)
    return quote_callable(index, expr, "")


LOOP_CALLBACK_METHODS = frozenset({"call_soon", "call_soon_threadsafe", "call_later",
                                   "call_at"})


def _loop_callback_result(index: FileIndex, call: cst.Call) -> bool:
    """The creation is what a lambda returns, and the lambda is a callback handed to an
    event loop's call_soon / call_soon_threadsafe / call_later / call_at."""
    lam = index.parent.get(call)
    if not isinstance(lam, cst.Lambda) or lam.body is not call:
        return False
    arg = index.parent.get(lam)
    if not isinstance(arg, cst.Arg) or arg.keyword is not None:
        return False
    outer = index.parent.get(arg)
    if not (isinstance(outer, cst.Call) and isinstance(outer.func, cst.Attribute)
            and outer.func.attr.value in LOOP_CALLBACK_METHODS):
        return False
    return _resolver(index).is_loop(outer.func.value)


# asyncio.run() cancels every task still pending when its coroutine returns, waits for
# them, and hands their exceptions to the loop's exception handler.
RUNNERS = frozenset({"asyncio.run", "asyncio.runners.run"})


def run_by_asyncio_run(index: FileIndex, node: cst.CSTNode) -> bool:
    """`node` is directly in the body of an `async def` that is only ever run as
    `asyncio.run(main())` (every use of its name is that call): a task it keeps in a local
    variable and leaves pending is cancelled at the end of the run, not leaked."""
    scope = index.enclosing_function(node)
    if (scope is None or not isinstance(scope.node, cst.FunctionDef) or not _is_async_def(scope.node)
            or scope.parent is None):
        return False
    uses = index.uses(scope.parent, scope.node.name.value)
    if not uses:
        return False
    for use in uses:
        call = index.parent.get(use)
        if not (isinstance(call, cst.Call) and call.func is use):
            return False
        arg = index.parent.get(call)
        if not (isinstance(arg, cst.Arg) and arg.keyword is None and not arg.star):
            return False
        runner = index.parent.get(arg)
        if not (isinstance(runner, cst.Call) and runner.args[0] is arg
                and index.call_name(runner) in RUNNERS):
            return False
    return True


def dropped_tasks(index: FileIndex):
    """(call, what, coroutine, lifecycle) of every task creation that is never awaited,
    gathered, cancelled or handed off. Computed once per file for both LKL2xx rules."""
    cached = index.shared.get("dropped_tasks")
    if cached is not None:
        return cached
    from leaklint.lifecycle import track

    result = []
    for call, what, coro in task_creations(index):
        if expected_to_fail(index, call):
            continue
        if _loop_callback_result(index, call):
            # `loop.call_soon(lambda: asyncio.create_task(...))`: the loop ignores what a
            # callback returns, so the task is discarded.
            from leaklint.lifecycle import Lifecycle

            result.append((call, what, coro, Lifecycle(creation=call)))
            continue
        lifecycle = track(index, call, TASK)
        if (lifecycle.dropped(TASK) and not finished_elsewhere(index, lifecycle)
                and not pruned_container(index, call)
                and not (_kept_locally(index, call, lifecycle) and run_by_asyncio_run(index, call))
                and not _told_to_stop(index, call, what, coro)):
            result.append((call, what, coro, lifecycle))
    index.shared["dropped_tasks"] = result
    return result


def _told_to_stop(index: FileIndex, call: cst.Call, what: str, coro) -> bool:
    """The task runs a method (`create_task(self._listen())`, `run_in_executor(None,
    self._work)`) that loops on `self.Q.get()` until a sentinel another method of the
    class puts on that same queue: the owner's stop reaches it (the shared rule of
    lifecycle.stopped_by_sentinel, as for threads)."""
    method = coro.func if isinstance(coro, cst.Call) and what != "run_in_executor" else coro
    worker = worker_method(index, method, None)
    return worker is not None and stopped_by_sentinel(index, call, *worker)


def _kept_locally(index: FileIndex, call: cst.Call, lifecycle) -> bool:
    """Kept in a local variable or container (not discarded: a task nobody references may
    be garbage-collected before any shutdown cancels it; not on `self`)."""
    kept = holder(index, call, lifecycle)
    return kept not in ("discarded", "'_'") and not kept.strip("'").startswith(("self.", "cls."))


def holder(index: FileIndex, call: cst.Call, lifecycle) -> str:
    """Where the task is kept: the lifecycle's holder, or, when that only looked at the
    immediate parent, the variable the enclosing expression is bound to (`y = {k:
    create_task(...) for k in ks}`, `z = create_task(...) if c else None`). "discarded"
    when the value is never bound at all."""
    if lifecycle.holder != "discarded":
        return lifecycle.holder
    code = index.module.code_for_node
    node: cst.CSTNode = call
    for parent in index.ancestors(call):
        if isinstance(parent, cst.Assign) and parent.value is node and parent.targets:
            return "'" + code(parent.targets[0].target) + "'"
        if isinstance(parent, cst.AnnAssign) and parent.value is node:
            return "'" + code(parent.target) + "'"
        if isinstance(parent, cst.NamedExpr) and parent.value is node:
            return "'" + code(parent.target) + "'"
        if isinstance(parent, (cst.BaseSmallStatement, cst.BaseCompoundStatement,
                               cst.Lambda, cst.FunctionDef)):
            break
        node = parent
    return "discarded"


def never_iterated(index: FileIndex, call: cst.Call) -> bool:
    """The creation is the element of a generator expression nobody iterates (`(create_task(
    f(x)) for x in xs)` as a statement, or bound to a name never used): the calls never run,
    so no task exists."""
    genexp = index.parent.get(call)
    if not isinstance(genexp, cst.GeneratorExp) or genexp.elt is not call:
        return False
    holder = index.parent.get(genexp)
    if isinstance(holder, cst.Expr):
        return True
    if isinstance(holder, cst.Assign) and len(holder.targets) == 1:
        target = holder.targets[0].target
        if isinstance(target, cst.Name):
            owner = index.target_scope(target)
            return owner is not None and not index.uses(owner, target.value)
    return False


def noun(what: str) -> str:
    return "executor future" if what == "run_in_executor" else "task"


# -- asyncio.wait() that may return with tasks still pending ----------------------------
WAITERS = frozenset({"asyncio.wait", "asyncio.tasks.wait"})
# The same task kind, except that asyncio.wait() only looks at the tasks: used to ask
# "is this task handled by anything besides an early-returning wait()?".
TASK_BESIDES_WAIT = ResourceKind(
    "task",
    release_methods=TASK.release_methods,
    release_functions=GATHERERS - WAITERS,
    awaitable=True,
    globals_escape=True,
    neutral_functions=WAITERS,
)
_EARLY = ("FIRST_COMPLETED", "FIRST_EXCEPTION")


def early_return_reason(index: FileIndex, call: cst.Call) -> str:
    """For asyncio.wait(): "return_when=FIRST_COMPLETED" / "timeout=..." when it may return
    while tasks are still pending, else ""."""
    for arg in call.args:
        if arg.keyword is None:
            if arg.star == "**":
                return ""
            continue
        key = arg.keyword.value
        if key == "return_when":
            value = arg.value
            if isinstance(value, cst.SimpleString):
                text = value.evaluated_value
            else:
                text = (index.qualified_name(value) or "").rsplit(".", 1)[-1]
            if text in _EARLY:
                return f"return_when={text}"
        elif key == "timeout" and not is_none(arg.value):
            return "timeout=..."
    return ""


def dropped_pending_set(index: FileIndex, call: cst.Call) -> Optional[str]:
    """What becomes of asyncio.wait()'s pending set when nothing reads it: "" for `await
    asyncio.wait(...)` as a statement (the set is discarded), the name it is bound to for
    `done, _ = await asyncio.wait(...)` or `done, pending = ...` with `pending` never
    read; None when the pending set is read (or its fate is not understood)."""
    awaited = index.parent.get(call)
    if not isinstance(awaited, cst.Await):
        return None
    holder = index.parent.get(awaited)
    if isinstance(holder, cst.Expr):
        return ""
    if isinstance(holder, cst.Assign) and len(holder.targets) == 1:
        target = holder.targets[0].target
        if isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) == 2:
            pending = target.elements[1].value
            if isinstance(pending, cst.Name):
                owner = index.target_scope(pending)
                if owner is not None and not index.uses(owner, pending.value):
                    return pending.value
    return None


def _waited_creations(index: FileIndex, expr, creations, out, depth=0) -> None:
    """The creation calls that flow straight into `expr` (wait()'s first argument)."""
    if expr is None or depth > 4:
        return
    if isinstance(expr, cst.Call):
        if expr in creations:
            out.append(expr)
        elif index.call_name(expr) in ("builtins.list", "builtins.set", "builtins.tuple") and expr.args:
            _waited_creations(index, expr.args[0].value, creations, out, depth + 1)
    elif isinstance(expr, (cst.List, cst.Set, cst.Tuple)):
        for element in expr.elements:
            _waited_creations(index, element.value, creations, out, depth + 1)
    elif isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
        _waited_creations(index, expr.elt, creations, out, depth + 1)
    elif isinstance(expr, cst.Name):
        bindings = index.bindings_of(expr)
        if len(bindings) != 1 or bindings[0].kind != "assign":
            return
        _waited_creations(index, bindings[0].value, creations, out, depth + 1)
        owner = bindings[0].scope
        for use in index.uses(owner, expr.value):  # `tasks.append(create_task(...))`
            attribute = index.parent.get(use)
            if (isinstance(attribute, cst.Attribute) and attribute.value is use
                    and attribute.attr.value in _ADDERS):
                adder = index.parent.get(attribute)
                if isinstance(adder, cst.Call) and adder.func is attribute and adder.args:
                    _waited_creations(index, adder.args[0].value, creations, out, depth + 1)


def pending_after_wait(index: FileIndex):
    """(call, what, coroutine, wait call, reason) for tasks handed only to an
    asyncio.wait() that may return early, whose pending set is then dropped."""
    cached = index.shared.get("pending_after_wait")
    if cached is not None:
        return cached
    from leaklint.lifecycle import track

    result = []
    creations = None
    for call in index.calls:
        if index.call_name(call) not in WAITERS:
            continue
        reason = early_return_reason(index, call)
        if not reason or dropped_pending_set(index, call) is None:
            continue
        if run_by_asyncio_run(index, call):
            continue  # the run cancels the losers when its coroutine returns
        if creations is None:
            creations = {c: (what, coro) for c, what, coro in task_creations(index)}
        first = argument(call, "fs", 0)
        found: list = []
        _waited_creations(index, first, creations, found)
        for creation in dict.fromkeys(found):
            lifecycle = track(index, creation, TASK_BESIDES_WAIT)
            if (lifecycle.dropped(TASK_BESIDES_WAIT) and not finished_elsewhere(index, lifecycle)
                    and not pruned_container(index, creation)):
                what, coro = creations[creation]
                result.append((creation, what, coro, call, reason))
    index.shared["pending_after_wait"] = result
    return result
