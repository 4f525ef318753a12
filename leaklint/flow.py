"""Control flow of one function, for "is the release reached on every path?".

The lifecycle tracer (leaklint/lifecycle.py) finds *where* a resource is activated and
released; this module answers whether every way out of the function after the activation
passes a release, and, when not, names the way that skips it.

The graph has one node per small statement (`x = f()`, `return`, `t.join()`) and one per
compound statement's header (an `if`'s test, a loop's header, a `with`'s items, a
`match`'s subject); nested functions and classes are one opaque node each. Edges:

- "next": ordinary flow (into a branch, to the next statement, back to a loop header);
- "jump": `return`, `raise`, `break`, `continue`, to where each one lands;
- "raise": from a statement that can raise (it holds a call, an `await` or a `yield`) to
  the enclosing `except` handlers, else the `finally`, else the function's exit. A `try`
  with handlers is taken to catch what its body raises: which exceptions matter there
  was its author's choice, and counting the others made every `except OSError:` a leak.

A `finally` body is built once per way it can be entered (normal end, exception,
`return`, `break`, `continue`), each copy continuing where that way goes: a path that
entered on the normal end cannot leave as an exception, so a release after the `try`
is not skipped by a `finally` that logs.

Graphs are built lazily, only for functions holding a resource that is both created and
released there, and kept on the index (`index.shared`) for the other rules.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

import libcst as cst

from leaklint.index import FileIndex, iter_children
from leaklint.positions import locate

EXIT = 0  # the function's exit: a return, falling off the end, or an exception leaving it

# Calls that do not raise in practice: counting them would make every statement a way out.
_QUIET_FUNCTIONS = frozenset({"len", "isinstance", "issubclass", "print", "id", "repr", "str",
                              "bool", "type", "hasattr", "callable", "getattr", "super",
                              "range", "enumerate", "zip", "list", "dict", "set", "tuple",
                              "Mock", "MagicMock"})
_QUIET_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception",
                            "critical", "log", "is_alive", "is_set", "done", "cancelled",
                            "monotonic", "time", "perf_counter",
                            # starting, joining, waiting on and setting the other threads
                            # and events of the function; registering a cleanup
                            "start", "join", "wait", "set", "clear", "addCleanup",
                            "register"})
_OPAQUE = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
# Each `finally` is copied once per way in, so nested ones multiply: past this many nodes
# a function is left unchecked (nothing is claimed about it).
MAX_NODES = 20000


class _TooLarge(Exception):
    pass


@dataclass
class _Node:
    statement: Optional[cst.CSTNode]  # None: the exit, or the end of a `finally` re-raising
    edges: List[Tuple[int, str]] = field(default_factory=list)  # (target, "next"|"jump"|"raise")
    raiser: Optional[cst.CSTNode] = None  # the first call/await/yield that can raise here
    test: Optional[cst.BaseExpression] = None  # an `if`'s test; edges[0] enters its body


@dataclass(frozen=True)
class _Targets:
    """Where each way out of the statements being built lands."""

    raise_to: Tuple[int, ...]
    return_to: int
    break_to: Optional[int] = None
    continue_to: Optional[int] = None


@dataclass(frozen=True)
class SkippedRelease:
    """A way from the activation to the function's exit that passes no release.

    `how` is "return", "raise", "break", "continue" (an explicit early exit: `node` is
    that statement) or "exception" (`node` is the call, await or yield that raises)."""

    how: str
    node: cst.CSTNode

    @property
    def explicit(self) -> bool:
        return self.how != "exception"


class FlowGraph:
    def __init__(self, function: cst.FunctionDef):
        self.nodes: List[_Node] = [_Node(None)]  # EXIT
        # statement (small statement, compound statement, handler) -> its nodes (several
        # when it sits in a `finally`, built once per way in)
        self.of_statement: Dict[cst.CSTNode, List[int]] = {}
        body = function.body
        statements = body.body if isinstance(body, cst.IndentedBlock) else body.body
        self.entry = self._block(statements, EXIT, _Targets(raise_to=(EXIT,), return_to=EXIT))

    # -- building -----------------------------------------------------------------
    def _new(self, statement: Optional[cst.CSTNode], raiser: Optional[cst.CSTNode] = None) -> int:
        if len(self.nodes) >= MAX_NODES:
            raise _TooLarge
        self.nodes.append(_Node(statement, raiser=raiser))
        if statement is not None:
            self.of_statement.setdefault(statement, []).append(len(self.nodes) - 1)
        return len(self.nodes) - 1

    def _link(self, node: int, target: Optional[int], how: str) -> None:
        if target is not None:
            self.nodes[node].edges.append((target, how))

    def _may_raise(self, node: int, targets: _Targets) -> None:
        if self.nodes[node].raiser is not None:
            for target in targets.raise_to:
                self._link(node, target, "raise")

    def _block(self, statements: Sequence[cst.CSTNode], after: int, targets: _Targets) -> int:
        entry = after
        for statement in reversed(statements):
            entry = self._statement(statement, entry, targets)
        return entry

    def _suite(self, suite: cst.BaseSuite, after: int, targets: _Targets) -> int:
        return self._block(suite.body, after, targets)  # IndentedBlock / SimpleStatementSuite

    def _statement(self, statement: cst.CSTNode, after: int, targets: _Targets) -> int:
        if isinstance(statement, cst.SimpleStatementLine):
            return self._block(statement.body, after, targets)
        if isinstance(statement, cst.If):
            return self._if(statement, after, targets)
        if isinstance(statement, (cst.For, cst.While)):
            return self._loop(statement, after, targets)
        if isinstance(statement, (cst.Try, cst.TryStar)):
            return self._try(statement, after, targets)
        if isinstance(statement, cst.With):
            header = self._new(statement, _raiser(statement.items))
            self._link(header, self._suite(statement.body, after, targets), "next")
            self._may_raise(header, targets)
            return header
        if isinstance(statement, cst.Match):
            header = self._new(statement, _raiser([statement.subject]))
            for case in statement.cases:
                self._link(header, self._suite(case.body, after, targets), "next")
            self._link(header, after, "next")  # no case matched
            self._may_raise(header, targets)
            return header
        return self._small(statement, after, targets)

    def _small(self, statement: cst.CSTNode, after: int, targets: _Targets) -> int:
        if isinstance(statement, cst.Return):
            node = self._new(statement, _raiser([statement.value]))
            self._link(node, targets.return_to, "jump")
        elif isinstance(statement, cst.Raise):
            node = self._new(statement)
            for target in targets.raise_to:
                self._link(node, target, "jump")
            return node
        elif isinstance(statement, cst.Break):
            node = self._new(statement)
            self._link(node, targets.break_to, "jump")
            return node
        elif isinstance(statement, cst.Continue):
            node = self._new(statement)
            self._link(node, targets.continue_to, "jump")
            return node
        else:  # an expression, assignment, def, class, import...
            node = self._new(statement, None if isinstance(statement, _OPAQUE) else _raiser([statement]))
            self._link(node, after, "next")
        self._may_raise(node, targets)
        return node

    def _if(self, statement: cst.If, after: int, targets: _Targets) -> int:
        test = self._new(statement, _raiser([statement.test]))
        self.nodes[test].test = statement.test
        self._link(test, self._suite(statement.body, after, targets), "next")
        orelse = statement.orelse
        if isinstance(orelse, cst.If):
            self._link(test, self._if(orelse, after, targets), "next")
        elif isinstance(orelse, cst.Else):
            self._link(test, self._suite(orelse.body, after, targets), "next")
        else:
            self._link(test, after, "next")
        self._may_raise(test, targets)
        return test

    def _loop(self, statement, after: int, targets: _Targets) -> int:
        if isinstance(statement, cst.For):
            header = self._new(statement, _raiser([statement.iter]) or
                               (statement if statement.asynchronous else None))
            endless = False
        else:
            header = self._new(statement, _raiser([statement.test]))
            endless = _always_true(statement.test)
        inner = _Targets(targets.raise_to, targets.return_to, break_to=after, continue_to=header)
        self._link(header, self._suite(statement.body, header, inner), "next")
        if not endless:
            orelse = statement.orelse
            self._link(header, self._suite(orelse.body, after, targets) if orelse else after, "next")
        self._may_raise(header, targets)
        return header

    def _try(self, statement, after: int, targets: _Targets) -> int:
        # Where each way out of the body, handlers and else lands: through a copy of the
        # `finally` when there is one, else straight to the outer targets.
        outer = targets
        if statement.finalbody is not None:
            final = statement.finalbody.body
            reraise = self._new(None)
            for target in targets.raise_to:
                self._link(reraise, target, "next")
            jumps = _jumps_inside(statement)
            outer = _Targets(
                raise_to=(self._suite(final, reraise, targets),),
                return_to=self._suite(final, targets.return_to, targets)
                if "return" in jumps else targets.return_to,
                break_to=self._suite(final, targets.break_to, targets)
                if "break" in jumps and targets.break_to is not None else targets.break_to,
                continue_to=self._suite(final, targets.continue_to, targets)
                if "continue" in jumps and targets.continue_to is not None else targets.continue_to)
            after = self._suite(final, after, targets)
        handlers: List[int] = []
        for handler in statement.handlers:
            header = self._new(handler)
            self._link(header, self._suite(handler.body, after, outer), "next")
            handlers.append(header)
        else_entry = self._suite(statement.orelse.body, after, outer) if statement.orelse else after
        body_targets = _Targets(
            raise_to=tuple(handlers) or outer.raise_to,
            return_to=outer.return_to, break_to=outer.break_to, continue_to=outer.continue_to)
        return self._suite(statement.body, else_entry, body_targets)

    # -- questions ----------------------------------------------------------------
    def nodes_holding(self, node: cst.CSTNode, parents: Dict[cst.CSTNode, cst.CSTNode]) -> List[int]:
        """The graph nodes of the innermost statement holding `node` ([] when none is:
        the node is outside the function's body)."""
        current: Optional[cst.CSTNode] = node
        while current is not None:
            found = self.of_statement.get(current)
            if found is not None:
                return found
            current = parents.get(current)
        return []

    def skipped_release(self, starts: Iterable[int], releases: Set[int], exceptions: bool,
                        holders: FrozenSet[str] = frozenset(),
                        creations: Iterable[int] = ()) -> Optional[SkippedRelease]:
        """A way from one of `starts` (the activation: its own exception edges are not
        followed the first time, a failed `start()` starts nothing; met again in a loop,
        it is a statement like the others) to the exit that passes none of
        `releases` and takes at least one explicit jump (or, with `exceptions`, an
        exception edge). A way that only falls off the end past a release guarded by a
        condition (`if wait: t.join()`) is a choice, not a skip, and is not returned.
        A branch where one of the names in `holders` (the resource) is tested absent
        (`if not proc: return`, `if p is None:`) has nothing to release and is not taken."""
        stops = set(creations) | releases  # met again, the creation makes another one
        queue: Deque[Tuple[int, Optional[SkippedRelease]]] = deque()
        seen: Set[Tuple[int, bool]] = set()
        for start in starts:
            if start in releases:
                return None  # `with Pool() as p:` releases where it creates
            queue.extend((target, None) for target, how in self.nodes[start].edges if how != "raise")
        while queue:
            node, witness = queue.popleft()
            if node == EXIT:
                if witness is not None:
                    return witness
                continue
            if node in stops or (node, witness is not None) in seen:
                continue
            seen.add((node, witness is not None))
            current = self.nodes[node]
            dead = _dead_branch(current.test, holders) if current.test is not None else None
            for position, (target, how) in enumerate(current.edges):
                if (how == "raise" and not exceptions) or position == dead:
                    continue
                queue.append((target, _witness(witness, current, how)))
        return None


def _witness(witness: Optional[SkippedRelease], node: _Node, how: str) -> Optional[SkippedRelease]:
    """What a path names after taking edge `how` out of `node`: the exception that started
    it when there is one (the raise is the cause, a `return` in the handler only follows
    from it), else the last explicit jump."""
    if witness is not None and witness.how == "exception":
        return witness
    if how == "raise" and node.raiser is not None:
        return SkippedRelease("exception", node.raiser)
    if how == "jump" and node.statement is not None:
        jump = {cst.Return: "return", cst.Raise: "raise", cst.Break: "break",
                cst.Continue: "continue"}.get(type(node.statement))
        if jump is not None:
            return SkippedRelease(jump, node.statement)
    return witness


def _raiser(parts: Iterable[Optional[cst.CSTNode]]) -> Optional[cst.CSTNode]:
    """The first call, await or yield evaluated in `parts` (not inside a nested def or
    lambda, which runs later), leaving out calls that do not raise in practice."""
    stack = [part for part in reversed(list(parts)) if part is not None]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Await, cst.Yield)):
            return node
        if isinstance(node, cst.Call) and not _quiet(node):
            return node
        if isinstance(node, _OPAQUE):
            continue
        stack.extend(reversed(list(iter_children(node))))
    return None


