"""What the thread rules share: finding thread creations and reading their options."""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from leaklint.index import FileIndex
from leaklint.rules._common import keyword, quote_callable
from leaklint.summaries import Creation, creations

THREAD_CLASSES = frozenset({"threading.Thread"})
TIMER_CLASSES = frozenset({"threading.Timer"})


def thread_creations(index: FileIndex, classes, imported: bool = False) -> Iterator[Creation]:
    """Creations of one of `classes`: constructor calls, subclasses defined in this file,
    factories of this file returning one (see leaklint.summaries); with `imported`, calls
    of functions of other modules that may be factories (their reports then need
    `leaklint.project.RETURNS`)."""
    return creations(index, frozenset(classes), imported)


def describe_target(index: FileIndex, call: cst.Call, subclass, positional: int) -> str:
    """What the thread runs, quoted: `download()` for `target=download`, `self.beat()` for
    `target=self.beat`, the expression itself otherwise (a lambda); "" when unknown."""
    if subclass is not None:
        return f"`{subclass.name.value}`"
    arg = keyword(call, "target") or keyword(call, "function")
    if arg is None:
        positionals = [a for a in call.args if a.keyword is None and not a.star]
        if len(positionals) > positional:
            arg = positionals[positional]
    if arg is None:
        return ""
    if isinstance(arg.value, (cst.Name, cst.Attribute)):
        return quote_callable(index, arg.value)
    return quote_callable(index, arg.value, "")
