"""Running the linter over many files: reading them, worker processes, the result cache.

- One `Linter` per process: built lazily in the main process, and once per worker by the
  pool's initializer.
- A few files (or `jobs == 1`) are linted in-process; more go to a process pool in
  chunks. Output never depends on the number of jobs: every finding is sorted at the end.
- A worker that dies (a crash in the native parser, the OOM killer) breaks the whole
  pool. The files it was given are then re-run one at a time in a one-worker pool, to
  find the file that kills it (reported as LKL003); the other files are re-run in a fresh
  pool, so nothing else is lost.
- Linting in-process, a big file still gets a worker process of its own: the native
  parser aborts the whole process when it cannot allocate memory (under a memory limit),
  which must cost that file, not the run.
- The cache maps a file's content hash to its findings (after `# noqa`, before the
  path-dependent filters), one JSON file per effective configuration (the few most
  recent of other configurations are kept, older ones deleted). A file whose size,
  times and inode are unchanged since it was hashed is not even read on a warm run, and
  a folder whose device, inode and times are unchanged is not even listed
  (`FolderListings`).
- Ctrl-C or SIGTERM (see `interrupts`) kills the workers at once and leaves the run with
  the exception, before the cache is saved: an interrupted run caches nothing.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from stat import S_ISREG
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import leaklint
from leaklint import interrupts
from leaklint.diagnostics import FILE_SKIPPED, INTERNAL_ERROR
from leaklint.discovery import NOT_A_REGULAR_FILE, FolderListing, describe_os_error, unreadable
from leaklint.finding import Finding
from leaklint.outputs import write_atomically
from leaklint.progress import Progress
from leaklint.source import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILE_TOKENS

# Below this many files to lint, starting worker processes costs more than it saves.
MIN_FILES_FOR_WORKERS = 8
# Without worker processes, a file bigger than this is linted in a process of its own:
# it takes 20-200 MB and seconds to parse (notes/robustness.md, "Memory"), so the cost of
# starting a process is small next to it, and running out of memory costs only that file.
OWN_PROCESS_BYTES = 250_000
# How many first lines of a file may carry the `@generated` marker.
GENERATED_MARKER_LINES = 10
# 2: a file's entry is one string (half the loading time of a list of six values).
CACHE_FORMAT = 2
# A file changed less than this long before it was read may be changed again within the
# same timestamp tick (2 s on FAT, 1 s on HFS+), leaving its size and times unchanged:
# its stat data is not trusted to vouch for its content ("racy git").
RACY_SECONDS = 2
# Cache files of other configurations or leaklint versions kept besides the current one
# (the most recently written): switching between a few configurations (the pre-commit
# hook, CI, an editor) stays warm, while files of old versions do not pile up.
OTHER_CACHE_FILES_KEPT = 3
# A temporary cache file this old was left by a run that died while writing it.
STALE_TEMPORARY_SECONDS = 3600


@dataclass(frozen=True)
class LintSettings:
    """Everything that decides a file's findings from its content. Sent to each worker."""

    codes: Tuple[str, ...]  # the selected rule codes
    rule_options: Dict[str, object] = field(default_factory=dict)  # Option.name -> value
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    skip_generated: bool = False
    max_file_tokens: int = DEFAULT_MAX_FILE_TOKENS

    def build_linter(self):
        """A `screen.LazyLinter`, which imports the rules and libcst only for a file that
        needs parsing; the engine's Linter at once when the lazy one cannot stand for it
        (`screen.lazy_linter`)."""
        from leaklint.screen import lazy_linter

        # Findings with project requirements are cached as they are and resolved for the
        # whole run (Runner.run), whichever process linted them.
        return lazy_linter(self.codes, self.rule_options, self._full_linter,
                           max_file_bytes=self.max_file_bytes, max_file_tokens=self.max_file_tokens,
                           resolve_requirements=False) or self._full_linter()

    def _full_linter(self):
        from leaklint import registry
        from leaklint.engine import Linter

        rules = [rule(dict(self.rule_options)) for rule in registry.all_rules() if rule.code in self.codes]
        return Linter(rules, max_file_bytes=self.max_file_bytes, max_file_tokens=self.max_file_tokens,
                      resolve_requirements=False)

    def cache_key(self) -> str:
        """Changes whenever cached findings could be wrong: settings, version, our code."""
        material = json.dumps({
            "format": CACHE_FORMAT,
            "version": leaklint.__version__,
            "code": _code_fingerprint(),
            "codes": sorted(self.codes),
            "options": self.rule_options,
            "max_file_bytes": self.max_file_bytes,
            "max_file_tokens": self.max_file_tokens,
            "skip_generated": self.skip_generated,
            "noqa": True,
        }, sort_keys=True, default=repr)
        return hashlib.blake2b(material.encode("utf-8"), digest_size=16).hexdigest()


