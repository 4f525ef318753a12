"""The rule engine: decode, prefilter, parse once, index once, run every selected rule.

The engine knows nothing about any rule. It turns source text into `Finding`s:
tool-level problems (LKL0xx) and whatever the selected rules report.
"""
from __future__ import annotations

import ast
import hashlib
import re
import symtable
import sys
import traceback
import warnings
from typing import Iterable, List, Optional, Sequence, Set

import libcst as cst

from leaklint.diagnostics import FILE_SKIPPED, INTERNAL_ERROR, SYNTAX_ERROR
from leaklint.finding import Finding
from leaklint.gate import AVAILABLE as GATE_AVAILABLE
from leaklint.gate import Gate
from leaklint.index import FileIndex
from leaklint.nesting import nesting_problem
from leaklint.noqa import file_noqa, is_suppressed
from leaklint.positions import locate
from leaklint.project import default_project, requirements_of, summarise
from leaklint.rules.base import Rule
from leaklint.source import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_FILE_TOKENS,
    DecodeError,
    decode_source,
)

# Python-level recursion in the index walk and in libcst's own conversion grows with
# nesting depth; CPython 3.11+ keeps pure-Python frames off the C stack, so a high limit
# is safe, and RecursionError past it is caught and reported as LKL003. On 3.9 and 3.10,
# where they are on it, the parse guard has already refused what nests deeper than the
# default limit allows CPython's own parser (and 5,000 levels of `not` still fit).
# 3.12+ also has a C recursion limit that this does not raise: see leaklint.positions.
_RECURSION_LIMIT = 20000
# DEFAULT_MAX_FILE_BYTES and DEFAULT_MAX_FILE_TOKENS: leaklint/source.py says why.
_TOKEN = re.compile(r"\w+|[^\w\s]|\n")
OUT_OF_MEMORY = "file skipped: out of memory while linting it (MemoryError)"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Linter:
    """Runs a fixed set of rule instances over source files. Build once, reuse per file."""

    def __init__(self, rules: Sequence[Rule], max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 max_file_tokens: int = DEFAULT_MAX_FILE_TOKENS, prefilter: bool = True,
                 resolve_requirements: bool = True, gate: bool = True):
        """`prefilter=False` parses every file with every rule (the tests compare both
        ways: the prefilter and the gate must never change the findings); `gate=False`
        turns off only the code-token gate (leaklint/gate.py), which otherwise parses only
        the files some rule's trigger names reach and runs only those rules on them.
        `resolve_requirements=False` hands back findings
        with their project requirements unresolved (leaklint/project.py): the runner
        caches them so and resolves them for the whole run; otherwise they are resolved
        against the project on disk."""
        self.rules = list(rules)
        self.resolve_requirements = resolve_requirements
        # The module summary of the last file parsed (leaklint/project.py), None when it
        # was not parsed: computed from the same parse and index as the findings.
        self.last_summary: Optional[dict] = None
        self.max_file_bytes = max_file_bytes
        self.max_file_tokens = max_file_tokens
        self.prefilter = prefilter
        self._trigger = trigger_pattern(self.rules)
        self._gate = Gate(self.rules) if prefilter and gate and GATE_AVAILABLE else None
        # Files parsed by libcst, by this linter (the runner's statistics).
        self.parsed = 0

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
            return [_tool_finding(path, 1, 1, SYNTAX_ERROR, f"cannot decode file: {error}")]
        except MemoryError:
            return [_tool_finding(path, 1, 1, FILE_SKIPPED, OUT_OF_MEMORY)]
        return self.lint_text(text, path, apply_noqa=apply_noqa, size=len(data))

    def lint_text(
        self, text: str, path: str, apply_noqa: bool = True, size: Optional[int] = None,
        python_checked: bool = False,
    ) -> List[Finding]:
        """`python_checked`: CPython's parser already accepted `text` (flake8 hands its
        plugins the `ast` tree), so the parse guard can be skipped."""
        self.last_summary = None
        if "\x00" in text:
            return [_tool_finding(path, 1, 1, SYNTAX_ERROR, "cannot decode file: file contains NUL bytes")]
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
            return [_tool_finding(path, 1, 1, FILE_SKIPPED, OUT_OF_MEMORY)]
        if skipped_codes:
            findings = [f for f in findings if not f.code.startswith(skipped_codes)]
        if self.resolve_requirements and any(f.requires for f in findings):
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
                return [_tool_finding(path, 1, 1, FILE_SKIPPED,
                                      f"file skipped: {tokens} tokens is over the limit of "
                                      f"{self.max_file_tokens} (max-file-tokens)")]
        rules = self.rules
        if self._gate is not None:
            reached = self._gate.reached(text, path)
            if reached is not None:  # CPython compiled it: the parse guard has nothing to add
                if not reached:
                    return []
                rules, python_checked = reached, True
        module_or_finding = self._parse(text, path, python_checked)
        if isinstance(module_or_finding, Finding):
            return [module_or_finding]
        findings = self._run_rules(module_or_finding, text, path, rules)
        if apply_noqa and findings:
            # Only the line breaks the tokenizer knows: str.splitlines() also splits on
            # form feeds and other separators, which would shift the noqa lines.
            lines = _LINE_BREAK.split(text)
            findings = [f for f in findings if not is_suppressed(f, lines)]
        return sorted(findings)

    # -- steps ----------------------------------------------------------------------
    def _parse(self, text: str, path: str, python_checked: bool = False):
        """The libcst module, or an LKL001/LKL003 finding."""
        # CPython's own parser first: it is ~10x cheaper than libcst, rejects nesting that
        # would overflow the native libcst parser's stack (which kills the process; when
        # CPython stops at a syntax error first, leaklint.nesting measures the rest), and
        # gives the clearest syntax error messages. Through `symtable`, which parses and
        # checks the tree as ast.parse does (same errors at the same depths) but skips
        # building Python ast objects: ~45% cheaper. ast.parse itself runs only when
        # libcst fails too, for its message.
        ast_error = None
        if not python_checked:
            problem = _python_guard(text, path)
            if isinstance(problem, Finding):
                return problem
            ast_error = problem
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, _RECURSION_LIMIT))
        self.parsed += 1
        try:
            return cst.parse_module(text)
        except cst.ParserSyntaxError as error:
            ast_error = ast_error and _python_syntax_error(text)
            if ast_error is not None:
                return _syntax_finding(path, ast_error)
            # Python accepted it (test_grammar.py's `(x): int`): not the file's fault.
            return _tool_finding(path, error.raw_line or 1, (error.raw_column or 0) + 1,
                                 SYNTAX_ERROR, f"cannot parse file: valid Python that libcst cannot "
                                               f"parse: {error.message}")
        except RecursionError:
            return _tool_finding(path, 1, 1, FILE_SKIPPED, "file skipped: too deeply nested to parse")
        except MemoryError:
            raise  # lint_text reports it
        except Exception as error:  # libcst raises assorted errors on exotic input
            ast_error = ast_error and _python_syntax_error(text)
            if ast_error is not None:
                return _syntax_finding(path, ast_error)
            return _tool_finding(path, 1, 1, SYNTAX_ERROR, f"cannot parse file: {type(error).__name__}: {error}")
        finally:
            sys.setrecursionlimit(old_limit)

    def _run_rules(self, module: cst.Module, text: str, path: str,
                   rules: Sequence[Rule]) -> List[Finding]:
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, _RECURSION_LIMIT))
        try:
            try:
                index = FileIndex(module, path)
            except RecursionError:
                return [_tool_finding(path, 1, 1, FILE_SKIPPED, "file skipped: too deeply nested to analyse")]
            try:
                self.last_summary = summarise(index)
            except RecursionError:
                self.last_summary = None  # unknown to the other modules: their one-file answers
            reports = []  # (rule, Report)
            internal = []
            for rule in rules:
                try:
                    for report in rule.check(index):
                        reports.append((rule, report))
                except MemoryError:
                    raise  # not the rule's bug: lint_text reports it
                except Exception as error:  # a broken rule must not hide the others
                    internal.append(_tool_finding(
                        path, 1, 1, INTERNAL_ERROR,
                        f"internal error in {rule.code} ({rule.name}): {type(error).__name__}: {error}",
                        detail=traceback.format_exc()))
            if not reports:
                return internal
            reports = _one_per_conditional(index, reports)
            return internal + _locate(module, text, index, path, reports)
        finally:
            sys.setrecursionlimit(old_limit)


