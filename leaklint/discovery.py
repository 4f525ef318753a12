"""Which files to lint: walk the paths given, skip excluded ones, never crash.

Rules, as in flake8 and ruff:
- a directory is walked recursively for `*.py` files, in sorted order;
- a file named on the command line is linted whatever its suffix, and even when it
  matches an exclude pattern (unless `force_exclude`, for pre-commit-style callers that
  pass every changed file);
- a pattern without `/` is matched against the name of every file and folder met on the
  walk (`build`, `*.egg-info`); a pattern with `/` is matched against the whole path,
  relative to the directory the pattern was configured in (`tests/fixtures`,
  `src/*/generated`);
- a folder holding a `pyvenv.cfg` is a virtual environment and is not walked into;
- symbolic links are followed; a link back to a folder being walked (a loop), a broken
  link, a folder that cannot be listed: each becomes an LKL002 finding, and the walk goes on;
- with the result cache, a folder listed by an earlier run whose stat data is unchanged
  is not listed again (leaklint.runner.FolderListings: a third of a warm run was listing).
"""
from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

from leaklint.diagnostics import UNREADABLE_FILE
from leaklint.finding import Finding

if TYPE_CHECKING:  # the runner imports this module
    from leaklint.runner import FolderListings

# Folders nobody wants linted: version control, virtual environments, caches, build output.
# `./name` is only excluded at the project root: a package may well be called `build`,
# `dist`, `env` or `venv` (the standard library has one) deeper down.
DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".bzr", "_darcs",
    ".venv", "./venv", "./env", "__pypackages__", "site-packages",
    ".tox", ".nox", ".eggs", "*.egg-info", "./build", "./dist", "__pycache__", "node_modules",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".pytype", ".leaklint_cache",
    ".ipynb_checkpoints",
)
# Every virtual environment has this file at its top, whatever the folder is called: such
# a folder is never walked into (name it on the command line to lint it).
VIRTUALENV_MARKER = "pyvenv.cfg"
# A FIFO would block the reader forever, a device (/dev/zero) never ends, a socket cannot be read.
NOT_A_REGULAR_FILE = "not a regular file"
NO_SUCH_PATH = "no such file or folder"


class PathFilter:
    """A set of glob patterns, each with the directory it is relative to.

    Both kinds of pattern compile to one regular expression each, so a walk over
    thousands of files costs two regex matches per entry, not one per pattern.
    """

    def __init__(self, patterns: Iterable[Tuple[str, str]]):
        self.patterns = list(patterns)  # as given, for `leaklint -v`
        names, paths = [], []
        for pattern, base in self.patterns:
            pattern = pattern.strip()
            if not pattern:
                continue
            if "/" in pattern.rstrip("/"):
                anchored = os.path.normpath(os.path.join(base, pattern))
                paths.append(fnmatch.translate(anchored))
            else:
                names.append(fnmatch.translate(pattern.rstrip("/")))
        self._names = re.compile("|".join(names)) if names else None
        self._paths = re.compile("|".join(paths)) if paths else None

    def __bool__(self) -> bool:
        return self._names is not None or self._paths is not None

    def matches_entry(self, absolute_path: str, name: Optional[str] = None) -> bool:
        """Does this file or folder itself match (its name, or its whole path)? `name`:
        its last component, when the caller has it already."""
        if name is None:
            name = os.path.basename(absolute_path)
        if self._names is not None and self._names.match(name):
            return True
        return self._paths is not None and bool(self._paths.match(absolute_path))

    def matches_file(self, path: str, root: str) -> bool:
        """Does `path` or any folder holding it, up to `root`, match?

        Folders above `root` are not considered: a project checked out under
        `~/build/` must not have all its files excluded by the `build` pattern.
        """
        current = os.path.abspath(path)
        root = os.path.abspath(root)
        while True:
            if self.matches_entry(current):
                return True
            parent = os.path.dirname(current)
            if parent == current or not _is_within(parent, root) or parent == root:
                return False
            current = parent


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def default_exclude_patterns(base: str) -> List[Tuple[str, str]]:
    return [(pattern, base) for pattern in DEFAULT_EXCLUDES]


@dataclass
class Discovered:
    files: List[str] = field(default_factory=list)
    problems: List[Finding] = field(default_factory=list)  # LKL002, one per unreadable path


def unreadable(path: str, message: str) -> Finding:
    """An LKL002 finding: `path` (a file or a folder) could not be read."""
    return Finding(path=path, line=1, column=1, code=UNREADABLE_FILE.code, message=message,
                   end_line=1, end_column=1, name=UNREADABLE_FILE.name, noqa_lines=(1, 1))


def describe_os_error(error: OSError) -> str:
    return error.strerror or str(error)


def discover(
    paths: Sequence[str],
    exclude: PathFilter,
    root: str,
    force_exclude: bool = False,
    listings: Optional[FolderListings] = None,
) -> Discovered:
    """The files to lint under `paths`, sorted. A path that does not exist, a broken link,
    a FIFO or a device is an LKL002 finding, as it is inside a folder.

    `root` bounds the folders whose names are checked against `exclude` for the paths
    named explicitly (with `force_exclude`). `listings`: see `_walk`.
    """
    found = Discovered()
    for path in paths:
        path = os.path.normpath(path)
        if force_exclude and exclude.matches_file(path, root):
            continue
        if os.path.isdir(path):
            _walk(path, exclude, found, listings)
        elif not os.path.lexists(path):
            found.problems.append(unreadable(path, NO_SUCH_PATH))
        elif os.path.islink(path) and not os.path.exists(path):
            found.problems.append(unreadable(path, _broken_link_message(path)))
        elif not _is_regular_path(path):
            found.problems.append(unreadable(path, NOT_A_REGULAR_FILE))
        else:
            found.files.append(path)  # named explicitly: linted whatever its suffix
    # The same file may be named twice (`leaklint a.py .`): lint it once.
    found.files = sorted(set(found.files))
    found.problems.sort()
    return found


