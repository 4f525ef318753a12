"""The screen: every step of linting a file before the parse, on the selected rules'
trigger data alone, so that it needs neither libcst nor the rules' code.

In order: decoding (BOM, PEP 263), NUL bytes, the text prefilter on the rules' trigger
words (`trigger_pattern`), the file-level noqa, the size limits (`max-file-bytes`,
`max-file-tokens`), and the code-token gate (leaklint/gate.py) on their trigger names,
which says which rules the file reaches. A file that gets through is parsed, by the
subclass's `_check`, with only the rules it reaches.

`Screen` is the part of the engine's `Linter` (leaklint/engine.py) before the parse; the
Linter screens its own rule instances. `LazyLinter` screens the generated catalogue's
trigger data of the same rules (leaklint/catalogue.py) and builds the Linter, importing
the rules and libcst (~0.25 s of a one-file run), only when a file gets through. Most
files get no further (7,909 of the corpus's 9,001), so a run over a few of them (a
pre-commit hook, an editor's buffer) imports neither. Its findings are the Linter's: the
same steps on the same data.
"""
from __future__ import annotations

import re
from typing import Callable, List, Optional, Sequence

from leaklint.diagnostics import FILE_SKIPPED, SYNTAX_ERROR
from leaklint.finding import Finding
from leaklint.gate import AVAILABLE as GATE_AVAILABLE
from leaklint.gate import Gate
from leaklint.noqa import file_noqa
from leaklint.source import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_FILE_TOKENS,
    DecodeError,
    decode_source,
)

# DEFAULT_MAX_FILE_BYTES and DEFAULT_MAX_FILE_TOKENS: leaklint/source.py says why.
_TOKEN = re.compile(r"\w+|[^\w\s]|\n")
OUT_OF_MEMORY = "file skipped: out of memory while linting it (MemoryError)"


class Screen:
    """Lints files up to the parse; subclasses parse what gets through (`_check`).

    `rules`: objects with a `code` and the trigger data of `rules.base.Rule`
    (`trigger_words`, `trigger_names`, `name_free_words`): rule instances, or the
    catalogue's `RuleTriggers`. `prefilter=False` parses every file with every rule (the
    tests compare both ways: the prefilter and the gate must never change the findings);
    `gate=False` turns off only the code-token gate, which otherwise parses only the files
    some rule's trigger names reach and runs only those rules on them.
    `resolve_requirements=False` hands back findings with their project requirements
    unresolved (leaklint/project.py): the runner caches them so and resolves them for the
    whole run; otherwise they are resolved against the project on disk."""

    def __init__(self, rules: Sequence, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 max_file_tokens: int = DEFAULT_MAX_FILE_TOKENS, prefilter: bool = True,
                 resolve_requirements: bool = True, gate: bool = True):
        self.rules = list(rules)
        self.max_file_bytes = max_file_bytes
        self.max_file_tokens = max_file_tokens
        self.prefilter = prefilter
        self.resolve_requirements = resolve_requirements
        # The module summary of the last file parsed (leaklint/project.py), None when it
        # was not parsed: computed from the same parse and index as the findings.
        self.last_summary: Optional[dict] = None
        self._trigger = trigger_pattern(self.rules)
        self._gate = Gate(self.rules) if prefilter and gate and GATE_AVAILABLE else None

    def passes_prefilter(self, text: str) -> bool:
        """False when no selected rule can report anything in `text`: it is not parsed."""
        if not self.prefilter:
            return True
        return self._trigger is not None and self._trigger.search(text) is not None

    # -- entry points -------------------------------------------------------------
    def lint_bytes(self, data: bytes, path: str, apply_noqa: bool = True) -> List[Finding]:
        try:
            text = decode_source(data)
        except DecodeError as error:
            return [tool_finding(path, 1, 1, SYNTAX_ERROR, f"cannot decode file: {error}")]
        except MemoryError:
            return [tool_finding(path, 1, 1, FILE_SKIPPED, OUT_OF_MEMORY)]
        return self.lint_text(text, path, apply_noqa=apply_noqa, size=len(data))

    def lint_text(
        self, text: str, path: str, apply_noqa: bool = True, size: Optional[int] = None,
        python_checked: bool = False,
    ) -> List[Finding]:
        """`python_checked`: CPython's parser already accepted `text` (flake8 hands its
        plugins the `ast` tree), so the parse guard can be skipped."""
        self.last_summary = None
        if "\x00" in text:
            return [tool_finding(path, 1, 1, SYNTAX_ERROR, "cannot decode file: file contains NUL bytes")]
        if not self.passes_prefilter(text):
            return []
        # A file-level `leaklint: noqa` / `flake8: noqa` comment skips the file before it is
        # even parsed (as flake8 skips it, syntax errors included); with codes, those codes
        # are dropped. (Quoted here without their "#": ruff reads them as its own.)
        skipped_codes = file_noqa(text) if apply_noqa else None
        if skipped_codes == ():
            return []
        try:
            findings = self._lint(text, path, apply_noqa, size, python_checked)
        except MemoryError:
            # Python's own allocations failing (a memory limit, a huge tree): the file's
            # problem, not a bug. The native parser failing to allocate aborts the process
            # instead; the runner's worker processes cover that (leaklint.runner).
            return [tool_finding(path, 1, 1, FILE_SKIPPED, OUT_OF_MEMORY)]
        if skipped_codes:
            findings = [f for f in findings if not f.code.startswith(skipped_codes)]
        if self.resolve_requirements and any(f.requires for f in findings):
            from leaklint.project import default_project  # findings only come from a parse

            findings = default_project().resolve(findings)
        return findings

    def _lint(self, text: str, path: str, apply_noqa: bool, size: Optional[int],
              python_checked: bool) -> List[Finding]:
        size = len(text) if size is None else size
        if size > self.max_file_bytes:
            return [file_too_large(path, self.max_file_bytes, size)]
        # A token is at least one character: a shorter text needs no counting.
        if len(text) > self.max_file_tokens:
            tokens = _TOKEN.subn("", text)[1]  # the fastest way to count matches in C
            if tokens > self.max_file_tokens:
                return [tool_finding(path, 1, 1, FILE_SKIPPED,
                                     f"file skipped: {tokens} tokens is over the limit of "
                                     f"{self.max_file_tokens} (max-file-tokens)")]
        rules = self.rules
        if self._gate is not None:
            reached = self._gate.reached(text, path)
            if reached is not None:  # CPython compiled it: the parse guard has nothing to add
                if not reached:
                    return []
                rules, python_checked = reached, True
        return self._check(text, path, rules, python_checked, apply_noqa)

    def _check(self, text: str, path: str, rules: list, python_checked: bool,
               apply_noqa: bool) -> List[Finding]:  # pragma: no cover - abstract
        """Parse `text` and run `rules` (those of `self.rules` the file reaches) on it."""
        raise NotImplementedError


