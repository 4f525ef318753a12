"""The `leaklint` command: options, configuration, the run, the output and the exit code.

`main(argv)` returns the exit status; the console script (and `python -m leaklint`)
pass it to `sys.exit`.
"""
from __future__ import annotations

import argparse
import functools
import os
import re
import sys
import textwrap
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, TextIO, Tuple, Type, Union

import leaklint
from leaklint import interrupts, registry, report
from leaklint.baseline import BaselineError, apply_baseline, write_baseline
from leaklint.catalogue import rule_infos
from leaklint.config import (
    EMPTY_SELECT,
    Config,
    ConfigError,
    config_search_start,
    find_config_file,
    load_config,
    root_without_config,
    validate_codes,
)
from leaklint.diagnostics import INTERNAL_ERROR, TOOL_CODES, ToolCode
from leaklint.discovery import DEFAULT_EXCLUDES, PathFilter, default_exclude_patterns, discover
from leaklint.finding import Finding
from leaklint.outputs import (
    StdoutError,
    detach_stdout,
    flush_stdout,
    overwrite_refusal,
    write_atomically,
    write_stdout,
    write_text,
)
from leaklint.progress import Progress
from leaklint.runner import OTHER_CACHE_FILES_KEPT, LintSettings, ResultCache, Runner
from leaklint.source import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILE_TOKENS
from leaklint.testcode import DEFAULT_TEST_FILES, TestCodePolicy, default_test_ignore

if TYPE_CHECKING:  # the rules (and libcst) are imported only when a file is linted
    from leaklint.rules.base import Rule

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
STDIN = "-"
CACHE_DIR_ENV = "LEAKLINT_CACHE_DIR"
DEFAULT_CACHE_DIR = ".leaklint_cache"

DESCRIPTION = textwrap.fill(
    "Find leak-prone concurrency in Python: threads never joined, asyncio tasks dropped, "
    "queues nobody drains, network calls without timeouts, processes and pools never "
    "released.", width=88)

