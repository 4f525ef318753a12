"""flake8 plugin vs the leaklint command on one ~1,000-line file.

    python benchmarks/flake8_single_file.py [--runs 9] [--file PATH] [--breakdown]

Times, as subprocess wall and CPU time (median of --runs, interleaved), in a temporary
directory with no config files:

* ``flake8 --isolated --select LKL FILE``  (the plugin)
* ``leaklint --no-cache FILE``             (the command)
* ``flake8 --isolated --select E FILE``    (flake8's own part: its start-up, plugin
  discovery and its own checkers, pycodestyle, pyflakes and mccabe, which flake8 runs on
  every file whatever ``--select`` says; our plugin is loaded, registers its options
  from the catalogue and skips the file without importing libcst)

and prints the ratio of the first two on wall time (issue 19's target: flake8 <= 1.2x
leaklint), then, separately, the ratio without flake8's own part: (flake8 --select LKL
minus flake8 --select E) / leaklint, the plugin's own cost against the whole command.
With --breakdown it also times interpreter start-up, importing libcst and the rules,
both tools on an empty file, the engine alone in-process, and the top cumulative imports
of the flake8 run (``-X importtime``).

Without --file a file is generated: a mix of classes, functions, comprehensions and
string handling, with a leaking thread in every tenth function.
"""
from __future__ import annotations

import argparse
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.2  # issue 19


def generate(lines_wanted: int = 1000) -> str:
    out = [
        '"""Generated benchmark module."""',
        "import json",
        "import queue",
        "import threading",
        "from collections import defaultdict",
        "",
        "",
    ]
    i = 0
    while len(out) < lines_wanted:
        if i % 10 == 0:  # a leak: started, never joined
            out += [
                f"def start_worker_{i}(items):",
                f"    worker = threading.Thread(target=process_{i}, args=(items,))",
                "    worker.start()",
                "    return len(items)",
                "",
                "",
            ]
        elif i % 10 == 1:  # the same, joined
            out += [
                f"def run_worker_{i}(items):",
                f"    worker = threading.Thread(target=process_{i}, args=(items,))",
                "    worker.start()",
                "    worker.join()",
                "",
                "",
            ]
        elif i % 10 == 2:
            out += [
                f"class Store{i}:",
                f'    """Keeps records for part {i}."""',
                "",
                "    def __init__(self, name, size=16):",
                "        self.name = name",
                "        self.size = size",
                "        self.items = defaultdict(list)",
                "        self.pending = queue.Queue()",
                "",
                "    def add(self, key, value):",
                "        if key in self.items and len(self.items[key]) >= self.size:",
                "            self.items[key].pop(0)",
                "        self.items[key].append(value)",
                "        return self",
                "",
                "    def dump(self):",
                "        return json.dumps({k: v for k, v in sorted(self.items.items())})",
                "",
                "",
            ]
        else:
            out += [
                f"def process_{i}(items, factor={i}):",
                f'    """Transform the items of part {i}."""',
                "    total = 0",
                "    seen = set()",
                "    for index, item in enumerate(items):",
                "        if item in seen:",
                "            continue",
                "        seen.add(item)",
                "        total += index * factor",
                "    squares = [x * x for x in range(total % 50) if x % 3]",
                f'    label = f"part-{i}:{{total}}:{{len(squares)}}"',
                "    return label, squares",
                "",
                "",
            ]
        i += 1
    return "\n".join(out).rstrip("\n") + "\n"


