"""Writing output files (leaklint/outputs.py): atomic replacement, permissions, what is
never replaced, and which targets are refused. The command-line side is in test_cli.py."""
from __future__ import annotations

import os
import stat
import threading

import pytest

from leaklint import outputs
from leaklint.outputs import overwrite_refusal, write_atomically


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    old_umask = os.umask(0o027)
    try:
        write_atomically(str(tmp_path / "new.txt"), "text\n")
    finally:
        os.umask(old_umask)
    assert (tmp_path / "new.txt").read_bytes() == b"text\n"
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640  # 0o666 less the umask


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    os.chmod(target, 0o604)
    write_atomically(str(target), "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o604


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "report.txt"
    target.write_text("old\n")

    def interrupted(descriptor):
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(str(target), "new\n" * 100_000)
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["report.txt"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_what_is_not_a_regular_file_is_written_to_not_replaced(tmp_path):
    # `--output /dev/stderr`, a FIFO: replacing them with a file would break them.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write_atomically(str(fifo), "report\n")
    reader.join(timeout=30)
    assert received == [b"report\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_special_files_and_unrelated_outputs_are_not_refused(tmp_path):
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    linted = [(str(source), "a file being linted")]
    assert overwrite_refusal({"--output": os.devnull}, linted) is None
    assert overwrite_refusal({"--output": str(tmp_path / "report.txt"),
                              "--write-baseline": str(tmp_path / "baseline.json")}, linted) is None
    assert overwrite_refusal({"--output": None, "--write-baseline": None}, linted) is None
    assert overwrite_refusal({"--output": str(source)}, linted) == (
        f"--output: refusing to overwrite {source}: it is a file being linted")
