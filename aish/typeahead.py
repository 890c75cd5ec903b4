"""Keys typed while an answer streams wait for the next prompt, not in the middle of the answer.

A terminal echoes what is typed as it is typed, wherever the cursor is: the
next question, typed while an agent still answers, lands inside the answer
(``... I limodels story`` / ``ke my icog go``). The shell turns the terminal's
echo off while a line of agents runs; the keys stay in the terminal's input
queue (nothing is flushed), and the line editor shows them at the next prompt,
where a typed Enter runs them as before. Interrupts (Ctrl-C) still work: only
``ECHO`` changes. Lines that run programs keep the echo, since a program may
read the terminal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def unechoed(fd: int | None) -> Iterator[None]:
    """The terminal ``fd`` without echo inside the block (nothing changes when ``fd`` is None
    or not a terminal); its modes as they were after it, what was typed kept."""
    if fd is None:
        yield
        return
    import termios

    try:
        saved = termios.tcgetattr(fd)
        if saved[3] & termios.ECHO:
            termios.tcsetattr(fd, termios.TCSANOW, [*saved[:3], saved[3] & ~termios.ECHO, *saved[4:]])
        else:
            fd = None  # already quiet (a test's terminal, a caller's own): leave it to them
    except (termios.error, OSError):
        fd = None
    try:
        yield
    finally:
        if fd is not None:
            with contextlib.suppress(termios.error, OSError):  # TCSANOW, not TCSAFLUSH: what was typed stays
                termios.tcsetattr(fd, termios.TCSANOW, saved)