def _quiet(call: cst.Call) -> bool:
    func = call.func
    if isinstance(func, cst.Name):
        return func.value in _QUIET_FUNCTIONS
    return isinstance(func, cst.Attribute) and func.attr.value in _QUIET_METHODS


def _always_true(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name):
        return test.value == "True"
    return isinstance(test, cst.Integer) and test.value != "0"


def _dead_branch(test: cst.BaseExpression, holders: FrozenSet[str]) -> Optional[int]:
    """Which edge of an `if` cannot be taken while the resource exists: 0 (the body) for
    `not x` / `x is None`, 1 (the rest) for `x` / `x is not None`; None for other tests."""
    present = True
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, present = test.expression, False
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        comparison = test.comparisons[0]
        if not (isinstance(comparison.comparator, cst.Name) and comparison.comparator.value == "None"):
            return None
        if isinstance(comparison.operator, (cst.Is, cst.Equal)):
            present = not present
        elif not isinstance(comparison.operator, (cst.IsNot, cst.NotEqual)):
            return None
        test = test.left
    if isinstance(test, cst.Name) and test.value in holders:
        return 1 if present else 0
    return None


def _jumps_inside(statement: cst.CSTNode) -> Set[str]:
    """Which of return/break/continue occur in `statement` (not in nested defs)."""
    found: Set[str] = set()
    stack = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Return):
            found.add("return")
        elif isinstance(node, cst.Break):
            found.add("break")
        elif isinstance(node, cst.Continue):
            found.add("continue")
        elif isinstance(node, _OPAQUE):
            continue
        stack.extend(iter_children(node))
    return found