def _one_per_conditional(index: FileIndex, reports):
    """`FTP_TLS(...) if tls else FTP()` is one value: when a rule reports both branches
    of one conditional expression, only the first report is kept."""
    kept = []
    seen = set()
    for rule, report in reports:
        root = index.conditional_root(report.node) if isinstance(report.node, cst.CSTNode) else None
        if root is not None:
            if (rule.code, root) in seen:
                continue
            seen.add((rule.code, root))
        kept.append((rule, report))
    return kept


def trigger_pattern(rules: Sequence[Rule]) -> Optional["re.Pattern[str]"]:
    """The prefilter: one regex alternation of the rules' trigger words, scanning the text
    once, in C. A word matches anywhere (inside a longer word, a comment, a string): it
    is a substring every spelling of a reportable call has to contain, never a piece of
    statement syntax (`import os, requests` and `from  requests import get` are imports
    of requests too). None when the rules have no trigger words at all."""
    words = sorted({word for rule in rules for word in rule.trigger_words})
    return re.compile("|".join(map(re.escape, words))) if words else None


def _python_guard(text: str, path: str):
    """None when CPython's parser accepts `text`; its SyntaxError when it does not (libcst
    may still parse it); an LKL001/LKL003 finding when libcst must not even try."""
    try:
        with warnings.catch_warnings():
            # The linted code's own SyntaxWarnings ("is" with a literal, invalid
            # escapes) are not ours to print.
            warnings.simplefilter("ignore")
            symtable.symtable(text, path, "exec")
    except SyntaxError as error:
        if "too many nested" in str(error) or "too many levels" in str(error):
            return _tool_finding(path, error.lineno or 1, 1, FILE_SKIPPED,
                                 f"file skipped: {error.msg}")
        # CPython stopped at this error and has not checked the nesting of the rest,
        # which libcst is about to parse (3.9 stops at a PEP 701 f-string reusing its quote).
        problem = nesting_problem(text)
        if problem is not None:
            line, message = problem
            return _tool_finding(path, line, 1, FILE_SKIPPED, f"file skipped: {message}")
        return error
    except (RecursionError, MemoryError) as error:
        return _tool_finding(path, 1, 1, FILE_SKIPPED,
                             f"file skipped: too deeply nested to parse ({type(error).__name__})")
    except ValueError as error:  # e.g. source code string cannot contain null bytes
        return _tool_finding(path, 1, 1, SYNTAX_ERROR, f"cannot parse file: {error}")
    return None


