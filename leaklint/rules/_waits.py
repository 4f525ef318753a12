"""What the unbounded-wait rules (LKL6xx, off by default) share.

A wait is a method call that blocks until a peer acts: `t.join()` until the thread ends,
`q.get()` until someone puts, `event.wait()` until someone sets. Without a timeout, a
peer that died or never comes blocks the caller forever.

Receivers are typed by provenance, never by spelling: from each call that creates a
thread, queue, event, lock, future or `Popen` we follow the value through the file with
`lifecycle.track` (locals, containers, `self` attributes across the class, helpers
defined here) and collect the wait methods called on it. A receiver whose origin is
unknown (a parameter, `lock or Lock()`) is never reported.

Shapes where an unbounded wait is fine are not reported by any LKL6xx rule:
- the wait is bounded from outside: `with Timeout(...)`/`asyncio.timeout()`,
  `asyncio.wait_for(...)`, a `@pytest.mark.timeout` test, `pytest.raises(...)`;
- it runs inside a call or `with` of a helper listed in `wait-functions-ok`;
- it runs where the program ends: at module level, under `if __name__ == "__main__":`,
  or in a function named `main`;
- (queue gets) it is the get of a worker loop: in a `while` loop, or in a loop that
  stops on a sentinel (the item it returns is tested in an `if` that leaves the loop).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, Iterator, List, Optional, Tuple, Union

import libcst as cst

from leaklint.index import FileIndex, walk
from leaklint.lifecycle import ResourceKind, track
from leaklint.option_checks import dotted_names
from leaklint.rules._common import argument, has_star_kwargs, is_none, keyword, short_source
from leaklint.rules._timeouts import bounded_elsewhere, caller_decides_timeout
from leaklint.rules.base import Option, Report, Rule
from leaklint.values import value_sources

WAIT_FUNCTIONS_OK = Option(
    "wait-functions-ok", list, [],
    "Qualified names of your own helpers that bound a wait (a watchdog, a deadline "
    "context manager), like `[\"mycompany.sync.deadline\"]`: an LKL6xx wait inside a call "
    "of one (`deadline(lambda: q.get())`) or inside `with deadline(...):` is not "
    "reported. A helper defined in the linted file matches by its name.",
    check=dotted_names)

SHARED_EXEMPTIONS_DOC = (
    " Never reported: a wait bounded from outside (inside `with Timeout(...)`, "
    "`asyncio.timeout()`, anyio/trio `fail_after()` or a `with` of something spelled "
    "`*timer` or `*deadline`; passed to `asyncio.wait_for()`; in a test marked "
    "`@pytest.mark.timeout`; inside `pytest.raises(...)`); a wait inside a call or `with` "
    "of a helper listed in `wait-functions-ok`; a wait where the program ends (module "
    "level, `if __name__ == \"__main__\":`, a function named `main`), where blocking until "
    "the work is done is the point; a wait in a function that takes a `timeout` "
    "parameter and tests it (`if timeout is None: cond.wait()`: the caller asked for no "
    "bound); and a wait in a method that is itself a blocking API (named `join`, `wait`, "
    "`wait_for`, `result`, `get`, `acquire`, `communicate`, `__enter__`): its callers "
    "choose the bound. A receiver whose origin is not visible in the file (a parameter, "
    "`lock or Lock()`) is never reported.")

TEST_CODE_REASON = (
    "Not reported in test files by default (it is in the default `test-ignore`): a test "
    "waits for its own threads, servers and children by design, and a wait that hangs "
    "is stopped and reported by the suite's own timeout (pytest-timeout, the CI job's "
    "limit). Set `test-ignore = []` to report it there too.")


@dataclass(frozen=True)
class Signature:
    """Where a wait method takes its bound: its timeout, and the flag that makes it
    non-blocking (`block=False`), as keyword names and 0-based positions (self not
    counted)."""

    timeout_position: Optional[int]
    block_position: Optional[int] = None
    block_keywords: Tuple[str, ...] = ()
    timeout_keyword: str = "timeout"


JOIN = {"join": Signature(0)}
GET = {"get": Signature(1, 0, ("block",))}


@dataclass
class Wait:
    call: Union[cst.Call, cst.Await]  # the wait (for asyncio, the awaited call; for `await fut`, the Await)
    method: str
    creation: cst.Call  # what made the receiver
    what: str  # the receiver described for messages: "thread", "queue.Queue"


def unbounded(call: cst.Call, signature: Signature) -> bool:
    """No timeout (or `timeout=None`) and not made non-blocking. `*args`/`**kwargs` and
    non-literal flags are trusted: they may carry a bound."""
    if any(arg.star for arg in call.args) or has_star_kwargs(call):
        return False
    for name in signature.block_keywords:
        flag = keyword(call, name)
        if flag is not None:
            value = flag.value
            if not (isinstance(value, cst.Name) and value.value == "True"):
                return False
    if signature.block_position is not None:
        block = argument(call, "\0", signature.block_position)
        if block is not None and not (isinstance(block, cst.Name) and block.value == "True"):
            return False
    timeout = argument(call, signature.timeout_keyword, signature.timeout_position)
    return timeout is None or is_none(timeout)


# -------------------------------------------------------------------- following values
_FOLLOW = ResourceKind("waitable", release_methods=frozenset(), follow_local_functions=True)


def method_calls(index: FileIndex, creation: cst.Call) -> Dict[str, List[cst.Call]]:
    """Every method called on the value `creation` makes, wherever it is followed."""
    cache = index.shared.get("wait_calls")
    if cache is None:
        cache = index.shared["wait_calls"] = {}
    calls = cache.get(id(creation))
    if calls is None:
        calls = track(index, creation, _FOLLOW, every_use=True).method_calls
        cache[id(creation)] = calls
    return calls


def known_receiver(index: FileIndex, call: cst.Call, creations) -> bool:
    """The receiver of `call` has no origin besides the creations of this kind: a name
    also bound to a parameter or to `x or Lock()` is of unknown kind."""
    receiver = call.func.value if isinstance(call.func, cst.Attribute) else None
    if receiver is None:
        return False
    if isinstance(receiver, (cst.Name, cst.Attribute)):
        sources = value_sources(index, receiver)
        if sources is not None:
            ids = {id(c) for c in creations}
            return all(id(s) in ids for s in sources)
    if isinstance(receiver, cst.Name):
        for binding in index.bindings_of(receiver):
            if binding.kind == "param":
                return False
            if binding.kind in ("assign", "annassign") and isinstance(
                    binding.value, (cst.BooleanOperation, cst.IfExp)):
                return False
    return True


def waits_on(index: FileIndex, creations: Iterable[Tuple[cst.Call, str]],
             methods: Dict[str, Signature], awaited: Optional[bool] = False) -> Iterator[Wait]:
    """The unbounded waits on values made by `creations` ((call, description) pairs).
    `awaited`: True, only awaited calls (asyncio); False, only plain calls; None, both."""
    creations = list(creations)
    calls = [c for c, _ in creations]
    seen = set()
    for creation, what in creations:
        for method, signature in methods.items():
            for call in method_calls(index, creation).get(method, ()):
                if id(call) in seen:
                    continue
                is_awaited = isinstance(index.parent.get(call), cst.Await)
                if awaited is not None and is_awaited != awaited:
                    continue
                if not unbounded(call, signature) or not known_receiver(index, call, calls):
                    continue
                seen.add(id(call))
                yield Wait(call, method, creation, what)


# -------------------------------------------------------------------- exemptions
def _last_spelled(expr: cst.CSTNode) -> str:
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    if isinstance(expr, cst.Name):
        return expr.value
    return ""


def _is_helper(index: FileIndex, call: cst.Call, helpers) -> bool:
    name = index.call_name(call)
    if name is not None:
        return name in helpers
    # a helper defined in this file (or a method) resolves to no qualified name
    spelled = _last_spelled(call.func)
    return bool(spelled) and any(h.rsplit(".", 1)[-1] == spelled for h in helpers)


def inside_helper(index: FileIndex, node: cst.CSTNode, helpers) -> bool:
    """`node` is in the arguments of a call of a listed helper, or in the body of a
    `with` of one."""
    if not helpers:
        return False
    child = node
    for ancestor in index.ancestors(node):
        if isinstance(ancestor, cst.Arg):
            call = index.parent.get(ancestor)
            if isinstance(call, cst.Call) and _is_helper(index, call, helpers):
                return True
        elif isinstance(ancestor, cst.With) and child is ancestor.body:
            if any(isinstance(item.item, cst.Call) and _is_helper(index, item.item, helpers)
                   for item in ancestor.items):
                return True
        child = ancestor
    return False


# `with self._timer:` (aiohttp's TimerContext), `with deadline(5):`: a timeout scope by
# its spelling, trusted as `_timeouts.bounded_elsewhere` trusts `with Timeout(5):`.
TIMEOUT_SCOPE_SUFFIXES = ("timer", "deadline")


def inside_timer_scope(index: FileIndex, node: cst.CSTNode) -> bool:
    child = node
    for ancestor in index.ancestors(node):
        if isinstance(ancestor, cst.With) and child is ancestor.body:
            for item in ancestor.items:
                expr = item.item.func if isinstance(item.item, cst.Call) else item.item
                if _last_spelled(expr).lower().endswith(TIMEOUT_SCOPE_SUFFIXES):
                    return True
        elif isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
            return False
        child = ancestor
    return False


# A method with one of these names is itself a blocking API (`def join(self):
# self._worker.join()`, `def acquire(self): self.lock.acquire()`): its callers choose.
WRAPPER_NAMES = frozenset({"join", "wait", "wait_for", "result", "get", "acquire",
                           "communicate", "__enter__", "__aenter__"})


def in_wrapper_of_same_api(index: FileIndex, node: cst.CSTNode) -> bool:
    function = next((a for a in index.ancestors(node)
                     if isinstance(a, (cst.FunctionDef, cst.Lambda))), None)
    return isinstance(function, cst.FunctionDef) and function.name.value in WRAPPER_NAMES


def _is_main_guard(test: cst.CSTNode) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    sides = [test.left, test.comparisons[0].comparator]
    return (any(isinstance(s, cst.Name) and s.value == "__name__" for s in sides)
            and any(isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"
                    for s in sides))


def at_program_end(index: FileIndex, node: cst.CSTNode) -> bool:
    """Module-level code, the `__main__` block, or a function named `main`."""
    for ancestor in index.ancestors(node):
        if isinstance(ancestor, cst.If) and _is_main_guard(ancestor.test):
            return True
        if isinstance(ancestor, cst.FunctionDef):
            return ancestor.name.value == "main"
        if isinstance(ancestor, (cst.Lambda, cst.ClassDef)):
            return False
    return True


def worker_loop_get(index: FileIndex, get: cst.CSTNode) -> bool:
    """The get of a worker loop: in a `while` loop (waiting for work is its idle state;
    it is stopped by a sentinel or lives as long as the process), or in any loop that
    leaves on a sentinel."""
    function = next((a for a in index.ancestors(get)
                     if isinstance(a, (cst.FunctionDef, cst.Lambda, cst.While))), None)
    return isinstance(function, cst.While) or stops_on_sentinel(index, get)


def stops_on_sentinel(index: FileIndex, get: cst.CSTNode) -> bool:
    """`item = q.get()` in a loop that leaves (break/return/raise) in an `if` testing
    `item`: a worker loop stopped by a sentinel put on the queue."""
    assign = index.parent.get(get)
    if isinstance(assign, cst.Await):
        get, assign = assign, index.parent.get(assign)
    target: Optional[cst.CSTNode] = None
    if isinstance(assign, cst.Assign) and len(assign.targets) == 1:
        target = assign.targets[0].target
    elif isinstance(assign, cst.NamedExpr):
        target = assign.target
    if not isinstance(target, cst.Name):
        # `if q.get() is None: break` / `while (item := q.get()) is not None:`
        for ancestor in index.ancestors(get):
            if isinstance(ancestor, cst.While):
                return True
            if isinstance(ancestor, cst.If):
                return _leaves(ancestor.body)
            if isinstance(ancestor, (cst.SimpleStatementLine, cst.FunctionDef)):
                return False
        return False
    loop = next((a for a in index.ancestors(get) if isinstance(a, (cst.While, cst.For))), None)
    if loop is None:
        return False
    if isinstance(loop, cst.While) and _mentions(loop.test, target.value):
        return True
    for node in walk(loop.body):
        if isinstance(node, cst.If) and _mentions(node.test, target.value) and _leaves(node.body):
            return True
    return False


def released_in_finally(index: FileIndex, acquire: cst.Call) -> bool:
    """`lock.acquire()` as a statement followed by `try: ... finally: lock.release()` (or
    first in that `try:`): the spelling of `with lock:` from before `with`, released on
    every path."""
    expression = index.parent.get(acquire)
    statement = index.parent.get(expression) if isinstance(expression, cst.Expr) else None
    if not (isinstance(statement, cst.SimpleStatementLine) and isinstance(acquire.func, cst.Attribute)):
        return False
    block = index.parent.get(statement)
    body = list(getattr(block, "body", ()))
    if block is None or statement not in body:
        return False
    position = body.index(statement)
    owner = index.parent.get(block)
    if position == 0 and isinstance(owner, cst.Try) and owner.body is block:
        following = owner  # `try: lock.acquire(); ... finally: lock.release()`
    elif position + 1 < len(body):
        following = body[position + 1]
    else:
        return False
    if not isinstance(following, cst.Try) or following.finalbody is None:
        return False
    receiver = " ".join(index.module.code_for_node(acquire.func.value).split())
    for node in walk(following.finalbody):
        if (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
                and node.func.attr.value == "release"
                and " ".join(index.module.code_for_node(node.func.value).split()) == receiver):
            return True
    return False


KILLERS = frozenset({"kill", "terminate"})
# `p.communicate()` waits for the child to exit: a `p.wait()` after it returns at once.
ENDERS = {"wait": KILLERS | {"communicate"}}


def after_kill(index: FileIndex, wait: cst.Call) -> bool:
    """`p.kill()` (or `terminate()`) on the same receiver earlier in the same block: the
    wait only reaps a child that was just told to die. For `wait()`, an earlier
    `communicate()` too: the child has exited already."""
    statement = index.statement_of(wait)
    block = index.parent.get(statement) if statement is not None else None
    body = list(getattr(block, "body", ()))
    if statement not in body or not isinstance(wait.func, cst.Attribute):
        return False
    receiver = " ".join(index.module.code_for_node(wait.func.value).split())
    for earlier in body[: body.index(statement)]:
        for node in walk(earlier):
            if (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
                    and node.func.attr.value in ENDERS.get(wait.func.attr.value, KILLERS)
                    and " ".join(index.module.code_for_node(node.func.value).split()) == receiver):
                return True
    return False


def _mentions(expr: cst.CSTNode, name: str) -> bool:
    return any(isinstance(n, cst.Name) and n.value == name for n in walk(expr))


def _leaves(block: cst.CSTNode) -> bool:
    return any(isinstance(n, (cst.Break, cst.Return, cst.Raise)) for n in walk(block))


# -------------------------------------------------------------------- the rule base
class WaitRule(Rule):
    """An LKL6xx rule: subclasses say which waits they report (`waits`) and how."""

    default_enabled = False
    applies_to_tests = False
    test_code_reason = TEST_CODE_REASON
    options = (WAIT_FUNCTIONS_OK,)
    # Whether a queue get in a worker loop is fine (see `worker_loop_get`).
    worker_loops_ok: bool = False
    # Whether `x.acquire()` followed by `try: ... finally: x.release()` is fine.
    finally_release_ok: bool = False
    # Whether a wait right after `kill()`/`terminate()` on the same receiver is fine.
    after_kill_ok: bool = False

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        self.helpers = frozenset(self.settings.get("wait-functions-ok") or ())

    def waits(self, index: FileIndex) -> Iterator[Wait]:  # pragma: no cover - abstract
        raise NotImplementedError

    def message(self, index: FileIndex, wait: Wait) -> Tuple[str, str]:  # pragma: no cover
        raise NotImplementedError

    def check(self, index: FileIndex) -> Iterator[Report]:
        for wait in self.waits(index):
            call = wait.call
            if bounded_elsewhere(index, call) or inside_timer_scope(index, call):
                continue
            if in_wrapper_of_same_api(index, call):
                continue
            if inside_helper(index, call, self.helpers) or at_program_end(index, call):
                continue
            if self.worker_loops_ok and worker_loop_get(index, call):
                continue
            if isinstance(call, cst.Call) and caller_decides_timeout(index, call):
                continue  # `if timeout is None: cond.wait()`: the caller asked for no bound
            if self.finally_release_ok and isinstance(call, cst.Call) and released_in_finally(index, call):
                continue
            if self.after_kill_ok and isinstance(call, cst.Call) and after_kill(index, call):
                continue
            message, fix = self.message(index, wait)
            yield Report(call, message, fix=fix)


def receiver_text(index: FileIndex, wait: cst.CSTNode) -> str:
    """`t.join()`, `self._queue.get()`: the call as written, arguments dropped."""
    func = wait.func if isinstance(wait, cst.Call) else None
    if isinstance(func, cst.Attribute):
        text = short_source(index, func.value, 40)
        if text:
            return f"`{text}.{func.attr.value}()`"
    return f"`{func.attr.value}()`" if isinstance(func, cst.Attribute) else "the wait"


def local_subclass_creations(index: FileIndex, classes) -> Iterator[Tuple[cst.Call, str]]:
    """Calls making one of `classes` (qualified names) or a subclass defined here."""
    for call in index.calls:
        name = index.call_name(call)
        if name is not None and name in classes:
            yield call, name
            continue
        local = index.local_class(call.func)
        if local is not None and index.class_inherits(local, classes):
            yield call, local.name.value


def sync_primitive_creations(index: FileIndex, kinds: Tuple[str, ...]) -> Iterator[Tuple[cst.Call, str]]:
    """Calls making a `threading` / `multiprocessing` primitive of one of `kinds` (`Event`,
    `Lock`...), a subclass defined here, or one from a multiprocessing context
    (`get_context().Event()`)."""
    from leaklint.rules._processes import is_mp_context

    classes = frozenset(f"{module}.{kind}" for module in ("threading", "multiprocessing") for kind in kinds)
    yield from local_subclass_creations(index, classes)
    for call in index.calls:
        func = call.func
        if (isinstance(func, cst.Attribute) and func.attr.value in kinds
                and is_mp_context(index, func.value)):
            yield call, "multiprocessing." + func.attr.value