def graph_of(index: FileIndex, function: cst.FunctionDef) -> Optional[FlowGraph]:
    """The function's graph, built on first use and kept for the other rules; None for a
    function too large to check (MAX_NODES)."""
    graphs: Dict[cst.FunctionDef, Optional[FlowGraph]] = index.shared.setdefault("flow_graphs", {})
    if function not in graphs:
        try:
            graphs[function] = FlowGraph(function)
        except _TooLarge:
            graphs[function] = None
    return graphs[function]


def skipped_release(index: FileIndex, function: cst.FunctionDef, creation: cst.CSTNode,
                    activations: Sequence[cst.CSTNode], releases: Sequence[cst.CSTNode],
                    exceptions: bool, holders: FrozenSet[str] = frozenset()) -> Optional[SkippedRelease]:
    """A way from one of `activations` (of the value `creation` makes) to the exit of
    `function` that skips every one of `releases` (nodes inside `function`); explicit
    early exits are looked for first, and exception edges only with `exceptions`. None:
    the release is reached every way (or a site is not in the function's statements,
    and nothing is claimed)."""
    graph = graph_of(index, function)
    if graph is None:
        return None
    creations = graph.nodes_holding(creation, index.parent)
    starts: List[int] = []
    for activation in activations:
        found = graph.nodes_holding(activation, index.parent)
        if not found:
            return None
        starts.extend(found)
    release_nodes: Set[int] = set()
    for release in releases:
        found = graph.nodes_holding(release, index.parent)
        if not found:
            return None
        release_nodes.update(found)
    skipped = graph.skipped_release(starts, release_nodes, False, holders, creations)
    if skipped is None and exceptions:
        skipped = graph.skipped_release(starts, release_nodes, True, holders, creations)
    return skipped