def _code_fingerprint() -> str:
    """Size and modification time of every leaklint source file: a rule edited during
    development (same version number) must not be answered from the cache."""
    package = os.path.dirname(os.path.abspath(leaklint.__file__))
    parts = []
    for folder, subfolders, files in os.walk(package):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                status = os.stat(os.path.join(folder, name))
                parts.append(f"{os.path.relpath(os.path.join(folder, name), package)}:{status.st_size}:{status.st_mtime_ns}")
    return hashlib.blake2b("\n".join(parts).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


@dataclass
class FileResult:
    path: str
    findings: List[Finding]
    digest: Optional[str] = None  # content hash; None: nothing cacheable (unreadable, crashed)
    stat: Optional[str] = None  # stat_key() of what was read, when settled (see RACY_SECONDS)
    summary: Optional[dict] = None  # the module summary (leaklint/project.py), when parsed
    parsed: bool = False  # libcst parsed it (the prefilter and the gate let it through)


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def stat_key(status: os.stat_result) -> str:
    """What says a file is unchanged since it was read: `size:mtime:ctime:inode`."""
    return f"{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}:{status.st_ino}"


def settled(status: os.stat_result, now_ns: int) -> bool:
    return max(status.st_mtime_ns, status.st_ctime_ns) < now_ns - RACY_SECONDS * 1_000_000_000


def is_generated(data: bytes) -> bool:
    """Marked `@generated` (the Phabricator/Meta convention) in its first lines."""
    head = data[:4096].split(b"\n", GENERATED_MARKER_LINES)[:GENERATED_MARKER_LINES]
    return any(b"@generated" in line for line in head)


def lint_source(linter, data: bytes, path: str, skip_generated: bool) -> List[Finding]:
    """Findings for `data` as the file `path`; a crash in leaklint becomes LKL000."""
    linter.last_summary = None
    if skip_generated and is_generated(data):
        return []
    try:
        return linter.lint_bytes(data, path)
    except Exception as error:  # a bug outside any rule (the index, say): keep going
        import traceback

        return [Finding(path=path, line=1, column=1, code=INTERNAL_ERROR.code,
                        message=f"internal error: {type(error).__name__}: {error}",
                        end_line=1, end_column=1, name=INTERNAL_ERROR.name,
                        noqa_lines=(1, 1), detail=traceback.format_exc())]


def over_limit(linter, data: bytes, path: str, skip_generated: bool,
               size: Optional[int]) -> List[Finding]:
    """The findings for `data`, the first max-file-bytes + 1 bytes of a file that has more
    (see `read_bounded`): LKL003, whatever the rest holds, unless it is a generated file
    that is skipped anyway. `size`: the whole file's, when known."""
    from leaklint.screen import file_too_large

    if skip_generated and is_generated(data):
        return []
    return [file_too_large(path, linter.max_file_bytes, size)]


class NotARegularFile(OSError):
    """A FIFO, a device or a socket where a source file was expected."""


def _open_without_blocking(path: str, flags: int) -> int:
    # Opening a FIFO for reading waits for a writer; with O_NONBLOCK it returns at once,
    # and fstat then tells it from a file. Reading regular files ignores O_NONBLOCK.
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def read_bounded(path: str, limit: int) -> Tuple[bytes, os.stat_result, int]:
    """(at most `limit + 1` bytes of the regular file at `path`, its stat, when it was read
    in ns). More than `limit` bytes means the file is over the limit: nothing needs the
    rest, and a huge file must not fill the memory. Raises OSError, NotARegularFile."""
    with open(path, "rb", opener=_open_without_blocking) as handle:
        status = os.fstat(handle.fileno())
        if not S_ISREG(status.st_mode):
            raise NotARegularFile(NOT_A_REGULAR_FILE)
        now_ns = time.time_ns()
        return handle.read(limit + 1), status, now_ns


def lint_file(linter, path: str, skip_generated: bool) -> FileResult:
    """Read and lint one file. A read error (gone, permission denied, a FIFO) is LKL002."""
    try:
        data, status, now_ns = read_bounded(path, linter.max_file_bytes)
    except NotARegularFile:
        return FileResult(path, [unreadable(path, NOT_A_REGULAR_FILE)])
    except OSError as error:
        return FileResult(path, [unreadable(path, f"cannot read file: {describe_os_error(error)}")])
    stat = stat_key(status) if settled(status, now_ns) else None
    if len(data) > linter.max_file_bytes:
        size = max(status.st_size, len(data))
        findings = over_limit(linter, data, path, skip_generated, size)
        # Not its content's hash (never read whole); the size is in the finding's message.
        # Only an unchanged stat can find this entry again, and the limit is in the cache key.
        return FileResult(path, findings, f"over-limit:{size}", stat)
    parsed_before = linter.parsed
    findings = lint_source(linter, data, path, skip_generated)
    return FileResult(path, findings, content_digest(data), stat, summary=linter.last_summary,
                      parsed=linter.parsed > parsed_before)


def crashed(path: str) -> FileResult:
    return FileResult(path, [Finding(
        path=path, line=1, column=1, code=FILE_SKIPPED.code,
        message="file skipped: the process linting it died (a crash in the parser, or out of memory)",
        end_line=1, end_column=1, name=FILE_SKIPPED.name, noqa_lines=(1, 1))])


# -- worker processes -----------------------------------------------------------------------
_worker_linter = None
_worker_skip_generated = False


def _init_worker(settings: LintSettings) -> None:
    global _worker_linter, _worker_skip_generated
    # Ctrl-C is the main process's business: it kills the workers.
    interrupts.set_up_worker()
    interrupts.exit_when_orphaned()
    _worker_linter = settings.build_linter()
    _worker_skip_generated = settings.skip_generated


def _lint_chunk(paths: List[str]) -> List[FileResult]:
    return [lint_file(_worker_linter, path, _worker_skip_generated) for path in paths]


# -- the cache ------------------------------------------------------------------------------
# Not the path (a result is shared by every file with that content), nor `test` (it
# depends on the path too, and is set after linting).
_FINDING_FIELDS = [f.name for f in dataclasses.fields(Finding) if f.name not in ("path", "test")]
# What each field must be when read back: a cache file that is valid JSON can still hold
# a string where a line number belongs, which would only blow up later, when sorting.
_FIELD_TYPES = {"line": int, "column": int, "end_line": int, "end_column": int, "code": str,
                "message": str, "name": str, "fix": str, "noqa_lines": list,
                "fingerprint": str, "detail": str, "requires": list}


class ResultCache:
    """`<cache_dir>/v2/<configuration key>-<leaklint version>.json`:
    {"files": {absolute path: "<stat_key> <digest>", or "- <digest>" when its stat data
               cannot vouch for its content (see RACY_SECONDS)},
     "results": {digest: [[line, column, code, ...] per finding]},
     "summaries": {digest: module summary (leaklint/project.py)},
     "answers": {key: [answer, proof, [digests of the summaries it read]]} (project
                 requirements' answers, `Project.answers`),
     "folders": {absolute path: [folder_key, is a virtual environment,
                 "its Python files' names/joined by slashes", "its subfolders' names"]}
                (`FolderListings`)}

    Only the summaries the project's requirements looked at are written back: the
    summaries of every linted file would triple the file and its loading time on every
    warm run, for the few a run needs (a module no summary is kept for is parsed again
    when a new requirement first needs it).

    Loaded once, looked up in memory, written once at the end (temporary file, then
    `os.replace`, so a reader never sees half a file). Anything unreadable in it is a
    miss, never an error; `problems` says why the cache could not be used (for -v).
    The version in the name (the key covers it already) only serves to say so.
    """

    def __init__(self, directory: str, key: str):
        self.directory = directory
        self.folder = os.path.join(directory, f"v{CACHE_FORMAT}")
        self.file = os.path.join(self.folder, f"{key}-{leaklint.__version__}.json")
        self.files: Dict[str, Any] = {}  # "<stat_key> <digest>"; read back, anything (a miss)
        self.results: Dict[str, list] = {}
        # Module summaries by content digest: those of the files linted in this run, and
        # those the project requirements needed (`summaries_needed`, the ones written).
        self.summaries: Dict[str, dict] = {}
        self.summaries_needed: Set[str] = set()
        # Answers of project requirements that read many files, with what proves them
        # still true (leaklint/project.py); only those this run looked at are written.
        self.answers: Dict[str, list] = {}
        self.answers_used: Set[str] = set()
        self.listings = FolderListings({})
        self.seen: Set[str] = set()  # absolute paths looked up or stored in this run
        # Absolute path -> stat_key of the files found unchanged by their trusted entry
        # (so their times are settled): the project's stat proofs need not stat them again.
        self.unchanged: Dict[str, str] = {}
        self.changed = False
        self.problems: List[str] = []  # why the cache was not (all) usable, one line each
        self._cwd = os.getcwd()
        self._load()

    def _key(self, path: str) -> str:
        """The file's absolute path. Not `os.path.abspath`, which normalises too: that
        costs more than the rest of a warm lookup, and discovery's paths are normal already
        (another spelling of a path is only a miss, then a hit on its content)."""
        if path.startswith(os.sep) or os.path.isabs(path):  # the first test is enough on POSIX
            return path
        return os.path.join(self._cwd, path)

    def _load(self) -> None:
        try:
            with open(self.file, "rb") as handle:
                data = json.loads(handle.read())
        except FileNotFoundError:
            self.problems.append(self._why_missing())
            return
        except OSError as error:
            self.problems.append(f"cannot read {self.file}: {describe_os_error(error)}")
            return
        except (ValueError, RecursionError) as error:
            self.problems.append(f"{self.file} is corrupt ({type(error).__name__}), starting afresh")
            return
        if isinstance(data, dict) and isinstance(data.get("files"), dict) and isinstance(data.get("results"), dict):
            self.files, self.results = data["files"], data["results"]
            summaries = data.get("summaries")
            self.summaries = summaries if isinstance(summaries, dict) else {}
            answers = data.get("answers")
            self.answers = answers if isinstance(answers, dict) else {}
            folders = data.get("folders")
            self.listings = FolderListings(folders if isinstance(folders, dict) else {})
        else:
            self.problems.append(f"{self.file} is corrupt (not a leaklint cache), starting afresh")

    def _other_files(self) -> List[os.DirEntry]:
        """The folder's other cache files, the most recently written first."""
        try:
            with os.scandir(self.folder) as scan:
                entries = [e for e in scan if e.name.endswith(".json") and e.path != self.file and e.is_file()]
            return sorted(entries, key=lambda entry: entry.stat().st_mtime_ns, reverse=True)
        except OSError:  # no folder yet, or a file deleted meanwhile by another run's pruning
            return []

    def _why_missing(self) -> str:
        others = self._other_files()
        if not others:
            return f"nothing cached yet in {self.directory}"
        versions = {entry.name[:-len(".json")].partition("-")[2] for entry in others}
        if leaklint.__version__ not in versions:
            written_by = ", ".join(sorted(v for v in versions if v)) or "an older version"
            return (f"the cache in {self.directory} was written by leaklint {written_by}, "
                    f"this is {leaklint.__version__}: starting afresh")
        return (f"nothing cached in {self.directory} for this configuration (the selected rules, "
                f"their options, or leaklint's own code changed): starting afresh")

    def lookup(self, path: str, max_bytes: int) -> Optional[List[Finding]]:
        """The cached findings for the file at `path` now, with `path` in them; None: a miss.
        A file over `max_bytes` is never read here (linting it reads only the start)."""
        key = self._key(path)
        self.seen.add(key)
        try:
            status = os.stat(path)
        except OSError:
            return None  # linting it will report why
        if not S_ISREG(status.st_mode):
            return None  # a FIFO would block the reader
        entry = self.files.get(key)
        if isinstance(entry, str):
            stat, _, digest = entry.partition(" ")
            if stat == stat_key(status):
                # Most files have no findings: that case first, without the checks.
                findings = [] if self.results.get(digest) == [] else self._findings(digest, path)
                if findings is not None:
                    self.unchanged[key] = stat
                    return findings
        if not self.results:
            return None  # a cold cache: do not read the file twice for nothing
        if status.st_size > max_bytes:
            return None
        # Changed, moved, or touched: the content decides.
        try:
            data, _, now_ns = read_bounded(path, max_bytes)
        except OSError:
            return None
        if len(data) > max_bytes:
            return None  # it grew since the stat
        digest = content_digest(data)
        findings = self._findings(digest, path)
        if findings is not None:
            new_entry = _file_entry(stat_key(status) if settled(status, now_ns) else None, digest)
            if entry != new_entry:
                self.files[key] = new_entry
                self.changed = True
        return findings

    def _findings(self, digest: str, path: str) -> Optional[List[Finding]]:
        rows = self.results.get(digest)
        if not isinstance(rows, list):
            return None
        try:
            findings = []
            for row in rows:
                if len(row) != len(_FINDING_FIELDS):
                    return None
                values = dict(zip(_FINDING_FIELDS, row))
                for name, value in values.items():
                    expected = _FIELD_TYPES.get(name, object)
                    if not isinstance(value, expected) or isinstance(value, bool):
                        return None
                values["noqa_lines"] = tuple(values["noqa_lines"])
                values["requires"] = tuple(tuple(r) for r in values["requires"])
                findings.append(Finding(path=path, **values))
            return findings
        except (TypeError, ValueError, KeyError):
            return None

    def store(self, result: FileResult) -> None:
        if result.digest is None:
            return
        key = self._key(result.path)
        self.seen.add(key)
        self.results[result.digest] = [[getattr(f, name) for name in _FINDING_FIELDS] for f in result.findings]
        if result.summary is not None:
            self.summaries[result.digest] = result.summary
        self.files[key] = _file_entry(result.stat, result.digest)
        self.changed = True

    def save(self) -> None:
        """Write the cache if anything changed; dropping entries of files that are gone.
        Failing to write (read-only checkout, full disk) only costs the next run time."""
        for key in [k for k in self.files if k not in self.seen and not os.path.exists(k)]:
            del self.files[key]
            self.changed = True
        if not (self.changed or self.listings.changed):
            return
        used = {entry.partition(" ")[2] for entry in self.files.values() if isinstance(entry, str)}
        results = {digest: rows for digest, rows in self.results.items() if digest in used}
        summaries = {digest: summary for digest, summary in self.summaries.items()
                     if digest in self.summaries_needed}
        answers = {key: answer for key, answer in self.answers.items() if key in self.answers_used}
        # check_circular=False: plain data built here (a quarter of the time of a 3 MB cache).
        payload = json.dumps({"files": self.files, "results": results, "summaries": summaries,
                              "answers": answers, "folders": self.listings.kept()},
                             separators=(",", ":"), check_circular=False)
        try:
            os.makedirs(self.folder, exist_ok=True)
            _mark_cache_directory(self.directory)
            write_atomically(self.file, payload)  # a reader never sees half a file
            self._prune()
        except OSError as error:
            self.problems.append(f"cannot write the cache in {self.folder}: {describe_os_error(error)}")

    def _prune(self) -> None:
        """Delete all but the most recent few cache files of other configurations and
        versions, and temporary files left by runs that died while writing."""
        for entry in self._other_files()[OTHER_CACHE_FILES_KEPT:]:
            _remove(entry.path)
        stale = time.time() - STALE_TEMPORARY_SECONDS
        try:
            with os.scandir(self.folder) as scan:
                for entry in scan:
                    if entry.name.endswith(".tmp") and entry.stat().st_mtime < stale:
                        _remove(entry.path)
        except OSError:
            pass


def folder_key(status: os.stat_result) -> str:
    """What says a folder holds the same entries: `device:inode:mtime:ctime` (creating,
    deleting or renaming an entry changes the folder's mtime; a mount changes the rest)."""
    return f"{status.st_dev}:{status.st_ino}:{status.st_mtime_ns}:{status.st_ctime_ns}"


class FolderListings:
    """Folder listings kept by the cache for discovery (`discovery._walk`): listing the
    corpus's 3,838 folders is a third of a warm run; a `stat` of each, which the walk
    makes anyway, says whether its listing still holds. Kept only for plain folders
    (`FolderListing.plain`) whose times are old enough to be trusted (RACY_SECONDS)."""

    def __init__(self, known: dict):
        # From the cache file: absolute path -> [key, is_virtualenv, files, folders], the
        # names joined by "/" (which no name holds): strings load faster than lists.
        self.known = known
        self.seen: Dict[str, list] = {}  # the listings of this run: what is written back
        self.changed = False

    def get(self, absolute: str, status: Optional[os.stat_result]) -> Optional[FolderListing]:
        entry = self.known.get(absolute)
        if status is None or not isinstance(entry, list) or len(entry) != 4:
            return None
        key, is_virtualenv, files, folders = entry
        if (key != folder_key(status) or not isinstance(is_virtualenv, bool)
                or not isinstance(files, str) or not isinstance(folders, str)):
            return None
        self.seen[absolute] = entry
        return FolderListing(files.split("/") if files else [], folders.split("/") if folders else [],
                             is_virtualenv)

    def kept(self) -> Dict[str, list]:
        """What to write back: this run's listings, and earlier ones of folders that still
        exist (a run over one file must not forget the tree's)."""
        kept = {path: entry for path, entry in self.known.items()
                if path not in self.seen and os.path.isdir(path)}
        kept.update(self.seen)
        return kept

    def put(self, absolute: str, status: Optional[os.stat_result], listing: FolderListing) -> None:
        # `time.time_ns()` after listing: a folder changed in the tick before it may change
        # again within that tick, unseen; its listing is then not kept.
        if status is None or not settled(status, time.time_ns()):
            return
        self.seen[absolute] = [folder_key(status), listing.is_virtualenv, "/".join(listing.files),
                               "/".join(listing.folders)]
        self.changed = True


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:  # gone already (another run pruned it), or not ours to delete
        pass


def _file_entry(stat: Optional[str], digest: str) -> str:
    """A file's entry in the cache: its stat data (None: not to be trusted) and digest."""
    return f"{stat or '-'} {digest}"


def _mark_cache_directory(directory: str) -> None:
    """Keep the cache out of git (.gitignore) and out of backups (CACHEDIR.TAG)."""
    marks = {
        ".gitignore": "# Created by leaklint automatically.\n*\n",
        "CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n"
                        "# This file is a cache directory tag created by leaklint.\n",
    }
    for name, text in marks.items():
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            write_atomically(path, text)


# -- the run --------------------------------------------------------------------------------
@dataclass
class RunOutcome:
    findings: List[Finding]  # sorted
    files: int = 0  # files linted or answered from the cache
    from_cache: int = 0
    parsed: int = 0  # files libcst parsed
    seconds: Dict[str, float] = field(default_factory=dict)  # phase name -> time it took


class Runner:
    def __init__(self, settings: LintSettings, jobs: int = 1, cache: Optional[ResultCache] = None,
                 progress: Optional[Progress] = None):
        self.settings = settings
        self.jobs = max(1, jobs)
        self.cache = cache
        self.progress = progress or Progress(None)
        self._linter = None

    @property
    def linter(self):
        """The main process's own Linter, built on first use."""
        if self._linter is None:
            self._linter = self.settings.build_linter()
        return self._linter

    def lint_stdin(self, data: bytes, path: str) -> List[Finding]:
        """`data`: at most max-file-bytes + 1 bytes of standard input (more is LKL003)."""
        if len(data) > self.settings.max_file_bytes:
            return over_limit(self.linter, data, path, self.settings.skip_generated, size=None)
        findings = lint_source(self.linter, data, path, self.settings.skip_generated)
        from leaklint.project import Project

        # The other modules are read from the disk; this one is what standard input holds.
        project = Project(overrides={os.path.abspath(path): data})
        return sorted(project.resolve(findings))

    def run(self, paths: Sequence[str]) -> RunOutcome:
        findings: List[Finding] = []
        to_lint = []
        from_cache = 0
        seconds = {}
        started = time.perf_counter()
        for path in paths:
            cached = self.cache.lookup(path, self.settings.max_file_bytes) if self.cache is not None else None
            if cached is None:
                to_lint.append(path)
            else:
                findings.extend(cached)
                from_cache += 1
        seconds["cache lookup"], started = _lap(started)
        self.progress.start(len(paths), done=from_cache)
        try:
            if not to_lint:  # all answered by the cache: no Linter, no rules, no libcst
                results = []
            elif self.jobs == 1 or len(to_lint) < MIN_FILES_FOR_WORKERS:
                results = self._run_in_process(to_lint)
            else:
                results = self._run_in_workers(to_lint)
        finally:
            self.progress.finish()
        seconds["linting"], started = _lap(started)
        for result in results:
            findings.extend(result.findings)
            if self.cache is not None:
                self.cache.store(result)
        # Imported only when there is something to resolve: leaklint.project imports
        # libcst, which a warm run with no project requirement never needs.
        project = None
        if any(finding.requires for finding in findings):
            from leaklint.project import Project

            if self.cache is not None:
                project = Project(self.cache.summaries, answers=self.cache.answers)
                project.known_stats = self.cache.unchanged
            else:
                project = Project({})
            if self.cache is None:
                for result in results:
                    if result.digest is not None:
                        project.remember(result.digest, result.summary)
            findings = project.resolve(findings)
        seconds["project"], started = _lap(started)
        if self.cache is not None:
            if project is not None:
                self.cache.summaries_needed.update(project.needed)
                self.cache.answers_used.update(project.answers_used)
                self.cache.changed = self.cache.changed or project.added
            self.cache.save()
            seconds["cache saving"], started = _lap(started)
        return RunOutcome(sorted(findings), files=len(paths), from_cache=from_cache,
                          parsed=sum(result.parsed for result in results), seconds=seconds)

    def _run_in_process(self, paths: List[str]) -> List[FileResult]:
        """Here, except big files: those go to one worker process, one at a time (and to a
        new one whenever it dies)."""
        # As in _run_in_workers, a Linter that cannot be built fails here; a LazyLinter
        # builds its rules at the first file that needs them.
        self.linter  # noqa: B018
        big: List[str] = []
        here: List[str] = []
        for path in paths:
            (big if self._needs_own_process(path) else here).append(path)
        results = []
        for path in here:
            results.append(lint_file(self.linter, path, self.settings.skip_generated))
            self.progress.advance()
        if big:
            results.extend(self._isolate(big))
        return results

    def _needs_own_process(self, path: str) -> bool:
        try:
            size = os.stat(path).st_size
        except OSError:
            return False  # lint_file reports why
        # Over max-file-bytes it is skipped without parsing: no risk, no process.
        return OWN_PROCESS_BYTES < size <= self.settings.max_file_bytes

    def _run_in_workers(self, paths: List[str]) -> List[FileResult]:
        # A Linter that cannot be built should fail here, once and loudly, not in every
        # worker's initializer (which would look like every file crashing its worker).
        # Built whole (the rules and libcst imported) before the pool forks its workers,
        # which then inherit the imports: of this many files some will need parsing.
        self.linter.full_linter()
        results: List[FileResult] = []
        pending = list(paths)
        while pending:
            workers = min(self.jobs, len(pending))
            # Small chunks: a few big files take most of the time, and clustered in one
            # chunk they would leave the other workers idle at the end.
            size = max(1, min(16, len(pending) // (workers * 8)))
            chunks = [pending[i:i + size] for i in range(0, len(pending), size)]
            finished, broken = self._pool_round(chunks, workers)
            results.extend(finished)
            if not broken:
                break
            # The pool hands chunks out in order, at most `workers` running and `workers + 1`
            # queued, so a chunk that killed a worker is among the first unfinished ones.
            # Those are re-run one file at a time; the others (never started) go round again.
            suspects = 2 * workers + 1
            results.extend(self._isolate([p for chunk in broken[:suspects] for p in chunk]))
            pending = [p for chunk in broken[suspects:] for p in chunk]
        return results

    def _isolate(self, paths: List[str]) -> List[FileResult]:
        """Lint `paths` one by one in a single worker; whenever it dies, the file it was on
        (the first unfinished, as one worker works in order) is the culprit."""
        # Big files: they will be parsed. Built here, the forked worker inherits the imports.
        self.linter.full_linter()
        results = []
        remaining = paths
        while remaining:
            finished, broken = self._pool_round([[p] for p in remaining], 1)
            results.extend(finished)
            if not broken:
                break
            results.append(crashed(broken[0][0]))
            self.progress.advance()
            remaining = [chunk[0] for chunk in broken[1:]]
        return results

    def _pool_round(self, chunks: List[List[str]], workers: int):
        """(results of the chunks that finished, the chunks that did not, in order)."""
        # Imported here: most runs (one file from an editor, a warm cache) need no pool,
        # and multiprocessing is a noticeable part of the start-up time.
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        finished, broken = [], []
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                   initargs=(self.settings,))
        try:
            futures = []
            with interrupts.blocked_in_new_processes():  # the workers are started here
                for chunk in chunks:
                    try:
                        futures.append(pool.submit(_lint_chunk, chunk))
                    except BrokenProcessPool:  # a worker died already: the rest is unfinished
                        break
            for index, chunk in enumerate(chunks):
                try:
                    if index >= len(futures):
                        raise BrokenProcessPool("not submitted")
                    finished.extend(futures[index].result())
                    self.progress.advance(len(chunk))
                except BrokenProcessPool:
                    broken.append(chunk)
            pool.shutdown(wait=True)
        except BaseException:  # Ctrl-C, SIGTERM (or a bug): no worker may outlive the run
            interrupts.kill_workers(pool)
            raise
        return finished, broken


def _lap(started: float) -> Tuple[float, float]:
    """(seconds since `started`, now)."""
    now = time.perf_counter()
    return now - started, now
