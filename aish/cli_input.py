"""What the ``aish`` command reads besides its arguments: piped standard input and script files.

Text that is not UTF-8 becomes U+FFFD, with one warning naming where it came from (decision 21).
"""

from __future__ import annotations

from aish.errors import UsageError
from aish.tty import isatty

TYPE_CHECKING = False  # as in aish.cli: pathlib and typing stay off the one-shot path
if TYPE_CHECKING:
    from pathlib import Path
    from typing import TextIO


def wants_input(line: str) -> bool:
    """Does the line start with a stage that reads input and was given none (``aish -c 'athena'``)?"""
    from aish.errors import AishSyntaxError
    from aish.lang import Command, parse

    try:
        script = parse(line)
    except AishSyntaxError:
        return False
    if not script.items:
        return False
    pipeline = script.items[0][1]
    first = pipeline.stages[0]
    return pipeline.stdin is None and isinstance(first, Command) and first.name != "echo" and not first.args


def unread(stdin: TextIO, err: TextIO) -> None:
    """``cat notes | aish -c 'athena summarize'``: the line does not read standard input (only a
    first stage without words does), so input waiting there would be dropped without a word: say so.

    Best effort, and nothing is consumed: a regular file that is not empty, or a pipe with bytes
    in it already (``FIONREAD``); a writer that has not written yet goes unnoticed."""
    if isatty(stdin):
        return
    import os
    import stat

    try:
        fd = stdin.fileno()
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            waiting = info.st_size > os.lseek(fd, 0, os.SEEK_CUR)
        elif stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode):
            import array
            import fcntl
            import termios

            count = array.array("i", [0])
            fcntl.ioctl(fd, termios.FIONREAD, count)
            waiting = count[0] > 0
        else:
            return
    except (AttributeError, ValueError, OSError):
        return
    if waiting:
        err.write(
            "aish: warning: standard input is not read: with -c only a first stage without words reads it "
            "(aish -c 'athena', or aish athena WORDS... to send both)\n"
        )


def piped(stdin: TextIO, err: TextIO) -> str | None:
    """Standard input when it is a pipe or file (never blocks on a terminal)."""
    if isatty(stdin):
        return None
    try:
        data = read_all(stdin, "standard input", err)
    except (OSError, ValueError):
        return None
    return data or None


def read_all(stdin: TextIO, source: str, err: TextIO) -> str:
    """All of ``stdin``: bytes that are not UTF-8 become U+FFFD, with one warning (decision 21)."""
    from aish.encoding import notice, read_text

    text, bad = read_text(stdin)
    notice(source, bad, err)
    return text


def read_script(path: Path, err: TextIO) -> str:
    from aish.encoding import decode, notice

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    text, bad = decode(data)
    notice(str(path), bad, err)
    return text
