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
from typing import Dict, Iterable, List, Tuple

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


class _Finished(Exception):
    """Every wanted node has been generated: the rest of the module is not needed."""


class _LocatingState(CodegenState):
    __slots__ = ("wanted", "remaining", "starts", "ends", "syntactic")

    def __init__(self, module: cst.Module, wanted: Iterable[cst.CSTNode]):
        super().__init__(default_indent=module.default_indent,
                         default_newline=module.default_newline)
        self.wanted = {id(node) for node in wanted}
        self.remaining = len(self.wanted)
        self.starts: Dict[int, int] = {}  # id(node) -> token index where it starts
        self.ends: Dict[int, int] = {}  # id(node) -> token index where it ends
        # id(node) -> (start: token index or ("node", id), end: token index or ("node", id))
        self.syntactic: Dict[int, Tuple[object, object]] = {}

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted and key not in self.starts:
            self.starts[key] = len(self.tokens)

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted and key not in self.ends:
            self.ends[key] = len(self.tokens)
            self.remaining -= 1
            if self.remaining == 0:
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


def locate(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> Dict[cst.CSTNode, CodeRange]:
    """{node: CodeRange} for each of `nodes` that is in `module`, as PositionProvider
    gives it; a node that is not in the module is left out."""
    nodes = [node for node in nodes if isinstance(node, cst.CSTNode)]
    state = _LocatingState(module, nodes)
    if state.remaining:
        try:
            module._codegen(state)
        except _Finished:
            pass

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
