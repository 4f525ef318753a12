"""LKL606 (off by default): `wait()` / `communicate()` on a `Popen` with no timeout."""
from __future__ import annotations

from typing import Iterator, Tuple

from leaklint.index import FileIndex
from leaklint.rules._waits import (
    SHARED_EXEMPTIONS_DOC,
    Signature,
    Wait,
    WaitRule,
    local_subclass_creations,
    receiver_text,
    waits_on,
)
from leaklint.rules.base import last_names

CLASSES = frozenset({"subprocess.Popen"})
METHODS = {"wait": Signature(0), "communicate": Signature(1)}


class PopenWaitWithoutTimeout(WaitRule):
    code = "LKL606"
    name = "popen-wait-without-timeout"
    summary = "`wait()` or `communicate()` on a `subprocess.Popen` with no timeout."
    what_it_does = (
        "Finds `wait()` and `communicate()` with no timeout (or `timeout=None`) on a "
        "`subprocess.Popen` (or a subclass defined in the file) created in the file. "
        "`subprocess.run()` and `check_output()` without a timeout are not reported: "
        "they are the usual way to run a command to completion. A wait right after "
        "`kill()` / `terminate()` on the same child in the same block only reaps it and "
        "is not reported, nor is a `wait()` after `communicate()` (the child has exited)." + SHARED_EXEMPTIONS_DOC)
    why_bad = (
        "A child that hangs - waiting for input, a network peer, a lock held by a dead "
        "process - hangs its parent with it, holding the pipes and the child's "
        "resources; with a timeout the parent can kill it and report.")
    example = (
        "import subprocess\n\n"
        "def convert(path):\n"
        "    proc = subprocess.Popen(['convert', path, 'out.png'])\n"
        "    return proc.wait()\n")
    use_instead = (
        "import subprocess\n\n"
        "def convert(path):\n"
        "    proc = subprocess.Popen(['convert', path, 'out.png'])\n"
        "    try:\n"
        "        return proc.wait(timeout=300)\n"
        "    except subprocess.TimeoutExpired:\n"
        "        proc.kill()\n"
        "        raise\n")
    invalid = (
        "import subprocess\n\ndef f(cmd):\n    with subprocess.Popen(cmd, stdout=subprocess.PIPE)"
        " as p:\n        out, _ = p.communicate()\n    return out\n",
    )
    valid = (
        "import subprocess\n\ndef f(cmd):\n    p = subprocess.Popen(cmd)\n    return p.wait(10)\n",
        "import subprocess\n\ndef f(cmd, data):\n    p = subprocess.Popen(cmd)\n"
        "    return p.communicate(data, 10)\n",
        "def f(p):\n    return p.wait()\n",
    )
    trigger_words = ("Popen",)
    trigger_names = last_names(CLASSES)
    after_kill_ok = True

    def waits(self, index: FileIndex) -> Iterator[Wait]:
        return waits_on(index, local_subclass_creations(index, CLASSES), METHODS)

    def message(self, index: FileIndex, wait: Wait) -> Tuple[str, str]:
        return (f"{receiver_text(index, wait.call)} waits with no timeout for a child "
                f"process that may never exit",
                f"`{wait.method}(timeout=...)`, then `kill()` the child on `TimeoutExpired`")
