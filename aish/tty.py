"""Whether a stream is a terminal, for any stream aish is given (a closed or fake one says no),
and silencing a stream that can no longer be written."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: the aish command imports this before typing
if TYPE_CHECKING:
    from typing import TextIO


def isatty(stream: TextIO) -> bool:
    """``stream.isatty()``, False for a stream without it or a closed one."""
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
