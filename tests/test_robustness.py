"""Never crash, never lose a finding (issue 9).

Every case runs next to a leaky file whose LKL101 must still be reported, and asserts the
exact diagnostic for the odd input. Inputs that could take the interpreter down (deep
nesting, huge files, real segfaults) run in a `python -m leaklint` subprocess or in a
worker process, never in the pytest process itself. Everything is generated in tmp_path.

Complements test_cli.py, test_discovery.py, test_runner.py, test_config.py and
test_property.py, which test the same machinery piece by piece.
"""
from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from leaklint import cli, discovery, registry, runner
from leaklint.engine import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILE_TOKENS, Linter
from leaklint.rules.base import Report, Rule

ROOT = Path(__file__).resolve().parent.parent
LEAKY = "import threading\n\ndef f():\n    threading.Thread(target=print).start()\n"
LEAK_BODY = "\ndef f():\n    threading.Thread(target=print).start()\n"  # after an import line
PRELUDE = "from threading import Thread\n"  # the prefilter's trigger word, so the file is parsed
EXAMPLES = int(os.environ.get("LEAKLINT_HYPOTHESIS_EXAMPLES", "60"))

needs_fork = pytest.mark.skipif(multiprocessing.get_start_method() != "fork",
                                reason="the test's patched rules reach workers only when they are forked")