class LazyLinter(Screen):
    """Screens with the catalogue's trigger data of the selected rules; builds the
    engine's Linter (`build`), importing the rules and libcst, at the first file that
    gets through, and hands it that file and the rules it reaches."""

    def __init__(self, triggers: Sequence, build: Callable[[], Screen], **limits):
        super().__init__(triggers, **limits)
        self._build = build
        self._linter: Optional[Screen] = None

    def full_linter(self) -> Screen:
        """The Linter, built (once) now."""
        if self._linter is None:
            self._linter = self._build()
        return self._linter

    @property
    def parsed(self) -> int:
        """Files parsed by libcst (the runner's statistics)."""
        return getattr(self._linter, "parsed", 0)

    def _check(self, text: str, path: str, rules: list, python_checked: bool,
               apply_noqa: bool) -> List[Finding]:
        linter = self.full_linter()
        codes = {rule.code for rule in rules}
        linter.last_summary = None
        findings = linter._check(text, path, [rule for rule in linter.rules if rule.code in codes],
                                 python_checked, apply_noqa)
        self.last_summary = linter.last_summary
        return findings


def lazy_linter(codes: Sequence[str], rule_settings: dict, build: Callable[[], Screen],
                **limits) -> Optional[LazyLinter]:
    """A LazyLinter for the rules of `codes` built with `rule_settings` (option name ->
    value) by `build`; None when the catalogue's trigger data may not be theirs.

    The catalogue holds each rule's class-level triggers, which an option declared
    `adds_triggers` may add to when set to other than its default (LKL401's
    `timeout-functions` adds the names it lists): only the rule's code knows how. Rather
    than a second copy of that code here, such a run builds the Linter at once, as before
    the screen could run without it. Other options (`exception-paths`, set in many
    configurations) leave the triggers alone and keep the lazy road."""
    from leaklint.catalogue import rule_infos, rule_options, rule_triggers

    wanted = set(codes)
    options = rule_options()
    theirs = {name for rule in rule_infos() if rule.code in wanted for name in rule.options}
    if any(name in theirs and options[name].adds_triggers and value != options[name].default
           for name, value in rule_settings.items()):
        return None
    return LazyLinter([rule for rule in rule_triggers() if rule.code in wanted], build, **limits)


def trigger_pattern(rules: Sequence) -> Optional["re.Pattern[str]"]:
    """The prefilter: one regex alternation of the rules' trigger words, scanning the text
    once, in C. A word matches anywhere (inside a longer word, a comment, a string): it
    is a substring every spelling of a reportable call has to contain, never a piece of
    statement syntax (`import os, requests` and `from  requests import get` are imports
    of requests too). None when the rules have no trigger words at all."""
    words = sorted({word for rule in rules for word in rule.trigger_words})
    return re.compile("|".join(map(re.escape, words))) if words else None


def file_too_large(path: str, limit: int, size: Optional[int] = None) -> Finding:
    """LKL003 for a file over max-file-bytes; `size` None: only the first `limit + 1`
    bytes were read (standard input), so the whole size is not known."""
    if size is None:
        message = f"file skipped: over the limit of {limit} bytes (max-file-bytes)"
    else:
        message = f"file skipped: {size} bytes is over the limit of {limit} (max-file-bytes)"
    return tool_finding(path, 1, 1, FILE_SKIPPED, message)


def tool_finding(path, line, column, tool_code, message, detail="") -> Finding:
    """A finding of a tool-level code (leaklint/diagnostics.py)."""
    return Finding(path=path, line=line, column=column, code=tool_code.code, message=message,
                   end_line=line, end_column=column, name=tool_code.name,
                   noqa_lines=(line, line), detail=detail)
