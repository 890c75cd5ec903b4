"""Word wrap for an answer streamed to a terminal (the ``plain`` renderer's, ``history show``'s).

A terminal breaks a line that is too wide at its last column, in the middle of
a word (``fav`` at the end of one row, ``orite`` at the start of the next).
:class:`WordWrap` breaks it before the word instead, as ``fold -s`` and a
pager do, without holding any text back: a word is written as soon as it
arrives, and when a later piece of it would cross the right margin, the part
already on the row is erased and the word starts the next row whole.

The spaces at a break are left out (the row ends, the next starts with the
word). A word wider than the terminal is cut at the margin. Code is left to
the terminal (a fenced block, a line indented by four blanks or a tab): a
long line of it then stays one line when copied from the screen. Width is counted
in terminal cells (:func:`aish.cells`: a CJK character takes two), and read
again at each new row, so a window made narrower wraps from its next row on.
Only text is given to it: it sees no escape sequences (the renderer makes the
answer's control characters visible first, :func:`aish.terminal_safe`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable

from aish.terminal import cell_widths, cells, terminal_size
from aish.tty import isatty

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: a plain run imports this module
if TYPE_CHECKING:
    from typing import TextIO

__all__ = ["WordWrap", "say"]


@functools.cache
def _pieces() -> re.Pattern[str]:
    """A run of blanks, or a word. Compiled on first use: a run on a pipe never needs it."""
    return re.compile(r"[ \t]+|[^ \t]+")


_FENCES = ("```", "~~~")
HEAD = 8
"""How much of a line's start is kept to tell a code fence or an indented line."""


class WordWrap:
    """Tracks the cursor's column; :meth:`text` gives what to write for each piece of an answer."""

    def __init__(self, columns: Callable[[], int]) -> None:
        self._columns = columns
        self.width = max(1, columns())
        self.col = 0
        """Cells used on the current row (at most :attr:`width`: the row may be full)."""
        self._word: list[str] = []
        """The word being written: its pieces on the current row, already shown."""
        self._word_cells = 0
        self._head = ""
        """The start of the answer's current line (at most :data:`HEAD` characters)."""
        self._fenced = False
        """Inside a fenced code block (a line starting with three backticks or tildes opened it)."""

    @classmethod
    def for_terminal(cls, out: TextIO) -> WordWrap | None:
        """A word wrap at the width of the terminal ``out`` writes to (read again at each row); None on
        a ``TERM=dumb`` one (Emacs' shell), which has no cursor movement and wraps lines itself."""
        if os.environ.get("TERM") == "dumb":
            return None
        return cls(lambda: terminal_size(out).columns)

    def start(self, col: int = 0) -> None:
        """A line of the answer begins at column ``col`` (after a status tag on the same row, say)."""
        self._row(col)
        self._head = ""

    def _row(self, col: int = 0) -> None:
        self.width = max(1, self._columns())
        self.col = min(col, self.width)
        self._word.clear()
        self._word_cells = 0

    def text(self, text: str) -> str:
        """What to write for ``text`` (a piece of the answer: no control characters but
        newline and tab) so that no word is cut at the margin.

        Code is left to the terminal, so that a long line of it stays one line when
        copied from the screen: the lines of a fenced block (and its fences), and a line
        that starts with four blanks or a tab (Markdown's indented code).
        """
        if not text:
            return ""
        out: list[str] = []
        at, size = 0, len(text)
        while at < size:
            end = text.find("\n", at)
            line = text[at:] if end < 0 else text[at:end]
            if line:
                if len(self._head) < HEAD:
                    self._head += line[: HEAD - len(self._head)]
                out.append(line if self._code() else self._wrapped(line))
            if end < 0:
                break
            out.append("\n")
            if self._head.lstrip(" ")[:3] in _FENCES and len(self._head) - len(self._head.lstrip(" ")) < 4:
                self._fenced = not self._fenced
            self.start()
            at = end + 1
        return "".join(out)

    def _code(self) -> bool:
        head = self._head
        return self._fenced or head[:4] == "    " or head[:1] == "\t" or head.lstrip(" ")[:3] in _FENCES

    def _wrapped(self, line: str) -> str:
        if " " not in line and "\t" not in line:
            return self._word_piece(line)  # inside a word (most tokens of CJK text, many of any)
        return "".join(
            self._blanks(piece) if piece[0] in " \t" else self._word_piece(piece) for piece in _pieces().findall(line)
        )

    def _blanks(self, blanks: str) -> str:
        self._word.clear()
        self._word_cells = 0
        col = self.col
        for c in blanks:
            col += 1 if c == " " else 8 - col % 8
        if col > self.width:  # they do not fit: the row is full, the next word starts a new one
            self.col = self.width
            return ""
        self.col = col
        return blanks

    def _word_piece(self, piece: str) -> str:
        wide = cells(piece)
        if self.col + wide <= self.width:
            self.col += wide
            self._word.append(piece)
            self._word_cells += wide
            return piece
        begun = self.col - self._word_cells  # where the word began on this row
        whole = self._word_cells + wide
        if begun > 0 and whole <= self.width:  # the word moves to the next row, whole
            erase = f"\r\x1b[{begun}C\x1b[K" if self._word else ""
            shown = "".join(self._word) + piece
            self._row(whole)
            self._word.append(shown)
            self._word_cells = whole
            return erase + "\n" + shown
        return self._cut(piece)

    def _cut(self, piece: str) -> str:
        """``piece`` (of a word wider than a row) written up to the margin, then on the next rows."""
        out: list[str] = []
        widths = [1] * len(piece) if piece.isascii() else cell_widths(piece)
        start = 0
        col = self.col
        for at, wide in enumerate(widths):
            if col + wide > self.width and col > 0:
                out.append(piece[start:at] + "\n")
                self._row()
                col, start = 0, at
            col += wide
        rest = piece[start:]
        out.append(rest)
        if start:
            self._word[:] = [rest]
            self._word_cells = col
        else:
            self._word.append(rest)
            self._word_cells += col - self.col
        self.col = min(col, self.width)  # a wide character alone on a row one cell wide
        return "".join(out)


def say(stream: TextIO, message: str) -> None:
    """Write one of aish's own lines (``aish: ...``, an error or a notice) and a newline: on a terminal
    its rows broken between words, as answers are, so a URL or a suggested line stays whole on its
    row (not on a ``TERM=dumb`` one); into a pipe or a file exactly, one line."""
    wrap = WordWrap.for_terminal(stream) if isatty(stream) else None
    stream.write((wrap.text(message) if wrap is not None else message) + "\n")
