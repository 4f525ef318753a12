"""One project, not one file: module summaries and the findings that depend on other modules.

Rules see one file. A few of their decisions depend on code in other modules of the same
project; instead of guessing, a rule states such a decision as a *requirement* of its
report (`require`), and the finding is kept only when the requirement holds against the
summaries of the other modules (`Project.keep`). Three requirements exist (the third,
`("returns", ...)`, is described below with the factories):

- `("base", NAME, ATTR)`: the class keeping the resource on `self.ATTR` derives from
  NAME (a qualified name as the file spells it, `.base.Closing` for a relative import),
  a class defined in another module. The finding stands when that class is defined in
  the project and neither it nor any of its own bases touches `self.ATTR`. A base that
  is not found (third party, a dynamic base) keeps today's answer: it may manage the
  attribute, so the resource is handed off. Bases in `INERT_BASES` never touch a
  subclass's attributes and are analysed as if they were absent, without a requirement.
- `("unused-elsewhere", NAME)`: the resource is the module global NAME. The finding
  stands when no other module of the project uses `<this module>.NAME` (imports it,
  reads it, calls a method on it) or star-imports the module.

Findings are computed and cached per file content, requirements included; resolving them
is a pure function of the summaries, redone on every run (warm runs too), so a file is
only re-linted when its own content changes, and output never depends on `--jobs`.
An `unused-elsewhere` answer reads every module of the source root (about 1,700 files
for the standard library); the runner's cache keeps it with a *proof*, a digest of the
size, times and inode of each of those files (`stat_proof`): a warm run lists and stats
them (a few ms) instead of reading them, and any file edited, added or removed changes
the proof, so the answer is worked out again.

A module's *summary* (`summarise`) is plain JSON data built from the index the rules
already use (never a second parse): its classes (bases, the `self` attributes their
methods touch and the ones they release), module-level resources, the names it uses
from imported modules, what it imports. The summaries requirements needed are cached by
file content beside the findings (`leaklint.runner.ResultCache`); a module whose summary
is not at hand (the prefilter or the code-token gate skipped it, or it was not needed
before) is parsed and summarised when a requirement first needs it.

Module names come from the file system: a file's module is its path below the topmost
folder holding an `__init__.py` chain (its *source root*: `src/` layouts, nested
packages and plain script folders all work without configuration); `import a.b` from
that file is looked for as `<source root>/a/b.py` or `<source root>/a/b/__init__.py`.
The modules that may use a global are the source root's own files and those of its
packages.
The flake8 plugin and `--stdin-filename` resolve the same way from the file's path.

Factories of other modules: a module's summary lists, under "functions", its top-level
functions that return a fresh value (`summaries.module_factories`: the `Fresh` of each, as
plain data: the class, whether the factory started it or made it a daemon). LKL101 follows
a call to an imported function whose value is kept on `self` (`self._beat = start_heartbeat()`;
`summaries.imported_candidate`: not a class, not the standard library) as a started thread,
and its report requires a third kind of requirement:

- `("returns", NAME, CLASS, "started")`: NAME (as the file spells it) is a function defined
  in the project (found as `find_class` finds classes, re-exports followed) whose summary
  returns a fresh CLASS, made by CLASS's own constructor, that it started and did not make
  a daemon. A function that is not a factory (it returns a global, a parameter), a daemon
  thread, a module outside the project: the finding is dropped (the one-file answer).
  Only threads today; a module (not a package `__init__`) that never spells `Thread` is
  not parsed to look for one (`_may_define_thread`).
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from leaklint.finding import Finding

# libcst (and the index) only where a tree is at hand: resolving requirements against
# cached summaries, all a warm run does here, must not pay for importing it (~0.3 s).
if TYPE_CHECKING:
    import libcst as cst

    from leaklint.index import FileIndex

SUMMARY_FORMAT = 2  # 2: "functions"
BASE = "base"
UNUSED_ELSEWHERE = "unused-elsewhere"
RETURNS = "returns"
STARTED = "started"  # a RETURNS condition: the factory starts the value, not as a daemon

# Base classes that never touch a subclass's own attributes: a resource a subclass keeps
# on `self` is the subclass's business. By qualified-name prefix (whole modules of the
# standard library whose classes manage only their own, documented state) or exact name.
# The one table for every family (the queue and process rules used two).
INERT_BASE_MODULES = ("builtins.", "abc.", "typing.", "typing_extensions.", "enum.",
                      "collections.", "contextlib.", "unittest.", "threading.",
                      "multiprocessing.", "socketserver.")
INERT_BASES = frozenset({"object"})
# The files the default discovery never lints are not part of a project either.
_SKIPPED_FOLDERS = frozenset({"__pycache__", "node_modules", "site-packages", "venv", ".venv",
                              "build", "dist"})
# Methods that release what they are called on, for the summaries' "released" sets.
RELEASE_METHODS = frozenset({"join", "close", "shutdown", "terminate", "kill", "wait",
                             "cancel", "stop", "communicate", "release", "task_done"})
_DYNAMIC_ACCESS = frozenset({"builtins.getattr", "builtins.setattr", "builtins.delattr",
                             "builtins.hasattr", "builtins.vars"})
# A module over this size is not summarised when no rule parsed it (the linter's own
# default max-file-bytes).
_MAX_SUMMARY_BYTES = 1_000_000


def is_inert_base(qualname: Optional[str]) -> bool:
    """A base class known not to touch its subclasses' attributes (`INERT_BASES`); a
    `...TestCase` of any test framework counts too."""
    if qualname is None:
        return False
    return (qualname in INERT_BASES or qualname.startswith(INERT_BASE_MODULES)
            or qualname.endswith("TestCase"))


# -- requirements ---------------------------------------------------------------------------
_REQUIRES_KEY = "project_requires"


def require(index: FileIndex, node: cst.CSTNode, code_prefix: str, requirement: Tuple[str, ...]) -> None:
    """A report on `node` by a rule whose code starts with `code_prefix` stands only if
    `requirement` holds in the project (the engine copies it to the finding)."""
    table = index.shared.setdefault(_REQUIRES_KEY, {})
    entries = table.setdefault(node, [])
    if (code_prefix, requirement) not in entries:
        entries.append((code_prefix, requirement))


def requirements_of(index: FileIndex, node: cst.CSTNode, code: str) -> tuple:
    table = index.shared.get(_REQUIRES_KEY)
    if not table:
        return ()
    return tuple(sorted({req for prefix, req in table.get(node, ()) if code.startswith(prefix)}))


def base_requirements(index: FileIndex, classdef: cst.ClassDef, attr: str
                      ) -> Optional[List[Tuple[str, str, str]]]:
    """For a class of this file keeping a resource on `self.attr`: one requirement per
    base class defined elsewhere (inert bases and local classes need none); None when a
    base cannot be named (`class C(make_base()):`): then the base may do anything."""
    import libcst as cst

    result = []
    for base in classdef.bases:
        if base.keyword is not None:
            continue
        expr = base.value
        if isinstance(expr, cst.Subscript):  # `Generic[T]`
            expr = expr.value
        if index.local_class(expr) is not None:
            continue
        name = index.qualified_name(expr)
        if name is None:
            return None
        if is_inert_base(name):
            continue
        result.append((BASE, name, attr))
    return result


# -- summaries ------------------------------------------------------------------------------
def summarise(index: FileIndex) -> Dict[str, Any]:
    """The module's summary: plain, JSON-serialisable data (see the module docstring).

    {"format", "classes": {name: {"bases": [[kind, name]], "touched": [attr] | "*",
    "released": [attr]}}, "aliases": {name: qualified name imported}, "uses": [qualified
    names used from imports], "star": [modules star-imported], "imports": [modules],
    "resources": {global name: qualified name of the call creating it},
    "functions": {top-level factory's name: its `summaries.Fresh` as a dict}}.
    Names from relative imports keep their dots; `Project` resolves them."""
    import libcst as cst

    classes: Dict[str, Dict[str, Any]] = {}
    dynamic = _dynamically_accessed(index)
    for info in index.classes.values():
        if info.scope.parent is not index.module_scope:
            continue  # only module-level classes can be imported
        bases = []
        for base in info.node.bases:
            if base.keyword is not None:
                continue
            expr = base.value.value if isinstance(base.value, cst.Subscript) else base.value
            local = index.local_class(expr)
            if local is not None:
                bases.append(["local", local.name.value])
            else:
                name = index.qualified_name(expr)
                bases.append(["import", name] if name is not None else ["unknown", ""])
        touched: Any = sorted(info.self_attrs)
        if info.node in dynamic or "__dict__" in info.self_attrs:
            touched = "*"
        released = sorted(attr for attr, nodes in info.self_attrs.items()
                          if any(_released_here(index, node) for node in nodes))
        classes[info.name] = {"bases": bases, "touched": touched, "released": released}
    aliases = {}
    imports = set()
    uses = set()
    for scope in index.scopes:
        for name, bindings in scope.bindings.items():
            for binding in bindings:
                if binding.kind != "import" or not binding.qualname:
                    continue
                uses.add(binding.qualname)
                imports.add(_imported_module(binding))
                if scope is index.module_scope:
                    aliases[name] = binding.qualname
                for use in index.uses(scope, name):
                    top = _outermost_attribute(index, use)
                    if top is not use:
                        qualified = index.qualified_name(top)
                        if qualified:
                            uses.add(qualified)
    resources = {}
    for name, bindings in index.module_scope.bindings.items():
        for binding in bindings:
            if binding.kind == "assign" and isinstance(binding.value, cst.Call):
                created = index.call_name(binding.value)
                if created and not created.startswith("builtins."):
                    resources[name] = created
    star = sorted(_star_imports(index.module))
    imports.update(star)
    from leaklint.summaries import module_factories

    return {"format": SUMMARY_FORMAT, "classes": classes, "aliases": aliases,
            "uses": sorted(uses), "star": star, "imports": sorted(i for i in imports if i),
            "resources": resources, "functions": module_factories(index)}


def _imported_module(binding) -> str:
    """The module an import binding comes from (`from a.b import c` -> a.b, or a.b.c when
    c is a submodule: not known without the file system, so the longer name is kept)."""
    import libcst as cst

    node = binding.node
    if isinstance(node, cst.ImportFrom):
        return binding.qualname.rpartition(".")[0] or binding.qualname
    return binding.qualname


def _outermost_attribute(index: FileIndex, node: cst.CSTNode) -> cst.CSTNode:
    import libcst as cst

    parent = index.parent.get(node)
    while isinstance(parent, cst.Attribute) and parent.value is node:
        node, parent = parent, index.parent.get(parent)
    return node


def _released_here(index: FileIndex, node: cst.Attribute) -> bool:
    """`self.X.join()`: a release method called on the attribute."""
    import libcst as cst

    method = index.parent.get(node)
    if not (isinstance(method, cst.Attribute) and method.value is node
            and method.attr.value in RELEASE_METHODS):
        return False
    call = index.parent.get(method)
    return isinstance(call, cst.Call) and call.func is method


def _dynamically_accessed(index: FileIndex) -> set:
    """Classes whose methods reach `self`'s attributes by a computed name
    (`getattr(self, name)`): they may touch any attribute."""
    found = set()
    for call in index.calls:
        if not call.args or index.call_name(call) not in _DYNAMIC_ACCESS:
            continue
        info = index.class_of_self(call.args[0].value)
        if info is not None:
            found.add(info.node)
    return found


def _star_imports(module: cst.Module) -> Iterator[str]:
    """Modules star-imported at module level (also inside `if`/`try`)."""
    import libcst as cst

    stack: List[Any] = list(module.body)
    while stack:
        statement = stack.pop()
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
                    dots = "." * len(small.relative)
                    yield dots + (_dotted(small.module) if small.module is not None else "")
        elif isinstance(statement, (cst.If, cst.Try, cst.With)):
            for child in _blocks(statement):
                stack.extend(child)


def _blocks(statement) -> Iterator[Sequence[Any]]:
    import libcst as cst

    body = getattr(statement, "body", None)
    if body is not None:
        yield getattr(body, "body", ())
    for attr in ("orelse", "finalbody"):
        other = getattr(statement, attr, None)
        if other is not None:
            if isinstance(other, cst.If):
                yield [other]
            else:
                yield getattr(getattr(other, "body", None), "body", ())
    for handler in getattr(statement, "handlers", ()):
        yield getattr(handler.body, "body", ())


def _dotted(node: cst.CSTNode) -> str:
    # only called with a tree at hand: importing the index (and libcst) costs nothing then
    from leaklint.index import dotted_name

    return dotted_name(node)


def summarise_source(data: bytes) -> Optional[Dict[str, Any]]:
    """The summary of a module no rule parsed (the prefilter or the code-token gate
    skipped it); None when it cannot be parsed (its requirements then fail: today's
    one-file answer)."""
    import libcst as cst

    from leaklint.index import FileIndex
    from leaklint.source import DecodeError, decode_source

    if len(data) > _MAX_SUMMARY_BYTES:
        return None
    old_limit = sys.getrecursionlimit()
    try:
        text = decode_source(data)
        sys.setrecursionlimit(max(old_limit, 20000))
        return summarise(FileIndex(cst.parse_module(text)))
    except (DecodeError, RecursionError, MemoryError):
        return None
    except Exception:  # libcst rejects what CPython accepts, or exotic input: unknown
        return None
    finally:
        sys.setrecursionlimit(old_limit)


def content_digest(data: bytes) -> str:
    """The same hash as the findings cache's (leaklint.runner.content_digest)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# -- module names ---------------------------------------------------------------------------
def module_of(path: str) -> Tuple[str, bool, str]:
    """(dotted module name, whether it is a package's `__init__`, source root) of a file."""
    path = os.path.abspath(path)
    folder, filename = os.path.split(path)
    stem = filename[:-3] if filename.endswith(".py") else filename.rpartition(".")[0] or filename
    is_package = stem == "__init__"
    parts = [] if is_package else [stem]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, package = os.path.split(folder)
        parts.insert(0, package)
        if not package:
            break
    return ".".join(parts), is_package, folder


def absolute_name(name: str, module: str, is_package: bool) -> Optional[str]:
    """`name` with a relative import's dots resolved against `module`; None when it climbs
    above the top package."""
    if not name.startswith("."):
        return name
    rest = name.lstrip(".")
    level = len(name) - len(rest)
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level - 1 > len(parts):
        return None
    parts = parts[:len(parts) - (level - 1)]
    if rest:
        parts.append(rest)
    return ".".join(parts) or None


# -- the project ----------------------------------------------------------------------------
class Project:
    """The modules of the project on disk, as far as requirements need them.

    `summaries`: content digest -> summary, shared with the findings cache (it gains the
    summaries this computes). Everything is read lazily and remembered for the run."""

    def __init__(self, summaries: Optional[Dict[str, Any]] = None,
                 overrides: Optional[Dict[str, bytes]] = None,
                 answers: Optional[Dict[str, Any]] = None):
        """`overrides`: absolute path -> content to use instead of the disk's (standard
        input standing for a file). `answers`: `unused-elsewhere` answers kept between
        runs (the runner's cache; None: nothing kept), `answer_key` -> [answer, proof, digests
        of the summaries it read]."""
        self.summaries: Dict[str, Any] = summaries if summaries is not None else {}
        self.added = False  # summaries or answers were computed here (the cache should be saved)
        self.needed: set = set()  # digests of the summaries requirements looked at
        self.answers = answers if overrides is None else None  # stdin's buffer is not on disk
        self.answers_used: set = set()  # keys of the answers this run looked at
        self.overrides = overrides or {}
        self._by_path: Dict[str, Optional[Dict[str, Any]]] = {}
        self._modules: Dict[str, Tuple[str, bool, str]] = {}
        self._probes: Dict[Tuple[str, str], Optional[str]] = {}
        self._files_under: Dict[str, List[str]] = {}
        self._base_answers: Dict[Tuple[str, str, str], bool] = {}
        self._users: Dict[Tuple[str, str], bool] = {}
        self._spells_thread: Dict[str, bool] = {}
        self._digests: Dict[str, str] = {}  # absolute path -> digest of the summary read
        # Stat data of files seen unchanged since the cache read them (settled), for
        # `stat_proof`: the runner stats every file once already.
        self.known_stats: Dict[str, str] = {}

    def remember(self, digest: str, summary: Optional[Dict[str, Any]]) -> None:
        """A summary computed while linting (the one parse)."""
        if summary is not None and digest not in self.summaries:
            self.summaries[digest] = summary
            self.added = True

    # -- files ----------------------------------------------------------------------------
    def module(self, path: str) -> Tuple[str, bool, str]:
        key = os.path.abspath(path)
        found = self._modules.get(key)
        if found is None:
            found = self._modules[key] = module_of(key)
        return found

    def summary(self, path: str) -> Optional[Dict[str, Any]]:
        key = os.path.abspath(path)
        if key in self._by_path:
            return self._by_path[key]
        summary = None
        data = self._source(key)
        if data is not None:
            digest = content_digest(data)
            self.needed.add(digest)
            self._digests[key] = digest
            summary = self.summaries.get(digest)
            if not _valid_summary(summary):
                summary = summarise_source(data)
                if summary is not None:
                    self.summaries[digest] = summary
                    self.added = True
        self._by_path[key] = summary
        return summary

    def module_file(self, name: str, root: str) -> Optional[str]:
        """The file of module `name` under the source root `root`, if there is one."""
        key = (name, root)
        if key not in self._probes:
            base = os.path.join(root, *name.split("."))
            found = None
            for candidate in (base + ".py", os.path.join(base, "__init__.py")):
                if os.path.isfile(candidate):
                    found = candidate
                    break
            self._probes[key] = found
        return self._probes[key]

    def summary_of_module(self, name: str, root: str) -> Optional[Tuple[str, Dict[str, Any]]]:
        """(path, summary) of the module `name` under `root`."""
        path = self.module_file(name, root)
        if path is None:
            return None
        summary = self.summary(path)
        return (path, summary) if summary is not None else None

    def files_under(self, root: str) -> List[str]:
        """The modules importable from the source root `root`, sorted: its own Python
        files and those of its packages (folders with an `__init__.py`, recursively).
        Other folders (tests without `__init__.py`, the rest of a home directory holding
        a script) are not part of it, which also bounds the walk."""
        found = self._files_under.get(root)
        if found is None:
            found = []
            for folder, subfolders, files in os.walk(root):
                subfolders[:] = sorted(
                    d for d in subfolders
                    if not d.startswith(".") and d not in _SKIPPED_FOLDERS
                    and os.path.isfile(os.path.join(folder, d, "__init__.py")))
                found.extend(os.path.join(folder, f) for f in sorted(files) if f.endswith(".py"))
            self._files_under[root] = found
        return found

    # -- requirements ---------------------------------------------------------------------
    def keep(self, finding: Finding) -> bool:
        return all(self.holds(requirement, finding.path) for requirement in finding.requires)

    def resolve(self, findings: Iterable[Finding]) -> List[Finding]:
        """The findings whose requirements hold, in the same order."""
        findings = list(findings)
        self._prefetch_users(findings)
        return [f for f in findings if not f.requires or self.keep(f)]

    def holds(self, requirement: Sequence[str], path: str) -> bool:
        try:
            return self._holds(requirement, path)
        except (KeyError, TypeError, ValueError, AttributeError):
            # A summary read back from a damaged cache: the one-file answer, never a crash.
            return False

    def _holds(self, requirement: Sequence[str], path: str) -> bool:
        module, is_package, root = self.module(path)
        if len(requirement) == 3 and requirement[0] == BASE:
            name = absolute_name(requirement[1], module, is_package)
            return name is not None and self.base_ignores(name, requirement[2], root)
        if len(requirement) == 2 and requirement[0] == UNUSED_ELSEWHERE:
            return not self.used_elsewhere(path, requirement[1])
        if len(requirement) == 4 and requirement[0] == RETURNS:
            name = absolute_name(requirement[1], module, is_package)
            return name is not None and self.returns_fresh(name, requirement[2], requirement[3], root)
        return False  # a requirement this version does not know: the one-file answer

    def returns_fresh(self, qualname: str, cls: str, condition: str, root: str) -> bool:
        """The function `qualname`, defined in the project, returns a fresh `cls` (made
        by its constructor, not a subclass of the module) on every path; with
        condition STARTED, one it started and did not make a daemon."""
        found = self.find_class(qualname, root, table="functions")
        if found is None:
            return False
        fresh = found[1]
        if fresh["local_class"] or fresh["cls"] != cls:
            return False
        if condition == STARTED:
            return "start" in fresh["calls"] and not fresh["daemon"]
        return False  # a condition this version does not know

    def find_class(self, qualname: str, root: str, depth: int = 0, table: str = "classes"
                   ) -> Optional[Tuple[str, Dict[str, Any], str]]:
        """(module name, class summary, source root) of the class `qualname` defined in
        the project, following re-exports (`from .base import Closing` in `__init__`);
        with `table="functions"`, the summary of a factory function instead."""
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module_name = ".".join(parts[:cut])
            if table == "functions" and not self._may_define_thread(module_name, root):
                continue
            found = self.summary_of_module(module_name, root)
            if found is None:
                continue
            path, summary = found
            rest = parts[cut:]
            if len(rest) != 1:
                return None  # a nested class or a submodule's class: not followed
            cls = summary[table].get(rest[0])
            if cls is not None:
                return module_name, cls, root
            alias = summary["aliases"].get(rest[0])
            if alias is not None and depth < 5:
                _, is_package, _ = self.module(path)
                target = absolute_name(alias, module_name, is_package)
                if target is not None and target != qualname:
                    return self.find_class(target, root, depth + 1, table)
            return None
        return None

    def _may_define_thread(self, module_name: str, root: str) -> bool:
        """A module that never spells `Thread` defines no thread factory: it is then not
        parsed to find one (the prefilter or the gate skipped it, so its summary is not at
        hand). A package's `__init__` may re-export one and is always read."""
        path = self.module_file(module_name, root)
        if path is None:
            return False
        if path.endswith("__init__.py"):
            return True
        key = os.path.abspath(path)
        if key not in self._spells_thread:  # asked once per factory call of every finding
            data = self._source(key)
            self._spells_thread[key] = data is not None and b"Thread" in data
        return self._spells_thread[key]

    def _source(self, key: str) -> Optional[bytes]:
        """The module's bytes: the editor's buffer for the stdin file, else the file on
        disk (read up to the summary limit); None when it cannot be read."""
        data = self.overrides.get(key)
        if data is None:
            try:
                with open(key, "rb") as handle:
                    data = handle.read(_MAX_SUMMARY_BYTES + 1)
            except OSError:
                return None
        return data

    def base_ignores(self, qualname: str, attr: str, root: str, depth: int = 0) -> bool:
        """The class `qualname` and its bases never touch `self.attr` (and every one of
        them is known: defined in the project or inert)."""
        if is_inert_base(qualname):
            return True
        key = (qualname, attr, root)
        answer = self._base_answers.get(key)
        if answer is not None:
            return answer
        self._base_answers[key] = False  # a cycle of bases: unknown
        answer = False
        found = self.find_class(qualname, root) if depth < 20 else None
        if found is not None:
            module_name, cls, _ = found
            touched = cls["touched"]
            if touched != "*" and attr not in touched:
                answer = True
                for kind, name in cls["bases"]:
                    if kind == "local":
                        target: Optional[str] = f"{module_name}.{name}" if module_name else name
                    elif kind == "import":
                        path = self.module_file(module_name, root)
                        is_package = path is not None and path.endswith("__init__.py")
                        target = absolute_name(name, module_name, is_package)
                    else:
                        target = None
                    if target is None or not self.base_ignores(target, attr, root, depth + 1):
                        answer = False
                        break
        self._base_answers[key] = answer
        return answer

    def used_elsewhere(self, path: str, attr: str) -> bool:
        """Another module of the project uses `<path's module>.attr`."""
        path = os.path.abspath(path)
        key = (path, attr)
        if key not in self._users:
            self._prefetch_users_of(path, [attr])
        return self._users[key]

    def _prefetch_users(self, findings: List[Finding]) -> None:
        """Every module-global requirement of one file answered in one scan of its source
        root: reading the files once, whatever the number of globals."""
        wanted: Dict[str, set] = {}
        for finding in findings:
            for requirement in finding.requires:
                if len(requirement) == 2 and requirement[0] == UNUSED_ELSEWHERE:
                    wanted.setdefault(os.path.abspath(finding.path), set()).add(requirement[1])
        for path in sorted(wanted):
            self._prefetch_users_of(path, sorted(wanted[path]))

    def _prefetch_users_of(self, path: str, attrs: List[str]) -> None:
        attrs = [a for a in attrs if (path, a) not in self._users]
        if not attrs:
            return
        module, is_package, root = self.module(path)
        answers = {attr: False for attr in attrs}
        proof = None
        if module and self.answers is not None:
            proof = stat_proof([f for f in self.files_under(root) if f != path], self.known_stats)
            if proof is not None:
                known = {}
                for attr in attrs:
                    entry = self._known_answer(answer_key(path, module, attr), proof)
                    if entry is None:
                        break
                    known[attr] = entry
                else:
                    for attr, (answer, digests) in known.items():
                        self._users[(path, attr)] = answer
                        # The summaries it read stay in the cache: a file of the source
                        # root edited later must not cost parsing them all again.
                        self.needed.update(digests)
                    return
        # A module using `module.attr` names the module, unless it is a package reached
        # by a relative import (`from . import attr`).
        last = b"" if is_package else module.rpartition(".")[2].encode()
        read: set = set()  # digests of the summaries looked at
        if module:
            # The names themselves, or a star import (`from rpc import *`).
            pattern = re.compile(("|".join(re.escape(a) for a in attrs) + r"|import\s*\*").encode())
            for other in self.files_under(root):
                if other == path:
                    continue
                data = self._source(other)
                if data is None:
                    continue
                if last not in data or pattern.search(data) is None:
                    continue
                summary = self.summary(other)
                if summary is None:
                    continue
                read.add(self._digests[os.path.abspath(other)])
                other_module, other_package, _ = self.module(other)
                used = {absolute_name(u, other_module, other_package) for u in summary["uses"]}
                stars = {absolute_name(s, other_module, other_package) for s in summary["star"]}
                for attr in attrs:
                    wanted = f"{module}.{attr}"
                    if (module in stars or wanted in used
                            or any(u and u.startswith(wanted + ".") for u in used)):
                        answers[attr] = True
        for attr, answer in answers.items():
            self._users[(path, attr)] = answer
            if proof is not None and self.answers is not None:
                self.answers[answer_key(path, module, attr)] = [answer, proof, sorted(read)]
                self.added = True

    def _known_answer(self, key: str, proof: str) -> Optional[Tuple[bool, List[str]]]:
        """The kept answer for `key` if it was worked out from the files as they are now,
        with the digests of the summaries it read."""
        assert self.answers is not None
        self.answers_used.add(key)
        entry = self.answers.get(key)
        if (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], bool)
                and entry[1] == proof and isinstance(entry[2], list)
                and all(isinstance(digest, str) for digest in entry[2])):
            return entry[0], entry[2]
        return None