def _walk(top: str, exclude: PathFilter, found: Discovered,
          listings: Optional[FolderListings] = None) -> None:
    """Depth-first over `top`, iteratively (trees can be deeper than the recursion limit).
    `listings` (leaklint.runner.FolderListings): folders listed by an earlier run, to be
    trusted while their stat data is unchanged; None: list every folder."""
    # Each stack item: a folder to list, its absolute path, the identities of the folders
    # above it (what a symlink loop would lead back to) and its stat data.
    top_status = _status(top)
    top_id = _identity(top_status)
    stack: List[Tuple[str, str, FrozenSet[Tuple[int, int]], Optional[os.stat_result]]] = [
        (top, os.path.abspath(top), frozenset([top_id]) if top_id else frozenset(), top_status)]
    while stack:
        directory, absolute, ancestors, status = stack.pop()
        # Built by concatenation: os.path.join costs more than the rest of a warm run's
        # handling of an entry, and the walk meets tens of thousands of them.
        absolute_prefix = absolute if absolute.endswith(os.sep) else absolute + os.sep
        listing = listings.get(absolute, status) if listings is not None else None
        if listing is None:
            listing = _list_folder(directory, found)
            if listing is None:
                continue
            if listings is not None and listing.plain:
                listings.put(absolute, status, listing)
        if listing.is_virtualenv and directory != top:
            continue  # a virtual environment (named on the command line, it is walked)
        # `leaklint .` reports `pkg/mod.py`, not `./pkg/mod.py`.
        path_prefix = "" if directory == os.curdir else (
            directory if directory.endswith(os.sep) else directory + os.sep)
        excluded = exclude.matches_entry
        for name in listing.files:
            if not excluded(absolute_prefix + name, name):
                found.files.append(path_prefix + name)
        for name, why in listing.others.items():
            if not excluded(absolute_prefix + name, name):
                found.problems.append(unreadable(path_prefix + name, why))
        subfolders = []
        for name in listing.folders:
            entry_absolute = absolute_prefix + name
            if excluded(entry_absolute, name):
                continue
            path = path_prefix + name
            sub_status = _status(path)
            identity = _identity(sub_status)
            if identity in ancestors:
                found.problems.append(unreadable(path, "symbolic link loop: it leads back to a folder being walked"))
                continue
            # A folder that cannot be stat'ed has no identity: another such folder below
            # it is not a loop back to it.
            below = ancestors | {identity} if identity is not None else ancestors
            subfolders.append((path, entry_absolute, below, sub_status))
        stack.extend(reversed(subfolders))


class FolderListing:
    """What a walk needs of a folder: the names of its Python files and of its
    subfolders, whether it is a virtual environment, and its other Python-named entries
    that cannot be linted (a FIFO, a broken link: name -> why). `plain`: no symbolic
    link among its entries and nothing odd, so that the listing stays true while the
    folder's own stat data is unchanged (what a link points to can change without its
    folder changing)."""

    def __init__(self, files: List[str], folders: List[str], is_virtualenv: bool,
                 others: Optional[Dict[str, str]] = None, plain: bool = True):
        self.files = files
        self.folders = folders
        self.is_virtualenv = is_virtualenv
        self.others = others or {}
        self.plain = plain and not self.others


def _list_folder(directory: str, found: Discovered) -> Optional[FolderListing]:
    try:
        with os.scandir(directory) as scan:
            entries = list(scan)
    except OSError as error:
        found.problems.append(unreadable(directory, f"cannot read folder: {describe_os_error(error)}"))
        return None
    files: List[str] = []
    folders: List[str] = []
    others: Dict[str, str] = {}
    is_virtualenv = False
    plain = True
    for entry in entries:
        name = entry.name
        if entry.is_symlink():
            plain = False
        try:
            is_directory = entry.is_dir()  # follows symlinks; False for broken links and loops
        except OSError:
            is_directory = False
            plain = False
        # ".#name.py" is an editor lock file (a dangling link by design), not code.
        if not is_directory and (not name.endswith(".py") or name.startswith(".#")):
            if name == VIRTUALENV_MARKER:
                is_virtualenv = True
            continue  # never linted: no path to build, no pattern to match (most entries)
        if is_directory:
            folders.append(name)
        elif _is_regular_file(entry):
            files.append(name)
        else:
            path = os.path.join(directory, name)
            if entry.is_symlink() and not os.path.exists(path):
                others[name] = _broken_link_message(path)
            elif os.path.lexists(path):
                others[name] = NOT_A_REGULAR_FILE
    return FolderListing(files, folders, is_virtualenv, others, plain)


def _is_regular_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()  # follows symlinks
    except OSError:
        return False


def _is_regular_path(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # reading it will say what is wrong (permission denied, ...)


def _status(path: str) -> Optional[os.stat_result]:
    try:
        return os.stat(path)
    except OSError:
        return None


def _identity(status: Optional[os.stat_result]) -> Optional[Tuple[int, int]]:
    return (status.st_dev, status.st_ino) if status is not None else None


def _broken_link_message(path: str) -> str:
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symbolic link loop: the link leads back to itself"
    return "broken symbolic link: its target does not exist"
