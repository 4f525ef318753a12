"""flake8 plugin: the same rules, the same engine, flake8's selection and `# noqa`.

Registered in pyproject.toml as ``LKL = "leaklint.flake8_plugin:LeaklintChecker"``.

How the work is split with flake8:

* flake8 reads the file (or stdin, ``flake8 -``) and hands us its ``lines``; we lint
  ``"".join(lines)`` with the engine (through :class:`leaklint.screen.LazyLinter`) and
  never touch the disk, so ``--stdin-display-name`` and editors' unsaved buffers work.
* ``# noqa``: flake8 applies its own, but only to the physical line it reports (its
  noqa line mapping joins lines only for multi-line *tokens*: inside brackets the
  tokenizer emits NL and the range restarts). leaklint's ``# noqa`` works on any line of
  the flagged statement (``leaklint/noqa.py``), e.g. on the ``)`` line closing a
  multi-line call. So that a comment silences the same finding under both tools, the
  engine applies leaklint's noqa too (``apply_noqa=True``), except under
  ``flake8 --disable-noqa``, where it runs with ``apply_noqa=False`` and flake8 shows
  everything. flake8 then applies its own on top; a line-level noqa flake8 honours is
  one leaklint honours as well, so the double pass changes nothing else. File-level:
  flake8 skips a ``# flake8: noqa`` file before any plugin runs, and the engine skips a
  ``# leaklint: noqa`` one (and drops the codes of ``# leaklint: noqa: CODES``), as the
  command does; both are off under ``--disable-noqa``, as flake8's own.
* flake8 applies ``--select``/``--ignore``/``--per-file-ignores`` to what we yield. We
  only *skip running* rules whose codes flake8 would throw away anyway (decided with
  flake8's own ``DecisionEngine``), so ``flake8 --select E`` with leaklint installed never
  parses a file with libcst.
* Off-by-default rules (``Rule.default_enabled = False``) are added to flake8's default
  ignore list and, as in leaklint's own ``--select``, run only when a select /
  extend-select entry more specific than the bare ``LKL`` names them (``LKL6``,
  ``LKL601``): ``flake8 --select LKL`` means "the usual rules" under both tools. (flake8
  alone would let an explicit ``--select LKL`` beat the default ignore, and a user's
  ``ignore =`` setting replaces the default ignore list altogether.)
* Rule options are flake8 options ``--leaklint-<name>`` (also read from flake8 config
  files as ``leaklint-<name> = ...``), plus ``--leaklint-max-file-bytes`` and
  ``--leaklint-max-file-tokens``.
* Test files (``leaklint/testcode.py``): ``--leaklint-test-files``,
  ``--leaklint-extend-test-files`` and ``--leaklint-test-ignore`` mean what
  ``test-files``, ``extend-test-files`` and ``test-ignore`` mean to the leaklint command,
  with the same defaults, so findings held back there are held back under flake8 too.
  flake8 anchors a pattern holding a ``/`` where it is configured (the config file's
  folder, or the current one on the command line), as leaklint does; the current folder
  stands for the project root.

Tool-level codes under flake8:

* LKL001 (syntax/decoding error): flake8 reports E999 and never runs tree plugins on a
  file CPython cannot parse, so the plugin never duplicates E999. An LKL001 that does
  come out of the plugin means libcst rejected source CPython accepted: the file was not
  checked, and it is reported so that does not go unnoticed.
* LKL000 (a rule crashed) and LKL003 (file too large / too deeply nested) are reported
  as under the leaklint command. Any other unexpected exception is turned into LKL000
  too: a plugin exception would abort the whole flake8 run.
* LKL002 (unreadable path) cannot happen: flake8 reads the files.

Import cost: flake8 imports every installed plugin and registers its options on every
run, whatever is selected. Registering and parsing the options read the rules' codes and
options off the generated catalogue (``leaklint/catalogue.py``), and the screen
(``leaklint/screen.py``: the prefilter and the gate) runs on the catalogue's trigger data,
so the rules, the engine and libcst are imported only when the plugin first meets a file
that needs parsing (or when ``timeout-functions``, the option that adds trigger names,
is set): option values are checked by ``leaklint.option_checks``. ``flake8 --select E``
never imports them, nor does ``flake8 --select LKL`` on files that spell no resource. One
exception: when LKL codes are selected and flake8 is about to fork worker processes
(``--jobs`` > 1 over several files, on Linux), they are imported before the fork, once for
all workers.
"""
from __future__ import annotations

