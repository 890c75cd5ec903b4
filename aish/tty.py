"""Whether a stream is a terminal, for any stream aish is given (a closed or fake one says no),
silencing a stream that can no longer be written, and ending as a program ended by Ctrl-C."""

from __future__ import annotations

import os
import sys

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


def die_of_ctrl_c() -> None:
    """End as a process killed by SIGINT, as a shell's programs do after Ctrl-C: a calling shell
    then stops its loop or script (``for f in *; do aish ...; done``), which exit status 130 does
    not make it do. History is closed and plugins shut down by now: flush, then take SIGINT."""
    import signal

    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)
