"""Line and column of a few nodes, without libcst's PositionProvider.

`PositionProvider` generates the whole module's code with a `CodegenState` that, for every
one of the (hundreds of thousands of) nodes, pushes a position, recomputes line and column
from each token with a regex, and stores a `CodeRange` in a dict keyed by the node (a
Python-level `__hash__`). A linter needs the positions of the handful of nodes it reports.

`locate(module, nodes)` runs the same code generation with a state that only notes, for
the nodes asked for, the index of the token where they start and end; the few indexes
are turned into line/column afterwards, in one sweep over the tokens. It stops generating
code as soon as the last node asked for is finished. The result is what `PositionProvider`
gives: the syntactic range where libcst records one (`record_syntactic_position`, with
its start/end hoisted from child nodes), the whitespace-inclusive range otherwise.
"""
from __future__ import annotations

import re
from contextlib import contextmanager, nullcontext
from typing import Dict, Iterable, List, Optional, Tuple, Union

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange

# PositionProvider's own newline pattern (libcst.metadata.position_provider.NEWLINE_RE).
_NEWLINE = re.compile(r"\r\n?|\n")
# Joins tokens so that a token ending in "\r" and the next one starting with "\n" stay two
# line breaks, as PositionProvider (which splits token by token) counts them. The source
# never holds NUL characters (the engine rejects them), so each NUL is a joint.
_JOINT = "\x00"
_NULL_CONTEXT = nullcontext()
# Where a node's syntactic range starts or ends: a token index, or ("start"/"end", id of
# the hoisted child node whose own start/end it is).
_Mark = Union[int, Tuple[str, int]]


class _Finished(Exception):
    """Every wanted node has been generated: the rest of the module is not needed."""


class _LocatingState(CodegenState):
    __slots__ = ("wanted", "remaining", "finish_early", "starts", "ends", "syntactic")

    def __init__(self, module: cst.Module, wanted: Iterable[cst.CSTNode]):
        super().__init__(default_indent=module.default_indent,
                         default_newline=module.default_newline)
        self.wanted = {id(node) for node in wanted}
        self.remaining = len(self.wanted)
        self.finish_early = True  # stop generating once every wanted node is done
        self.starts: Dict[int, int] = {}  # id(node) -> token index where it starts
        self.ends: Dict[int, int] = {}  # id(node) -> token index where it ends
        # id(node) -> (start: token index or ("start", id), end: token index or ("end", id))
        self.syntactic: Dict[int, Tuple[_Mark, _Mark]] = {}

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted and key not in self.starts:
            self.starts[key] = len(self.tokens)

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted and key not in self.ends:
            self.ends[key] = len(self.tokens)
            self.remaining -= 1
            if self.remaining == 0 and self.finish_early:
                raise _Finished

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        if id(node) not in self.wanted:
            return _NULL_CONTEXT
        return self._record(node, start_node, end_node)

    @contextmanager
    def _record(self, node, start_node, end_node):
        # The hoisted child nodes are generated inside this block: wanted from now on.
        for child in (start_node, end_node):
            if child is not None and id(child) not in self.wanted:
                self.wanted.add(id(child))
                self.remaining += 1
        start = len(self.tokens)
        yield
        end = len(self.tokens)
        self.syntactic[id(node)] = (
            start if start_node is None else ("start", id(start_node)),
            end if end_node is None else ("end", id(end_node)),
        )


def locate(module: cst.Module, nodes: Iterable[cst.CSTNode],
           source: Optional[str] = None) -> Dict[cst.CSTNode, CodeRange]:
    """{node: CodeRange} for each of `nodes` that is in `module`, as PositionProvider
    gives it; a node that is not in the module is left out. `source`, the module's code,
    lets nodes be located past a top-level statement too deeply nested to generate.
    RecursionError: a node asked for is in such a statement."""
    nodes = [node for node in nodes if isinstance(node, cst.CSTNode)]
    try:
        state = _generate(module, nodes)
    except RecursionError:
        if source is None:
            raise
        state = _generate_around_deep_statements(module, nodes, source)

    def token_span(key: int) -> Tuple[int, int]:
        """(start token index, end token index) of a node, hoisting as libcst does.
        KeyError: the node was never generated (not in the module)."""
        if key in state.syntactic:
            start, end = state.syntactic[key]
            if isinstance(start, tuple):
                start = token_span(start[1])[0]
            if isinstance(end, tuple):
                end = token_span(end[1])[1]
            return start, end
        return state.starts[key], state.ends[key]

    spans = {}
    for node in nodes:
        try:
            spans[node] = token_span(id(node))
        except KeyError:
            pass
    indexes = sorted({i for span in spans.values() for i in span})
    where = _sweep(state.tokens, indexes)
    return {node: CodeRange(where[start], where[end]) for node, (start, end) in spans.items()}


def _generate(module: cst.Module, nodes: List[cst.CSTNode]) -> _LocatingState:
    state = _LocatingState(module, nodes)
    if state.remaining:
        try:
            module._codegen(state)
        except _Finished:
            pass
    return state


def _generate_around_deep_statements(module: cst.Module, nodes: List[cst.CSTNode],
                                     source: str) -> _LocatingState:
    """Module._codegen_impl, one top-level statement at a time. Code generation recurses
    once or twice per level of nesting, and Python 3.12 counts those calls against a fixed
    C recursion limit that `sys.setrecursionlimit` does not raise (about 740 levels on
    3.12.1). A top-level statement that overflows it and holds no wanted node is stood
    for by one token: its source text, which is what lies between the code of the
    statements before it and the code of those after it (libcst reproduces the source
    exactly). Consecutive or separate deep statements share that one token, together
    with whatever lies between them."""
    state = _LocatingState(module, nodes)
    state.finish_early = False  # the code after a deep statement is needed to place it
    gap = None  # index of the token that stands for the deep statements
    for line in module.header:
        line._codegen(state)
    for statement in module.body:
        mark = len(state.tokens)
        try:
            statement._codegen(state)
        except RecursionError:
            del state.tokens[mark:]
            state.indent_tokens.clear()  # top level; a block may have been left open
            if gap is None:
                gap = mark
                state.tokens.append("")
            if any(start >= gap for start in state.starts.values()):
                raise  # a wanted node is in the gap: it cannot be placed
            del state.tokens[gap + 1:]
    for line in module.footer:
        line._codegen(state)
    if module.has_trailing_newline:
        if not state.tokens:
            state.add_token(state.default_newline)
    elif gap != len(state.tokens) - 1:  # the source text in the gap has no newline to drop
        state.pop_trailing_newline()
    if gap is not None:
        before = "".join(state.tokens[:gap])
        after = "".join(state.tokens[gap + 1:])
        if len(before) + len(after) > len(source) or not (source.startswith(before) and source.endswith(after)):
            raise RecursionError("the generated code does not match the source")
        state.tokens[gap] = source[len(before):len(source) - len(after)]
    return state


def _sweep(tokens: List[str], indexes: List[int]) -> Dict[int, CodePosition]:
    """The position after the first i tokens, for each i of `indexes` (sorted)."""
    out: Dict[int, CodePosition] = {}
    line, column, done = 1, 0, 0
    for index in indexes:
        if index > done:
            text = _JOINT.join(tokens[done:index])
            parts = _NEWLINE.split(text)
            if len(parts) == 1:
                column += len(text) - text.count(_JOINT)
            else:
                line += len(parts) - 1
                column = len(parts[-1]) - parts[-1].count(_JOINT)
            done = index
        out[index] = CodePosition(line, column)
    return out
