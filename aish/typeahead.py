"""Keys typed while an answer streams wait for the next prompt, not in the middle of the answer.

A terminal echoes what is typed as it is typed, wherever the cursor is: the
next question, typed while an agent still answers, lands inside the answer
(``... I limodels story`` / ``ke my icog go``). The shell turns the terminal's
echo off while a line of agents runs; the keys stay in the terminal's input
queue (nothing is flushed), and the line editor shows them at the next prompt,
where a typed Enter runs them as before. Interrupts (Ctrl-C) still work: only
``ECHO`` changes. Bracketed paste is on meanwhile, as at the prompt: a block
pasted while the answer streams reaches the next prompt as one paste, not as
lines that each run. Lines that run programs keep the echo, and paste mode
off, since a program may read the terminal (bash does the same).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TextIO

PASTE_ON, PASTE_OFF = "\x1b[?2004h", "\x1b[?2004l"
"""Bracketed paste on and off: what prompt_toolkit writes around each prompt."""


@contextlib.contextmanager
def unechoed(fd: int | None, screen: TextIO | None = None) -> Iterator[None]:
    """The terminal ``fd`` without echo inside the block (nothing changes when ``fd`` is None
    or not a terminal); its modes as they were after it, what was typed kept. ``screen``: the
    terminal's output, where bracketed paste is turned on for the block."""
    if fd is None:
        yield
        return
    import termios

    from aish.terminal import write_control

    try:
        saved = termios.tcgetattr(fd)
        if saved[3] & termios.ECHO:
            termios.tcsetattr(fd, termios.TCSANOW, [*saved[:3], saved[3] & ~termios.ECHO, *saved[4:]])
        else:
            fd = None  # already quiet (a test's terminal, a caller's own): leave it to them
    except (termios.error, OSError):
        fd = None
    pasting = fd is not None and screen is not None and write_control(screen, PASTE_ON)
    try:
        yield
    finally:
        if pasting and screen is not None:
            write_control(screen, PASTE_OFF)  # the line editor turns it on again at the prompt
        if fd is not None:
            with contextlib.suppress(termios.error, OSError):  # TCSANOW, not TCSAFLUSH: what was typed stays
                termios.tcsetattr(fd, termios.TCSANOW, saved)