def describe(index: FileIndex, skipped: SkippedRelease, limit: int = 32) -> str:
    """How a message names the way out: "on the `return` at line 42", "when `f()`
    raises" (the call quoted when it is at most `limit` characters, else its line)."""
    line = _line(index, skipped.node)
    at = f" at line {line}" if line else ""
    if skipped.how != "exception":
        return f"on the `{skipped.how}`{at}"
    node = skipped.node
    if isinstance(node, cst.Call):
        text = " ".join(index.module.code_for_node(node.func).split()) + "()"
        if len(text) <= limit:
            return f"when `{text}` raises"
        return f"when a call{at} raises"
    word = "await" if isinstance(node, cst.Await) else "yield"
    return f"when the `{word}`{at} raises"


def _line(index: FileIndex, node: cst.CSTNode) -> Optional[int]:
    """The node's line (code generation up to it: only done for a finding's message)."""
    try:
        found = locate(index.module, [node])
    except RecursionError:  # a statement too deep to generate: the message goes without
        return None
    return found[node].start.line if node in found else None


def reached_uses(index: FileIndex, function: cst.FunctionDef, target: cst.Name,
                 others: Sequence[cst.CSTNode], uses: Sequence[cst.Name]) -> List[cst.Name]:
    """Of `uses` (loads of the name `target` binds in `function`), those a value bound at
    `target` can reach before another binding (`others`: their targets) replaces it:
    `e = Executor(); ...; except Exception as e: raise e` raises the exception, not the
    executor. Every way counts, exceptions too. All of `uses` when a binding or use is
    not in the function's statements (nothing is claimed)."""
    graph = graph_of(index, function)
    if graph is None:
        return list(uses)
    starts = graph.nodes_holding(target, index.parent)
    kills: Set[int] = set(starts)  # the same binding again (in a loop) replaces it too
    for other in others:
        found = graph.nodes_holding(other, index.parent)
        if not found:
            return list(uses)
        kills.update(found)
    where = {id(use): graph.nodes_holding(use, index.parent) for use in uses}
    if not starts or not all(where.values()):
        return list(uses)
    reached: Set[int] = set()
    queue: Deque[int] = deque(target for start in starts
                              for target, how in graph.nodes[start].edges if how != "raise")
    while queue:
        node = queue.popleft()
        if node in reached:
            continue
        reached.add(node)
        if node not in kills:
            queue.extend(target for target, _ in graph.nodes[node].edges)
    return [use for use in uses if any(node in reached for node in where[id(use)])]