def _timed(cmd, cwd) -> tuple:
    """(wall seconds, CPU seconds of the child, CompletedProcess)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result


def compare(commands: dict, cwd, runs: int) -> dict:
    """Median wall and CPU time of each command, runs interleaved (A B A B ...) so that
    load from other processes on the machine hits every command alike.
    {name: (median wall, median cpu, last CompletedProcess)}."""
    walls = {name: [] for name in commands}
    cpus = {name: [] for name in commands}
    last = {}
    for _ in range(runs):
        for name, cmd in commands.items():
            wall, cpu, last[name] = _timed(cmd, cwd)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {name: (statistics.median(walls[name]), statistics.median(cpus[name]), last[name])
            for name in commands}


def leaklint_command() -> list:
    script = Path(sys.executable).with_name("leaklint")
    if script.exists():
        return [str(script)]
    found = shutil.which("leaklint")
    return [found] if found else [sys.executable, "-m", "leaklint"]


def findings(text: str) -> set:
    return set(re.findall(r"^(.+?:\d+:\d+: LKL\d+)", text, re.M))


def engine_alone(path: Path, runs: int) -> float:
    """The engine on the file in this process (median), after one warm-up run."""
    from leaklint import registry
    from leaklint.engine import Linter

    codes = registry.selected_codes()
    linter = Linter([r() for r in registry.all_rules() if r.code in codes])
    data = path.read_bytes()
    linter.lint_bytes(data, str(path))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        linter.lint_bytes(data, str(path))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def top_imports(cmd, cwd, count: int = 12) -> list:
    """The slowest top-level imports (cumulative microseconds) of `cmd` under -X importtime."""
    result = subprocess.run([sys.executable, "-X", "importtime", *cmd], cwd=cwd,
                            capture_output=True, text=True)
    rows = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match.group(3)) <= 1:  # top level imports only
            rows.append((int(match.group(2)), match.group(4)))
    return sorted(rows, reverse=True)[:count]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--file", type=Path, help="a Python file (default: generate one)")
    parser.add_argument("--lines", type=int, default=1000, help="size of the generated file")
    parser.add_argument("--breakdown", action="store_true", help="show where the time goes")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        target = cwd / "bench_module.py"
        if args.file:
            shutil.copyfile(args.file, target)
        else:
            target.write_text(generate(args.lines), encoding="utf-8")
        nlines = len(target.read_text(encoding="utf-8", errors="replace").splitlines())
        env_note = f"{nlines} lines, median of {args.runs} runs, {sys.executable}"

        flake8_cmd = [sys.executable, "-m", "flake8", "--isolated", "--select", "LKL",
                      target.name]
        leaklint_cmd = [*leaklint_command(), "--no-cache", target.name]
        flake8_own_cmd = [sys.executable, "-m", "flake8", "--isolated", "--select", "E",
                          target.name]
        timings = compare({"flake8": flake8_cmd, "leaklint": leaklint_cmd,
                           "flake8_own": flake8_own_cmd}, cwd, args.runs)
        flake8_time, flake8_cpu, flake8_result = timings["flake8"]
        leaklint_time, leaklint_cpu, leaklint_result = timings["leaklint"]
        own_time, own_cpu, _ = timings["flake8_own"]
        if leaklint_result.returncode not in (0, 1):
            print("leaklint failed:\n" + leaklint_result.stdout + leaklint_result.stderr)
            return 2
        if flake8_result.returncode not in (0, 1):
            print("flake8 failed:\n" + flake8_result.stdout + flake8_result.stderr)
            return 2
        same = findings(flake8_result.stdout) == findings(leaklint_result.stdout)
        ratio = flake8_time / leaklint_time
        print(f"file: {env_note}")
        print(f"{'':22s} {'wall':>9s} {'cpu':>9s}")
        print(f"flake8 --select LKL   {flake8_time * 1000:6.0f} ms {flake8_cpu * 1000:6.0f} ms"
              f"  ({len(findings(flake8_result.stdout))} findings)")
        print(f"leaklint --no-cache   {leaklint_time * 1000:6.0f} ms {leaklint_cpu * 1000:6.0f} ms"
              f"  ({len(findings(leaklint_result.stdout))} findings)")
        print(f"flake8 --select E     {own_time * 1000:6.0f} ms {own_cpu * 1000:6.0f} ms"
              f"  (flake8's own part: start-up and its own checkers)")
        print(f"ratio flake8/leaklint: {ratio:.2f}x wall, {flake8_cpu / leaklint_cpu:.2f}x cpu "
              f"(target <= {TARGET}x) {'OK' if ratio <= TARGET else 'OVER TARGET'}; "
              f"same findings: {same}")
        print(f"without flake8's own part, (flake8 --select LKL - flake8 --select E) / leaklint: "
              f"{(flake8_time - own_time) / leaklint_time:.2f}x wall, "
              f"{(flake8_cpu - own_cpu) / leaklint_cpu:.2f}x cpu")

        if args.breakdown:
            (cwd / "empty.py").write_text("")
            rows = {
                "python -c pass": [sys.executable, "-c", "pass"],
                "python -c 'import libcst'": [sys.executable, "-c", "import libcst"],
                "python -c 'import leaklint.registry; all_rules()'": [
                    sys.executable, "-c",
                    "import leaklint.registry as r; r.all_rules()"],
                "flake8 --select LKL on an empty file": [
                    sys.executable, "-m", "flake8", "--isolated", "--select", "LKL", "empty.py"],
                "leaklint --no-cache on an empty file": [
                    *leaklint_command(), "--no-cache", "empty.py"],
                "flake8 --select E FILE (plugin loaded, skips the file)": flake8_own_cmd,
                "flake8 --select LKL FILE": flake8_cmd,
                "leaklint --no-cache FILE": leaklint_cmd,
            }
            print("\nbreakdown (medians, interleaved):")
            for label, (wall, cpu, _) in compare(rows, cwd, args.runs).items():
                print(f"  {label:56s} {wall * 1000:6.0f} ms wall {cpu * 1000:6.0f} ms cpu")
            print(f"  {'engine alone, in-process (lint_bytes)':56s} "
                  f"{engine_alone(target, args.runs) * 1000:6.0f} ms")
            print("\nslowest top-level imports of `flake8 --select LKL` (cumulative):")
            for micros, name in top_imports(flake8_cmd[1:], cwd):
                print(f"  {micros / 1000:8.1f} ms  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
