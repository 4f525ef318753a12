"""The configuration file: finding it from the linted paths, reading it, validating every key.

The configuration is the nearest `.leaklint.toml`, `leaklint.toml` (settings as top-level
keys) or `pyproject.toml` with a `[tool.leaklint]` table, looking in the folder that
holds every linted path and then its parents, as ruff does: `cd elsewhere && leaklint
/proj` reads /proj's configuration. In one folder the first of those names wins (ruff's
order: `.ruff.toml`, `ruff.toml`, `pyproject.toml`). Its directory is the *project
root*: relative `exclude` / `per-file-ignores` / `test-files` patterns, the root-only
default excludes and `cache-dir` are anchored there. Without a configuration file the
root is the current directory when the linted paths are inside it, else the folder that
holds them (`cd /tmp && leaklint ~/proj` still knows ~/proj/tests for test code).

Every problem is a `ConfigError` whose message is one line naming the file and the key.
"""
from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from leaklint import registry
from leaklint.catalogue import OptionInfo, check_value, rule_infos, rule_options
from leaklint.source import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILE_TOKENS

PYPROJECT = "pyproject.toml"
# In one folder, the first of these that exists is the configuration.
CONFIG_FILE_NAMES = (".leaklint.toml", "leaklint.toml", PYPROJECT)
SECTION = "[tool.leaklint]"
STDIN = "-"


class ConfigError(Exception):
    """A configuration (or command-line) value leaklint cannot use. One line."""


@dataclass
class Config:
    """The settings from one configuration file (or the defaults, without one).

    `None` means "not set here", so the command line and the defaults can tell a missing
    key from an empty list. Glob patterns are kept with the directory they are relative
    to: `(pattern, base_directory)`.
    """

    path: Optional[str] = None  # the file this came from
    root: str = field(default_factory=os.getcwd)  # its directory, else the current one
    select: Optional[List[str]] = None
    ignore: List[str] = field(default_factory=list)
    extend_ignore: List[str] = field(default_factory=list)
    extend_select: List[str] = field(default_factory=list)
    exclude: Optional[List[Tuple[str, str]]] = None
    extend_exclude: List[Tuple[str, str]] = field(default_factory=list)
    per_file_ignores: List[Tuple[str, str, List[str]]] = field(default_factory=list)
    test_files: Optional[List[Tuple[str, str]]] = None  # None: DEFAULT_TEST_FILES
    extend_test_files: List[Tuple[str, str]] = field(default_factory=list)
    test_ignore: Optional[List[str]] = None  # None: the rules that do not apply to tests
    jobs: Optional[int] = None
    cache_dir: Optional[str] = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_file_tokens: int = DEFAULT_MAX_FILE_TOKENS
    skip_generated: bool = False
    rule_options: Dict[str, Any] = field(default_factory=dict)  # Option.name -> value


def config_search_start(paths: Sequence[str], stdin_filename: Optional[str] = None) -> str:
    """The folder the search for the configuration starts in: the deepest folder holding
    every linted path (a folder itself, a file's folder; for `-` the folder of
    --stdin-filename, else the current one). Paths on different drives: the current one."""
    folders = []
    for path in paths or ["."]:
        if path == STDIN:
            path = stdin_filename or "."
        path = os.path.abspath(path)
        folders.append(path if os.path.isdir(path) else os.path.dirname(path))
    try:
        return os.path.commonpath(folders)
    except ValueError:  # Windows: C:\ and D:\ have nothing in common
        return os.getcwd()


def root_without_config(start: str) -> str:
    """The project root when no configuration file names one: the current directory if
    `start` (the folder holding every linted path) is inside it, else `start` itself, so
    folder patterns (`tests`, `build`) still match below the linted paths."""
    cwd = os.getcwd()
    start = os.path.abspath(start)
    return cwd if start == cwd or start.startswith(cwd.rstrip(os.sep) + os.sep) else start


def find_config_file(start: Optional[str] = None) -> Optional[str]:
    """The nearest configuration file at or above `start`: a `.leaklint.toml` or
    `leaklint.toml`, or a pyproject.toml with a [tool.leaklint] table."""
    directory = os.path.abspath(start or os.getcwd())
    while True:
        for name in CONFIG_FILE_NAMES:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate) and (name != PYPROJECT or _has_leaklint_table(candidate)):
                return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _has_leaklint_table(path: str) -> bool:
    # A cheap text test first: most pyproject.toml files on the way up are someone
    # else's, and one we cannot parse is only our problem if it mentions leaklint.
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    if b"leaklint" not in data:
        return False
    return "leaklint" in _parse_toml(path, data).get("tool", {})


def _parse_toml(path: str, data: bytes) -> dict:
    # Imported here: most runs meet no configuration file.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - older interpreters only
        import tomli as tomllib
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def load_config(path: Optional[str]) -> Config:
    """The validated settings in `path`; the defaults when `path` is None.

    A file named pyproject.toml holds them in its [tool.leaklint] table (its other tables
    are other tools'); any other file (leaklint.toml, `--config ci.toml`) as top-level
    keys, or as a [tool.leaklint] table when that is all it holds (a copy of a
    pyproject.toml section)."""
    if path is None:
        return Config()
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    document = _parse_toml(path, data)
    tool = document.get("tool")
    if os.path.basename(path) == PYPROJECT or (
            list(document) == ["tool"] and isinstance(tool, dict) and "leaklint" in tool):
        if not isinstance(tool, dict) or "leaklint" not in tool:
            stray = sorted(key for key in document if _is_setting(key))
            hint = (f" (top-level {', '.join(stray)} must be in it)" if stray
                    else " (a file with any other name holds the settings as top-level keys)")
            raise ConfigError(f"{path}: no {SECTION} table{hint}")
        table = tool["leaklint"]
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {SECTION} must be a table")
        return _config_from_table(table, path, f"{SECTION} ")
    return _config_from_table(document, path, "")


