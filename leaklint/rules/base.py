"""The base class every rule derives from: a rule's code, docs and examples live on it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Iterator, Optional, Tuple

import libcst as cst

if TYPE_CHECKING:  # pragma: no cover
    from leaklint.index import FileIndex


@dataclass(frozen=True)
class Option:
    """A rule option, settable as `[tool.leaklint] NAME = ...` and `--leaklint-NAME` in flake8."""

    name: str
    type: type  # list, int, bool or str
    default: Any
    help: str
    # What else a value of the right type must be: the problem as one line, None if fine;
    # a function of leaklint.option_checks (checked without importing the rules).
    check: Optional[Callable[[Any], Optional[str]]] = None
    # Whether a value other than the default adds to the rule's trigger words or names
    # (its `__init__` does): the catalogue holds the class's, so the screen then needs the
    # rule itself (leaklint/screen.py, `lazy_linter`).
    adds_triggers: bool = False


def last_names(*qualname_tables: Iterable[str]) -> Tuple[str, ...]:
    """The trigger names of a rule recognising these qualified names: the last component
    of each (`threading.Thread` -> `Thread`), sorted."""
    return tuple(sorted({name.rpartition(".")[2] for table in qualname_tables for name in table}))


@dataclass(frozen=True)
class Report:
    """What a rule hands back: the node to point at and the finished message."""

    node: cst.CSTNode
    message: str
    fix: str = ""


class Rule:
    """One check. Subclasses set the class attributes and implement :meth:`check`.

    The engine builds one :class:`~leaklint.index.FileIndex` per file (one parse, one
    traversal) and calls every selected rule's ``check`` with it; rules query the index
    instead of walking the tree again.
    """

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""  # one line, for --list-rules and SARIF
    what_it_does: ClassVar[str] = ""
    why_bad: ClassVar[str] = ""
    example: ClassVar[str] = ""
    use_instead: ClassVar[str] = ""
    # Snippets for the rule's own tests: every `invalid` one must be flagged by this rule,
    # no `valid` one may be.
    valid: ClassVar[tuple] = ()
    invalid: ClassVar[tuple] = ()
    default_enabled: ClassVar[bool] = True
    # The prefilter: a file containing none of the trigger words of any selected rule is
    # never parsed. A word matches anywhere in the text (also inside a longer word), so
    # it must be a piece of every spelling of what the rule reports (a module or class
    # name, `Queue` for SimpleQueue too), never statement syntax like "import x", which
    # misses `import os, x`. tests/test_prefilter.py checks the findings are the same
    # without the prefilter. Not a ClassVar: an instance adds the words its options bring
    # (LKL401's `timeout-functions`). The generated catalogue holds the class's, which the
    # screen uses while every option is at its default (`screen.lazy_linter`); an option
    # must leave them alone at its default (tests/test_screen.py).
    trigger_words: Tuple[str, ...] = ()
    # The code-token gate (leaklint/gate.py), after the prefilter: the exact identifiers
    # one of which the file must spell in code (not in a comment or docstring) for the
    # rule to report anything: the last component of each class or function it
    # recognises (`last_names(ITS_CLASSES)`), or the module all of them live in. None:
    # the rule does not say, and every file the prefilter lets through reaches it. An
    # instance adds the names its options bring, as for trigger_words.
    trigger_names: Optional[Tuple[str, ...]] = None
    # A road to a report on which the file spells none of the trigger names (LKL101's
    # factories imported from another module): words that, found anywhere in the text as
    # whole words, let the file reach the rule anyway. Say why next to them.
    name_free_words: ClassVar[Tuple[str, ...]] = ()
    options: ClassVar[tuple] = ()  # of Option
    # Test files (see leaklint/testcode.py): a rule that does not apply to them is in the
    # default `test-ignore`; `test_code_reason` says why, in the rule's documentation.
    applies_to_tests: ClassVar[bool] = True
    test_code_reason: ClassVar[str] = (
        "Reported in test files too: a thread, task, queue or process a test leaves "
        "behind outlives the test, keeps its resources and makes later tests flaky or "
        "the suite hang (what goleak catches in Go).")

    def __init__(self, settings: Optional[dict] = None) -> None:
        settings = settings or {}
        self.settings = {opt.name: settings.get(opt.name, opt.default) for opt in self.options}

    def check(self, index: "FileIndex") -> Iterator[Report]:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def family(cls) -> str:
        return cls.code[:4]
