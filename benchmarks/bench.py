"""leaklint against the peers on a real corpus, in one run.

    python benchmarks/bench.py [CORPUS_DIR] [--runs 3] [--peers-bin DIR] [--write FILE]

Without CORPUS_DIR the evaluation corpus listed in ../shared/corpus/corpus.txt is fetched
(or completed) with ../shared/corpus/fetch_corpus.sh into --fetch-dest, and its `src`
folder is used.

Every tool is run as a subprocess on the same folder, from an empty temporary working
directory (no configuration file applies), its output thrown away:

* ``leaklint cold``      ``leaklint --isolated --cache-dir EMPTY DIR`` (default jobs: all
                         CPUs; the cache starts empty, so this includes writing it)
* ``leaklint warm``      the same command again, the cache filled by the cold run
* ``leaklint one-file-edited``  the warm command on a copy of DIR (in a temporary folder,
                         deleted at the end: the corpus itself is never written), one
                         file of which (--edit-file) has a comment line appended before
                         each round; the copy's cache is filled beforehand, untimed, by
                         a cold and a warm run (2.5 s apart, so that the files' times
                         are old enough for the cache to trust them)
* ``leaklint cold -j1``  ``leaklint --isolated --cache-dir EMPTY --jobs 1 DIR``
* ``bandit -t B113``     ``bandit -q -r -t B113 DIR`` (requests without timeout)
* ``flake8 --select F``  ``flake8 --isolated --select F DIR`` (pyflakes; default jobs)
* ``ruff``               ``ruff check --isolated --no-cache --select S113,RUF006 DIR``
* ``ruff warm``          ``ruff check --isolated --cache-dir CACHE --select S113,RUF006 DIR``,
                         its cache filled by one untimed run before the first round
* ``read (floor)``       a Python process that reads every ``*.py`` file once

The tools run round-robin (cold, warm, -j1, bandit, flake8, ruff, read; again ...) so that
load from other processes hits all of them alike, and each number is the median of
--runs rounds. For each tool: wall seconds, CPU seconds (user+sys of the tool and its
worker processes), files/s, the ratio of its wall time to leaklint cold's, and peak
memory: the sum of the resident sizes of the tool's whole process tree (sampled every
--sample-interval seconds) and the largest single process (ru_maxrss, from wait4).

leaklint's outputs (cold, warm, -j1, one-file-edited with the copy's path put back) are
compared on every round: a difference is reported and makes the exit status 1.
``--only`` without ``leaklint cold`` fills the warm row's cache once, untimed, instead
of timing a cold run on every round. The verdicts of issue 8 are printed at the end:
cold faster than bandit and flake8, warm at most 10% of cold;
then issue 19's: cold at most 20 s, warm at most 0.15 s or 2x ruff warm,
one-file-edited under 0.5 s, cold's largest process at most 188 MiB.

The peers are looked up in --peers-bin (e.g. a throw-away venv's bin folder, so that the
flake8 there has no leaklint plugin registered), then on PATH; a tool that is missing is
left out of the table. leaklint itself is run as ``sys.executable -m leaklint``.
"""
from __future__ import annotations

import argparse
import atexit
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED_CORPUS = REPO.parent / "shared" / "corpus"

# Reads every *.py file below argv[1] in sorted walk order; prints "files lines bytes".
READ_FLOOR = r"""
import os, sys
files = lines = size = 0
for root, dirs, names in os.walk(sys.argv[1]):
    dirs.sort()
    for name in sorted(names):
        if name.endswith(".py"):
            with open(os.path.join(root, name), "rb") as handle:
                data = handle.read()
            files += 1
            lines += data.count(b"\n")
            size += len(data)
print(files, lines, size)
"""


