"""Whether a stream is a terminal, for any stream aish is given (a closed or fake one says no),
writing long texts in pieces, silencing a stream that can no longer be written, and ending as a
program ended by Ctrl-C."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: the aish command imports this before typing
if TYPE_CHECKING:
    from typing import TextIO


PIECE = 1 << 16
"""The longest text :class:`Pieces` hands its stream in one ``write``."""


class Pieces:
    """A text stream whose long writes go down :data:`PIECE` characters at a time.

    Written whole to a pipe whose reader went away part of the way through (``aish big hi |
    head -c 10``), a 5 MB answer was taken as written: one short ``write(2)``, no error, and
    aish ended 0 instead of 141. A piece after the short one fails with EPIPE, which is a
    ``BrokenPipeError`` like any other write's.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        if len(text) <= PIECE:
            return self.stream.write(text)
        for start in range(0, len(text), PIECE):
            self.stream.write(text[start : start + PIECE])
        return len(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def in_pieces(stream: TextIO) -> TextIO:
    """``stream`` behind a :class:`Pieces`."""
    return Pieces(stream)  # type: ignore[return-value]  # it passes on everything a TextIO has


def isatty(stream: TextIO) -> bool:
    """``stream.isatty()``, False for a stream without it or a closed one (public: ``aish.isatty``)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def silence(stream: TextIO) -> None:
    """Point a dead output stream (a full disk, an I/O error) at /dev/null: what is still
    buffered for it, and the interpreter's final flush, then fail no more. The failure
    has been reported once; a second flush would report it again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def die_of_ctrl_c() -> None:
    """End as a process killed by SIGINT, as a shell's programs do after Ctrl-C: a calling shell
    then stops its loop or script (``for f in *; do aish ...; done``), which exit status 130 does
    not make it do. History is closed and plugins shut down by now: flush, then take SIGINT."""
    import signal

    die_of(signal.SIGINT)


def die_of(signum: int) -> None:
    """Flush standard output and error, then end by signal ``signum`` at its default action."""
    import signal

    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def read_secret(err: TextIO, question: str) -> str:
    """Ask ``question`` on ``err`` and read a line from the terminal without echoing it (``keys set``)."""
    import getpass

    return getpass.getpass(question, stream=err)