import argparse
import os
from typing import Any, ClassVar, Dict, Iterator, List, Optional, Tuple

from leaklint import __version__

OPTION_PREFIX = "leaklint-"
MAX_FILE_BYTES_OPTION = "max-file-bytes"
MAX_FILE_TOKENS_OPTION = "max-file-tokens"
TEST_FILES_OPTION = "test-files"
EXTEND_TEST_FILES_OPTION = "extend-test-files"
TEST_IGNORE_OPTION = "test-ignore"
_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


def parse_bool(value: Any) -> bool:
    """Booleans as flake8/configparser spell them: true/false, yes/no, on/off, 1/0."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {value!r} (use true or false)")


def _parse_list(value: Any) -> List[str]:
    if isinstance(value, str):
        return [item.strip() for item in value.replace("\n", ",").split(",") if item.strip()]
    return [str(item).strip() for item in value if str(item).strip()]


def _coerce(option, value: Any) -> Any:
    """flake8 hands config values over as strings for anything but int/store_true
    options; command-line values went through the argparse `type`. Normalise both."""
    if value is None:
        return option.default
    if option.type is list:
        return _parse_list(value)
    if option.type is bool:
        return parse_bool(value)
    if option.type is int:
        return int(value)
    return str(value)


def _dest(name: str) -> str:
    return (OPTION_PREFIX + name).replace("-", "_")


def _check_option(name: str, value: Any) -> Optional[str]:
    """The rule's own check of a value set for option `name` (None: fine), without
    importing the rules (leaklint.option_checks)."""
    from leaklint.catalogue import check_value, rule_options

    return check_value(rule_options()[name], value)


def _specifically_selected(code: str, entries) -> bool:
    """leaklint's own rule for off-by-default codes: an entry longer than `LKL`."""
    return any(len(entry) > 3 and code.startswith(entry) for entry in entries)


