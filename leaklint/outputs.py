"""Where leaklint's output goes, without ever destroying a user's file.

- Every file leaklint writes (the report of `--output`, the baseline, the cache) goes
  through `write_atomically`: a temporary file in the same folder, then `os.replace`, so
  a crash or Ctrl-C leaves either the old file or the new one, never half of one.
- `overwrite_refusal` says why an output target must not be written at all: it is a
  file being linted, the configuration file, the baseline being read, or another output.
- `write_stdout` turns a failed write on standard output (a full disk, `> /dev/full`)
  into `StdoutError`, a one-line error, instead of a traceback.
"""
from __future__ import annotations

import os
import stat
import sys
from typing import Dict, Iterable, Optional, Tuple

# Files are created with these permissions, less the umask (as `open(path, "w")` would).
_NEW_FILE_MODE = 0o666


def write_atomically(path: str, text: str) -> None:
    """Replace the file at `path` with `text` (UTF-8, `\\n` line ends) in one step.

    An existing file keeps its permission bits; a symbolic link keeps pointing where it
    did (its target is replaced). Something that is not a regular file (`/dev/null`, a
    FIFO, `/dev/stderr`) is written to directly: replacing it would destroy it.
    Raises OSError; the temporary file is gone whatever happens.
    """
    data = text.encode("utf-8")
    try:
        status: Optional[os.stat_result] = os.stat(path)
    except FileNotFoundError:
        status = None  # a new file (or a link to a file still to be created)
    if status is not None and not stat.S_ISREG(status.st_mode):
        with open(path, "wb") as handle:
            handle.write(data)
        return
    target = os.path.realpath(path) if os.path.islink(path) else path
    temporary, descriptor = _create_temporary(target)
    try:
        with open(descriptor, "wb") as handle:
            if status is not None:
                os.chmod(temporary, stat.S_IMODE(status.st_mode))
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename makes it the file
        os.replace(temporary, target)
    except BaseException:  # OSError, but also Ctrl-C: leave no temporary file behind
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _create_temporary(target: str) -> Tuple[str, int]:
    """A new, empty file next to `target` (the rename must not cross file systems), named
    after it and hidden, created with the usual permissions (tempfile's are 0600)."""
    folder, name = os.path.split(target)
    import secrets  # here: a run that writes nothing (a warm one) does not import it

    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            return temporary, os.open(temporary, flags, _NEW_FILE_MODE)
        except FileExistsError:
            continue


# -- never overwrite an input -----------------------------------------------------------------
def overwrite_refusal(targets: Dict[str, Optional[str]],
                      protected: Iterable[Tuple[str, str]]) -> Optional[str]:
    """Why one of the output `targets` ({option: path}) must not be written, or None.

    `protected` holds (path, what it is) for every file the run reads. The comparison is
    by file identity (device and inode), so a relative path, a symbolic link or a hard
    link to an input is caught too; outputs that do not exist yet are compared with each
    other by their resolved path.
    """
    named = {option: path for option, path in targets.items() if path}
    if not named:
        return None
    existing = {option: _identity(path) for option, path in named.items()}
    wanted = {identity for identity in existing.values() if identity is not None}
    if wanted:
        for path, what in protected:
            identity = _identity(path)
            if identity in wanted:
                option = next(o for o, i in existing.items() if i == identity)
                return f"{option}: refusing to overwrite {named[option]}: it is {what}"
    seen: Dict[object, str] = {}
    for option, path in named.items():
        key = existing[option] or os.path.normcase(os.path.realpath(path))
        if key in seen:
            return f"{option}: {path} is also the {seen[key]} file; give them different files"
        seen[key] = option
    return None


def _identity(path: str) -> Optional[Tuple[int, int]]:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(status.st_mode):
        return None  # /dev/null, /dev/stdout: writing there destroys nothing
    return (status.st_dev, status.st_ino)


# -- standard output --------------------------------------------------------------------------
class StdoutError(Exception):
    """Standard output cannot be written (not a closed pipe: that is BrokenPipeError)."""


def write_stdout(text: str) -> None:
    if sys.stdout is None:  # started with file descriptor 1 closed (`leaklint >&-`)
        if text:
            raise StdoutError("cannot write to standard output: it is closed")
        return
    try:
        write_text(sys.stdout, text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as error:
        raise StdoutError(f"cannot write to standard output: {error.strerror or error}") from None


def flush_stdout() -> None:
    """What `print` left in the buffer, written now: a failure here is still ours to
    report, not the interpreter's at exit."""
    write_stdout("")


def write_text(stream, text: str) -> None:
    try:
        stream.write(text)
    except UnicodeEncodeError:  # a terminal that cannot show some character of a message
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))


def detach_stdout() -> None:
    """Point standard output at the null device: what is still buffered can then be
    dropped quietly when the interpreter flushes it at exit (the reader of the pipe left,
    or the disk is full; saying so once is enough)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
