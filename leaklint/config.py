"""`[tool.leaklint]` in pyproject.toml: finding it, reading it, validating every key.

The configuration file is the nearest `pyproject.toml` with a `[tool.leaklint]` table,
looking in the current directory and then its parents (as flake8 and pytest do, the
files being linted do not change which configuration applies). Its directory is the
*project root*: relative `exclude` / `per-file-ignores` patterns and `cache-dir` are
anchored there.

Every problem is a `ConfigError` whose message is one line naming the file and the key.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from leaklint import registry
from leaklint.engine import DEFAULT_MAX_FILE_BYTES

CONFIG_FILE_NAME = "pyproject.toml"
SECTION = "[tool.leaklint]"


class ConfigError(Exception):
    """A configuration (or command-line) value leaklint cannot use. One line."""


@dataclass
class Config:
    """The settings from one `[tool.leaklint]` table (or the defaults, without one).

    `None` means "not set here", so the command line and the defaults can tell a missing
    key from an empty list. Glob patterns are kept with the directory they are relative
    to: `(pattern, base_directory)`.
    """

    path: Optional[str] = None  # the pyproject.toml this came from
    root: str = field(default_factory=os.getcwd)  # its directory, else the current one
    select: Optional[List[str]] = None
    ignore: List[str] = field(default_factory=list)
    extend_select: List[str] = field(default_factory=list)
    exclude: Optional[List[Tuple[str, str]]] = None
    extend_exclude: List[Tuple[str, str]] = field(default_factory=list)
    per_file_ignores: List[Tuple[str, str, List[str]]] = field(default_factory=list)
    jobs: Optional[int] = None
    cache_dir: Optional[str] = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    skip_generated: bool = False
    rule_options: Dict[str, Any] = field(default_factory=dict)  # Option.name -> value


def find_config_file(start: Optional[str] = None) -> Optional[str]:
    """The nearest pyproject.toml at or above `start` that has a [tool.leaklint] table."""
    directory = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(directory, CONFIG_FILE_NAME)
        if os.path.isfile(candidate) and _has_leaklint_table(candidate):
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
    """The validated settings in `path`; the defaults when `path` is None."""
    if path is None:
        return Config()
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    table = _parse_toml(path, data).get("tool", {}).get("leaklint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {SECTION} must be a table")
    return _config_from_table(table, path)


def rule_options_by_key() -> Dict[str, Any]:
    """Every option declared by any rule, keyed by its spelling with dashes."""
    options = {}
    for rule in registry.all_rules():
        for option in rule.options:
            options[_key(option.name)] = option
    return options


def _key(name: str) -> str:
    # `per_file_ignores` and `per-file-ignores` are the same key, as in flake8.
    return name.replace("_", "-")


def _config_from_table(table: dict, path: str) -> Config:
    root = os.path.dirname(os.path.abspath(path))
    config = Config(path=path, root=root)
    options = rule_options_by_key()

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{path}: {SECTION} {key}: {problem}")

    for raw_key, value in table.items():
        key = _key(raw_key)
        if key in ("select", "ignore", "extend-select"):
            codes = validate_codes(_string_list(value, raw_key, fail), lambda p: fail(raw_key, p))
            setattr(config, key.replace("-", "_"), codes)
        elif key in ("exclude", "extend-exclude"):
            patterns = [(pattern, root) for pattern in _string_list(value, raw_key, fail)]
            setattr(config, key.replace("-", "_"), patterns)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise fail(raw_key, f"expected a table of glob = [codes], got {_type_name(value)}")
            for pattern, codes in value.items():
                codes = _string_list(codes, f"{raw_key}.{pattern!r}", fail)
                codes = validate_codes(codes, lambda p: fail(f"{raw_key}.{pattern!r}", p))
                config.per_file_ignores.append((pattern, root, codes))
        elif key == "jobs":
            config.jobs = _positive_int(value, raw_key, fail)
        elif key == "max-file-bytes":
            config.max_file_bytes = _positive_int(value, raw_key, fail)
        elif key == "cache-dir":
            if not isinstance(value, str) or not value:
                raise fail(raw_key, f"expected a path string, got {_type_name(value)}")
            config.cache_dir = os.path.join(root, os.path.expanduser(value))
        elif key == "skip-generated":
            if not isinstance(value, bool):
                raise fail(raw_key, f"expected true or false, got {_type_name(value)}")
            config.skip_generated = value
        elif key in options:
            option = options[key]
            if not _has_type(value, option.type):
                raise fail(raw_key, f"expected {option.type.__name__}, got {_type_name(value)}")
            config.rule_options[option.name] = value
        else:
            raise fail(raw_key, "unknown key (see `leaklint --help` and `leaklint --explain CODE`)")
    return config


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