class LeaklintChecker:
    """flake8 tree plugin running every leaklint rule through the one engine."""

    name = "flake8-leaklint"
    version = __version__

    # Set by parse_options (once per process, re-run in spawned flake8 workers).
    _settings: ClassVar[Dict[str, Any]] = {}
    _codes: ClassVar[Optional[Tuple[str, ...]]] = None  # None: parse_options never ran
    _max_file_bytes: ClassVar[Optional[int]] = None
    _max_file_tokens: ClassVar[Optional[int]] = None
    _apply_noqa: ClassVar[bool] = True  # False under --disable-noqa
    _test_code: ClassVar[Optional[Any]] = None  # a TestCodePolicy; None: the defaults
    # Built on first use, one per distinct configuration, reused for every file.
    _linters: ClassVar[Dict[Any, Any]] = {}

    def __init__(self, tree, lines, filename) -> None:
        self.tree = tree  # unused: the rules need libcst's tree, parsed from `lines`
        self.lines = lines
        self.filename = filename

    # -- flake8 option hooks -------------------------------------------------------
    @classmethod
    def add_options(cls, parser) -> None:
        from leaklint.catalogue import rule_infos
        from leaklint.catalogue import rule_options as catalogued_options
        from leaklint.source import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILE_TOKENS

        off = [rule.code for rule in rule_infos() if not rule.default_enabled]
        if off:
            parser.extend_default_ignore(off)
        for name, option in catalogued_options().items():
            kwargs: Dict[str, Any] = {
                "dest": _dest(name),
                "default": option.default,
                "parse_from_config": True,
                "help": _help(option),
            }
            if option.type is list:
                kwargs["comma_separated_list"] = True
                kwargs["metavar"] = "ITEM,ITEM"
            elif option.type is bool:
                kwargs["type"] = parse_bool
                kwargs["metavar"] = "BOOL"
            elif option.type is int:
                kwargs["type"] = int
                kwargs["metavar"] = "N"
            else:
                kwargs["type"] = str
            parser.add_option("--" + OPTION_PREFIX + name, **kwargs)
        for limit, limit_default, limit_help in (
            (MAX_FILE_BYTES_OPTION, DEFAULT_MAX_FILE_BYTES,
             "files larger than this are reported as LKL003 and not checked"),
            (MAX_FILE_TOKENS_OPTION, DEFAULT_MAX_FILE_TOKENS,
             "files with more tokens (words, punctuation, line breaks) are reported as LKL003 "
             "and not checked; bounds the memory needed"),
        ):
            parser.add_option(
                "--" + OPTION_PREFIX + limit,
                dest=_dest(limit),
                type=int,
                default=limit_default,
                parse_from_config=True,
                metavar="N",
                help=f"leaklint: {limit_help} (default: %(default)s).",
            )
        from leaklint.testcode import DEFAULT_TEST_FILES, default_test_ignore

        test_ignore = default_test_ignore()
        for name, default, metavar, help_text in (
            (TEST_FILES_OPTION, list(DEFAULT_TEST_FILES), "GLOB,GLOB",
             f"patterns of test files (default: {','.join(DEFAULT_TEST_FILES)})."),
            (EXTEND_TEST_FILES_OPTION, [], "GLOB,GLOB", "patterns of test files on top of those."),
            (TEST_IGNORE_OPTION, test_ignore, "CODES",
             "codes held back in test files (default: the rules that do not apply to tests, "
             f"{','.join(test_ignore) or 'none'}; empty: every rule reports in tests)."),
        ):
            parser.add_option(
                "--" + OPTION_PREFIX + name,
                dest=_dest(name),
                default=default,
                parse_from_config=True,
                comma_separated_list=True,
                normalize_paths=name != TEST_IGNORE_OPTION,
                metavar=metavar,
                help="leaklint: " + help_text.replace("%", "%%"),
            )

    @classmethod
    def parse_options(cls, option_manager, options, args=None) -> None:
        from leaklint.catalogue import rule_infos
        from leaklint.catalogue import rule_options as catalogued_options

        settings = {}
        for name, option in catalogued_options().items():
            value = getattr(options, _dest(name), option.default)
            try:
                settings[name] = _coerce(option, value)
                # As the leaklint command checks it; a default needs no check (a test
                # makes sure).
                problem = (_check_option(name, settings[name])
                           if settings[name] != option.default else None)
                if problem:
                    raise ValueError(problem)
            except (ValueError, TypeError, argparse.ArgumentTypeError) as error:
                message = f"--{OPTION_PREFIX}{name}: {error}"
                parser = getattr(option_manager, "parser", None)
                if parser is not None:
                    parser.error(message)  # exits 2 with flake8's usage line
                raise SystemExit(message) from None
        cls._settings = settings
        cls._test_code = _test_code_policy(option_manager, options)
        cls._apply_noqa = not getattr(options, "disable_noqa", False)
        cls._max_file_bytes = int(getattr(options, _dest(MAX_FILE_BYTES_OPTION), 0) or 0) or None
        cls._max_file_tokens = int(getattr(options, _dest(MAX_FILE_TOKENS_OPTION), 0) or 0) or None
        cls._codes = tuple(rule.code for rule in rule_infos() if _wanted(rule, options))
        if cls._codes and _forks_workers(options):
            # Each forked worker would otherwise import the rules and libcst on its
            # first file that needs parsing: one import here, before the fork, serves
            # them all. Whether any file will need it is not known yet (flake8 has not
            # read them), so this stays as it was before the screen.
            try:
                cls._linter().full_linter()
            except Exception:  # reported as LKL000 on each file, as without the fork
                pass

    # -- the check -----------------------------------------------------------------
    @classmethod
    def _linter(cls):
        """The linter of the current configuration: a `screen.LazyLinter`, which imports
        the rules and libcst only for a file that needs parsing, unless an option that adds
        trigger names is set (`screen.lazy_linter`)."""
        from leaklint.catalogue import rule_infos
        from leaklint.screen import lazy_linter
        from leaklint.source import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILE_TOKENS

        codes = cls._codes
        if codes is None:  # used without flake8's option parsing: the default rules
            codes = tuple(r.code for r in rule_infos() if r.default_enabled)
        max_bytes = cls._max_file_bytes or DEFAULT_MAX_FILE_BYTES
        max_tokens = cls._max_file_tokens or DEFAULT_MAX_FILE_TOKENS
        settings = dict(cls._settings)
        key = (codes, _freeze(settings), max_bytes, max_tokens)
        linter = cls._linters.get(key)
        if linter is None:
            def build():
                from leaklint import registry
                from leaklint.engine import Linter

                rules = [r(dict(settings)) for r in registry.all_rules() if r.code in codes]
                return Linter(rules, max_file_bytes=max_bytes, max_file_tokens=max_tokens)

            linter = cls._linters[key] = (
                lazy_linter(codes, settings, build, max_file_bytes=max_bytes,
                            max_file_tokens=max_tokens) or build())
        return linter

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        if self._codes is not None and not self._codes:
            return  # flake8 would discard every LKL code: do no work at all
        for line, column, code, message in self._findings():
            yield line, column - 1, f"{code} {message}", type(self)

    def _findings(self) -> List[Tuple[int, int, str, str]]:
        text = "".join(self.lines)
        try:
            linter = self._linter()
            # flake8 parsed `tree` with CPython's parser: the engine's guard against
            # input that crashes libcst's native parser has nothing left to catch.
            findings = linter.lint_text(text, self.filename, apply_noqa=self._apply_noqa,
                                        size=_byte_size(text, linter.max_file_bytes),
                                        python_checked=self.tree is not None)
        except Exception as error:  # never take the whole flake8 run down
            from leaklint.diagnostics import INTERNAL_ERROR

            return [(1, 1, INTERNAL_ERROR.code,
                     f"internal error in the flake8 plugin: {type(error).__name__}: {error}")]
        if LeaklintChecker._test_code is None:  # used without flake8's option parsing
            LeaklintChecker._test_code = _test_code_policy(None, None)
        reported, _ = LeaklintChecker._test_code.split(findings)
        return [(f.line, f.column, f.code, f.message) for f in reported]


