"""Word wrap for an answer streamed to a terminal.

A terminal breaks a line that is too wide at its last column, in the middle of
a word (``fav`` at the end of one row, ``orite`` at the start of the next).
:class:`WordWrap` breaks it before the word instead, as ``fold -s`` and a
pager do, without holding any text back: a word is written as soon as it
arrives, and when a later piece of it would cross the right margin, the part
already on the row is erased and the word starts the next row whole.

The spaces at a break are left out (the row ends, the next starts with the
word). A word wider than the terminal is cut at the margin. Width is counted
in terminal cells (:func:`aish.cells`: a CJK character takes two), and read
again at each new row, so a window made narrower wraps from its next row on.
Only text is given to it: it sees no escape sequences (the renderer makes the
answer's control characters visible first, :func:`aish.terminal_safe`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from aish import cell_widths, cells

__all__ = ["WordWrap"]


@functools.cache
def _pieces() -> re.Pattern[str]:
    """A newline, a run of blanks, or a word. Compiled on first use: a run on a pipe never needs it."""
    return re.compile(r"\n|[ \t]+|[^ \t\n]+")


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

    def start(self, col: int = 0) -> None:
        """A new row begins at column ``col`` (after a status tag on the same row, say)."""
        self.width = max(1, self._columns())
        self.col = min(col, self.width)
        self._word.clear()
        self._word_cells = 0

    def text(self, text: str) -> str:
        """What to write for ``text`` (a piece of the answer: no control characters but
        newline and tab) so that no word is cut at the margin."""
        if not text:
            return ""
        if "\n" not in text and " " not in text and "\t" not in text:
            return self._word_piece(text)  # inside a word (most tokens of CJK text, many of any)
        out: list[str] = []
        for piece in _pieces().findall(text):
            if piece == "\n":
                out.append("\n")
                self.start()
            elif piece[0] in " \t":
                out.append(self._blanks(piece))
            else:
                out.append(self._word_piece(piece))
        return "".join(out)

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
            self.start()
            self.col = whole
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
                self.start()
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