EPILOG = f"""\
files:
  Folders are searched for *.py files. A file named on the command line is always
  linted, whatever its suffix and even if it matches an exclude pattern (as in ruff);
  add --force-exclude to apply the exclude patterns to named files too (for pre-commit).
  A pattern without "/" matches the name of any file or folder (build, *.egg-info); one
  with "/" matches the path relative to where it is configured: the current folder on
  the command line, the project root in the configuration file (tests/fixtures).
  `exclude` replaces the default excludes, `extend-exclude` adds to them. Default excludes
  ("./" for the project root only):
  {textwrap.fill(", ".join(DEFAULT_EXCLUDES), width=86, subsequent_indent="  ")}.
  A folder holding a pyvenv.cfg (a virtual environment) is never searched.
  Symbolic links are followed; a missing path, links in a loop, broken links, FIFOs,
  devices, unreadable files or folders are reported (LKL002) and the run goes on.

test files:
{textwrap.fill(
    "Files matching the test-file patterns (matched as exclude patterns are) are linted "
    "with every rule, but the findings of the codes in test-ignore are held back there. "
    "Its default is the rules that do not apply to tests: the network timeouts and the "
    f"unbounded waits ({', '.join(default_test_ignore()) or 'none'}), as a test talks to "
    "local fixtures, waits for its own threads and children by design, and the suite's "
    "own timeout guards it. --test-ignore= (empty) reports every rule in "
    "tests; --statistics counts what was held back. Default test files: "
    f"{', '.join(DEFAULT_TEST_FILES)}.", width=88, initial_indent="  ", subsequent_indent="  ")}

configuration:
  The nearest .leaklint.toml or leaklint.toml (top-level keys), or pyproject.toml with a
  [tool.leaklint] table (the first of these in a folder wins), searching from the
  deepest folder holding every linted path upwards (for -, the --stdin-filename's
  folder). --config FILE names one, --isolated ignores them. Its folder is the project
  root; without one, the current folder. Keys: select, ignore, extend-ignore,
  extend-select, exclude, extend-exclude, per-file-ignores (glob = [codes]), test-files,
  extend-test-files, test-ignore, jobs, cache-dir, max-file-bytes, max-file-tokens,
  skip-generated, and every rule option (see --explain CODE). --ignore, --extend-ignore
  and --extend-select adjust the file's selection, after it (in one place, the more
  specific entry wins); --select replaces it, the file's ignores included. Other options
  override the file; --extend-exclude and --extend-test-files add to it.

cache:
  Results are cached by file content and configuration in .leaklint_cache in the
  project root (--cache-dir, ${CACHE_DIR_ENV}, or cache-dir in the configuration).
  Besides the current one, the cache files of the {OTHER_CACHE_FILES_KEPT} most recent other
  configurations or leaklint versions are kept. -v says why the cache was not used.

suppressing findings:
  "# noqa", "# noqa: LKL101" or a prefix ("# noqa: LKL1") on any line of the flagged
  statement. Alone on its line anywhere in a file, "# leaklint: noqa" (or flake8's
  "# flake8: noqa", whatever follows it) skips the file; "# leaklint: noqa: CODES"
  drops only those codes in that file.

exit status:
  0 no findings, 1 findings (including files that could not be parsed, read or
  checked: LKL001-LKL003), 2 usage or configuration error, or an internal error (LKL000),
  130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""


class UsageError(Exception):
    """A command-line value leaklint cannot use. One line."""


@interrupts.sigterm_raises()
def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        status = _main(argv)
        flush_stdout()  # a write error must surface here, not in the interpreter's last flush
        return status
    except BrokenPipeError:
        # `leaklint | head`: the reader left, and that is no error of ours. Point stdout at
        # /dev/null so that the interpreter's final flush does not complain either.
        detach_stdout()
        return EXIT_FINDINGS
    except StdoutError as error:  # `> /dev/full`
        detach_stdout()
        return _error(str(error))
    except Exception as error:  # a bug in leaklint: exit 2 as for LKL000, never 1 ("findings")
        import traceback

        traceback.print_exc()
        return _error(f"internal error: {type(error).__name__}: {error}")
    except KeyboardInterrupt:
        print("leaklint: interrupted", file=sys.stderr)
        return interrupts.EXIT_INTERRUPTED
    except interrupts.Terminated:
        print("leaklint: terminated", file=sys.stderr)
        return interrupts.EXIT_TERMINATED


def _main(argv: Optional[Sequence[str]]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error argparse printed
        return exit_.code if isinstance(exit_.code, int) else EXIT_ERROR
    if args.list_rules:
        write_stdout(list_rules_text())
        return EXIT_CLEAN
    if args.explain:
        text = explain_text(args.explain)
        if text is None:
            return _error(f"--explain: unknown code {args.explain!r} (see --list-rules)")
        write_stdout(text)
        return EXIT_CLEAN
    try:
        config = _load_configuration(args)
        options = resolve_options(args, config)
        paths = args.paths or ["."]
    except (ConfigError, UsageError) as error:
        return _error(str(error))
    for warning in usage_warnings(args, paths):
        _note(args, f"warning: {warning}")
    return _run(args, options, paths)


def _error(message: str) -> int:
    _write(sys.stderr, f"leaklint: error: {message}\n")
    return EXIT_ERROR


def _note(args, message: str) -> None:
    """A line on standard error that is neither a finding nor an error: -q silences it."""
    if not args.quiet:
        _write(sys.stderr, f"leaklint: {message}\n")


def usage_warnings(args, paths: List[str]) -> List[str]:
    """Options given where they do nothing: said, and the run goes on (as ruff does)."""
    warnings = []
    if args.stdin_filename is not None and STDIN not in paths:
        warnings.append("--stdin-filename is ignored: it names standard input, and - is not "
                        "among the paths")
    if args.show_source and args.format != "text":
        warnings.append(f"--show-source is ignored with --format {args.format} (only the text "
                        f"format shows source lines)")
    if args.show_fixes and args.format != "text":
        warnings.append(f"--show-fixes is ignored with --format {args.format} (only the text "
                        f"format shows help lines; json and sarif always carry the fix)")
    return warnings


def plural(count: int, noun: str, plural_noun: str = "") -> str:
    """`1 finding`, `2 findings`; `plural_noun` for the irregular ones (entry, entries)."""
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"


# -- options ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leaklint", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="files or folders to lint (default: .); - reads standard input")

    selection = parser.add_argument_group("choosing rules (comma-separated codes or prefixes)")
    selection.add_argument("--select", type=_comma_list, action="extend", metavar="CODES",
                           help="only these rules (default: every rule that is on by default)")
    selection.add_argument("--ignore", type=_comma_list, action="extend", metavar="CODES",
                           help="not these rules or tool codes, on top of the configured ones; a "
                                "longer code wins over a shorter prefix")
    selection.add_argument("--extend-ignore", type=_comma_list, action="extend", metavar="CODES",
                           help="the same as --ignore (flake8's name for adding to the ignored codes)")
    selection.add_argument("--extend-select", type=_comma_list, action="extend", metavar="CODES",
                           help="these rules on top of the selection (e.g. rules that are off by default)")
    selection.add_argument("--test-ignore", type=_comma_list, action="extend", metavar="CODES",
                           help="hold back these codes' findings in test files (default: the rules "
                                "that do not apply to tests, "
                                f"{','.join(default_test_ignore()) or 'none'}); "
                                "--test-ignore= reports every rule in tests")

    files = parser.add_argument_group("choosing files")
    files.add_argument("--exclude", type=_comma_list, action="extend", metavar="GLOBS",
                       help="patterns to skip, replacing the defaults and the configured ones")
    files.add_argument("--extend-exclude", type=_comma_list, action="extend", metavar="GLOBS",
                       help="patterns to skip on top of the others")
    files.add_argument("--test-files", type=_comma_list, action="extend", metavar="GLOBS",
                       help="patterns of test files, replacing the defaults and the configured ones")
    files.add_argument("--extend-test-files", type=_comma_list, action="extend", metavar="GLOBS",
                       help="patterns of test files on top of the others")
    files.add_argument("--force-exclude", action="store_true",
                       help="apply the exclude patterns to files named on the command line too")
    files.add_argument("--stdin-filename", metavar="NAME",
                       help="the path to report (and match per-file-ignores against) for -")
    files.add_argument("--max-file-bytes", type=_positive_int, metavar="N",
                       help=f"skip larger files with LKL003 (default: {DEFAULT_MAX_FILE_BYTES})")
    files.add_argument("--max-file-tokens", type=_positive_int, metavar="N",
                       help=f"skip files with more tokens (words, punctuation, line breaks) with "
                            f"LKL003 (default: {DEFAULT_MAX_FILE_TOKENS}, which keeps the memory "
                            f"needed to lint one file under 1 GB)")
    files.add_argument("--skip-generated", action=argparse.BooleanOptionalAction, default=None,
                       help="skip files marked @generated in their first 10 lines (default: no)")

    config = parser.add_argument_group("configuration")
    config.add_argument("--config", metavar="FILE",
                        help="read the configuration from this file instead of searching for one "
                             "(pyproject.toml: its [tool.leaklint] table; any other name: top-level keys)")
    config.add_argument("--isolated", action="store_true", help="ignore every configuration file")

    running = parser.add_argument_group("running")
    running.add_argument("-j", "--jobs", type=_positive_int, metavar="N",
                         help="worker processes (default: the number of CPUs)")
    running.add_argument("--cache-dir", metavar="DIR",
                         help=f"where to keep cached results (default: {DEFAULT_CACHE_DIR} in the project root)")
    running.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")

    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=report.FORMATS, default="text",
                        help="text (path:line:col: CODE message, the default), json, sarif "
                             "or github (workflow annotations)")
    output.add_argument("--output", metavar="FILE",
                        help="write the report to FILE instead of standard output (- for "
                             "standard output); never to a file being linted or read")
    output.add_argument("--show-source", action="store_true",
                        help="text format: show each finding's source line with a caret under it, "
                             "and its fix on a `help:` line")
    output.add_argument("--show-fixes", action="store_true",
                        help="text format: show how to fix each finding on a `help:` line under "
                             "it (json and sarif always carry the fix)")
    output.add_argument("--baseline", metavar="FILE",
                        help="do not report the findings recorded in this baseline file")
    output.add_argument("--write-baseline", metavar="FILE",
                        help="record every finding in FILE, paths relative to its folder "
                             "(then report only what it cannot hold: LKL0xx)")
    output.add_argument("--exit-zero", action="store_true",
                        help="exit 0 even when there are findings (internal errors still exit 2)")
    output.add_argument("--statistics", action="store_true",
                        help="after the findings, how many there are of each code and in all "
                             "(on standard error for the json, sarif and github formats)")
    chatter = output.add_mutually_exclusive_group()
    chatter.add_argument("-v", "--verbose", action="store_true",
                         help="on standard error: the configuration file, rules, excludes, test "
                              "files, jobs and cache folder used, why the cache was not used, "
                              "internal errors' tracebacks, how many findings were held back in "
                              "test files, how many files libcst parsed, and the time of each phase")
    chatter.add_argument("-q", "--quiet", action="store_true",
                         help="print only the findings (and --statistics): no notes or warnings "
                              "on standard error; errors are still printed")

    about = parser.add_argument_group("about")
    about.add_argument("--version", action="version", version=f"leaklint {leaklint.__version__}")
    about.add_argument("--list-rules", action="store_true",
                       help="list every code with its name, default state and summary")
    about.add_argument("--explain", metavar="CODE", help="the documentation of one rule or tool code")
    return parser


def _comma_list(value: str) -> List[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return number


@dataclass
class Options:
    """The command line and the configuration file, merged: what this run does."""

    config: Config
    enabled: Set[str]  # the rule and tool codes to report
    exclude: PathFilter
    per_file_ignores: List[Tuple[PathFilter, List[str]]]
    test_code: TestCodePolicy  # which files are tests, which codes are held back there
    settings: LintSettings  # what decides a file's findings from its content
    jobs: int
    cache_dir: Optional[str]  # None: no cache


def _load_configuration(args) -> Config:
    if args.config:
        return load_config(args.config)
    start = config_search_start(args.paths, args.stdin_filename)
    config = Config() if args.isolated else load_config(find_config_file(start))
    if config.path is None:
        config.root = root_without_config(start)
    return config


def resolve_options(args, config: Config) -> Options:
    def checked_codes(flag: str, values):
        if values is None:
            return None
        return validate_codes(values, lambda problem: UsageError(f"{flag}: {problem}"))

    cwd = os.getcwd()
    select = checked_codes("--select", args.select)
    if select == []:  # `--select ''`
        raise UsageError(f"--select: {EMPTY_SELECT}")
    # As in ruff: the file's selection, then the command line's adjustments to it.
    enabled = registry.enabled_codes([
        registry.Selection(config.select, config.ignore + config.extend_ignore, config.extend_select),
        registry.Selection(select, (checked_codes("--ignore", args.ignore) or [])
                           + (checked_codes("--extend-ignore", args.extend_ignore) or []),
                           checked_codes("--extend-select", args.extend_select) or []),
    ])

    if args.exclude is not None:
        exclude = [(pattern, cwd) for pattern in args.exclude]
    elif config.exclude is not None:
        exclude = config.exclude
    else:
        exclude = default_exclude_patterns(config.root)
    exclude = exclude + config.extend_exclude + [(p, cwd) for p in args.extend_exclude or []]

    if args.test_files is not None:
        test_files = [(pattern, cwd) for pattern in args.test_files]
    elif config.test_files is not None:
        test_files = config.test_files
    else:
        test_files = [(pattern, config.root) for pattern in DEFAULT_TEST_FILES]
    test_files = test_files + config.extend_test_files + [(p, cwd) for p in args.extend_test_files or []]
    test_ignore = checked_codes("--test-ignore", args.test_ignore)
    if test_ignore is None:
        test_ignore = default_test_ignore() if config.test_ignore is None else config.test_ignore

    # The configured options of the enabled rules (each rule falls back to its own
    # defaults, which are part of its code, and so of the cache key).
    enabled_options = {name for rule in rule_infos() if rule.code in enabled for name in rule.options}
    rule_options = {name: value for name, value in config.rule_options.items() if name in enabled_options}
    settings = LintSettings(
        codes=tuple(sorted(code for code in enabled if code not in TOOL_CODES)),
        rule_options=rule_options,
        max_file_bytes=args.max_file_bytes or config.max_file_bytes,
        max_file_tokens=args.max_file_tokens or config.max_file_tokens,
        skip_generated=config.skip_generated if args.skip_generated is None else args.skip_generated,
    )
    cache_dir = args.cache_dir or os.environ.get(CACHE_DIR_ENV) or config.cache_dir \
        or os.path.join(config.root, DEFAULT_CACHE_DIR)
    return Options(
        config=config,
        enabled=enabled,
        exclude=PathFilter(exclude),
        per_file_ignores=[(PathFilter([(glob, base)]), ignored) for glob, base, ignored in config.per_file_ignores],
        test_code=TestCodePolicy(test_files, test_ignore, config.root),
        settings=settings,
        jobs=args.jobs or config.jobs or _cpu_count(),
        cache_dir=None if args.no_cache else cache_dir,
    )


def _cpu_count() -> int:
    # The CPUs this process may use (a container's share), not the machine's.
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


# -- the run --------------------------------------------------------------------------------
def _run(args, options: Options, paths: List[str]) -> int:
    started = time.perf_counter()
    if args.verbose:
        _write(sys.stderr, "".join(f"leaklint: {line}\n" for line in describe_options(options)))
    root = options.config.root
    # Loaded first: it also holds the folder listings of the last run (FolderListings).
    cache = (ResultCache(options.cache_dir, options.settings.cache_key())
             if options.cache_dir and any(p != STDIN for p in paths) else None)
    cache_seconds = time.perf_counter() - started
    discovered = discover([p for p in paths if p != STDIN], options.exclude, root,
                          force_exclude=args.force_exclude,
                          listings=cache.listings if cache is not None else None)
    discovery_seconds = time.perf_counter() - started - cache_seconds
    if not discovered.files:
        cache = None  # nothing to cache: no cache folder where there is no Python file
    refusal = overwrite_refusal(*_outputs_and_inputs(args, options, discovered.files))
    if refusal:
        return _error(refusal)
    progress = Progress.on_terminal(sys.stderr, quiet=args.quiet)
    runner = Runner(options.settings, jobs=options.jobs, cache=cache, progress=progress)
    outcome = runner.run(discovered.files)
    reporting_started = time.perf_counter()
    findings = discovered.problems + outcome.findings
    stdin_sources = {}  # --show-source reads these, not the disk
    if STDIN in paths:
        name = args.stdin_filename or STDIN
        if not (args.force_exclude and options.exclude.matches_file(name, root)):
            # Bounded as files are: `leaklint - < /dev/zero` must end (LKL003).
            stdin_sources[name] = sys.stdin.buffer.read(options.settings.max_file_bytes + 1)
            findings += runner.lint_stdin(stdin_sources[name], name)
    findings = sorted(f for f in findings if _reported(f, options, root))
    findings, held_back = options.test_code.split(findings)
    try:
        findings = _apply_baselines(args, findings, checked_paths=discovered.files)
    except BaselineError as error:
        return _error(error.message)

    text = render(findings, args.format, show_source=args.show_source,
                  show_fixes=args.show_fixes, verbose=args.verbose, stdin_sources=stdin_sources)
    statistics = statistics_text(findings, held_back) if args.statistics else ""
    if args.format == "text":
        text, statistics = text + statistics, ""
    if args.output and args.output != STDIN:
        try:
            write_atomically(args.output, printable(text))
        except OSError as error:
            return _error(f"--output: cannot write {args.output}: {error.strerror or error}")
    else:
        write_stdout(printable(text))
    if statistics:
        _write(sys.stderr, statistics)
    if args.verbose:
        now = time.perf_counter()
        phases = {"discovery": discovery_seconds, **outcome.seconds, "reporting": now - reporting_started}
        if cache is not None:
            phases = {"cache loading": cache_seconds, **phases}
        for problem in cache.problems if cache is not None else []:
            _write(sys.stderr, f"leaklint: cache: {problem}\n")
        print(f"leaklint: {plural(outcome.files, 'file')} ({outcome.from_cache} from the cache), "
              f"{plural(options.jobs, 'job')}, {now - started:.2f}s", file=sys.stderr)
        print(f"leaklint: parsed by libcst: {plural(outcome.parsed, 'file')} (the others: cached, "
              f"or no selected rule's trigger word or name in them)", file=sys.stderr)
        print("leaklint: times: " + ", ".join(f"{name} {seconds:.2f}s" for name, seconds in phases.items()),
              file=sys.stderr)
        print(f"leaklint: {plural(len(held_back), 'finding')} in test files held back by "
              f"test-ignore ({','.join(options.test_code.ignore) or 'empty'})", file=sys.stderr)
    if not discovered.files and not discovered.problems and STDIN not in paths:
        _note(args, "warning: no Python files found")

    if any(f.code == INTERNAL_ERROR.code for f in findings):
        return EXIT_ERROR
    if findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _outputs_and_inputs(args, options: Options, linted: List[str]):
    """The files this run would write ({option: path}) and those it reads ((path, what it
    is)), for `overwrite_refusal`: `leaklint --output a.py a.py` must not replace a.py."""
    outputs = {"--output": None if args.output == STDIN else args.output,
               "--write-baseline": args.write_baseline}
    inputs = [(path, "a file being linted") for path in linted]
    if args.stdin_filename:
        inputs.append((args.stdin_filename, "the file standard input stands for (--stdin-filename)"))
    if options.config.path:
        inputs.append((options.config.path, "the configuration file in use"))
    rewriting = args.write_baseline and args.baseline and \
        os.path.realpath(args.baseline) == os.path.realpath(args.write_baseline)
    if args.baseline and not rewriting:  # regenerating a baseline in place is what one wants
        inputs.append((args.baseline, "the baseline being read"))
    return outputs, inputs


def describe_options(options: Options) -> List[str]:
    """What `-v` says before the run: what is checked, where, and how."""
    cwd = os.getcwd()

    def pattern(glob: str, base: str) -> str:
        # A pattern with "/" is a path from `base`: say which, unless it is here.
        if "/" in glob.rstrip("/") and os.path.abspath(base) != cwd:
            return f"{glob} (from {os.path.relpath(base)})"
        return glob

    codes = options.settings.codes
    return [
        f"configuration: {options.config.path or '(none, defaults)'}",
        f"rules ({len(codes)}): {', '.join(codes) or 'none'}",
        f"exclude: {', '.join(pattern(g, b) for g, b in options.exclude.patterns) or 'nothing'}",
        f"test files: {', '.join(pattern(g, b) for g, b in options.test_code.files.patterns) or 'none'}",
        f"held back in test files (test-ignore): {', '.join(options.test_code.ignore) or 'nothing'}",
        f"jobs: {options.jobs}",
        f"cache folder: {options.cache_dir or 'none (--no-cache)'}",
    ]


def _reported(finding: Finding, options: Options, root: str) -> bool:
    """The filters that depend on the path or apply to tool codes (the rule selection
    itself happened when the rules were built)."""
    if finding.code in TOOL_CODES and finding.code not in options.enabled:
        return False
    for path_filter, codes in options.per_file_ignores:
        if any(finding.code.startswith(c) for c in codes) and path_filter.matches_file(finding.path, root):
            return False
    return True


def _apply_baselines(args, findings: List[Finding], checked_paths) -> List[Finding]:
    if args.write_baseline:
        count = write_baseline(args.write_baseline, findings)
        _note(args, f"wrote {plural(count, 'finding')} to the baseline {args.write_baseline}")
    baseline = args.baseline or args.write_baseline
    if not baseline:
        return findings
    findings, unmatched = apply_baseline(baseline, findings, checked_paths)
    if unmatched:
        _note(args, f"{plural(unmatched, 'entry', 'entries')} of the baseline {baseline} "
                    f"{'matches' if unmatched == 1 else 'match'} nothing any more (fixed?); "
                    f"shrink it with --write-baseline")
    return findings


def render(findings: List[Finding], fmt: str, show_source: bool, verbose: bool,
           stdin_sources=None, show_fixes: bool = False) -> str:
    stdin_sources = stdin_sources or {}

    @functools.lru_cache(maxsize=None)
    def read_lines(path: str) -> List[str]:
        if path in stdin_sources:
            return report.source_lines(stdin_sources[path])
        return report.read_source_lines(path)

    if fmt != "text" or not verbose:
        return report.render(findings, fmt, show_source=show_source, show_fixes=show_fixes,
                             read_lines=read_lines)
    # -v: an internal error's traceback (Finding.detail) under its line.
    parts = []
    for finding in findings:
        parts.append(report.render_text([finding], show_source=show_source, show_fixes=show_fixes,
                                        read_lines=read_lines))
        if finding.detail:
            detail = "\n".join(map(report.escape_control, finding.detail.rstrip("\n").split("\n")))
            parts.append(textwrap.indent(detail, "    ") + "\n")
    return "".join(parts)


_LONE_SURROGATE = re.compile("[\udc80-\udcff]")
# Every control character but tab and the \n that ends each line of an output.
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Python keeps the bytes of a file name that is not valid UTF-8 as lone surrogates,
    which no encoder accepts: show them as \\xNN escapes instead of failing to print.
    Control characters are escaped too (report.escape_control: the formats escape their
    own fields; this also covers file names in leaklint's other messages)."""
    text = report.escape_control(text, _CONTROL_BUT_NEWLINE)
    return _LONE_SURROGATE.sub(lambda match: f"\\x{ord(match.group()) - 0xDC00:02x}", text)


