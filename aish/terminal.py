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
from typing import TYPE_CHECKING, Any, TextIO, cast

if TYPE_CHECKING:
    import re


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


def write_control(stream: TextIO, sequence: str) -> bool:
    """Write a control sequence that moves no cursor (a mode set or reset): an open line stays
    open, and a line start stays one. False when it could not be written."""
    at_line_start = getattr(stream, "at_line_start", None)
    try:
        stream.write(sequence)
        stream.flush()
    except (OSError, ValueError):
        return False
    finally:
        if isinstance(stream, LineTracker) and at_line_start is not None:
            stream.at_line_start = at_line_start
    return True


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


def terminal_size(stream: TextIO, fallback: tuple[int, int] = (80, 24)) -> os.terminal_size:
    """The size of the terminal ``stream`` writes to, asked of the terminal itself: an outdated
    ``COLUMNS``, which ``shutil.get_terminal_size`` prefers, would have a renderer lay text out
    for another width. When ``stream`` is no terminal: ``COLUMNS`` and ``LINES``, else ``fallback``."""
    try:
        return os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        import shutil  # not a terminal: the environment, or the fallback

        return shutil.get_terminal_size(fallback)


def note_line_start(stream: TextIO) -> None:
    """Something the stream did not see left the cursor at the start of a line: a renderer's
    status line, written to standard error on the same terminal and ended with a newline, after
    a ``^C`` echo that :func:`note_open_line` noted (else the next message follows a blank line)."""
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


_CONTROLS = "[\x00-\x08\x0b-\x1f\x7f-\x9f]"
"""What :func:`terminal_safe` escapes: C0 controls but tab and newline, DEL, C1 controls."""
_controls: list[re.Pattern[str]] = []
"""``_CONTROLS`` compiled, on first use (decision 32: no pattern compiled before it is needed)."""


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return "" if char == "\r" else f"\\x{ord(char):02x}"


def terminal_safe(text: str) -> str:
    """``text`` as it may be written to a terminal: every control character but newline and tab
    shown as an escape, ``\\x1b`` for ESC, in the form of aish's error messages
    (:func:`aish.visible`).

    Text from a model or a server can hold escape sequences that retitle the terminal, colour
    or hide text, move or hide the cursor, or write the clipboard (OSC 52). Escaped here, ESC
    is four visible characters and the sequence after it plain text. A carriage return is left
    out (it could overwrite what was written, hiding text; most are the first half of a CRLF
    line end, which the newline alone ends on a terminal). Backspace is escaped too, and so are
    C1 controls (U+0080 to U+009F: some terminals read U+009B as CSI) and DEL. Everything
    else is kept, including bidirectional formatting marks, which right-to-left writing needs.

    Each character is replaced on its own, so text streamed in pieces can be made safe piece
    by piece: an escape sequence split between two pieces is neutralised all the same. Use it
    only where the output is a terminal: a pipe or a file gets the exact text.
    """
    if not _controls:
        import re

        _controls.append(re.compile(_CONTROLS))
    pattern = _controls[0]
    return text if pattern.search(text) is None else pattern.sub(_escaped, text)


_ZERO_WIDTH = frozenset(("Mn", "Me", "Cf"))
"""Unicode categories a terminal draws in no cell of their own: combining marks, joiners, format marks."""


def cell_widths(text: str) -> list[int]:
    """The terminal cells each character of ``text`` takes: 2 for wide ones (East Asian ``W`` and
    ``F``: CJK, most emoji), 0 for combining marks and format characters (a ZWJ, a variation
    selector, a bidirectional mark), 8 for a tab (the most it can take), else 1; the emoji variation
    selector (U+FE0F) takes 1, as the cell some terminals add to the character before it (``❤️``).
    An emoji sequence (a skin tone, a ZWJ family) may be counted wider than a terminal draws it,
    never narrower."""
    import unicodedata

    category, east_asian = unicodedata.category, unicodedata.east_asian_width

    def width(c: str) -> int:
        if c in _SPECIAL:
            return _SPECIAL[c]
        return 0 if category(c) in _ZERO_WIDTH else 2 if east_asian(c) in ("W", "F") else 1

    return [width(c) for c in text]


_SPECIAL = {"\t": 8, "\ufe0f": 1}
"""Characters whose width their category does not tell: a tab, the emoji variation selector."""


def cells(text: str) -> int:
    """How many terminal cells ``text`` (one line, no control characters but tab) takes; see
    :func:`cell_widths`. Printable ASCII is counted as its length, without looking further."""
    if text.isascii() and "\t" not in text:
        return len(text)
    return sum(cell_widths(text))


__all__ = [
    "LineTracker",
    "cell_widths",
    "cells",
    "end_line",
    "note_line_start",
    "note_open_line",
    "terminal_safe",
    "terminal_size",
    "track",
    "wants_color",
]
