"""Terminal output: lines are never left open, colour only where it is wanted.

Output on a terminal never ends mid-line: what follows it starts on a line of its own.

An answer or an OS command's output may lack a final newline (``athena hi |
tr a-z A-Z``, ``printf hi``). On a terminal the next thing written would then
be glued to it, and the shell's prompt, which redraws its own line, would erase
it. :class:`LineTracker` wraps the terminal stream and remembers whether the
last character written was a newline; the runner calls :meth:`end_line` when a
line of aish has run (and before it writes an error), which adds the newline
only when one is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, TextIO, cast


class LineTracker:
    """A text stream that passes everything to ``stream`` and knows whether a line is open."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.at_line_start = True
        """False while the last text written did not end with a newline."""

    def write(self, text: str) -> int:
        if text:
            self.at_line_start = text[-1] == "\n"
        return self.stream.write(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def end_line(self) -> None:
        """Write a newline if the last text written left a line open."""
        if not self.at_line_start:
            self.write("\n")
            self.stream.flush()

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return str(getattr(self.stream, "encoding", None) or "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def track(stream: TextIO) -> TextIO:
    """``stream`` wrapped in a :class:`LineTracker` (a stream already wrapped is returned as is)."""
    if isinstance(stream, LineTracker):
        return cast(TextIO, stream)
    return cast(TextIO, LineTracker(stream))


def end_line(stream: TextIO) -> None:
    """End the open line of ``stream`` if it is a :class:`LineTracker` (others are left alone)."""
    if isinstance(stream, LineTracker):
        stream.end_line()


def after_program(stream: TextIO) -> None:
    """A program wrote to the terminal behind ``stream`` itself (``athena hi | tee log``): move
    to a line of its own if it left one open, as zsh's PROMPT_SP does, since aish could not see
    its last character. A line's width of blanks, then a carriage return and erase-line: from
    the start of a line, the blanks fill that line and the return comes back to its start (the
    terminal defers the wrap); from inside a line, they wrap to the next one, which the return
    and the erase leave empty. The open line itself is kept as it is."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return
    stream.write(" " * columns + "\r\x1b[K")
    stream.flush()
    if isinstance(stream, LineTracker):
        stream.at_line_start = True


def note_open_line(stream: TextIO) -> None:
    """Something the stream did not see (the terminal's own ``^C`` echo) left the line open:
    the next :func:`end_line` writes a newline unless text ending with one comes first."""
    if isinstance(stream, LineTracker):
        stream.at_line_start = False


def wants_color(tty: bool, environ: Mapping[str, str] | None = None) -> bool:
    """Whether output may be coloured: on a terminal, unless ``NO_COLOR`` is set (to anything
    but the empty string, see no-color.org) or ``TERM`` is ``dumb``."""
    env = os.environ if environ is None else environ
    return tty and not env.get("NO_COLOR") and env.get("TERM") != "dumb"


__all__ = ["LineTracker", "end_line", "note_open_line", "track", "wants_color"]