def _write(stream: TextIO, text: str) -> None:
    write_text(stream, printable(text))


def statistics_text(findings: List[Finding], held_back: Sequence[Finding] = ()) -> str:
    """A line per code (count, code, name), then the total; then the same for the
    findings test-ignore held back in test files, if any (what --test-ignore= would add)."""
    text = _counts_text(findings) if findings else ""
    if held_back:
        text += "held back in test files by test-ignore (--test-ignore= reports them):\n"
        text += _counts_text(held_back)
    return text


def _counts_text(findings: Sequence[Finding]) -> str:
    counts = Counter(f.code for f in findings)
    names: Dict[str, str] = {f.code: f.name for f in findings}
    width = max(len(str(len(findings))), 5)
    lines = [f"{counts[code]:<{width}} {code} {names[code]}\n" for code in sorted(counts)]
    lines.append(f"{len(findings):<{width}} total ({plural(len(counts), 'code')})\n")
    return "".join(lines)


# -- documentation ----------------------------------------------------------------------------
def _catalog() -> List[Tuple[str, str, str, str]]:
    """(code, name, default state, summary) of every tool code and rule, by code."""
    rows = [(c.code, c.name, "always", c.summary) for c in TOOL_CODES.values()]
    rows += [(r.code, r.name, "on" if r.default_enabled else "off", r.summary) for r in registry.all_rules()]
    return sorted(rows)