def _test_code_policy(option_manager, options):
    """The test files and test-ignore codes from flake8's options (the defaults where
    unset); a bad code is a usage error, as under the leaklint command."""
    from leaklint.config import validate_codes
    from leaklint.testcode import DEFAULT_TEST_FILES, TestCodePolicy, default_test_ignore

    def option(name, default):
        value = getattr(options, _dest(name), None)
        return default if value is None else _parse_list(value)

    def usage_error(problem):
        message = f"--{OPTION_PREFIX}{TEST_IGNORE_OPTION}: {problem}"
        parser = getattr(option_manager, "parser", None)
        if parser is not None:
            parser.error(message)  # exits 2 with flake8's usage line
        return SystemExit(message)

    root = os.getcwd()
    patterns = option(TEST_FILES_OPTION, list(DEFAULT_TEST_FILES)) + option(EXTEND_TEST_FILES_OPTION, [])
    ignore = validate_codes(option(TEST_IGNORE_OPTION, default_test_ignore()), usage_error)
    return TestCodePolicy([(pattern, root) for pattern in patterns], ignore, root)


def _forks_workers(options) -> bool:
    """Whether flake8 is about to lint in worker processes forked from this one: more
    than one job (flake8's `--jobs`, `auto` being the CPU count), paths that can hold more
    than one file, no stdin, and multiprocessing's `fork` start method (under `spawn` and
    `forkserver` flake8 parses the options again in each worker)."""
    import multiprocessing

    try:
        jobs = options.jobs
        if jobs.is_auto:
            jobs_wanted = multiprocessing.cpu_count()
        else:
            jobs_wanted = jobs.n_jobs
        paths = list(options.filenames) or ["."]
    except (AttributeError, TypeError, NotImplementedError):
        return False  # flake8's options moved: lint lazily, as under a single job
    method = (multiprocessing.get_start_method(allow_none=True)
              or multiprocessing.get_all_start_methods()[0])  # the first one is the default
    return (jobs_wanted > 1 and method == "fork" and "-" not in paths
            and (len(paths) > 1 or os.path.isdir(paths[0])))


def _wanted(rule, options) -> bool:
    """Run `rule` only if flake8 would show its code, and (off-by-default rules) only
    when named specifically, as with leaklint's own --select."""
    explicit = list(getattr(options, "select", None) or []) + list(
        getattr(options, "extend_select", None) or [])
    if not rule.default_enabled and not _specifically_selected(rule.code, explicit):
        return False
    try:
        from flake8.style_guide import Decision, DecisionEngine

        return DecisionEngine(options).decision_for(rule.code) is Decision.Selected
    except Exception:  # flake8 internals moved: run it, flake8 still filters the output
        return True


def _byte_size(text: str, limit: int) -> int:
    """The size the leaklint command would see (UTF-8 bytes), computed only near the limit."""
    if len(text) * 4 <= limit:
        return len(text)  # under the limit however it encodes; the number is not shown
    return len(text.encode("utf-8", "surrogatepass"))


def _freeze(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(_freeze(v) for v in value)
    return value


def _help(option) -> str:
    text = (option.help or "").replace("%", "%%")
    default = option.default
    if isinstance(default, (list, tuple)):
        default = ",".join(map(str, default)) or "none"
    return f"leaklint: {text} (default: {str(default).replace('%', '%%')})"
