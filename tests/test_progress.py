"""The progress line on a terminal, and -v's per-phase times."""
from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest

from leaklint import progress
from leaklint.cli import main
from leaklint.progress import Progress
from leaklint.runner import LintSettings, Runner

SETTINGS = LintSettings(codes=("LKL901",))
LEAKY = "import threading\n\n\ndef f():\n    threading.Thread(target=print).start()\n"


class Terminal(io.StringIO):
    def isatty(self):
        super().isatty()  # ValueError once closed, as a real stream
        return True


class Clock:
    """Time stands still unless moved."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_shown_only_on_a_terminal_and_not_when_quiet():
    assert Progress.on_terminal(Terminal()).stream is not None
    assert Progress.on_terminal(io.StringIO()).stream is None  # a pipe, a file, CI logs
    assert Progress.on_terminal(Terminal(), quiet=True).stream is None
    closed = Terminal()
    closed.close()
    assert Progress.on_terminal(closed).stream is None


def test_silent_for_the_first_seconds_then_redrawn_in_place_at_most_ten_times_a_second():
    terminal, clock = Terminal(), Clock()
    shown = Progress(terminal, clock)
    shown.start(total=9001, done=1000)  # the cached files count as done
    shown.advance(10)
    clock.now += progress.DELAY - 0.01
    shown.advance(10)
    assert terminal.getvalue() == ""  # a short run shows nothing
    clock.now += 0.01
    shown.advance(214)
    assert terminal.getvalue() == "\rlinting 1234/9001 files"
    for _ in range(50):  # in the same tenth of a second: no redraw
        shown.advance()
    clock.now += progress.INTERVAL
    shown.advance()
    assert terminal.getvalue() == "\rlinting 1234/9001 files\rlinting 1285/9001 files"


def test_erased_at_the_end():
    terminal, clock = Terminal(), Clock()
    shown = Progress(terminal, clock)
    shown.start(total=20)
    clock.now += progress.DELAY
    shown.advance(9)
    clock.now += progress.INTERVAL
    shown.advance(1)
    shown.finish()
    drawn = "linting 10/20 files"
    assert terminal.getvalue().endswith("\r" + drawn + "\r" + " " * len(drawn) + "\r")
    shown.finish()  # twice: nothing more
    assert terminal.getvalue().endswith(" \r")


def test_erased_even_when_ctrl_c_interrupted_the_drawing():
    class Interrupted(Terminal):
        def flush(self):
            if "linting" in self.getvalue() and not self.getvalue().endswith("\r"):
                raise KeyboardInterrupt

    terminal, clock = Interrupted(), Clock()
    shown = Progress(terminal, clock)
    shown.start(total=5)
    clock.now += progress.DELAY
    with pytest.raises(KeyboardInterrupt):
        shown.advance()
    shown.finish()
    assert terminal.getvalue() == "\rlinting 1/5 files\r" + " " * 17 + "\r"


def test_nothing_to_erase_after_a_short_run():
    terminal = Terminal()
    shown = Progress(terminal, Clock())
    shown.start(total=3)
    shown.advance(3)
    shown.finish()
    assert terminal.getvalue() == ""


def test_a_terminal_that_went_away_does_not_fail_the_run():
    class Gone(Terminal):
        def write(self, text):
            raise OSError(5, "Input/output error")

    clock = Clock()
    shown = Progress(Gone(), clock)
    shown.start(total=2)
    clock.now += progress.DELAY
    shown.advance()
    shown.finish()
    assert shown.stream is None


def leaky_files(folder: Path, count: int) -> list:
    paths = []
    for number in range(count):
        path = folder / f"m{number:02d}.py"
        path.write_text("MARK1 = 1\n")
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("jobs, count", [(1, 3), (2, 12)], ids=["in-process", "workers"])
def test_the_runner_reports_every_file(tmp_path, fake_rules, monkeypatch, jobs, count):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    terminal = Terminal()
    outcome = Runner(SETTINGS, jobs=jobs, progress=Progress(terminal)).run(leaky_files(tmp_path, count))
    assert len(outcome.findings) == count
    shown = terminal.getvalue()
    assert f"\rlinting {count}/{count} files" in shown
    assert shown.endswith(" \r")  # erased before the report is printed


def test_the_command_shows_it_on_a_terminal_only(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(progress, "DELAY", 0.0)
    (tmp_path / "a.py").write_text(LEAKY)
    assert main(["--no-cache", "a.py"]) == 1
    assert "linting" not in capsys.readouterr().err  # stderr is not a terminal here
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["--no-cache", "a.py"]) == 1
    assert terminal.getvalue() == "\rlinting 1/1 files\r                 \r"
    assert capsys.readouterr().out.startswith("a.py:5:")
    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert main(["-q", "--no-cache", "a.py"]) == 1
    assert quiet.getvalue() == ""


def test_verbose_shows_the_time_of_each_phase(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEAKLINT_CACHE_DIR", raising=False)
    (tmp_path / "a.py").write_text(LEAKY)
    assert main(["-v", "a.py"]) == 1
    [times] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("leaklint: times:")]
    number = r"\d+\.\d\ds"
    assert re.fullmatch(f"leaklint: times: cache loading {number}, discovery {number}, cache lookup {number}, linting {number}, project {number}, "
                        f"cache saving {number}, reporting {number}", times), times
    assert main(["-v", "--no-cache", "a.py"]) == 1
    assert "cache saving" not in capsys.readouterr().err
