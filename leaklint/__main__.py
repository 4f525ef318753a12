"""`python -m leaklint`: the same as the `leaklint` command."""
import os
import sys


def _forget_current_folder() -> None:
    """`python -m` puts the current folder first on sys.path: a linted project's own
    `tokenize.py`, `dataclasses.py` or `queue.py` would then be imported (and run) in
    place of the standard library's. The console script does not do that; neither do we.
    Kept when leaklint itself is imported from there (a checkout that is not installed)."""
    if not sys.path or sys.path[0] not in ("", os.getcwd()):
        return  # -P / PYTHONSAFEPATH, or not run with -m
    first = os.path.abspath(sys.path[0] or os.curdir)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.normcase(first) != os.path.normcase(package_parent):
        del sys.path[0]


_forget_current_folder()

from leaklint.cli import main  # noqa: E402  (after the sys.path fix, on purpose)

if __name__ == "__main__":
    sys.exit(main())
