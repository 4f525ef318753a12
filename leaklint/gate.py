"""The code-token gate: the second filter, between the text prefilter and libcst.

The text prefilter (`screen.trigger_pattern`) lets a file through when a rule's trigger
word appears anywhere in it, comments and docstrings included. Most of those files
cannot produce a finding, and libcst costs ~10x what CPython's own compiler does. The
gate compiles the file with `compile()` (which also replaces the parse guard: what
compiles, `symtable` accepts) and reads the identifiers its code spells off the code
objects, with no tree walk in Python: `co_names` (globals, attributes, imported modules
and names: `import a.b` is split into `a` and `b`), `co_varnames`, `co_cellvars`,
`co_freevars`, `co_name`, and the string constants that look like a name or a type
expression (`"threading"` handed to `importlib.import_module`, `"Optional[Thread]"`),
recursively through the nested code objects. Comments are no tokens, and neither is a
docstring (it has spaces and words no type expression has).

Why that is sound. A rule reports a resource it recognises by qualified name
(`index.qualified_names`, `call_name`): a constructor, a function, a class a local
subclass derives from, a method called on a receiver typed by such a call. The index
builds every qualified name from what the file spells in code: the dotted names of its
import statements (`IMPORT_NAME`/`IMPORT_FROM`: co_names), attributes (co_names), names
bound in the file (aliases, `self.cls = HTTPSConnection`, class bases, factories and
properties of the file: the class they build is spelled in their body), and the string
given to `importlib.import_module` (a constant). Only `canonical_module` adds words the
file may not spell (six.moves spellings renamed to stdlib *modules*: `queue`, `http.client`,
`urllib.request`...), never the last component of a qualified name. So the last component
of every class or function a rule looks for is spelled in code whenever the rule can
report it, and a rule declares those as its exact `trigger_names`
(`rules.base.last_names` derives them from its own qualname tables); a module name
(`requests`, `urllib3`, `httpx`, `aiohttp`) serves as well when every name the rule knows
lies in that module and no rename leads there. Code the compiler keeps out of code
objects is only an annotation of a local variable or attribute in a function (never
evaluated): annotations never make a resource, so no report depends on them. Dead code
keeps its names from Python 3.10 on (`if False:`, `while 0:`, after a `return`: libcst
and the rules see it, so the tokens must too); Python 3.9's compiler leaves the
attributes and imports of a constant-false `if`/`while` block out of the code objects,
so there the gate is off (`AVAILABLE`) and every file takes the guard and libcst.

Roads to a report on which the file spells none of the rule's names are declared, per
rule, as `name_free_words`: words which, found anywhere in the text (as the prefilter
finds its words), let the file reach the rule anyway. One exists: LKL101 follows
`self._beat = start_heartbeat()` with the function imported from another module of the
project (`summaries.imported_candidate`, resolved by `project.RETURNS`); the caller spells
only the function's name. Today that road was reached by any file the prefilter let
through; the gate keeps it for files that write the word `Thread` (a comment or a
`Thread` annotation is enough), as the factory's own module must (`Project._may_define_thread`).

A rule whose `trigger_names` is None has not said: every file the prefilter lets through
reaches it. A file no selected rule is reached by is not parsed (no findings, no module
summary: the project pass parses it if a requirement needs it, as a prefiltered file).
Anything the gate's own compile raises (a SyntaxError `symtable` does not raise, such as
`return` outside a function, a RecursionError, a MemoryError) leaves the file to the
guard and libcst, unchanged. tests/test_gate.py compares the findings with and without
the gate on every fixture and rule example; notes/gate-corpus.md on the corpus.
"""
from __future__ import annotations

import re
import sys
import warnings
from types import CodeType
from typing import TYPE_CHECKING, List, Optional, Sequence, Set, Union

if TYPE_CHECKING:  # the gate runs on the catalogue's trigger data too, without the rules
    from leaklint.catalogue import RuleTriggers
    from leaklint.rules.base import Rule

# A string constant that is a name, a dotted name or a type expression over names
# (`"Optional[Dict[str, threading.Thread]]"`, `"Thread | None"`): its words are tokens.
# A docstring or a message has words separated by bare spaces or other punctuation.
_TYPE_EXPRESSION = re.compile(r"\s*[\w.]+(?:\s*[\[\],|]\s*[\w.]*)*\s*\Z")
_WORD = re.compile(r"[^\W\d]\w*")
_LONGEST_TYPE_EXPRESSION = 300  # longer strings are data, not forward references
# Whether the compiler keeps the names of dead code in the code objects (see above).
AVAILABLE = sys.version_info >= (3, 10)


def compile_code(text: str, path: str) -> Optional[CodeType]:
    """The module's code object; None when CPython will not compile it, for whatever
    reason (the caller then takes the path that reports it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the linted code's SyntaxWarnings are not ours
            return compile(text, path, "exec", dont_inherit=True, optimize=0)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None


def code_tokens(code: CodeType) -> Set[str]:
    """The identifiers `code` and its nested code objects spell, dotted names split."""
    names: Set[str] = set()
    strings: List[str] = []
    stack = [code]
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        names.update(current.co_varnames)
        names.update(current.co_cellvars)
        names.update(current.co_freevars)
        names.add(current.co_name)
        constants = list(current.co_consts)
        while constants:
            constant = constants.pop()
            if isinstance(constant, CodeType):
                stack.append(constant)
            elif isinstance(constant, str):
                strings.append(constant)
            elif isinstance(constant, (tuple, frozenset)):  # keyword names, `in (...)`
                constants.extend(constant)
    for dotted in [name for name in names if "." in name]:
        names.update(dotted.split("."))
    for string in strings:
        if len(string) <= _LONGEST_TYPE_EXPRESSION and _TYPE_EXPRESSION.match(string):
            names.update(_WORD.findall(string))
    return names


class Gate:
    """Which of `rules` a file can reach, from its code tokens (see the module doc).
    `rules`: rule instances, or the catalogue's trigger data of the same rules
    (leaklint/screen.py screens with both)."""

    def __init__(self, rules: Sequence[Union["Rule", "RuleTriggers"]]):
        self.rules = list(rules)
        self._name_free = {rule: re.compile("|".join(
            rf"\b{re.escape(word)}\b" for word in rule.name_free_words))
            for rule in self.rules if rule.name_free_words}

    def reached(self, text: str, path: str) -> Optional[list]:
        """The rules the file spells a trigger name of (in the linter's order), or
        reaches by a name-free road; None when the gate cannot tell (it does not
        compile): every rule then, through the parse guard."""
        code = compile_code(text, path)
        if code is None:
            return None
        tokens = code_tokens(code)
        del code
        reached = []
        for rule in self.rules:
            names = rule.trigger_names
            if names is None or not tokens.isdisjoint(names):
                reached.append(rule)
                continue
            name_free = self._name_free.get(rule)
            if name_free is not None and name_free.search(text):
                reached.append(rule)
        return reached