def leaklint(cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """`python -m leaklint --no-cache --isolated ARGS` in `cwd`, as a user would run it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("LEAKLINT_CACHE_DIR", None)
    return subprocess.run([sys.executable, "-m", "leaklint", "--no-cache", "--isolated", *args],
                          cwd=cwd, env=env, capture_output=True, timeout=timeout)


def parse(out) -> dict:
    """{path: [(line, column, code, message)]} from `path:line:col: CODE message` lines."""
    if isinstance(out, bytes):
        out = out.decode("utf-8")
    found: dict = {}
    for line in out.splitlines():
        path, row, column, rest = _split(line)
        code, _, message = rest.strip().partition(" ")
        found.setdefault(path, []).append((int(row), int(column), code, message))
    return found


def _split(line: str):
    # The path may hold ":" (it never does here, but do not guess): the first field that
    # is followed by two integer fields ends it.
    parts = line.split(":")
    for i in range(1, len(parts) - 2):
        if parts[i].isdigit() and parts[i + 1].isdigit():
            return ":".join(parts[:i]), parts[i], parts[i + 1], ":".join(parts[i + 2:])
    raise AssertionError(f"not a finding line: {line!r}")


def write(folder: Path, files: dict) -> None:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def assert_leak_reported(found: dict, path: str = "leaky.py", line: int = 4, column: int = 5) -> None:
    assert [(r, c, code) for r, c, code, _ in found.get(path, [])] == [(line, column, "LKL101")], found.get(path)


def python_says(source: str) -> str:
    """leaklint's LKL001 message for `source`: this interpreter's own SyntaxError message."""
    try:
        compile(source, "case.py", "exec")
    except SyntaxError as error:
        return f"syntax error: {error.msg}"
    raise AssertionError(f"{source!r} compiles")


def python_compiles(source: str) -> bool:
    """Whether this interpreter compiles `source`; its nesting limits differ by version."""
    try:
        compile(source, "case.py", "exec")
    except (SyntaxError, RecursionError, MemoryError):
        return False
    return True


# -- bad input: one run over every odd file, each next to leaky.py ---------------------------------------
# name -> (content, [(line, code, part of the message)])
BAD_INPUT = {
    # Nothing to parse.
    "empty.py": (b"", []),
    "comments_only.py": ("# Thread\n# nothing but comments\n", []),
    "blank_only.py": (PRELUDE + "\n   \n\t\n\f\n", []),
    # Not Python 3 (LKL001), including Python 2.
    "syntax_error.py": (PRELUDE + "def f(:\n    pass\n", [(2, "LKL001", "syntax error: invalid syntax")]),
    "python2_print.py": (PRELUDE + "print 'hello'\n",
                         [(2, "LKL001", "syntax error: Missing parentheses in call to 'print'")]),
    "python2_exec.py": (PRELUDE + "exec 'x = 1'\n",
                        [(2, "LKL001", "syntax error: Missing parentheses in call to 'exec'")]),
    "python2_octal.py": (PRELUDE + "mode = 0777\n", [(2, "LKL001", "syntax error: leading zeros")]),
    # The wording of these two changed between Python versions: whatever this one says.
    "unterminated.py": (PRELUDE + "x = 'abc\n", [(2, "LKL001", python_says(PRELUDE + "x = 'abc\n"))]),
    "bad_indent.py": (PRELUDE + "def f():\nreturn 1\n", [(3, "LKL001", "expected an indented block")]),
    "mixed_tabs.py": (PRELUDE + "if x:\n\tpass\n        pass\n", [(4, "LKL001", "inconsistent use of tabs")]),
    "backslash_at_eof.py": (PRELUDE + "x = 1 \\", [(2, "LKL001", "syntax error")]),
    "vertical_tab.py": (PRELUDE + "\x0bx = 1\n", [(2, "LKL001", python_says(PRELUDE + "\x0bx = 1\n"))]),
    # Valid Python that libcst's parser rejects (as in the standard library's test_grammar.py).
    "libcst_rejects.py": (PRELUDE + "def f():\n    (x): int\n",
                          [(3, "LKL001", "cannot parse file: valid Python that libcst cannot parse: parser error")]),
    # Odd but valid: the leak in them is found at the right place.
    "bom.py": (b"\xef\xbb\xbf" + LEAKY.encode(), [(4, "LKL101", "never joined")]),
    "crlf.py": (LEAKY.replace("\n", "\r\n"), [(4, "LKL101", "never joined")]),
    "lone_cr.py": (LEAKY.replace("\n", "\r"), [(4, "LKL101", "never joined")]),
    "form_feed.py": ("import threading\n\f\ndef f():\n\f    threading.Thread(target=print).start()\n",
                     [(4, "LKL101", "never joined")]),
    "tabs.py": (LEAKY.replace("    ", "\t"), [(4, "LKL101", "never joined")]),
    "no_final_newline.py": (LEAKY.rstrip("\n"), [(4, "LKL101", "never joined")]),
    "unicode_names.py": ("import threading\n\u00e9t\u00e9 = threading.Thread(target=print)\n\u00e9t\u00e9.start()\n",
                         [(2, "LKL101", "never joined")]),
    # A PEP 263 cookie is honoured: the \xe9 is latin-1, not broken UTF-8.
    "latin1_cookie.py": (b"# -*- coding: latin-1 -*-\nimport threading\n\ndef f():\n    s = '\xe9'\n"
                         b"    threading.Thread(target=print).start()\n", [(6, "LKL101", "never joined")]),
    "vim_cookie.py": (b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nimport threading\n"
                      b"x = '\x93quoted\x94'\n" + LEAK_BODY.encode(), [(7, "LKL101", "never joined")]),
    # Cannot be decoded (LKL001), whatever else is in them.
    "undecodable.py": (b"import threading\nx = '\xff\xfe'\n" + LEAK_BODY.encode(),
                       [(1, "LKL001", "cannot decode file: cannot decode as utf-8")]),
    "wrong_cookie.py": (b"# coding: ascii\nimport threading\nx = '\xc3\xa9'\n",
                        [(1, "LKL001", "cannot decode file: cannot decode as ascii")]),
    "unknown_cookie.py": (b"# coding: no-such-codec\nimport threading\n",
                          [(1, "LKL001", "cannot decode file: unknown encoding: no-such-codec")]),
    "bom_and_latin1_cookie.py": (b"\xef\xbb\xbf# coding: latin-1\nimport threading\n",
                                 [(1, "LKL001", "cannot decode file: encoding problem")]),
    "nul_bytes.py": (b"import threading\x00\n" + LEAK_BODY.encode(), [(1, "LKL001", "NUL bytes")]),
    "binary.py": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, [(1, "LKL001", "NUL bytes")]),
    "utf16.py": ("# coding: utf-16\nimport threading\n".encode("utf-16"), [(1, "LKL001", "NUL bytes")]),
    # Pathological: reported as skipped (LKL003), never a crash of the native parser.
    "nested_1000.py": (PRELUDE + "x = " + "(" * 1000 + "1" + ")" * 1000 + "\n",
                       [(2, "LKL003", "file skipped: too many nested parentheses")]),
    "nested_brackets_5000.py": (PRELUDE + "x = " + "[" * 5000 + "]" * 5000 + "\n",
                                [(2, "LKL003", "file skipped: too many nested parentheses")]),
    "long_sum.py": (PRELUDE + "x = " + "+".join(["a"] * 10_000) + "\n",
                    [(1, "LKL003", "file skipped: too deeply nested to parse")]),
    # Python 3.13 compiles this one, and then it is linted (nothing to report).
    "long_call_chain.py": (PRELUDE + "x = f" + "()" * 5000 + "\n",
                           [] if python_compiles(PRELUDE + "x = f" + "()" * 5000 + "\n")
                           else [(1, "LKL003", "file skipped: too deeply nested to parse")]),
    "deep_blocks.py": (PRELUDE + "".join(" " * i + "if x:\n" for i in range(101)) + " " * 101 + "pass\n",
                       [(102, "LKL003", "file skipped: too many levels of indentation")]),
    # Deep, but within what the parsers take: linted, the leak is found.
    "deep_unary.py": ("import threading\nx = " + "not " * 800 + "y\n" + LEAK_BODY,
                      [(5, "LKL101", "never joined")]),
    # A line of almost 1 MB (within the default size limit).
    "one_mb_line.py": ("import threading\nx = '" + "a" * 990_000 + "'\n" + LEAK_BODY,
                       [(5, "LKL101", "never joined")]),
    # Syntax newer than this interpreter's that libcst parses: still linted, not LKL001.
    "pep695.py": ("import threading\ntype Alias = list[int]\ndef first[T](items: list[T]) -> T:\n"
                  "    return items[0]\n" + LEAK_BODY, [(7, "LKL101", "never joined")]),
}


@pytest.fixture(scope="module")
def bad_input_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_input")
    write(folder, {name: content for name, (content, _) in BAD_INPUT.items()})
    write(folder, {"leaky.py": LEAKY})
    result = leaklint(folder, ".")
    return result, parse(result.stdout)


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input_gives_its_diagnostic_and_the_rest_is_reported(bad_input_run, name):
    result, found = bad_input_run
    expected = BAD_INPUT[name][1]
    got = found.get(name, [])
    assert [(line, code) for line, _, code, _ in got] == [(line, code) for line, code, _ in expected], got
    for (_, _, _, message), (_, _, part) in zip(got, expected):
        assert part in message
    assert_leak_reported(found)


def test_bad_input_run_exits_1_without_a_word_on_stderr(bad_input_run):
    result, found = bad_input_run
    assert result.returncode == 1  # findings, LKL001 and LKL003 among them; no LKL000
    assert result.stderr == b""  # no traceback, no SyntaxWarning of the linted code
    assert not [f for findings in found.values() for f in findings if f[2] == "LKL000"]


def test_python2_file_without_trigger_words_is_not_parsed(tmp_path):
    """The prefilter's documented cost: a file naming nothing any rule looks for is never
    parsed, so its syntax errors are not reported either (decoding errors still are)."""
    linter = Linter([rule() for rule in registry.all_rules()])
    assert linter.lint_bytes(b"print 'hello'\n", "py2.py") == []
    assert [f.code for f in linter.lint_bytes(b"x = '\xff'\n", "bad.py")] == ["LKL001"]


# -- size limits and generated files ------------------------------------------------------------------
def fifty_thousand_line_module(marker: str = "") -> str:
    """A generated-looking module: 49,997 constants, then a leak on line 50,000."""
    lines = [f"# {marker}\n" if marker else "# a module\n", "import threading\n"]
    lines += [f"CONSTANT_{i} = {i}\n" for i in range(49_995)]
    return "".join(lines) + LEAK_BODY


def test_skip_generated_and_max_file_bytes(run_cli, tmp_path):
    big = "import threading\n" + "x = 1\n" * 2000 + LEAK_BODY
    write(tmp_path, {"leaky.py": LEAKY, "generated_pb2.py": fifty_thousand_line_module("@generated by protoc"),
                     "big.py": big})
    result = run_cli("--no-cache", "--skip-generated", "--max-file-bytes", "10000")
    found = parse(result.out)
    assert result.code == 1
    assert "generated_pb2.py" not in found  # skipped, quickly: never parsed
    assert found["big.py"] == [(1, 1, "LKL003", f"file skipped: {len(big)} bytes is over the limit of 10000 "
                                                 "(max-file-bytes)")]
    assert_leak_reported(found)


@pytest.mark.slow
def test_fifty_thousand_line_module_is_linted(run_cli, tmp_path):
    """Not skipped, the 50,000-line module is parsed and its leak found (slow: libcst's
    parse and the position pass over ~250,000 nodes take 10-60 s depending on the load)."""
    write(tmp_path, {"leaky.py": LEAKY, "generated_pb2.py": fifty_thousand_line_module("@generated")})
    # It is over both default limits: 1.13 MB, 200,007 tokens.
    found = parse(run_cli("--no-cache", "--jobs", "1", "--max-file-bytes", "1200000", "--max-file-tokens", "210000").out)
    assert [(line, code) for line, _, code, _ in found["generated_pb2.py"]] == [(50_000, "LKL101")]
    assert_leak_reported(found)


def padded_to(size: int, head: str, line: str) -> str:
    """`head`, then copies of `line`, then padding: exactly `size` bytes (ASCII)."""
    copies = (size - len(head)) // len(line)
    text = head + line * copies
    return text + "#" * (size - len(text) - 1) + "\n"


def test_default_limits_bound_memory(run_cli, tmp_path):
    """A file at the default byte limit is linted (in a worker process of its own, as it is
    over runner.OWN_PROCESS_BYTES); one byte more is LKL003, and so is a smaller file of
    more tokens than the default token limit (~1 MB of memory each): neither is parsed."""
    strings = "MESSAGES = {'en': '" + "a long generated message " * 10 + "'}\n"  # cheap to parse
    at_limit = padded_to(DEFAULT_MAX_FILE_BYTES, LEAKY, strings)
    dense = padded_to(700_000, LEAKY, "BITMAP = (" + "0," * 60 + ")\n")  # ~2 MB per 1,000 bytes to parse
    write(tmp_path, {"leaky.py": LEAKY, "at_limit.py": at_limit, "over_limit.py": at_limit + "\n",
                     "dense.py": dense})
    result = run_cli("--no-cache", "--jobs", "1")
    found = parse(result.out)
    assert found["over_limit.py"] == [(1, 1, "LKL003", f"file skipped: {DEFAULT_MAX_FILE_BYTES + 1} bytes is over "
                                                       f"the limit of 1000000 (max-file-bytes)")]
    tokens = len(re.findall(r"\w+|[^\w\s]|\n", dense))
    assert found["dense.py"] == [(1, 1, "LKL003", f"file skipped: {tokens} tokens is over the limit of 200000 "
                                                  f"(max-file-tokens)")]
    assert_leak_reported(found, "at_limit.py")
    assert_leak_reported(found)
    # The bound in notes/robustness.md is measured for these.
    assert (DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILE_TOKENS) == (1_000_000, 200_000)


def test_max_file_tokens_option(run_cli, tmp_path):
    small = LEAKY + "x = 1\n" * 10
    write(tmp_path, {"leaky.py": LEAKY, "small.py": small, "pyproject.toml": "[tool.leaklint]\nmax-file-tokens = 40\n"})
    found = parse(run_cli("--no-cache").out)
    assert found["small.py"] == [(1, 1, "LKL003", "file skipped: 63 tokens is over the limit of 40 (max-file-tokens)")]
    assert_leak_reported(found)  # 23 tokens
    found = parse(run_cli("--no-cache", "--max-file-tokens", "70").out)  # the command line wins
    assert_leak_reported(found, "small.py")


def test_out_of_memory_in_python_is_lkl003_for_that_file_only(monkeypatch):
    """MemoryError (Python's own allocations failing) in the parser or in a rule: LKL003,
    not LKL001 "cannot parse" nor LKL000 "internal error"; the next file is linted."""
    from leaklint import engine

    linter = Linter([rule() for rule in registry.all_rules()])
    real_parse = engine.cst.parse_module

    def parse_or_fail(text):
        if "HUGE" in text:
            raise MemoryError()
        return real_parse(text)

    monkeypatch.setattr(engine.cst, "parse_module", parse_or_fail)
    skipped = [(1, 1, "LKL003", "file skipped: out of memory while linting it (MemoryError)")]
    assert [(f.line, f.column, f.code, f.message) for f in linter.lint_bytes((LEAKY + "HUGE = 1\n").encode(), "a.py")] \
        == skipped
    assert [(f.line, f.code) for f in linter.lint_bytes(LEAKY.encode(), "b.py")] == [(4, "LKL101")]

    class GreedyRule(ExplodingRule):
        def check(self, index):
            raise MemoryError()

    greedy = Linter([rule() for rule in registry.all_rules()] + [GreedyRule()])
    assert [(f.line, f.column, f.code, f.message) for f in greedy.lint_bytes((LEAKY + "BOOM = 1\n").encode(), "c.py")] \
        == skipped


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_real_memory_limit_costs_the_big_file_only(tmp_path):
    """Under a real memory limit (RLIMIT_AS) the native parser does not raise: it aborts its
    process ("memory allocation of N bytes failed"). With --jobs 1 the big file is linted in
    a process of its own, so the run completes: LKL003 for it, every other finding kept."""
    numbers = ", ".join(str(n) for n in range(100, 116))
    tables = padded_to(480_000, PRELUDE, f"TABLE = ({numbers})\n")  # ~380 MB to parse, 194,200 tokens
    write(tmp_path, {"leaky.py": LEAKY, "tables.py": tables, "other.py": LEAKY})
    script = (
        "import resource, sys\n"
        "import concurrent.futures.process, libcst, leaklint.cli\n"
        # What leaklint needs to start, plus room for the small files: not for the big one.
        "size = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmSize:'))\n"
        "limit = size * 1024 + 200 * 1024 * 1024\n"
        "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
        "sys.exit(leaklint.cli.main(['--no-cache', '--isolated', '--jobs', '1', '.']))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), MALLOC_ARENA_MAX="2")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, timeout=600)
    found = parse(result.stdout)
    assert result.returncode == 1, result.stderr
    assert found.pop("tables.py") == [(1, 1, "LKL003", "file skipped: the process linting it died "
                                                       "(a crash in the parser, or out of memory)")]
    assert_leak_reported(found)
    assert_leak_reported(found, "other.py")


# -- paths ------------------------------------------------------------------------------------------------
def test_odd_paths_are_lkl002_and_the_rest_is_reported(tmp_path):
    write(tmp_path, {"leaky.py": LEAKY, "x.py/inner.py": LEAKY, "pkg/sub/m.py": LEAKY})
    os.symlink("..", tmp_path / "pkg" / "sub" / "up")  # a folder loop
    os.symlink("self.py", tmp_path / "self.py")  # a file link loop
    os.symlink("nowhere.py", tmp_path / "broken.py")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.py")  # reading it would block forever
    names = {"leaky.py", "x.py/inner.py", "pkg/sub/m.py"}
    try:
        (tmp_path / os.fsdecode(b"caf\xe9.py")).write_bytes(LEAKY.encode())
        names.add("caf\\xe9.py")
    except (OSError, UnicodeEncodeError):
        pass  # a file system without non-UTF-8 names
    result = leaklint(tmp_path, ".")
    found = parse(result.stdout)
    assert result.returncode == 1 and result.stderr == b""
    for name in names:
        assert_leak_reported(found, name)
    problems = {path: findings for path, findings in found.items() if path not in names}
    expected = {
        "self.py": [(1, 1, "LKL002", "symbolic link loop: the link leads back to itself")],
        "broken.py": [(1, 1, "LKL002", "broken symbolic link: its target does not exist")],
        "pkg/sub/up": [(1, 1, "LKL002", "symbolic link loop: it leads back to a folder being walked")],
    }
    if hasattr(os, "mkfifo"):
        expected["pipe.py"] = [(1, 1, "LKL002", "not a regular file")]
    assert problems == expected

    # Named on the command line: the folder named like a file is walked, the rest as above;
    # a missing path too (as in flake8 and ruff), and a FIFO or a device is never opened:
    # it would block, or never end.
    named = ["leaky.py", "x.py", "broken.py", "self.py", "missing.py"]
    named += [name for name in ("pipe.py", "/dev/zero") if os.path.exists(tmp_path / name)]
    result = leaklint(tmp_path, *named, timeout=120)
    found = parse(result.stdout)
    assert result.returncode == 1 and result.stderr == b""
    assert_leak_reported(found)
    assert_leak_reported(found, "x.py/inner.py")
    assert [f[2] for f in found["broken.py"]] == ["LKL002"] and [f[2] for f in found["self.py"]] == ["LKL002"]
    assert found["missing.py"] == [(1, 1, "LKL002", "no such file or folder")]
    for name in named[5:]:
        assert found[name] == [(1, 1, "LKL002", "not a regular file")]


def test_unreadable_and_vanishing_paths_through_the_command(run_cli, tmp_path, monkeypatch):
    write(tmp_path, {"leaky.py": LEAKY, "secret.py": LEAKY, "locked/l.py": LEAKY, "gone.py": LEAKY,
                     "z/last.py": LEAKY})
    real_scandir, real_discover = os.scandir, cli.discover

    def scandir(path="."):
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    def denied_open(file, *args, **kwargs):
        if os.path.basename(os.fspath(file)) == "secret.py":
            raise PermissionError(13, "Permission denied", file)
        return open(file, *args, **kwargs)

    def discover_then_delete(*args, **kwargs):
        found = real_discover(*args, **kwargs)
        os.unlink(tmp_path / "gone.py")  # deleted between discovery and reading
        return found

    # chmod cannot take our own rights away when the tests run as root (see the next test).
    monkeypatch.setattr(discovery.os, "scandir", scandir)
    monkeypatch.setattr(runner, "open", denied_open, raising=False)
    monkeypatch.setattr(cli, "discover", discover_then_delete)
    result = run_cli("--no-cache", "--jobs", "1")
    found = parse(result.out)
    assert result.code == 1
    assert found.pop("locked") == [(1, 1, "LKL002", "cannot read folder: Permission denied")]
    assert found.pop("secret.py") == [(1, 1, "LKL002", "cannot read file: Permission denied")]
    assert found.pop("gone.py") == [(1, 1, "LKL002", "cannot read file: No such file or directory")]
    assert sorted(found) == ["leaky.py", "z/last.py"]
    assert_leak_reported(found)
    assert_leak_reported(found, "z/last.py")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="permissions do not stop root")
def test_permission_denied_for_real(tmp_path):
    write(tmp_path, {"leaky.py": LEAKY, "secret.py": LEAKY, "locked/l.py": LEAKY})
    os.chmod(tmp_path / "secret.py", 0)
    os.chmod(tmp_path / "locked", 0)
    try:
        result = leaklint(tmp_path, ".")
    finally:
        os.chmod(tmp_path / "locked", 0o755)
        os.chmod(tmp_path / "secret.py", 0o644)
    found = parse(result.stdout)
    assert result.returncode == 1
    assert [f[2] for f in found["secret.py"]] == ["LKL002"] and [f[2] for f in found["locked"]] == ["LKL002"]
    assert_leak_reported(found)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_never_opened_blocking_by_the_runner_or_the_cache(tmp_path):
    """Discovery reports FIFOs, but one may appear in its place just after: reading it must
    not wait for a writer that never comes. In a subprocess, so that a hang is a timeout."""
    write(tmp_path, {"leaky.py": LEAKY})
    os.mkfifo(tmp_path / "pipe.py")
    script = (
        "import sys\n"
        "from leaklint.runner import LintSettings, ResultCache, Runner, lint_file\n"
        "settings = LintSettings(codes=('LKL101',))\n"
        "print(lint_file(settings.build_linter(), 'pipe.py', False).findings[0].message)\n"
        "cache = ResultCache('cache', settings.cache_key())\n"
        "Runner(settings, cache=cache).run(['leaky.py'])\n"
        "cache = ResultCache('cache', settings.cache_key())\n"  # warm: lookups read files
        "print(cache.lookup('pipe.py', settings.max_file_bytes))\n"
        "print([(f.path, f.code) for f in Runner(settings, cache=cache).run(['pipe.py', 'leaky.py']).findings])\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "not a regular file\nNone\n[('leaky.py', 'LKL101'), ('pipe.py', 'LKL002')]\n"


def test_a_file_over_max_file_bytes_is_never_read_whole(run_cli, tmp_path, monkeypatch):
    big = b"import threading\n" + b"x = 1\n" * 200_000 + LEAK_BODY.encode()
    unlimited = b"# no trigger word before the limit\n" * 100 + b"import threading\n" + LEAK_BODY.encode()
    write(tmp_path, {"leaky.py": LEAKY, "big.py": big, "unlimited.py": unlimited})
    read_sizes = []

    class CountingReads:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.handle.close()

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def read(self, size=-1):
            data = self.handle.read(size)
            read_sizes.append(len(data))
            return data

    monkeypatch.setattr(runner, "open", lambda *args, **kwargs: CountingReads(open(*args, **kwargs)),
                        raising=False)
    result = run_cli("--no-cache", "--jobs", "1", "--max-file-bytes", "1000")
    found = parse(result.out)
    assert found.pop("big.py") == [(1, 1, "LKL003", f"file skipped: {len(big)} bytes is over the limit of 1000 "
                                                     "(max-file-bytes)")]
    # Over the limit is LKL003 whatever the rest holds (it is never read).
    assert found.pop("unlimited.py")[0][2] == "LKL003"
    assert_leak_reported(found)
    assert max(read_sizes) == 1001


def test_standard_input_is_read_up_to_max_file_bytes(run_cli):
    # `leaklint - < /dev/zero` must end: no more than the limit + 1 bytes are read, so the
    # whole size is not known (and not claimed).
    result = run_cli("--no-cache", "--max-file-bytes", "1000", "-",
                     stdin=b"import threading\n" + b"\n" * 1_000_000)
    assert result.code == 1
    assert result.out == "-:1:1: LKL003 file skipped: over the limit of 1000 bytes (max-file-bytes)\n"


# -- standard output that cannot be written ----------------------------------------------------------
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize("args", [(".",), ("--list-rules",), ("--explain", "LKL101")])
def test_a_full_disk_on_standard_output_is_a_one_line_error(tmp_path, args):
    write(tmp_path, {"leaky.py": LEAKY})
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "leaklint", "--no-cache", "--isolated", *args],
                                cwd=tmp_path, env=env, stdout=full, stderr=subprocess.PIPE, timeout=120)
    assert result.returncode == 2
    assert result.stderr == b"leaklint: error: cannot write to standard output: No space left on device\n"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file descriptors")
def test_a_closed_standard_output_is_a_one_line_error(tmp_path):
    # `leaklint . >&-`: Python starts with sys.stdout None.
    write(tmp_path, {"leaky.py": LEAKY})
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "leaklint", "--no-cache", "--isolated", "."],
                            cwd=tmp_path, env=env, stderr=subprocess.PIPE, timeout=120,
                            preexec_fn=lambda: os.close(1))
    assert result.returncode == 2
    assert result.stderr == b"leaklint: error: cannot write to standard output: it is closed\n"


def test_a_reader_that_leaves_early_is_no_error(tmp_path):
    """`leaklint . | head -1`: the pipe closes under leaklint, which stops quietly."""
    write(tmp_path, {f"leaky{i}.py": LEAKY for i in range(3)})
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "leaklint", "--no-cache", "--isolated", "."],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before a line is written
    try:
        stderr = process.stderr.read()
        assert process.wait(timeout=120) == 1
    finally:
        process.kill()
        process.stderr.close()
    assert stderr == b""


# -- a broken rule ------------------------------------------------------------------------------------------
class ExplodingRule(Rule):
    """Raises on files that contain BOOM; reports a node that is not in the file on GHOST."""

    code, name, summary, trigger_words = "LKL990", "exploding", "Test rule.", ("BOOM", "GHOST", "SEGFAULT")

    def check(self, index):
        text = index.module.code
        if "SEGFAULT" in text:  # a real crash of the worker process, as a native parser's would be
            import ctypes
            import faulthandler

            faulthandler.disable()  # pytest's would print a dump from the dying worker
            ctypes.string_at(0)
        if "GHOST" in text:
            yield Report(cst.Name("ghost"), "a node from some other tree")
        if "BOOM" in text:
            raise RuntimeError("the rule broke")


@pytest.fixture
def exploding_rule(monkeypatch):
    """The real rules plus ExplodingRule. Forked workers see the patched registry too."""
    rules = tuple(sorted(registry.all_rules() + (ExplodingRule,), key=lambda rule: rule.code))
    monkeypatch.setattr(registry, "all_rules", lambda: rules)


def test_a_rule_that_raises_is_lkl000_and_everything_else_is_reported(run_cli, tmp_path, exploding_rule):
    write(tmp_path, {"leaky.py": LEAKY, "boom.py": LEAKY + "BOOM = 1\n", "ghost.py": LEAKY + "GHOST = 1\n"})
    result = run_cli("--no-cache", "--exit-zero")
    found = parse(result.out)
    assert result.code == 2  # an internal error is never a clean run, even with --exit-zero
    assert found["boom.py"][0] == (1, 1, "LKL000", "internal error in LKL990 (exploding): RuntimeError: the rule broke")
    assert found["ghost.py"][0] == (1, 1, "LKL000", "internal error in LKL990 (exploding): "
                                                    "it reported a node that is not in this file")
    for path in ("leaky.py", "boom.py", "ghost.py"):  # the other rules ran on the same files
        assert [f for f in found[path] if f[2] != "LKL000"] == [found["leaky.py"][0]]
    assert "Traceback" not in result.out
    verbose = run_cli("--no-cache", "--verbose")
    assert verbose.code == 2
    assert "    Traceback (most recent call last):" in verbose.out
    assert 'raise RuntimeError("the rule broke")' in verbose.out
    assert "KeyError" in verbose.out  # the ghost report's traceback


@needs_fork
def test_parallel_mode_keeps_internal_errors_and_survives_a_segfaulting_worker(run_cli, tmp_path, exploding_rule):
    files = {f"leaky{i:02}.py": LEAKY for i in range(12)}
    files.update({"boom.py": LEAKY + "BOOM = 1\n", "segfault.py": LEAKY + "SEGFAULT = 1\n"})
    write(tmp_path, files)
    result = run_cli("--no-cache", "--jobs", "2", "--verbose")
    found = parse("\n".join(line for line in result.out.splitlines() if not line.startswith(" ")))
    assert result.code == 2
    assert found.pop("segfault.py") == [(1, 1, "LKL003", "file skipped: the process linting it died "
                                                          "(a crash in the parser, or out of memory)")]
    assert found["boom.py"][0][2:] == ("LKL000", "internal error in LKL990 (exploding): RuntimeError: the rule broke")
    assert 'raise RuntimeError("the rule broke")' in result.out  # the worker's traceback came back
    assert sorted(found) == sorted(files.keys() - {"segfault.py"})
    for path in found:
        assert_leak_reported({path: [f for f in found[path] if f[2] != "LKL000"]}, path)


# -- configuration errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, expected", [
    (b"[tool.leaklint]\nselect = [\n", "pyproject.toml: invalid TOML: "),
    (b"[tool.leaklint]\nselect = ['LKL1'] # \xff\n", "pyproject.toml: invalid TOML: "),
    (b"[tool.leaklint]\nselect = 'LKL1'\n", "pyproject.toml: [tool.leaklint] select: expected a list of strings"),
    (b"[tool.leaklint]\nmax-file-bytes = -1\n", "pyproject.toml: [tool.leaklint] max-file-bytes: expected a positive"),
    (b"[tool.leaklint.per-file-ignores]\n'tests/*' = ['LKL101', 'NOPE']\n",
     "pyproject.toml: [tool.leaklint] per-file-ignores.'tests/*': unknown code or prefix 'NOPE'"),
])
def test_configuration_errors_are_one_line_exit_2_and_nothing_is_linted(run_cli, tmp_path, body, expected):
    write(tmp_path, {"pyproject.toml": body, "leaky.py": LEAKY})
    result = run_cli("--no-cache")
    assert result.code == 2 and result.out == ""
    assert result.err.startswith(f"leaklint: error: {tmp_path / 'pyproject.toml'}")
    assert expected in result.err and result.err.count("\n") == 1


# -- the linted code is never imported or run -------------------------------------------------------------
def test_linted_code_is_never_imported_or_executed(tmp_path):
    """Files named like modules leaklint imports (the standard library's tokenize, queue,
    dataclasses...) in the folder `python -m leaklint` runs in: each would leave a mark
    if it ran. The folder has enough files for the worker processes to start."""
    shadowing = ["tokenize", "ast", "queue", "dataclasses", "argparse", "textwrap", "json", "hashlib",
                 "typing", "libcst", "leaklint_plugin", "conftest", "setup", "__init__", "__main__"]
    files = {f"{name}.py": f"open({name!r} + '.RAN', 'w').close()\nimport sys\nsys.exit(3)\n" + LEAKY
             for name in shadowing}
    write(tmp_path, files)
    for command in ([sys.executable, "-m", "leaklint"], [str(Path(sys.executable).parent / "leaklint")]):
        if not os.path.exists(command[0]):
            continue  # no console script next to this interpreter
        result = subprocess.run(command + ["--no-cache", "--isolated", "--jobs", "2", "."], cwd=tmp_path,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, timeout=600)
        assert result.stderr == b"", result.stderr.decode(errors="replace")
        assert result.returncode == 1
        found = parse(result.stdout)
        assert sorted(found) == sorted(files)
        for name in files:
            assert_leak_reported(found, name, line=7)
        assert list(tmp_path.glob("*.RAN")) == []


# -- fuzzing the byte level -------------------------------------------------------------------------------
LINTER = Linter([rule() for rule in registry.all_rules()])
TOOL_OR_RULE = {rule.code for rule in registry.all_rules()} | {"LKL001", "LKL003"}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_mangled_leaky_bytes_never_raise(data):
    """A leaky file with bytes flipped, cut, or spliced in (line breaks, NUL, BOM, invalid
    UTF-8, brackets): every outcome is a rule finding, LKL001 or LKL003, never an exception
    and never LKL000."""
    source = bytearray(PRELUDE.encode() + LEAKY.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(source)))
        action = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = data.draw(st.one_of(
            st.sampled_from([b"\r", b"\r\n", b"\f", b"\t", b"\x00", b"\xef\xbb\xbf", b"\xff", b"\xc3",
                             b"(", b")", b"[", b":", b"\\", b"'", b'"""', b"# coding: latin-1\n",
                             b"\n    ", b"lambda: ", b"not " * 300, b"(" * 250]),
            st.binary(min_size=1, max_size=8)))
        if action == "insert":
            source[at:at] = piece
        elif action == "delete":
            del source[at:at + len(piece)]
        else:
            source[at:at + len(piece)] = piece
    findings = LINTER.lint_bytes(bytes(source), "mangled.py")
    assert {f.code for f in findings} <= TOOL_OR_RULE, [(f.code, f.message) for f in findings]
    assert all(f.line >= 1 and f.column >= 1 for f in findings)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data):
    findings = LINTER.lint_bytes(b"import threading  # Thread\n" + data, "noise.py")
    assert {f.code for f in findings} <= TOOL_OR_RULE
