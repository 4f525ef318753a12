"""The pre-commit hook end to end: `pre-commit try-repo` installs leaklint into a fresh
virtualenv (pip, from PyPI for libcst & co.) and runs the `leaklint` hook on files of a
throw-away git repository.

What gets installed is a snapshot of this working tree, not the checkout's HEAD:
`try-repo` without `--ref` commits *tracked* uncommitted changes into a shadow clone
(`git add -u`), but new, untracked files (a rule module not yet added, this very hook
file) would be missing. So the test copies every tracked and untracked, not ignored file
(`git ls-files --cached --others --exclude-standard`) into a new repository, commits it,
and passes that commit with `--ref`.

Slow (about one virtualenv + pip install per try-repo call), marked `slow`; it runs by
default. Deselect with `-m "not slow"`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leaklint import registry

ROOT = Path(__file__).resolve().parent.parent
LEAKY = "import threading\n\ndef f():\n    threading.Thread(target=print).start()\n"
CLEAN = ("import threading\n\ndef f():\n    t = threading.Thread(target=print)\n"
         "    t.start()\n    t.join()\n")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "leaklint tests", "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "leaklint tests", "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _have_pre_commit() -> bool:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        return False
    return True


end_to_end = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
    pytest.mark.skipif(not _have_pre_commit(),
                       reason="pre-commit is not installed (pip install -e '.[test]')"),
    pytest.mark.skipif(not (ROOT / ".git").exists(),
                       reason="not running from a git checkout of leaklint"),
    pytest.mark.skipif(not (ROOT / "leaklint" / "cli.py").exists(),
                       reason="the leaklint command (leaklint/cli.py) is not there yet"),
    pytest.mark.skipif(registry.rule_by_code("LKL101") is None,
                       reason="LKL101 has not landed yet"),
]


def git(*args, cwd) -> str:
    env = dict(os.environ, **GIT_ENV)
    env.pop("GIT_DIR", None)
    env.pop("GIT_INDEX_FILE", None)
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> tuple:
    """(repository path, commit) holding the working tree as it is on disk."""
    repo = tmp_path_factory.mktemp("leaklint-snapshot")
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        src = ROOT / name
        if not src.is_file():  # deleted in the working tree, or a submodule
            continue
        dst = repo / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "--no-verify", "-m", "snapshot for the pre-commit test", cwd=repo)
    return repo, git("rev-parse", "HEAD", cwd=repo).strip()


@pytest.fixture
def project(tmp_path) -> Path:
    """A throw-away git repository with a leaky file, a clean one, and a leaky one in a
    folder its pyproject.toml excludes."""
    git("init", "-q", cwd=tmp_path)
    (tmp_path / "leaky.py").write_text(LEAKY)
    (tmp_path / "clean.py").write_text(CLEAN)
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "leaky.py").write_text(LEAKY)
    (tmp_path / "pyproject.toml").write_text('[tool.leaklint]\nexclude = ["generated"]\n')
    git("add", "-A", cwd=tmp_path)
    return tmp_path


def try_repo(snapshot, project: Path, *files) -> subprocess.CompletedProcess:
    repo, ref = snapshot
    env = dict(os.environ, **GIT_ENV)
    env.pop("PRE_COMMIT_HOME", None)  # try-repo uses a temporary store regardless
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo), "leaklint",
         "--ref", ref, "--color", "never", "--verbose", "--files", *files],
        cwd=project, env=env, capture_output=True, text=True, timeout=900)
    print(f"pre-commit try-repo {' '.join(files)}: {time.perf_counter() - start:.1f}s")
    return result


def _end_to_end(test):
    for mark in end_to_end:
        test = mark(test)
    return test


@_end_to_end
def test_hook_fails_on_a_leaky_file(snapshot, project):
    result = try_repo(snapshot, project, "leaky.py")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "leaky.py:4:5: LKL101" in output, output


@_end_to_end
def test_hook_passes_on_clean_and_excluded_files(snapshot, project):
    """pre-commit names every file; the project's `exclude` must still apply."""
    result = try_repo(snapshot, project, "clean.py", "generated/leaky.py")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Passed" in output and "LKL101" not in output, output


def test_hook_manifest():
    """The manifest is what users' configs refer to: check the fields that matter."""
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "leaklint" and hook["entry"] == "leaklint --force-exclude"
    assert hook["language"] == "python" and hook["types"] == ["python"]
    assert hook["require_serial"] is True and hook["pass_filenames"] is True
