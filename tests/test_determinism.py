"""The real rules give the same findings, in the same order, whatever the run: without
cache, filling the cache, answered from the cache, in-process (--jobs 1) or in worker
processes (--jobs 2). (tests/test_runner.py checks --jobs with the test-only marker rules;
this runs every real rule over the fixtures, where findings carry positions, noqa ranges
and fingerprints.)"""
from __future__ import annotations

import json
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from leaklint import runner
from leaklint.index import walk
from leaklint.positions import locate

FIXTURES = Path(__file__).parent / "fixtures"
DEMO = Path(__file__).parent.parent / "leaklint" / "demo"


@pytest.fixture
def project(tmp_path):
    """The fixtures and the demo, twice (in two folders): enough files for worker processes."""
    sources = sorted(FIXTURES.glob("*.py")) + sorted(DEMO.glob("*.py"))
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        for source in sources:
            shutil.copyfile(source, tmp_path / folder / source.name)
    assert 2 * len(sources) >= runner.MIN_FILES_FOR_WORKERS
    return tmp_path


def test_findings_identical_with_and_without_cache_and_jobs(project, run_cli):
    def run(*args):
        result = run_cli("--isolated", "--format", "json", "--exit-zero", *args, "a", "b")
        assert result.code == 0, result.err
        return result.out

    reference = run("--no-cache", "--jobs", "1")
    findings = json.loads(reference)
    assert len(findings) > 50 and {f["code"][:4] for f in findings} >= {"LKL1", "LKL2", "LKL3", "LKL4", "LKL5"}
    assert run("--no-cache", "--jobs", "2") == reference
    assert run("--cache-dir", "cache", "--jobs", "2") == reference  # cold: fills the cache
    assert run("--cache-dir", "cache", "--jobs", "1", "-v") == reference  # warm
    assert run("--cache-dir", "cache", "--jobs", "2") == reference  # warm
    assert run("--cache-dir", "cache1", "--jobs", "1") == reference  # cold, in-process
    assert run("--cache-dir", "cache1", "--jobs", "2") == reference  # warm from the in-process run
    # Text output too (line order, noqa applied identically).
    text = run_cli("--isolated", "--exit-zero", "--no-cache", "--jobs", "1", "a", "b").out
    assert run_cli("--isolated", "--exit-zero", "--cache-dir", "cache", "--jobs", "2", "a", "b").out == text


def test_warm_run_reads_everything_from_the_cache(project, run_cli):
    run_cli("--isolated", "--exit-zero", "--cache-dir", "cache", "a", "b")
    warm = run_cli("--isolated", "--exit-zero", "--cache-dir", "cache", "-v", "a", "b")
    files = len(list(project.glob("*/*.py")))
    assert f"{files} files ({files} from the cache)" in warm.err


@pytest.mark.parametrize("source", sorted(FIXTURES.glob("*.py")) + sorted(DEMO.glob("*.py")),
                         ids=lambda path: path.name)
def test_locate_matches_the_position_provider(source):
    """leaklint.positions.locate gives libcst's PositionProvider ranges, for every node."""
    module = cst.parse_module(source.read_text(encoding="utf-8"))
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = list(walk(module))
    assert locate(module, nodes) == {node: expected[node] for node in nodes}
    # A few nodes (what the engine asks for): the same, though it stops early.
    some = nodes[len(nodes) // 3:len(nodes) // 3 + 5]
    assert locate(module, some) == {node: expected[node] for node in some}


def test_locate_leaves_out_nodes_of_other_trees():
    module = cst.parse_module("x = 1\r\ny = (\n  2)\n")
    stranger = cst.parse_module("z = 3\n").body[0]
    statement = module.body[1]
    assert set(locate(module, [stranger, statement, None])) == {statement}
    span = locate(module, [statement])[statement]
    assert (span.start.line, span.start.column, span.end.line, span.end.column) == (2, 0, 3, 4)


@contextmanager
def recursion_budget(frames: int):
    """The recursion limit set `frames` above the current depth: code generation nested
    deeper than that fails as it does on Python 3.12, whose C recursion limit (about 740
    levels of libcst code generation on 3.12.1) `sys.setrecursionlimit` cannot raise."""
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


DEEP = "not " * 250 + "y"


@pytest.mark.parametrize("source", [
    "import threading\nx = " + DEEP + "\n\ndef f():\n    threading.Thread(target=print).start()\n",
    "# header\r\na = 1\nx = " + DEEP + "\ny = 2\nz = (\n" + DEEP + ")\n\n# comment\nw = [\n 3]\nv = 4",
    "a = 1\nx = " + DEEP + "\n# the footer\n\n",
    "a = 1\nx = " + DEEP + "\nb = [\n 1]",
], ids=["finding_after", "two_deep_statements", "footer", "no_final_newline"])
def test_locate_places_nodes_around_a_statement_too_deep_to_generate(source):
    module = cst.parse_module(source)
    shallow = [statement for statement in module.body if "x" not in _targets(statement)
               and "y" not in _targets(statement) and "z" not in _targets(statement)]
    nodes = [node for part in shallow + list(module.footer) for node in walk(part)]
    with recursion_budget(5000):
        expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    with recursion_budget(200):
        with pytest.raises(RecursionError):
            locate(module, nodes)  # without the source, nothing can stand for the deep code
        assert locate(module, nodes, source) == {node: expected[node] for node in nodes}


def test_locate_cannot_place_a_node_in_or_between_deep_statements():
    source = "a = 1\nx = " + DEEP + "\ny = 2\nz = " + DEEP + "\nw = 3\n"
    module = cst.parse_module(source)
    inside = module.body[1].body[0].value.expression  # the second `not` of x
    with recursion_budget(200):
        with pytest.raises(RecursionError):
            locate(module, [module.body[0], inside], source)
        with pytest.raises(RecursionError):
            locate(module, [module.body[2]], source)  # y, between the two deep statements


def _targets(statement) -> set:
    if isinstance(statement, cst.SimpleStatementLine) and isinstance(statement.body[0], cst.Assign):
        return {target.target.value for target in statement.body[0].targets}
    return set()