def _locate(module: cst.Module, text: str, index: FileIndex, path: str, reports) -> List[Finding]:
    """Positions are computed only for files with something to report, and only for the
    reported nodes and their statements (leaklint.positions: the same ranges as libcst's
    PositionProvider, whose pass over every node costs about as much as parsing)."""
    wanted = []
    for _rule, report in reports:
        wanted.append(report.node)
        try:
            wanted.append(index.statement_of(report.node))
        except Exception:  # not a node of this file: _finding reports it
            pass
    try:
        positions = locate(module, wanted, text)
    except RecursionError:
        return [_tool_finding(path, 1, 1, FILE_SKIPPED, "file skipped: too deeply nested to locate findings")]
    findings = []
    seen: Set[tuple] = set()  # (line, column, code, message) of the findings so far
    broken: Set[str] = set()  # rules that handed back a report that cannot be located: one LKL000 each
    for rule, report in reports:
        try:
            findings.extend(_finding(module, index, path, positions, seen, rule, report))
        except Exception as error:  # a node from another tree, not a Report: the rule's bug
            if rule.code not in broken:
                broken.add(rule.code)
                problem = ("it reported a node that is not in this file" if isinstance(error, KeyError)
                           else f"{type(error).__name__}: {error}")
                findings.append(_tool_finding(
                    path, 1, 1, INTERNAL_ERROR, f"internal error in {rule.code} ({rule.name}): {problem}",
                    detail=traceback.format_exc()))
    return findings