def answer_key(path: str, module: str, attr: str) -> str:
    """Where an `unused-elsewhere` answer is kept: the module's name decides which files
    use it (an `__init__.py` added above it changes it and its source root)."""
    return f"unused-elsewhere:{path}:{module}:{attr}"


def stat_proof(paths: Sequence[str], known: Optional[Dict[str, str]] = None) -> Optional[str]:
    """A digest of which files exist among `paths` and of their size, times and inode:
    unchanged, so is their content. None when one of them changed too recently for its
    times to vouch for its content (leaklint.runner.RACY_SECONDS): nothing is kept then.
    `known`: path -> `stat_key` of files statted in this run and settled."""
    from leaklint.runner import settled, stat_key

    known = known or {}
    now_ns = time.time_ns()
    parts = []
    for path in paths:
        key = known.get(path)
        if key is not None:
            parts.append(f"{path}\0{key}")
            continue
        try:
            status = os.stat(path)
        except OSError:
            parts.append(f"{path}\0-")
            continue
        if not settled(status, now_ns):
            return None
        parts.append(f"{path}\0{stat_key(status)}")
    return hashlib.blake2b("\n".join(parts).encode("utf-8", "surrogateescape"),
                           digest_size=16).hexdigest()


def _valid_summary(summary: Any) -> bool:
    return (isinstance(summary, dict) and summary.get("format") == SUMMARY_FORMAT
            and isinstance(summary.get("classes"), dict) and isinstance(summary.get("aliases"), dict)
            and isinstance(summary.get("uses"), list) and isinstance(summary.get("star"), list)
            and isinstance(summary.get("functions"), dict))


# Summaries by content digest for direct `Linter` users (tests, the flake8 plugin, the
# runtime cross-check): always valid, so they are kept for the life of the process. Each
# resolution gets a fresh `Project`, so files changed on disk are read again.
_process_summaries: Dict[str, Any] = {}


def default_project() -> Project:
    return Project(_process_summaries)
