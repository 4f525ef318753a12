"""Which files get linted, and that nothing on the file system can crash the walk."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from leaklint import discovery
from leaklint.discovery import PathFilter, default_exclude_patterns, discover


def touch(folder: Path, *names: str) -> None:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def run(paths, patterns=None, root=".", **kwargs):
    patterns = default_exclude_patterns(os.getcwd()) if patterns is None else patterns
    return discover(paths, PathFilter(patterns), root, **kwargs)


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_recursive_sorted_python_files_only(tmp_path):
    touch(tmp_path, "b.py", "a.py", "pkg/z.py", "pkg/sub/y.py", "README.md", "setup.cfg", "pkg/data.txt")
    found = run(["."])
    assert found.files == ["a.py", "b.py", "pkg/sub/y.py", "pkg/z.py"]
    assert found.problems == []
    assert run(["pkg"]).files == ["pkg/sub/y.py", "pkg/z.py"]
    assert run(["./pkg/"]).files == ["pkg/sub/y.py", "pkg/z.py"]


def test_default_excludes(tmp_path):
    touch(tmp_path, "ok.py", ".git/hooks/h.py", ".venv/lib/v.py", "venv/v.py", "build/b.py",
          "dist/d.py", "pkg/__pycache__/c.py", "node_modules/n.py", ".tox/t.py",
          "proj.egg-info/e.py", ".mypy_cache/m.py", ".leaklint_cache/l.py",
          "lib/site-packages/s.py")
    assert run(["."]).files == ["ok.py"]


def test_build_dist_env_venv_are_only_excluded_at_the_root(tmp_path):
    # The standard library has a `venv` package; ansible has `commands/env`.
    touch(tmp_path, "venv/v.py", "env/e.py", "build/b.py", "dist/d.py",
          "pkg/venv/__init__.py", "pkg/env/e.py", "pkg/build/b.py", "pkg/dist/d.py")
    assert run(["."]).files == ["pkg/build/b.py", "pkg/dist/d.py", "pkg/env/e.py", "pkg/venv/__init__.py"]


def test_virtual_environments_are_recognised_by_their_pyvenv_cfg(tmp_path):
    touch(tmp_path, "ok.py", "tools/py311/pyvenv.cfg", "tools/py311/lib/x.py", "tools/t.py")
    assert run(["."]).files == ["ok.py", "tools/t.py"]
    assert run(["tools/py311"]).files == ["tools/py311/lib/x.py"]  # named: linted


def test_name_and_path_patterns(tmp_path):
    touch(tmp_path, "ok.py", "gen/a.py", "src/gen/b.py", "src/test_x.py", "tests/fixtures/f.py")
    base = str(tmp_path)
    assert run(["."], [("gen", base)]).files == ["ok.py", "src/test_x.py", "tests/fixtures/f.py"]
    assert run(["."], [("src/gen", base)]).files == ["gen/a.py", "ok.py", "src/test_x.py",
                                                      "tests/fixtures/f.py"]
    assert run(["."], [("test_*.py", base), ("tests/fixtures/", base)]).files == [
        "gen/a.py", "ok.py", "src/gen/b.py"]
    # A path pattern is anchored at its base folder, not wherever the walk starts.
    assert run(["src"], [("gen", base), ("src/test_x.py", base)]).files == []
    assert run(["src"], [("gen/b.py", base)]).files == ["src/gen/b.py", "src/test_x.py"]


def test_named_files_are_always_linted_unless_force_exclude(tmp_path):
    touch(tmp_path, "build/b.py", "bin/tool", "notes.txt")
    patterns = default_exclude_patterns(str(tmp_path))
    assert run(["build/b.py", "bin/tool"]).files == ["bin/tool", "build/b.py"]
    assert run(["build/b.py", "bin/tool"], patterns, str(tmp_path), force_exclude=True).files == ["bin/tool"]
    assert run(["build"]).files == ["build/b.py"]  # a named folder is walked too
    assert run(["build"], patterns, str(tmp_path), force_exclude=True).files == []


def test_folders_above_the_root_do_not_count(tmp_path, monkeypatch):
    # A project checked out under a folder called "build" is not excluded as a whole.
    touch(tmp_path, "build/project/pkg/m.py", "build/project/build/x.py")
    monkeypatch.chdir(tmp_path / "build" / "project")
    root = os.getcwd()
    found = run(["pkg/m.py", "build/x.py"], default_exclude_patterns(root), root, force_exclude=True)
    assert found.files == ["pkg/m.py"]


def test_a_file_named_twice_is_linted_once(tmp_path):
    touch(tmp_path, "a.py")
    assert run(["a.py", ".", "./a.py"]).files == ["a.py"]


def test_a_folder_named_like_a_python_file_is_walked(tmp_path):
    touch(tmp_path, "weird.py/inner.py")
    assert run(["."]).files == ["weird.py/inner.py"]
    assert run(["weird.py"]).files == ["weird.py/inner.py"]


def test_symlink_loop_is_lkl002_and_the_walk_goes_on(tmp_path):
    touch(tmp_path, "pkg/a.py", "pkg/sub/b.py")
    os.symlink("..", tmp_path / "pkg" / "sub" / "up")
    os.symlink("self.py", tmp_path / "pkg" / "self.py")
    found = run(["."])
    assert found.files == ["pkg/a.py", "pkg/sub/b.py"]
    assert [(p.path, p.code) for p in found.problems] == [("pkg/self.py", "LKL002"), ("pkg/sub/up", "LKL002")]
    assert all("loop" in p.message for p in found.problems)


def test_folders_that_cannot_be_statted_are_no_loop(tmp_path, monkeypatch):
    # A folder whose identity is unknown (stat failed: a permission, a race) must not be
    # taken for an ancestor of the next such folder below it.
    touch(tmp_path, "pkg/sub/deeper/a.py")
    monkeypatch.setattr(discovery, "_directory_id", lambda path: None)
    found = run(["."])
    assert found.files == ["pkg/sub/deeper/a.py"]
    assert found.problems == []


def test_symlinked_folders_and_files_are_followed(tmp_path):
    touch(tmp_path, "real/a.py", "other/b.py")
    os.symlink(tmp_path / "real", tmp_path / "other" / "linked")
    os.symlink(tmp_path / "real" / "a.py", tmp_path / "other" / "alias.py")
    assert run(["other"]).files == ["other/alias.py", "other/b.py", "other/linked/a.py"]


def test_broken_symlink_is_lkl002(tmp_path):
    touch(tmp_path, "a.py")
    os.symlink("nowhere.py", tmp_path / "broken.py")
    os.symlink("nowhere", tmp_path / "broken_folder")  # not a .py name: nothing to say
    os.symlink("owner@host.123", tmp_path / ".#a.py")  # an editor's lock file: not code
    found = run(["."])
    assert found.files == ["a.py"]
    assert [(p.path, p.code, p.message) for p in found.problems] == [
        ("broken.py", "LKL002", "broken symbolic link: its target does not exist")]
    named = run(["broken.py"])
    assert named.files == [] and [p.path for p in named.problems] == ["broken.py"]


def test_unlistable_folder_is_lkl002(tmp_path, monkeypatch):
    touch(tmp_path, "a.py", "secret/s.py", "z/z.py")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.basename(os.fspath(path)) == "secret":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    # chmod cannot take our own rights away when the tests run as root.
    monkeypatch.setattr(discovery.os, "scandir", scandir)
    found = run(["."])
    assert found.files == ["a.py", "z/z.py"]
    assert [(p.path, p.code, p.message) for p in found.problems] == [
        ("secret", "LKL002", "cannot read folder: Permission denied")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_not_read(tmp_path):
    touch(tmp_path, "a.py")
    os.mkfifo(tmp_path / "pipe.py")
    found = run(["."])
    assert found.files == ["a.py"]
    assert [(p.path, p.message) for p in found.problems] == [("pipe.py", "not a regular file")]


def test_non_utf8_names(tmp_path):
    name = os.fsdecode(b"caf\xe9.py")
    try:
        (tmp_path / name).write_text("x = 1\n")
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system does not take non-UTF-8 names")
    touch(tmp_path, "a.py")
    assert run(["."]).files == ["a.py", name]


def test_path_filter_matches_file_checks_parents_below_root(tmp_path):
    root = str(tmp_path / "proj")
    path_filter = PathFilter([("tests", root), ("src/gen", root)])
    assert path_filter.matches_file(str(tmp_path / "proj" / "tests" / "a" / "t.py"), root)
    assert path_filter.matches_file(str(tmp_path / "proj" / "src" / "gen" / "g.py"), root)
    assert not path_filter.matches_file(str(tmp_path / "proj" / "gen" / "g.py"), root)
    assert not path_filter.matches_file(str(tmp_path / "tests" / "proj" / "x.py"), str(tmp_path / "tests" / "proj"))
    assert not PathFilter([])
