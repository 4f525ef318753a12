"""LKL504: a subprocess.Popen child that is never waited for."""
from __future__ import annotations

from typing import Iterator

from leaklint.index import FileIndex
from leaklint.lifecycle import ResourceKind
from leaklint.rules._common import (
    EVERY_PATH_DOC,
    EXCEPTION_PATHS,
    FACTORIES_DOC,
    SNIPPET_LIMIT,
    argument,
    held_as,
    owned_by_class,
    short_source,
    unreleased,
)
from leaklint.rules._processes import POPEN_CLASSES, creations, deliberate, kind_for
from leaklint.rules.base import Report, Rule, last_names
from leaklint.summaries import made_by, track_creation

# `poll()` reaps the child once it has exited (typically called in a loop); `kill()` and
# `terminate()` only send a signal: the child is still left a zombie.
POPEN = ResourceKind("subprocess", release_methods=frozenset({"wait", "communicate", "poll"}),
                     context_manager=True,
                     follow_local_functions=True, every_path=True)


class PopenNotWaited(Rule):
    code = "LKL504"
    name = "popen-not-waited"
    summary = "A subprocess.Popen child is never waited for, communicated with or polled."
    what_it_does = (
        "Finds `subprocess.Popen` objects (and subclasses defined in the same module) "
        "whose child is never reaped: not used in a `with` block or "
        "`ExitStack.enter_context`, and no `wait()`, `communicate()` or `poll()` call on "
        "it (also in `finally`, or in another method of the class when kept on `self`). "
        "`kill()` or `terminate()` alone does not count: the killed child still has to be "
        "waited for. A Popen that is returned, stored in a container or object that "
        "leaves the function, or passed to another function is assumed to be waited for "
        "there. `subprocess.run`, `check_output` and `call` wait themselves and are not "
        "reported.") + EVERY_PATH_DOC + FACTORIES_DOC
    why_bad = (
        "A child that exits and is never waited for stays a zombie process, its exit "
        "status (and any failure) is never seen, and one that keeps running outlives its "
        "parent's interest in it. Python warns `ResourceWarning: subprocess N is still "
        "running` when such a Popen object is garbage collected.")
    example = (
        "import subprocess\n\n"
        "def start_server(port):\n"
        "    subprocess.Popen(['python', '-m', 'http.server', str(port)])\n")
    use_instead = (
        "import subprocess\n\n"
        "def run_server(port):\n"
        "    with subprocess.Popen(['python', '-m', 'http.server', str(port)]) as proc:\n"
        "        serve_until_done()\n"
        "        proc.terminate()\n\n"
        "# or: proc.communicate(timeout=...), or subprocess.run(...) for a command that\n"
        "# finishes on its own.\n")
    invalid = (
        "import subprocess\n\ndef f():\n    subprocess.Popen(['sleep', '60'])\n",
        "from subprocess import Popen as P, PIPE\n\ndef f():\n"
        "    proc = P(['ls'], stdout=PIPE)\n    return proc.stdout.read()\n",
        "import subprocess\n\ndef f():\n    proc = subprocess.Popen(['sleep', '60'])\n"
        "    proc.kill()\n",
    )
    valid = (
        "import subprocess\n\ndef f():\n    proc = subprocess.Popen(['ls'])\n"
        "    out, err = proc.communicate(timeout=10)\n    return out\n",
        "import subprocess\n\ndef f():\n    with subprocess.Popen(['ls']) as proc:\n"
        "        pass\n",
        "import subprocess\n\ndef f():\n    proc = subprocess.Popen(['sleep', '60'])\n"
        "    try:\n        pass\n    finally:\n        proc.kill()\n        proc.wait()\n",
        "import subprocess\n\ndef f():\n    return subprocess.Popen(['ls'])\n",
        "import subprocess\n\ndef f():\n    subprocess.run(['ls'])\n",
    )
    trigger_words = ("Popen",)
    trigger_names = last_names(POPEN_CLASSES)
    options = (EXCEPTION_PATHS,)

    def check(self, index: FileIndex) -> Iterator[Report]:
        for creation in creations(index, POPEN_CLASSES):
            call, subclass, qualname = creation.node, creation.subclass, creation.qualname
            kind = kind_for(index, POPEN, subclass)
            lifecycle = track_creation(index, creation, kind,
                                       exception_paths=self.settings["exception-paths"])
            if not lifecycle.dropped(kind):
                continue
            if deliberate(index, call, qualname, lifecycle):
                continue
            yield Report(call, self._message(index, creation, lifecycle),
                         fix="call `wait()` or `communicate(timeout=...)` on it, or use it in a "
                             "`with` block")

    @staticmethod
    def _message(index, creation, lifecycle) -> str:
        holder, call, subclass = lifecycle.holder, creation.node, creation.subclass
        command = None
        if creation.call is not None and not creation.factory:
            command = argument(creation.call, "args", 0)
        text = short_source(index, command, SNIPPET_LIMIT) if command is not None else ""
        what = f"`{subclass.name.value}` child" if subclass is not None else "child process"
        what += held_as(holder, call, index) + made_by(creation)
        what += f" running `{text}`" if text else ""
        waited = unreleased(index, lifecycle, "waited for", "waits for it")
        killed = [m for m in ("kill", "terminate", "send_signal") if m in lifecycle.method_calls]
        if killed and lifecycle.skipped is None:
            waited = waited if owned_by_class(holder) else "is " + waited
            return f"{what} gets `{killed[0]}()` but {waited}: it stays a zombie"
        return f"{what} is started but {waited}: it is left a zombie"
