"""The ``elapsed`` renderer: every line of the answer starts with ``[  0.42s] ``.

The time is measured from the stream's start (its :class:`~aish.StreamStart`,
or the first event if none came). Text is written as it arrives; a line's
prefix is written when the line's first character arrives, so the prefix
says when that line began.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aish import Event, RenderTarget, StreamStart, TextDelta


class ElapsedRenderer:
    """Writes text as it arrives, each line prefixed with the elapsed seconds."""

    def __init__(self, target: RenderTarget, clock: Callable[[], float] = time.monotonic) -> None:
        self.out = target.out
        self._clock = clock
        self._started: float | None = None
        self._at_line_start = True

    def _prefix(self) -> str:
        now = self._clock()
        if self._started is None:
            self._started = now
        return f"[{now - self._started:6.2f}s] "

    def feed(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self._write(event.text)
        elif isinstance(event, StreamStart):
            if not self._at_line_start:  # a new stream starts on a line of its own
                self.out.write("\n")
                self._at_line_start = True
            self._started = self._clock()

    def _write(self, text: str) -> None:
        pos = 0
        while pos < len(text):
            if self._at_line_start:
                self.out.write(self._prefix())
                self._at_line_start = False
            end = text.find("\n", pos)
            if end == -1:
                self.out.write(text[pos:])
                return
            self.out.write(text[pos : end + 1])
            self._at_line_start = True
            pos = end + 1

    def flush(self) -> None:
        self.out.flush()

    def close(self) -> None:
        if not self._at_line_start:
            self.out.write("\n")
            self._at_line_start = True
        self.out.flush()
