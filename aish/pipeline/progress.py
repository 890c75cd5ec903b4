"""A status line on the terminal while the answer goes to a file.

``athena write an essay > essay.md`` shows nothing of the answer: without a
sign of life, a long answer looks like a hung shell. As curl shows its
progress meter when its output is not the terminal, aish keeps one line on
standard error while the run writes to a file, and erases it when the run
ends (decision 36)::

    [Writing to essay.md... 2,345 characters, 4.1s]

It is drawn when the run starts and redrawn at most five times a second as
text arrives. Only when the output is a regular file and standard error a
terminal: the reader of a pipe (``| less``) may be drawing on that terminal.
Whatever else the run writes to standard error meanwhile (an error, a
warning) first erases the line, so it is never left in front of a message.
"""

from __future__ import annotations

import io
import os
import stat
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from aish.tty import isatty

ERASE = "\r\x1b[K"
EVERY = 0.2
"""Seconds between two redraws at most."""
WIDEST = 60
"""The line's widest: short enough that a terminal made narrower rarely rewraps it (a rewrapped
line leaves rows behind that erasing the cursor's row does not take)."""


def wanted(out: TextIO, err: TextIO) -> bool:
    """Whether a run writing to ``out`` should show its progress on ``err``."""
    if not isatty(err):
        return False
    try:
        return stat.S_ISREG(os.fstat(out.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def stdout_name(out: TextIO) -> str:
    """What to call ``out`` (standard output, redirected to a file by the user's shell):
    the file's path, relative to the working directory when it is under it."""
    try:
        path = os.readlink(f"/proc/self/fd/{out.fileno()}")
    except (OSError, ValueError, AttributeError):
        return "standard output"
    if not path.startswith("/"):
        return "standard output"  # "pipe:[...]", or another system's way
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


class Progress:
    """Counts what is written to ``out`` and keeps the status line on ``err`` up to date.

    Use it as ``out`` for the run, and :attr:`err` as its standard error; call
    :meth:`close` when the run ends (it erases the line). Lanes of a parallel
    group write from their own threads: a redraw that finds another under way
    is skipped.
    """

    def __init__(
        self, out: TextIO, err: TextIO, name: str, clock: Callable[[], float] = time.monotonic, width: int = 0
    ) -> None:
        self._out = out
        self._err = err
        self._name = name
        self._clock = clock
        self._started = clock()
        self._next = self._started + EVERY
        self._chars = 0
        self._shown = False
        self._lock = threading.Lock()
        self._measure = not width
        self._width = width or _width(err)
        self.err = _Erasing(err, self)
        """Standard error for the run: writing to it erases the line first."""
        self._draw(self._started)

    def write(self, text: str) -> int:
        written = self._out.write(text)
        self.wrote(len(text))
        return written

    def wrote(self, chars: int) -> None:
        """Count ``chars`` more characters written, and redraw the line when it is time."""
        self._chars += chars
        now = self._clock()
        if now >= self._next:
            self._draw(now)

    @property
    def buffer(self) -> _Counted:
        """The file's bytes, for a program's output passed on as it is (counted as the characters
        they make: the bytes that begin one). AttributeError when ``out`` has none."""
        self._out.flush()
        return _Counted(self._out.buffer, self)

    def flush(self) -> None:
        self._out.flush()

    def fileno(self) -> int:
        return self._out.fileno()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._out, name)

    def line(self, now: float) -> str:
        """The status line's text at ``now``: at most :data:`WIDEST` columns and one less than the
        terminal's width, so that it never wraps; a long file name gives way (``...end-of-name.md``),
        never the figures."""
        seconds = f"{now - self._started:.1f}s]"
        words = f" {self._chars:,} character{'' if self._chars == 1 else 's'}," if self._chars else ""
        short = f" {self._chars:,} ch," if self._chars else ""
        head, widest = "[Writing to ", min(self._width - 1, WIDEST)
        tail = next(  # on a narrow terminal the figures shorten before they are cut
            (t for t in (f"...{words} {seconds}", f"...{short} {seconds}") if len(head) + len(t) <= widest),
            f"...{short} {seconds}",
        )
        room = widest - len(head) - len(tail)
        name = self._name
        if len(name) > room:
            name = "..." + name[len(name) - max(room - 3, 1) :] if room > 4 else ""
        text = head + name + tail
        return text if len(text) < self._width else text[: max(self._width - 2, 0)] + "]"

    def erase(self) -> None:
        """Take the line off the terminal (it comes back at the next redraw)."""
        with self._lock:
            if self._shown:
                self._shown = False
                self._put(ERASE)

    def close(self) -> None:
        self._next = float("inf")
        self.erase()

    def _draw(self, now: float) -> None:
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._measure:
                self._width = _width(self._err)  # the terminal may have been resized since
            self._next = now + EVERY
            self._shown = True
            self._put(ERASE + self.line(now))
        finally:
            self._lock.release()

    def _put(self, text: str) -> None:
        try:
            self._err.write(text)
            self._err.flush()
        except (OSError, ValueError):
            self._next = float("inf")  # the terminal went away: no more lines


_FIRST_BYTES = bytes(range(0x80)) + bytes(range(0xC0, 0x100))
"""The bytes that begin a UTF-8 character (all but the continuation bytes)."""


class _Counted:
    """Bytes written to a file under a :class:`Progress`, counted as characters."""

    def __init__(self, buffer: Any, progress: Progress) -> None:
        self._buffer = buffer
        self._progress = progress

    def write(self, data: bytes) -> int:
        written = self._buffer.write(data)
        self._progress.wrote(len(data) - len(data.translate(None, _FIRST_BYTES)))
        return int(written)

    def flush(self) -> None:
        self._buffer.flush()


class _Erasing:
    """Standard error that erases the status line before anything is written to it."""

    def __init__(self, err: TextIO, progress: Progress) -> None:
        self._err = err
        self._progress = progress

    def write(self, text: str) -> int:
        self._progress.erase()
        return self._err.write(text)

    def fileno(self) -> int:
        """None to give: a program's standard error must come through :meth:`write` (which erases
        the line first), not go to the descriptor behind the line's back."""
        raise io.UnsupportedOperation("fileno")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._err, name)


def _width(err: TextIO) -> int:
    try:
        return os.get_terminal_size(err.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return 80