@dataclass
class Tool:
    name: str
    command: List[str]
    cache_dir: Optional[str] = None  # emptied before the run ("cold")
    capture: bool = False  # keep stdout (leaklint: compared across modes)
    before: Optional[Callable[[int], None]] = None  # run (untimed) before each round's run
    copy_of: Optional[tuple] = None  # (copy, corpus): the paths to swap back in its output
    walls: List[float] = field(default_factory=list)
    cpus: List[float] = field(default_factory=list)
    tree_rss: List[int] = field(default_factory=list)  # KiB
    max_rss: List[int] = field(default_factory=list)  # KiB
    codes: List[int] = field(default_factory=list)
    outputs: List[bytes] = field(default_factory=list)


@dataclass
class Measurement:
    wall: float
    cpu: float
    tree_rss: int  # KiB, peak of the sum over the process tree
    max_rss: int  # KiB, largest single process
    returncode: int
    stdout: bytes


# -- running and measuring one command ---------------------------------------------------------
def _children(pid: int) -> List[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                out.extend(int(c) for c in handle.read().split())
    except (OSError, ValueError):
        pass
    return out


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, IndexError):
        return 0


def tree_rss(pid: int) -> int:
    """Resident KiB of `pid` and all its descendants now."""
    total, stack, seen = 0, [pid], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        total += _rss_kib(current)
        stack.extend(_children(current))
    return total


def measure(command: List[str], cwd: str, capture: bool, interval: float) -> Measurement:
    out_file = tempfile.TemporaryFile() if capture else None
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL,
                               stdout=out_file if capture else subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    peak = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, tree_rss(process.pid))
        time.sleep(interval)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stdout = b""
    if out_file is not None:
        out_file.seek(0)
        stdout = out_file.read()
        out_file.close()
    # ru_maxrss of wait4: the largest of the child and its (waited-for) descendants.
    return Measurement(wall, usage.ru_utime + usage.ru_stime, max(peak, usage.ru_maxrss),
                       usage.ru_maxrss, process.returncode, stdout)


# -- the corpus --------------------------------------------------------------------------------
def fetch_corpus(dest: Path, script: Path) -> Path:
    if not script.exists():
        sys.exit(f"bench: no corpus folder given and {script} does not exist")
    print(f"bench: fetching the corpus with {script} into {dest} ...", file=sys.stderr)
    subprocess.run(["bash", str(script), str(dest)], check=False)
    src = dest / "src"
    if not src.is_dir():
        sys.exit(f"bench: fetching the corpus failed ({src} missing)")
    return src


