"""What a long run shows while it works: `linting 1234/9001 files` on a terminal.

Drawn on standard error only when it is a terminal (never in a pipe, a file or CI logs),
only once the run has lasted `DELAY` seconds (short runs stay silent), redrawn in place
with a carriage return at most every `INTERVAL` seconds (cheap: one small write), and
erased before anything else is printed.
"""
from __future__ import annotations

import time
from typing import Callable, Optional, TextIO

DELAY = 2.0
INTERVAL = 0.1


class Progress:
    def __init__(self, stream: Optional[TextIO], clock: Callable[[], float] = time.monotonic):
        self.stream = stream  # None: show nothing
        self.clock = clock
        self.total = 0
        self.done = 0
        self._started = 0.0
        self._next_draw = 0.0
        self._drawn = 0  # length of the line on screen, 0: nothing to erase

    @classmethod
    def on_terminal(cls, stream: TextIO, quiet: bool = False) -> "Progress":
        """Shown on `stream` if it is a terminal and the user did not ask for quiet."""
        try:
            interactive = not quiet and stream.isatty()
        except (AttributeError, ValueError):  # no isatty, or a closed stream
            interactive = False
        return cls(stream if interactive else None)

    def start(self, total: int, done: int = 0) -> None:
        self.total, self.done = total, done
        self._started = self.clock()
        self._next_draw = self._started + DELAY

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.stream is None:
            return
        now = self.clock()
        if now >= self._next_draw:
            self._next_draw = now + INTERVAL
            self._draw(f"linting {self.done}/{self.total} files")

    def finish(self) -> None:
        """Erase the line (also on Ctrl-C, so that `interrupted` starts a clean line)."""
        if self._drawn:
            self._write("\r" + " " * self._drawn + "\r")
            self._drawn = 0

    def _draw(self, text: str) -> None:
        # Counted as on screen before it is written: a Ctrl-C may interrupt the write, and
        # `finish` must still erase what got out. Spaces cover what is left of a longer
        # line (no terminal escape codes needed).
        self._drawn = max(self._drawn, len(text))
        self._write("\r" + text.ljust(self._drawn))

    def _write(self, text: str) -> None:
        if self.stream is None:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a terminal gone away: not worth failing the run
            self.stream = None
            self._drawn = 0