def _is_setting(key: str) -> bool:
    return _key(key) in SETTINGS or _key(key) in rule_option_keys()


def rule_option_keys() -> set:
    """The keys of every rule option, without importing the rules (leaklint.catalogue)."""
    return {_key(name) for rule in rule_infos() for name in rule.options}


def rule_options_by_key() -> Dict[str, OptionInfo]:
    """Every option declared by any rule, keyed by its spelling with dashes, without
    importing the rules (leaklint.catalogue)."""
    return {_key(name): option for name, option in rule_options().items()}


def _key(name: str) -> str:
    # `per_file_ignores` and `per-file-ignores` are the same key, as in flake8.
    return name.replace("_", "-")


# Every key but the rule options (which each rule declares).
SETTINGS = ("select", "ignore", "extend-ignore", "extend-select", "exclude", "extend-exclude",
            "per-file-ignores", "jobs", "max-file-bytes", "max-file-tokens", "cache-dir", "skip-generated")


def _config_from_table(table: dict, path: str, section: str) -> Config:
    """`section`: how messages name where the keys are ("[tool.leaklint] " or "")."""
    root = os.path.dirname(os.path.abspath(path))
    config = Config(path=path, root=root)
    option_keys = rule_option_keys()

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{path}: {section}{key}: {problem}")

    for raw_key, value in table.items():
        key = _key(raw_key)
        if key in ("select", "ignore", "extend-ignore", "extend-select", "test-ignore"):
            codes = validate_codes(_string_list(value, raw_key, fail), functools.partial(fail, raw_key))
            if key == "select" and not codes:
                raise fail(raw_key, EMPTY_SELECT)
            setattr(config, key.replace("-", "_"), codes)
        elif key in ("exclude", "extend-exclude", "test-files", "extend-test-files"):
            patterns = [(pattern, root) for pattern in _string_list(value, raw_key, fail)]
            setattr(config, key.replace("-", "_"), patterns)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise fail(raw_key, f"expected a table of glob = [codes], got {_type_name(value)}")
            for pattern, codes in value.items():
                where = f"{raw_key}.{pattern!r}"
                codes = validate_codes(_string_list(codes, where, fail), functools.partial(fail, where))
                config.per_file_ignores.append((pattern, root, codes))
        elif key == "jobs":
            config.jobs = _positive_int(value, raw_key, fail)
        elif key == "max-file-bytes":
            config.max_file_bytes = _positive_int(value, raw_key, fail)
        elif key == "max-file-tokens":
            config.max_file_tokens = _positive_int(value, raw_key, fail)
        elif key == "cache-dir":
            if not isinstance(value, str) or not value:
                raise fail(raw_key, f"expected a path string, got {_type_name(value)}")
            config.cache_dir = os.path.join(root, os.path.expanduser(value))
        elif key == "skip-generated":
            if not isinstance(value, bool):
                raise fail(raw_key, f"expected true or false, got {_type_name(value)}")
            config.skip_generated = value
        elif key in option_keys:
            option = rule_options_by_key()[key]
            if not _has_type(value, option.type):
                raise fail(raw_key, f"expected {option.type.__name__}, got {_type_name(value)}")
            problem = check_value(option, value)
            if problem:
                raise fail(raw_key, problem)
            config.rule_options[option.name] = value
        elif key == "runtime" and section:
            # [tool.leaklint.runtime]: the options of the runtime check (leaklint.runtime,
            # the pytest plugin), which reads and checks them itself
            if not isinstance(value, dict):
                raise fail(raw_key, f"expected a table, got {_type_name(value)}")
        elif key == "tool":
            raise fail(raw_key, f"unknown key (only a file named {PYPROJECT} has a {SECTION} "
                                f"table; here the settings are top-level keys)")
        else:
            raise fail(raw_key, "unknown key (see `leaklint --help` and `leaklint --explain CODE`)")
    return config


EMPTY_SELECT = ("select is empty, which would turn every rule off; leave it out for the "
                "default rules, or list the ones you want")


def validate_codes(entries: List[str], fail) -> List[str]:
    """Upper-cased codes/prefixes; `fail(problem)` builds the error for an unknown one."""
    codes = []
    for entry in entries:
        code = entry.strip().upper()
        if not code:
            continue
        if not registry.known_prefix(code):
            raise fail(f"unknown code or prefix {entry!r}")
        codes.append(code)
    return codes


def _string_list(value, key, fail) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fail(key, f"expected a list of strings, got {_type_name(value)}")
    return value


def _positive_int(value, key, fail) -> int:
    if not _has_type(value, int) or value < 1:
        raise fail(key, f"expected a positive integer, got {value!r}")
    return value


def _has_type(value, expected: type) -> bool:
    # TOML booleans are Python bools, which are also ints: `jobs = true` is a mistake.
    if isinstance(value, bool) and expected is not bool:
        return False
    return isinstance(value, expected)


def _type_name(value) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a float"}.get(type(value), type(value).__name__)