def list_rules_text() -> str:
    rows = _catalog()
    name_width = max(len(name) for _, name, _, _ in rows)
    return "".join(f"{code}  {name:<{name_width}}  {state:<6}  {summary}\n"
                   for code, name, state, summary in rows)


def explain_text(code: str) -> Optional[str]:
    code = code.strip().upper()
    rule = None if code in TOOL_CODES else registry.rule_by_code(code)
    doc: Union[ToolCode, Type[Rule], None] = TOOL_CODES.get(code) or rule
    if doc is None:
        return None
    if rule is None:
        state = "always reported unless ignored"
    else:
        state = "on by default" if rule.default_enabled else "off by default; enable with --extend-select"
    parts = [f"{doc.code} {doc.name} ({state})\n\n{_paragraph(doc.summary, '')}"]
    for title, text, is_code in (("What it does", doc.what_it_does, False),
                                 ("Why is this bad", doc.why_bad, False),
                                 ("Example", doc.example, True),
                                 ("Use instead", doc.use_instead, True)):
        if text:
            body = textwrap.indent(text.rstrip("\n"), "    ") if is_code else _paragraph(text, "  ")
            parts.append(f"{title}:\n{body}")
    test_code_reason = getattr(doc, "test_code_reason", "")  # rules only, not tool codes
    if test_code_reason:
        parts.append(f"In test files:\n{_paragraph(test_code_reason, '  ')}")
    options = getattr(doc, "options", ())
    if options:
        lines = ["Options (in [tool.leaklint]):"]
        for option in options:
            lines.append(f"  {option.name} ({option.type.__name__}, default: {option.default!r})")
            lines.append(_paragraph(option.help, "      "))
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _paragraph(text: str, indent: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=88, initial_indent=indent,
                         subsequent_indent=indent)


if __name__ == "__main__":
    sys.exit(main())
