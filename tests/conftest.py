"""Shared helpers for the command-line tests: run `leaklint` in-process in a temporary
folder, and a set of test-only rules (`fake_rules`) for selection and option tests that
must not depend on what the real rules flag."""
from __future__ import annotations

import io
import sys
from dataclasses import dataclass

import pytest

from leaklint import registry
from leaklint.rules.base import Option, Report, Rule

pytest_plugins = ("pytester",)  # tests/test_runtime.py runs pytest on generated tests


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(tmp_path, monkeypatch, capsys):
    """`run_cli(*args, stdin=b"...")` runs `leaklint ARGS` in tmp_path: (code, out, err)."""
    from leaklint.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEAKLINT_CACHE_DIR", raising=False)

    def run(*args, stdin: bytes = b"") -> CliResult:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


class MarkerRule(Rule):
    """Flags every top-level statement containing `marker`."""

    marker = ""
    what_it_does = "Flags markers."
    why_bad = "Markers are bad."
    example = "MARK = 1"
    use_instead = "pass"

    def check(self, index):
        for statement in index.module.body:
            if self.marker in index.module.code_for_node(statement):
                yield Report(statement, f"found {self.marker}{self.describe_settings()}")

    def describe_settings(self) -> str:
        return "".join(f" {name}={value!r}" for name, value in sorted(self.settings.items()))


class MarkerOne(MarkerRule):
    code, name, summary, marker, trigger_words = "LKL901", "marker-one", "Marker one.", "MARK1", ("MARK1",)


class MarkerTwo(MarkerRule):  # off by default
    code, name, summary, marker, trigger_words = "LKL902", "marker-two", "Marker two.", "MARK2", ("MARK2",)
    default_enabled = False


class MarkerThree(MarkerRule):  # another family, with options
    code, name, summary, marker, trigger_words = "LKL801", "marker-three", "Marker three.", "MARK3", ("MARK3",)
    options = (
        Option("marker-limit", int, 3, "How many markers are fine."),
        Option("extra_markers", list, [], "More markers."),
    )


FAKE_RULES = (MarkerThree, MarkerOne, MarkerTwo)


@pytest.fixture
def fake_rules(monkeypatch):
    """The real rules plus LKL801 (options), LKL901 and LKL902 (off by default).
    Worker processes are forked, so they see the patched registry too."""
    real = registry.all_rules()
    everything = tuple(sorted(real + FAKE_RULES, key=lambda rule: rule.code))
    monkeypatch.setattr(registry, "all_rules", lambda: everything)
    return everything
