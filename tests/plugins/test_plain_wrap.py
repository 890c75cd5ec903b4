"""Tests for aish/wordwrap.py (the plain renderer's): an answer's lines broken between words on a terminal.

What the wrapper writes is replayed on :class:`Term`, a model of a terminal's
row wrapping as xterm (and tmux) do it: a character written into the last
column leaves the cursor there, "pending", and the next character starts the
next row. The renderer's part is tested at the end, and
``tests/test_shell_terminal.py`` checks the same in a real terminal.
"""

from __future__ import annotations

import io
import os
import re

import pytest

from aish import RenderTarget, StreamEnd, StreamStart, TextDelta, WordWrap, cell_widths
from aish_plain.renderer import PlainRenderer

_TOKENS = re.compile(r"\x1b\[(\d*)([CK])|\r|\n|[^\x1b\r\n]")


class Term:
    """The rows a terminal ``width`` cells wide shows after some text (no other sequences)."""

    def __init__(self, width: int, col: int = 0) -> None:
        self.width = width
        self.rows: list[list[str]] = [["#"] * col]  # what was on the row before (a status tag)
        self.col = col  # == width: pending, the next character starts a new row

    def write(self, data: str) -> None:
        for match in _TOKENS.finditer(data):
            token = match.group(0)
            if token == "\n":  # a terminal's newline with onlcr: CR LF
                self.rows.append([])
                self.col = 0
            elif token == "\r":
                self.col = 0
            elif match.group(2) == "C":
                self.col = min(self.col + int(match.group(1) or 1), self.width - 1)
            elif match.group(2) == "K":
                del self.rows[-1][self.col :]
            elif token == "\t":  # to the next tab stop, never past the last column
                stop = min(self.col // 8 * 8 + 8, self.width - 1)
                row = self.rows[-1]
                row.extend(" " * (stop - len(row)))
                self.col = max(self.col, stop)
            else:
                self._put(token)

    def _put(self, char: str) -> None:
        wide = cell_widths(char)[0]
        if self.col + wide > self.width:
            self.rows.append([])
            self.col = 0
        row = self.rows[-1]
        row.extend(" " * (self.col + wide - len(row)))
        row[self.col : self.col + wide] = [char] + [""] * (wide - 1)
        self.col += wide

    def lines(self) -> list[str]:
        return ["".join(row).rstrip() for row in self.rows]


def shown(width: int, pieces: list[str], col: int = 0) -> list[str]:
    wrap = WordWrap(lambda: width)
    wrap.start(col)
    term = Term(width, col)
    for piece in pieces:
        term.write(wrap.text(piece))
    return term.lines()


def test_a_word_that_would_cross_the_margin_starts_the_next_row() -> None:
    assert shown(20, ["One day, Daisy was very pretty and"]) == ["One day, Daisy was", "very pretty and"]


def test_a_word_arriving_in_pieces_is_moved_whole() -> None:
    # "fav" fits on the first row; "orite" would cross the margin: "fav" is erased there
    assert shown(12, ["to bake his", " fav", "orite", " cake"]) == ["to bake his", "favorite", "cake"]


def test_moving_a_word_keeps_what_the_row_held_before_it() -> None:
    assert shown(16, ["x", "y", " abc", "def", "ghijk", "lm"], col=5) == ["#####xy", "abcdefghijklm"]


def test_a_word_ending_at_the_margin_stays() -> None:
    assert shown(10, ["abcd ", "efghi", " jk"]) == ["abcd efghi", "jk"]


def test_blanks_at_the_margin_are_left_out() -> None:
    assert shown(10, ["abcdefgh", "    ", "  ij"]) == ["abcdefgh", "ij"]


def test_newlines_start_rows_and_text_after_them_wraps_from_column_zero() -> None:
    assert shown(10, ["ab\ncdefgh ij", "klm\n\nn"]) == ["ab", "cdefgh", "ijklm", "", "n"]


def test_a_word_wider_than_the_terminal_is_cut_at_the_margin() -> None:
    assert shown(8, ["see https://example.org/a/b/c", " ok"]) == ["see http", "s://exam", "ple.org/", "a/b/c ok"]


def test_wide_characters_count_two_cells() -> None:
    text = "日本語の文 日本語の文 日本語"
    assert shown(12, [text]) == ["日本語の文", "日本語の文", "日本語"]


def test_a_run_of_wide_characters_without_spaces_is_cut_between_characters() -> None:
    assert shown(7, ["日本語の文章です"]) == ["日本語", "の文章", "です"]


def test_a_tab_takes_the_cells_to_the_next_tab_stop() -> None:
    assert shown(12, ["ab\tcdef", " gh"]) == ["ab      cdef", "gh"]


def test_the_width_is_read_again_at_each_new_row() -> None:
    widths = iter([20, 20, 10, 10, 10])
    wrap = WordWrap(lambda: next(widths))
    wrap.start()
    assert wrap.text("one two three\nfour five six seven") == "one two three\nfour five \nsix seven"


def test_code_is_left_to_the_terminal_so_that_a_copied_line_stays_whole() -> None:
    wrap = WordWrap(lambda: 20)
    wrap.start()
    command = "find . -name '*.py' -exec grep -l TODO {} +"
    answer = "Run this command to find them:\n``", f"`sh\n{command}\n`", "``\nand then read the list it prints.\n"
    assert "".join(wrap.text(piece) for piece in answer) == (
        f"Run this command to \nfind them:\n```sh\n{command}\n```\nand then read the \nlist it prints.\n"
    )
    indented = "    x = compute_the_answer(with_this, and_that)\nA sentence after the code.\n"
    assert wrap.text(indented) == "    x = compute_the_answer(with_this, and_that)\nA sentence after the\ncode.\n"


words = [
    "a",
    "owl",
    "favourite",
    "extraordinarily",
    "日本",
    "https://example.org/a-long-path",
]


@pytest.mark.parametrize("width", [6, 11, 17, 40])
@pytest.mark.parametrize("cut", [1, 3, 7])
def test_every_word_that_fits_a_row_is_shown_whole_and_nothing_is_lost(width: int, cut: int) -> None:
    text = " ".join(words[i % len(words)] for i in range(7 * 9 + 1)) + "\nend " + "\t".join(words)
    pieces = [text[i : i + cut] for i in range(0, len(text), cut)]
    rows = shown(width, pieces, col=3)
    assert all(sum(cell_widths(row)) <= width for row in rows)
    on_screen = [w for row in rows for w in row.lstrip("#").split()]
    fitting = [w for w in text.split() if sum(cell_widths(w)) <= width]
    assert all(w in on_screen for w in fitting)
    assert "".join(on_screen) == "".join(text.split())


# ------------------------------------------------------------------ the renderer


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def rendered(out: io.StringIO, err: io.StringIO, pieces: list[str], **target: object) -> str:
    """What the plain renderer writes to ``out`` for an answer of ``pieces``."""
    renderer = PlainRenderer(RenderTarget(out, err, **target))  # type: ignore[arg-type]
    renderer.feed(StreamStart(agent="story"))
    for piece in pieces:
        renderer.feed(TextDelta(piece, agent="story"))
    renderer.feed(StreamEnd("stop", agent="story"))
    return out.getvalue()


CAT = "Once upon a time there was a little cat."


def test_the_renderer_wraps_after_its_status_tag_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=0: os.terminal_size((40, 10)))
    monkeypatch.setenv("TERM", "xterm-256color")
    out = Tty()
    out.fileno = lambda: 1  # type: ignore[method-assign]
    pieces = ["Once", " upon", " a", " time", " there", " was", " a", " lit", "tle", " cat."]
    tag = "[story: Streaming...] "
    term = Term(40, len(tag))
    term.write(rendered(out, Tty(), pieces, tty=True))
    assert term.lines() == ["#" * len(tag) + "Once upon a time", "there was a little cat.", ""]


def test_the_renderer_writes_exactly_the_text_on_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "10")
    assert rendered(io.StringIO(), io.StringIO(), [CAT], tty=False) == CAT


def test_the_renderer_leaves_lines_to_the_terminal_when_wrap_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "10")
    assert rendered(Tty(), Tty(), [CAT], tty=True, options={"wrap": False}) == CAT + "\n"


def test_a_dumb_terminal_gets_no_cursor_movement(monkeypatch: pytest.MonkeyPatch) -> None:
    """``TERM=dumb`` (Emacs' shell): no escape sequences to move a word; the terminal wraps itself."""
    monkeypatch.setenv("COLUMNS", "10")
    monkeypatch.setenv("TERM", "dumb")
    pieces = ["Once", " upon", " a", " tim", "e there was a little cat."]
    assert rendered(Tty(), Tty(), pieces, tty=True) == CAT + "\n"