def _finding(module, index, path, positions, seen, rule, report) -> List[Finding]:
    """The finding for one report ([] for a duplicate); raises if it cannot be located."""
    span = positions[report.node]
    statement = index.statement_of(report.node)
    first = span.start.line
    last = span.end.line
    if statement is not None and statement in positions:
        stmt_span = positions[statement]
        first = min(first, stmt_span.start.line)
        if isinstance(statement, cst.SimpleStatementLine):
            last = max(last, stmt_span.end.line)
    key = (span.start.line, span.start.column, rule.code, report.message)
    if key in seen:
        return []
    finding = Finding(
        path=path,
        line=span.start.line,
        column=span.start.column + 1,
        code=rule.code,
        message=report.message,
        end_line=span.end.line,
        end_column=span.end.column + 1,
        name=rule.name,
        fix=report.fix,
        noqa_lines=(first, last),
        fingerprint=_fingerprint(module, index, rule.code, report.node),
        requires=requirements_of(index, report.node, rule.code),
    )
    seen.add(key)
    return [finding]


def _fingerprint(module: cst.Module, index: FileIndex, code: str, node: cst.CSTNode) -> str:
    """Stable across unrelated edits: the rule, the enclosing def/class path, and the
    flagged code with whitespace folded; never the line number."""
    snippet = " ".join(module.code_for_node(node).split())
    text = f"{code}|{index.enclosing_path(node)}|{snippet}"
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _python_syntax_error(text: str) -> Optional[SyntaxError]:
    """ast.parse's SyntaxError for `text`, None if it parses: the guard's `symtable` also
    rejects a few programs that parse (`nonlocal` at module level) and only ast.parse's
    errors are reported."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as error:
        return error
    except Exception:  # the guard already parsed it: nothing else to say
        return None
    return None


def _syntax_finding(path: str, error: SyntaxError) -> Finding:
    return _tool_finding(path, error.lineno or 1, max(error.offset or 1, 1), SYNTAX_ERROR,
                         f"syntax error: {error.msg}")


def file_too_large(path: str, limit: int, size: Optional[int] = None) -> Finding:
    """LKL003 for a file over max-file-bytes; `size` None: only the first `limit + 1`
    bytes were read (standard input), so the whole size is not known."""
    if size is None:
        message = f"file skipped: over the limit of {limit} bytes (max-file-bytes)"
    else:
        message = f"file skipped: {size} bytes is over the limit of {limit} (max-file-bytes)"
    return _tool_finding(path, 1, 1, FILE_SKIPPED, message)


def _tool_finding(path, line, column, tool_code, message, detail="") -> Finding:
    return Finding(path=path, line=line, column=column, code=tool_code.code, message=message,
                   end_line=line, end_column=column, name=tool_code.name,
                   noqa_lines=(line, line), detail=detail)


def lint_paths_text(linter: Linter, items: Iterable) -> List[Finding]:
    """Convenience for tests: lint (path, text) pairs, sorted."""
    out: List[Finding] = []
    for path, text in items:
        out.extend(linter.lint_text(text, path))
    return sorted(out)
