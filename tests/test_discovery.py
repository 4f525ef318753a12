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
    monkeypatch.setattr(discovery, "_status", lambda path: None)
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


# -- folder listings kept by the cache (leaklint.runner.FolderListings) ------------------------
def age(*folders: Path) -> None:
    """Give folders an old mtime: a change made after it is then seen whatever the file
    system's timestamp granularity."""
    old = 1_600_000_000 * 10**9
    for folder in folders:
        os.utime(folder, ns=(old, old))


@pytest.fixture
def listed(monkeypatch):
    """The folders os.scandir lists, reset by each call of `walk`."""
    from leaklint import runner

    monkeypatch.setattr(runner, "RACY_SECONDS", 0)  # the folders count as settled at once
    calls = []
    real = os.scandir

    def spying(path="."):
        calls.append(os.path.normpath(str(path)))
        return real(path)

    monkeypatch.setattr(discovery.os, "scandir", spying)
    return calls


def walk(listed, kept: dict, paths=(".",), patterns=None):
    """discover() with the listings `kept` by the last walk (updated in place)."""
    from leaklint.runner import FolderListings

    listed.clear()
    listings = FolderListings(dict(kept))
    found = run(list(paths), patterns, listings=listings)
    kept.clear()
    kept.update(listings.kept())
    return found


def test_an_unchanged_folder_is_not_listed_again(tmp_path, listed):
    touch(tmp_path, "a.py", "pkg/b.py", "pkg/sub/c.py", "pkg/notes.txt", "myenv/pyvenv.cfg", "myenv/v.py")
    age(tmp_path, tmp_path / "pkg", tmp_path / "pkg" / "sub", tmp_path / "myenv")
    kept: dict = {}
    first = walk(listed, kept)
    assert sorted(listed) == [".", "myenv", "pkg", "pkg/sub"]
    assert first.files == ["a.py", "pkg/b.py", "pkg/sub/c.py"]
    again = walk(listed, kept)
    assert listed == [] and again.files == first.files and again.problems == first.problems
    # The exclude patterns apply to kept listings too (they are not part of them).
    assert walk(listed, kept, patterns=[("sub", str(tmp_path))]).files == ["a.py", "pkg/b.py"]
    assert listed == []


def test_a_file_or_folder_added_or_removed_is_seen(tmp_path, listed):
    touch(tmp_path, "a.py", "pkg/b.py")
    age(tmp_path, tmp_path / "pkg")
    kept: dict = {}
    walk(listed, kept)
    touch(tmp_path, "pkg/new.py")
    assert walk(listed, kept).files == ["a.py", "pkg/b.py", "pkg/new.py"] and listed == ["pkg"]
    age(tmp_path / "pkg")
    touch(tmp_path, "pkg/deeper/d.py")
    age(tmp_path / "pkg" / "deeper")
    assert walk(listed, kept).files == ["a.py", "pkg/b.py", "pkg/deeper/d.py", "pkg/new.py"]
    os.unlink(tmp_path / "pkg" / "b.py")
    assert walk(listed, kept).files == ["a.py", "pkg/deeper/d.py", "pkg/new.py"]
    assert listed == ["pkg"]  # pkg/deeper is unchanged
    (tmp_path / "pkg" / "venv").mkdir()
    (tmp_path / "pkg" / "venv" / "v.py").write_text("")
    age(tmp_path / "pkg", tmp_path / "pkg" / "venv")
    walk(listed, kept)
    (tmp_path / "pkg" / "venv" / "pyvenv.cfg").write_text("")  # it becomes a virtual environment
    assert walk(listed, kept).files == ["a.py", "pkg/deeper/d.py", "pkg/new.py"]


def test_folders_with_symbolic_links_or_recent_changes_are_always_listed(tmp_path, listed, monkeypatch):
    from leaklint import runner

    touch(tmp_path, "real/a.py", "links/plain.py")
    os.symlink(tmp_path / "real", tmp_path / "links" / "to_real")
    age(tmp_path, tmp_path / "real", tmp_path / "links")
    kept: dict = {}
    walk(listed, kept)
    assert walk(listed, kept).files == ["links/plain.py", "links/to_real/a.py", "real/a.py"]
    # What a link points to can change without its folder changing: listed every time.
    assert listed == ["links"]
    # A folder changed less than RACY_SECONDS ago may change again unseen: not kept.
    monkeypatch.setattr(runner, "RACY_SECONDS", 3600)
    kept.clear()
    walk(listed, kept)
    assert kept == {}


@pytest.mark.parametrize("damage", [
    7, [], ["key", False, "", ""], [None, False, "a.py", ""], ["same", False, ["a.py"], ""],
    ["same", False, "a.py", 1], ["same", "no", "a.py", ""], ["same", False, "a.py"],
])
def test_a_damaged_listing_is_listed_again(tmp_path, listed, damage):
    touch(tmp_path, "a.py", "b.py")
    age(tmp_path)
    kept: dict = {}
    walk(listed, kept)
    [(folder, entry)] = kept.items()
    if isinstance(damage, list) and damage and damage[0] == "same":
        damage = [entry[0], *damage[1:]]
    kept[folder] = damage
    assert walk(listed, kept).files == ["a.py", "b.py"] and listed == ["."]
