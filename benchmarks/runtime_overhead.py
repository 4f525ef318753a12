"""What the runtime leak check costs: leaklint's own test suite with and without
`--leaklint` (the plugin on for every test).

    python benchmarks/runtime_overhead.py [--rounds 3] [-- PYTEST ARGS]

First, the plugin's own cost per test, measured in-process (no pytest). Then it
runs `python -m pytest -q -p no:cacheprovider -m "not slow" [PYTEST ARGS]` from the
repository root, plain and with `--leaklint`, interleaved round by round (so that other
load on the machine hits both alike), and prints per variant the median wall seconds and
CPU seconds (user + sys of pytest and its children), the exit status of every run, and
the verdict of issue 14: at most 10 % more wall time. On a machine shared with other
work both times are noisy; the per-test cost is the steadier number.
"""
from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 0.10


def run_suite(extra: list) -> tuple:
    """(wall seconds, CPU seconds, exit status, pytest's last line) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", *extra]
    completed = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = completed.stdout.strip().splitlines() or [""]
    if completed.returncode:  # what failed, for the record
        print("\n".join(line for line in lines if line.startswith(("FAILED", "ERROR"))), file=sys.stderr)
    return wall, cpu, completed.returncode, lines[-1]


def per_test_cost(repeat: int = 2000) -> float:
    """Microseconds the plugin adds to a test that leaks nothing, in this process: the
    snapshot taken at setup and the check after teardown."""
    import timeit

    sys.path.insert(0, str(ROOT))
    from leaklint.runtime import Options, Snapshot, find_with_retry, probes

    options = Options()
    probes.install()
    try:
        seconds = timeit.timeit(lambda: find_with_retry(Snapshot(), options), number=repeat)
    finally:
        probes.uninstall()
    return seconds / repeat * 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="0: only the per-test cost")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args(argv)
    # Started in the background by a shell, we would hand an ignored SIGINT down to the
    # suite, whose Ctrl-C tests then fail: a handler is reset to the default on exec.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    variants = {"plain": [], "--leaklint": ["--leaklint"]}
    results = {name: [] for name in variants}
    loads = []
    for round_number in range(1, args.rounds + 1):
        loads.append(os.getloadavg()[0])
        for name, extra in variants.items():
            wall, cpu, status, summary = run_suite(extra + args.pytest_args)
            results[name].append((wall, cpu, status))
            print(f"round {round_number}: {name}: {wall:.1f} s wall, {cpu:.1f} s CPU, exit {status}: "
                  f"{summary}", file=sys.stderr)
    print(f"Per test, in-process (snapshot at setup + check after teardown, nothing leaked): "
          f"{per_test_cost():.0f} µs.\n")
    if not args.rounds:
        return 0
    print("| variant | wall s (median) | CPU s (median) | exit statuses |")
    print("|---|---:|---:|---|")
    medians = {}
    for name, runs in results.items():
        wall = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[1] for run in runs)
        medians[name] = (wall, cpu)
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {', '.join(str(run[2]) for run in runs)} |")
    plain_wall, plain_cpu = medians["plain"]
    checked_wall, checked_cpu = medians["--leaklint"]
    wall_extra = checked_wall / plain_wall - 1
    cpu_extra = checked_cpu / plain_cpu - 1
    verdict = "PASS" if wall_extra <= LIMIT else "FAIL"
    print(f"\n{verdict}: --leaklint adds {wall_extra:+.1%} wall time ({cpu_extra:+.1%} CPU time); "
          f"limit {LIMIT:.0%}. Rounds: {args.rounds}; 1-minute load average at each round's "
          f"start: {' '.join(f'{load:.1f}' for load in loads)}; CPUs: {os.cpu_count()}; "
          f"Python {sys.version.split()[0]}.")
    failed = [status for runs in results.values() for *_, status in runs if status != 0]
    return 1 if failed or verdict == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
