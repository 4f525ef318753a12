"""The rule engine: after the screen (leaklint/screen.py: decoding, the prefilter, the size
limits, the gate), parse once, index once, run every rule the file reaches.

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
from leaklint.index import FileIndex
from leaklint.nesting import nesting_problem
from leaklint.noqa import is_suppressed
from leaklint.positions import locate
from leaklint.project import requirements_of, summarise
from leaklint.rules.base import Rule
from leaklint.screen import Screen, tool_finding
from leaklint.source import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILE_TOKENS

# Python-level recursion in the index walk and in libcst's own conversion grows with
# nesting depth; CPython 3.11+ keeps pure-Python frames off the C stack, so a high limit
# is safe, and RecursionError past it is caught and reported as LKL003. On 3.9 and 3.10,
# where they are on it, the parse guard has already refused what nests deeper than the
# default limit allows CPython's own parser (and 5,000 levels of `not` still fit).
# 3.12+ also has a C recursion limit that this does not raise: see leaklint.positions.
_RECURSION_LIMIT = 20000
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Linter(Screen):
    """Runs a fixed set of rule instances over source files. Build once, reuse per file.

    The steps before the parse (decoding, the prefilter, the size limits, the gate) and
    the constructor's arguments are `Screen`'s (leaklint/screen.py); what follows is here."""

    def __init__(self, rules: Sequence[Rule], max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 max_file_tokens: int = DEFAULT_MAX_FILE_TOKENS, prefilter: bool = True,
                 resolve_requirements: bool = True, gate: bool = True):
        super().__init__(rules, max_file_bytes=max_file_bytes, max_file_tokens=max_file_tokens,
                         prefilter=prefilter, resolve_requirements=resolve_requirements, gate=gate)
        # Files parsed by libcst, by this linter (the runner's statistics).
        self.parsed = 0

    def full_linter(self) -> Linter:
        """Itself: it has its rules (a `screen.LazyLinter` builds a Linter)."""
        return self

    def _check(self, text: str, path: str, rules: Sequence[Rule], python_checked: bool,
               apply_noqa: bool) -> List[Finding]:
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
            return tool_finding(path, error.raw_line or 1, (error.raw_column or 0) + 1,
                                SYNTAX_ERROR, f"cannot parse file: valid Python that libcst cannot "
                                              f"parse: {error.message}")
        except RecursionError:
            return tool_finding(path, 1, 1, FILE_SKIPPED, "file skipped: too deeply nested to parse")
        except MemoryError:
            raise  # lint_text reports it
        except Exception as error:  # libcst raises assorted errors on exotic input
            ast_error = ast_error and _python_syntax_error(text)
            if ast_error is not None:
                return _syntax_finding(path, ast_error)
            return tool_finding(path, 1, 1, SYNTAX_ERROR, f"cannot parse file: {type(error).__name__}: {error}")
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
                return [tool_finding(path, 1, 1, FILE_SKIPPED, "file skipped: too deeply nested to analyse")]
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
                    internal.append(tool_finding(
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
            return tool_finding(path, error.lineno or 1, 1, FILE_SKIPPED,
                                f"file skipped: {error.msg}")
        # CPython stopped at this error and has not checked the nesting of the rest,
        # which libcst is about to parse (3.9 stops at a PEP 701 f-string reusing its quote).
        problem = nesting_problem(text)
        if problem is not None:
            line, message = problem
            return tool_finding(path, line, 1, FILE_SKIPPED, f"file skipped: {message}")
        return error
    except (RecursionError, MemoryError) as error:
        return tool_finding(path, 1, 1, FILE_SKIPPED,
                            f"file skipped: too deeply nested to parse ({type(error).__name__})")
    except ValueError as error:  # e.g. source code string cannot contain null bytes
        return tool_finding(path, 1, 1, SYNTAX_ERROR, f"cannot parse file: {error}")
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
        return [tool_finding(path, 1, 1, FILE_SKIPPED, "file skipped: too deeply nested to locate findings")]
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
                findings.append(tool_finding(
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
    return tool_finding(path, error.lineno or 1, max(error.offset or 1, 1), SYNTAX_ERROR,
                        f"syntax error: {error.msg}")


def lint_paths_text(linter: Linter, items: Iterable) -> List[Finding]:
    """Convenience for tests: lint (path, text) pairs, sorted."""
    out: List[Finding] = []
    for path, text in items:
        out.extend(linter.lint_text(text, path))
    return sorted(out)