def find_tool(name: str, peers_bin: Optional[str]) -> Optional[str]:
    if peers_bin:
        candidate = Path(peers_bin) / name
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def version_of(command: List[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = " ".join((result.stdout or result.stderr).split())
    return text or "?"


def machine() -> Dict[str, str]:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as handle:
            memory = f"{int(handle.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        memory = "?"
    return {
        "cpus": f"{os.cpu_count()} (usable: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'})",
        "cpu model": cpu,
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
    }


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "?"


# -- the report --------------------------------------------------------------------------------
def median(values):
    return statistics.median(values) if values else float("nan")


def table(tools: List[Tool], files: int, lines: int) -> str:
    cold_tool = next((t for t in tools if t.name == "leaklint cold"), None)
    cold = median(cold_tool.walls) if cold_tool is not None else float("nan")
    rows = ["| tool | files | lines | wall s | CPU s | files/s | ratio to leaklint cold | "
            "peak memory (tree) | largest process |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for tool in tools:
        wall = median(tool.walls)
        ratio = f"{wall / cold:.2f}x" if cold_tool is not None else "-"
        rows.append(
            f"| {tool.name} | {files:,} | {lines:,} | {wall:.2f} | {median(tool.cpus):.2f} | "
            f"{files / wall:,.0f} | {ratio} | {median(tool.tree_rss) / 1024:,.0f} MiB | "
            f"{median(tool.max_rss) / 1024:,.0f} MiB |")
    return "\n".join(rows) + "\n"


def verdicts(tools: List[Tool]) -> List[str]:
    by_name = {t.name: median(t.walls) for t in tools}
    if "leaklint cold" not in by_name:
        return []
    cold = by_name["leaklint cold"]
    out = []
    for peer in ("bandit -t B113", "flake8 --select F"):
        if peer in by_name:
            ok = cold < by_name[peer]
            out.append(f"{'PASS' if ok else 'FAIL'}: leaklint cold ({cold:.2f}s) faster than "
                       f"{peer} ({by_name[peer]:.2f}s): {by_name[peer] / cold:.2f}x")
    warm = by_name.get("leaklint warm")
    if warm is not None:
        ok = warm <= 0.10 * cold
        out.append(f"{'PASS' if ok else 'FAIL'}: leaklint warm ({warm:.2f}s) at most 10% of cold: "
                   f"{100 * warm / cold:.1f}%")
    # Issue 19's targets.
    ok = cold <= 20.0
    out.append(f"{'PASS' if ok else 'FAIL'}: leaklint cold ({cold:.2f}s) at most 20 s")
    ruff_warm = by_name.get("ruff warm")
    if warm is not None and ruff_warm is not None:
        limit = max(0.15, 2 * ruff_warm)
        ok = warm <= limit
        out.append(f"{'PASS' if ok else 'FAIL'}: leaklint warm ({warm:.3f}s) at most 0.15 s or 2x ruff "
                   f"warm ({ruff_warm:.3f}s), whichever is larger ({limit:.3f}s)")
    edited = by_name.get("leaklint one-file-edited")
    if edited is not None:
        ok = edited < 0.5
        out.append(f"{'PASS' if ok else 'FAIL'}: leaklint one-file-edited ({edited:.3f}s) under 0.5 s")
    largest = max(median(t.max_rss) for t in tools if t.name == "leaklint cold") / 1024
    ok = largest <= 188
    out.append(f"{'PASS' if ok else 'FAIL'}: leaklint cold's largest process ({largest:.0f} MiB) "
               f"at most 188 MiB")
    return out


def default_edit_file(corpus: Path) -> Optional[str]:
    """The first file, in sorted walk order, that imports threading: one that passes the
    text prefilter, so the edit costs a parse and the rules, not only a read."""
    for root, dirs, names in os.walk(corpus):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                with open(path, "rb") as handle:
                    if b"import threading" in handle.read():
                        return os.path.relpath(path, corpus)
    return None


def _fill_once(command: List[str], cwd: str) -> Callable[[int], None]:
    """A `Tool.before` that runs `command` once, untimed, before the first round (a cache)."""
    def before(round_: int) -> None:
        if round_ == 0:
            subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return before


def _append_line(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n", 3)[3])
    parser.add_argument("corpus", nargs="?", help="folder to lint (default: fetch the corpus)")
    parser.add_argument("--runs", type=int, default=3, help="rounds; medians are reported (default 3)")
    parser.add_argument("--peers-bin", help="folder holding bandit, flake8 and ruff (default: PATH)")
    parser.add_argument("--fetch-script", default=str(SHARED_CORPUS / "fetch_corpus.sh"))
    parser.add_argument("--fetch-dest", default="/tmp/leaklint-corpus")
    parser.add_argument("--only", help="comma-separated tool names to run (e.g. 'leaklint cold,read (floor)')")
    parser.add_argument("--skip-peers", action="store_true", help="only leaklint and the floor")
    parser.add_argument("--sample-interval", type=float, default=0.05,
                        help="seconds between memory samples (default 0.05)")
    parser.add_argument("--write", metavar="FILE", help="also write the results as markdown to FILE")
    parser.add_argument("--edit-file", metavar="RELPATH",
                        help="the file (relative to the corpus) that 'leaklint one-file-edited' "
                             "edits in its copy (default: the first, in sorted order, that "
                             "imports threading)")
    args = parser.parse_args(argv)

    corpus = Path(args.corpus) if args.corpus else fetch_corpus(Path(args.fetch_dest), Path(args.fetch_script))
    corpus = corpus.resolve()
    if not corpus.is_dir():
        parser.error(f"{corpus} is not a folder")

    workdir = tempfile.mkdtemp(prefix="leaklint-bench-")
    atexit.register(shutil.rmtree, workdir, True)  # also when interrupted (it may hold a copy)
    cold_cache = os.path.join(workdir, "cache-cold")
    j1_cache = os.path.join(workdir, "cache-j1")
    leaklint = [sys.executable, "-m", "leaklint", "--isolated", "--exit-zero"]
    tools = [
        Tool("leaklint cold", leaklint + ["--cache-dir", cold_cache, str(corpus)],
             cache_dir=cold_cache, capture=True),
        Tool("leaklint warm", leaklint + ["--cache-dir", cold_cache, str(corpus)], capture=True),
        Tool("leaklint cold --jobs 1", leaklint + ["--cache-dir", j1_cache, "--jobs", "1", str(corpus)],
             cache_dir=j1_cache, capture=True),
    ]
    copy = os.path.join(workdir, "copy")
    copy_cache = os.path.join(workdir, "cache-copy")
    tools.append(Tool("leaklint one-file-edited", leaklint + ["--cache-dir", copy_cache, copy],
                      capture=True, copy_of=(copy, str(corpus))))
    versions = {"leaklint": version_of([sys.executable, "-m", "leaklint", "--version"])}
    peers = [
        ("bandit -t B113", "bandit", ["-q", "-r", "-t", "B113", str(corpus)], ["--version"]),
        ("flake8 --select F", "flake8", ["--isolated", "--select", "F", str(corpus)], ["--version"]),
        ("ruff S113,RUF006", "ruff", ["check", "--isolated", "--no-cache", "--select", "S113,RUF006",
                                      "--exit-zero", str(corpus)], ["--version"]),
        ("ruff warm", "ruff", ["check", "--isolated", "--cache-dir", os.path.join(workdir, "cache-ruff"),
                               "--select", "S113,RUF006", "--exit-zero", str(corpus)], ["--version"]),
    ]
    if not args.skip_peers:
        for label, executable, tool_args, version_args in peers:
            found = find_tool(executable, args.peers_bin)
            if found is None:
                print(f"bench: {executable} not found, left out", file=sys.stderr)
                continue
            tool = Tool(label, [found] + tool_args)
            if label == "ruff warm":  # its cache filled once, untimed, before the first round
                tool.before = _fill_once(tool.command, workdir)
            tools.append(tool)
            versions[executable] = version_of([found] + version_args)
    tools.append(Tool("read (floor)", [sys.executable, "-c", READ_FLOOR, str(corpus)], capture=True))
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        tools = [t for t in tools if t.name in wanted]

    # What every leaklint row must print: the cold row's first output, else that of the
    # first untimed cold run below.
    reference_output: Optional[bytes] = None
    warm = next((t for t in tools if t.name == "leaklint warm"), None)
    if warm is not None and "leaklint cold" not in {t.name for t in tools}:
        # The warm row without the cold one: its cache is filled once, untimed, instead of
        # by the cold row on every round.
        print("bench: filling the warm row's cache (a cold run, untimed)", file=sys.stderr)
        reference_output = subprocess.run(warm.command, cwd=workdir, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, check=False).stdout

    edited = next((t for t in tools if t.name == "leaklint one-file-edited"), None)
    if edited is not None:
        edit_file = args.edit_file or default_edit_file(corpus)
        if edit_file is None:
            sys.exit("bench: no file of the corpus imports threading: give --edit-file")
        print(f"bench: one-file-edited: copying {corpus} to {copy} and filling its cache "
              f"(a cold run, untimed); the edited file: {edit_file}", file=sys.stderr)
        shutil.copytree(corpus, copy, symlinks=True)
        for _ in range(2):  # cold, then warm once its files' times are old enough to trust
            output = subprocess.run(edited.command, cwd=workdir, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, check=False).stdout
            if reference_output is None:
                reference_output = output.replace(copy.encode(), str(corpus).encode())
            time.sleep(2.5)
        target = os.path.join(copy, edit_file)
        edited.before = lambda round_: _append_line(target, f"# edited by bench.py, round {round_ + 1}\n")

    loads = [load_average()]
    print(f"bench: {corpus}, {args.runs} rounds, load average {loads[0]}", file=sys.stderr)
    for round_ in range(args.runs):
        for tool in tools:
            if tool.cache_dir:
                shutil.rmtree(tool.cache_dir, ignore_errors=True)
            if tool.before is not None:
                tool.before(round_)
            m = measure(tool.command, workdir, tool.capture, args.sample_interval)
            tool.walls.append(m.wall)
            tool.cpus.append(m.cpu)
            tool.tree_rss.append(m.tree_rss)
            tool.max_rss.append(m.max_rss)
            tool.codes.append(m.returncode)
            if tool.name.startswith("leaklint"):
                stdout = m.stdout
                if tool.copy_of is not None:  # the copy's paths, as the corpus's
                    stdout = stdout.replace(tool.copy_of[0].encode(), tool.copy_of[1].encode())
                tool.outputs.append(stdout)
            if tool.name == "read (floor)":
                files, lines, size = (int(x) for x in m.stdout.split())
            print(f"bench: round {round_ + 1}: {tool.name:24} {m.wall:8.2f}s wall {m.cpu:8.2f}s cpu "
                  f"{m.tree_rss / 1024:7.0f} MiB  exit {m.returncode}  load {load_average()}",
                  file=sys.stderr)
        loads.append(load_average())
    if not any(t.name == "read (floor)" for t in tools):
        out = subprocess.run([sys.executable, "-c", READ_FLOOR, str(corpus)], capture_output=True)
        files, lines, size = (int(x) for x in out.stdout.split())
    shutil.rmtree(workdir, ignore_errors=True)

    status = 0
    problems = []
    cold_tool = next((t for t in tools if t.name == "leaklint cold"), None)
    # What the others must print: the cold row's first output, else the untimed cold run's.
    reference = cold_tool.outputs[0] if cold_tool is not None else (reference_output or b"")
    for tool in tools:
        if tool.name.startswith("leaklint"):
            if any(code not in (0, 1) for code in tool.codes):
                problems.append(f"{tool.name} exited with {tool.codes}")
            for i, output in enumerate(tool.outputs):
                if output != reference:
                    problems.append(f"{tool.name} round {i + 1}: output differs from leaklint cold round 1")
    findings = reference.count(b"\n")
    status = 1 if problems else 0

    text = table(tools, files, lines)
    lines_out = [
        f"Corpus: `{corpus}`: {files:,} files, {lines:,} lines, {size / 1e6:.1f} MB; "
        f"leaklint reports {findings:,} findings (identical in every leaklint row and round: "
        f"{'yes' if not problems else 'NO'}).",
        f"Median of {args.runs} rounds, tools interleaved. Load average (1, 5, 15 min) before "
        f"and after each round: {' | '.join(loads)}.",
        "",
        text,
    ]
    lines_out += ["- " + v for v in verdicts(tools)] + ["- PROBLEM: " + p for p in problems]
    info = machine()
    lines_out += ["", "Machine: " + "; ".join(f"{k}: {v}" for k, v in info.items()) + ".",
                  "Versions: " + "; ".join(f"{k} {v}" if not v.startswith(k) else v
                                           for k, v in versions.items()) + ".",
                  f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC.",
                  "Command: `python " + " ".join([os.path.relpath(__file__, REPO)] + (argv if argv is not None else sys.argv[1:])) + "`"]
    report = "\n".join(lines_out) + "\n"
    print(report)
    if args.write:
        Path(args.write).write_text(report, encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
