"""The lanes renderer in-process: live partial lines on a terminal, whole lines elsewhere, colours."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from terminal import TerminalText, eventually, screen

from aish import RenderTarget, Retrying, StreamEnd, StreamError, StreamStart, TextDelta
from aish.errors import ConnectionFailure, Interrupted
from aish.terminal import wants_color
from aish_lanes.renderer import LanesRenderer, _fit

_made: list[LanesRenderer] = []


@pytest.fixture(autouse=True)
def _closed() -> Iterator[None]:
    """Every renderer a test made is closed after it: a live one counts its lanes' waits on a thread."""
    yield
    while _made:
        _made.pop().close()


def lanes(*, tty: bool = True, color: bool = False, width: int = 60) -> tuple[LanesRenderer, io.StringIO]:
    out = io.StringIO()
    target = RenderTarget(
        out, io.StringIO(), tty=tty, options={"lanes": ["apollo", "athena"], "width": width}, color=color
    )
    return made(target), out


def made(target: RenderTarget, **options: float) -> LanesRenderer:
    """A renderer closed after the test."""
    _made.append(LanesRenderer(target, **options))
    return _made[-1]


def test_a_running_lane_shows_its_partial_line_at_each_flush() -> None:
    renderer, out = lanes()
    renderer.feed(StreamStart(agent="apollo"))
    renderer.feed(StreamStart(agent="athena"))
    renderer.feed(TextDelta("Hel", agent="apollo"))
    renderer.flush()
    assert screen(out.getvalue()) == ["[apollo] Hel", "[athena]"]
    renderer.feed(TextDelta("lo\nwor", agent="apollo"))
    renderer.feed(TextDelta("Thinking", agent="athena"))
    renderer.flush()
    assert screen(out.getvalue()) == ["[apollo] Hello", "[apollo] wor", "[athena] Thinking"]
    renderer.feed(TextDelta("ld", agent="apollo"))
    renderer.feed(StreamEnd("stop", agent="apollo"))
    renderer.flush()
    assert screen(out.getvalue()) == ["[apollo] Hello", "[apollo] world", "[athena] Thinking"]
    renderer.feed(StreamEnd("length", agent="athena"))
    renderer.close()
    shown = screen(out.getvalue())
    assert shown[:3] == ["[apollo] Hello", "[apollo] world", "[athena] Thinking"]
    assert shown[3].startswith("[Complete - 2 AIs responded, ")
    assert [row.split()[0] for row in shown[4:]] == ["apollo", "athena"]
    assert shown[4].endswith("complete") and shown[5].endswith("cut at max_tokens")


def test_nothing_is_redrawn_when_nothing_changed() -> None:
    renderer, out = lanes()
    renderer.feed(TextDelta("a", agent="apollo"))
    renderer.flush()
    written = out.getvalue()
    renderer.flush()
    renderer.flush()
    assert out.getvalue() == written


def test_live_lines_always_fit_one_row() -> None:
    renderer, out = lanes(width=40)
    renderer.feed(TextDelta("x" * 100, agent="apollo"))  # no space to wrap at: cut at the width
    renderer.feed(TextDelta("漢字" * 30, agent="athena"))  # two cells each
    renderer.flush()
    shown = screen(out.getvalue())
    assert all(len(line) <= 40 for line in shown if line.startswith("[apollo]"))
    live = shown[-1]
    assert live.startswith("[athena] ") and 2 * len(live.split(" ", 1)[1]) <= renderer.width + 1


def test_fit_keeps_the_end_and_hides_control_characters() -> None:
    assert _fit("a\tb\x1b[2Ac", 20) == "a b [2Ac"
    assert _fit("abcdefgh", 5) == "…efgh"
    assert _fit("漢字漢字", 5) == "…漢字"


def test_off_a_terminal_only_whole_lines_are_written() -> None:
    renderer, out = lanes(tty=False)
    renderer.feed(TextDelta("Hel", agent="apollo"))
    renderer.flush()
    assert out.getvalue() == ""
    renderer.feed(TextDelta("lo\n", agent="apollo"))
    assert out.getvalue() == "[apollo] Hello\n"
    renderer.feed(StreamError(ConnectionFailure("athena: lost"), partial=False, agent="athena"))
    renderer.close()
    assert "\x1b" not in out.getvalue()
    assert "[athena] error: athena: lost\n" in out.getvalue()


def test_each_lane_has_its_own_colour_when_colour_is_wanted() -> None:
    renderer, out = lanes(color=True)
    for agent in ("apollo", "athena"):
        renderer.feed(TextDelta("text\n", agent=agent))
    renderer.flush()
    renderer.close()
    text = out.getvalue()
    assert "\x1b[36m[apollo]\x1b[0m text" in text and "\x1b[35m[athena]\x1b[0m text" in text
    plain, plain_out = lanes(color=False)
    plain.feed(TextDelta("text\n", agent="apollo"))
    plain.close()
    assert "\x1b[3" not in plain_out.getvalue()


def test_an_empty_lane_is_said() -> None:
    renderer, out = lanes(tty=False)
    renderer.feed(StreamEnd("stop", agent="apollo"))
    renderer.feed(TextDelta("hi", agent="athena"))
    renderer.feed(StreamEnd("stop", agent="athena"))
    renderer.close()
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("[Complete - 1 of 2 AIs responded")
    assert lines[2].endswith("empty") and lines[3].endswith("complete")


def test_after_ctrl_c_the_summary_counts_the_lanes_that_finished() -> None:
    """Found by a tour: three lanes cancelled after 30 tokens each read '0 of 3 AIs responded'."""
    renderer, out = lanes(tty=False)
    renderer.feed(TextDelta("done", agent="apollo"))
    renderer.feed(StreamEnd("stop", agent="apollo"))
    renderer.feed(TextDelta("half an ans", agent="athena"))
    renderer.feed(StreamError(Interrupted("athena: interrupted"), partial=True, agent="athena"))
    renderer.close()
    lines = out.getvalue().splitlines()
    assert any(line.startswith("[Interrupted - 1 of 2 AIs finished, ") for line in lines), lines
    assert lines[-2].endswith("complete") and lines[-1].endswith("cancelled")


def test_a_lane_waiting_to_retry_says_so_on_a_terminal() -> None:
    renderer, out = lanes()
    renderer.feed(StreamStart(agent="apollo"))
    renderer.feed(Retrying(2.0, "HTTP 429", agent="apollo"))
    renderer.feed(TextDelta("hi\n", agent="apollo"))
    renderer.feed(Retrying(1.0, "connection lost", agent="apollo"))  # after text: the answer's rows alone
    renderer.feed(StreamEnd("stop", agent="apollo"))
    renderer.close()
    shown = screen(out.getvalue())
    assert shown[:2] == ["[apollo] (retrying in 2.0s - HTTP 429)", "[apollo] hi"], shown
    assert not any("connection lost" in line for line in shown)
    renderer, out = lanes(tty=False)
    renderer.feed(Retrying(2.0, "HTTP 429", agent="apollo"))
    assert "retrying" not in out.getvalue()


@pytest.mark.parametrize(
    ("tty", "env", "wanted"),
    [
        (True, {"TERM": "xterm"}, True),
        (True, {}, True),
        (False, {"TERM": "xterm"}, False),
        (True, {"TERM": "xterm", "NO_COLOR": "1"}, False),
        (True, {"TERM": "xterm", "NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
        (True, {"TERM": "dumb"}, False),
    ],
)
def test_colour_is_wanted_on_terminals_unless_told_otherwise(tty: bool, env: dict[str, str], wanted: bool) -> None:
    assert wants_color(tty, env) is wanted


def test_no_more_live_lines_than_the_terminal_has_rows() -> None:
    out = io.StringIO()
    names = [f"agent{i}" for i in range(6)]
    target = RenderTarget(out, io.StringIO(), tty=True, options={"lanes": names, "width": 60, "height": 4})
    renderer = made(target)
    for name in names:
        renderer.feed(TextDelta("partial", agent=name))
    renderer.flush()
    assert screen(out.getvalue()) == [f"[{name}] partial" for name in names[:3]]
    assert "\x1b[3A" not in out.getvalue()
    renderer.flush()
    renderer.feed(TextDelta(" more", agent="agent0"))
    renderer.flush()
    assert "\x1b[3A" in out.getvalue() and "\x1b[4A" not in out.getvalue()


def test_a_resized_terminal_gets_live_lines_at_its_new_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrinking the terminal mid-stream left dozens of copies of the live lines: each redraw went
    back up one row per line, and the terminal had rewrapped them onto two."""
    import os

    from aish_lanes import renderer as module

    size = [os.terminal_size((120, 40))]
    monkeypatch.setattr(module, "_size", lambda target: size[0])
    out = io.StringIO()
    renderer = made(RenderTarget(out, io.StringIO(), tty=True, options={"lanes": ["apollo", "athena"]}))
    renderer.feed(TextDelta("word " * 20, agent="apollo"))
    renderer.flush()
    assert renderer.width == 120 - 6 - 4
    size[0] = os.terminal_size((60, 40))
    before = len(out.getvalue())
    renderer.feed(TextDelta("more ", agent="athena"))
    renderer.flush()
    redrawn = out.getvalue()[before:]
    assert "\x1b[" not in redrawn.split("[apollo]")[0]  # no going back up over rows rewrapped by the terminal
    assert renderer.width == 60 - 6 - 4 and all(len(row) <= 60 for row in screen(redrawn))
    renderer.feed(TextDelta("again", agent="athena"))
    renderer.flush()  # same size: redrawn in place again
    assert out.getvalue().endswith("[athena] more again\n") and "\x1b[2A" in out.getvalue()[before + len(redrawn) :]


@pytest.mark.parametrize("columns", [7, 8, 12, 24, 29])
def test_every_line_fits_a_narrow_terminal(columns: int) -> None:
    """The text was at least 20 cells wide: at 24 columns a live line took 29 and wrapped, and
    each redraw left a row behind. Now the text narrows, then the names are cut, down to 7 columns."""
    out = io.StringIO()
    target = RenderTarget(out, io.StringIO(), tty=True, options={"lanes": ["apollo"], "width": columns})
    renderer = made(target)
    for word in [
        "Looking",
        "ahead",
        "at",
        "your",
        "question,",
        "here",
        "is",
        "what",
        "I",
        "foresee.",
        "日本語のテキスト",
    ]:
        renderer.feed(TextDelta(word + " ", agent="apollo"))
        renderer.feed(TextDelta("x", agent="a-much-longer-name"))  # a wider label, once the lanes run
        renderer.flush()
    rows = [row for row in screen(out.getvalue()) if row]
    assert rows and all(cells(row) < columns for row in rows), rows
    renderer.close()
    if columns == 12:
        assert "[ap…] " in out.getvalue() and "[a-…] " in out.getvalue()
    if columns == 7:
        assert "[a] " in out.getvalue()


# ------------------------------------------------------------ wrapping in linear time


class _OldWrapping:
    """The wrapping of the first lanes renderer (quadratic: the whole line rejoined and sliced
    for every row), kept as the reference for what the rows must be; it also wraps a line that
    arrives whole with its newline (the first renderer wrote such a line unwrapped)."""

    def __init__(self, width: int) -> None:
        self.width, self.buffer, self.size, self.rows = width, [], 0, []  # type: ignore[var-annotated]

    def text(self, text: str) -> None:
        while text:
            head, newline, text = text.partition("\n")
            self.buffer.append(head)
            self.size += len(head)
            while self.size > self.width:  # before a line ends too: one that arrives whole is wrapped
                line = "".join(self.buffer)
                cut = line.rfind(" ", 0, self.width)
                cut = cut if cut > 0 else self.width
                self.rows.append(line[:cut])
                rest = line[cut:].lstrip(" ")
                self.buffer[:] = [rest]
                self.size = len(rest)
            if newline:
                self.rows.append("".join(self.buffer))
                self.buffer.clear()
                self.size = 0


@given(
    st.lists(st.text(alphabet=st.sampled_from("ab \n"), max_size=120), max_size=8),
    st.integers(min_value=20, max_value=30),
)
def test_rows_are_those_of_the_first_wrapping(pieces: list[str], width: int) -> None:
    out = io.StringIO()
    target = RenderTarget(out, io.StringIO(), tty=False, options={"lanes": ["a"], "width": width + 5})
    renderer = made(target)
    assert renderer.width == width
    old = _OldWrapping(width)
    for piece in pieces:
        renderer.feed(TextDelta(piece, agent="a"))
        old.text(piece)
    rows = [line.removeprefix("[a] ") for line in out.getvalue().split("\n")[:-1]]
    assert rows == old.rows
    assert "".join(renderer.lanes["a"].buffer) == "".join(old.buffer)


def test_a_line_that_arrives_whole_is_wrapped_with_every_row_labelled() -> None:
    """A server that sends a whole answer at once: each row of a long line gets the lane's label
    (written unwrapped, the terminal broke it mid-word with no label on the rows after)."""
    out = io.StringIO()
    target = RenderTarget(out, io.StringIO(), tty=False, options={"lanes": ["evil"], "width": 34})
    renderer = made(target)
    renderer.feed(TextDelta("The quick brown fox jumps over the lazy dog again.\nsecond line\n", agent="evil"))
    assert out.getvalue().splitlines() == [
        "[evil] The quick brown fox jumps",
        "[evil] over the lazy dog again.",
        "[evil] second line",
    ]


def cells(text: str) -> int:
    """Terminal cells of ``text``, counted independently of the renderer: wide (East Asian W, F)
    characters take two, combining marks and joiners none."""
    import unicodedata

    return sum(
        0 if unicodedata.category(c) in ("Mn", "Me", "Cf") else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


@pytest.mark.parametrize(
    "text",
    [
        "日本語のテキストです。これは長い行で、幅の広い文字が正しい列で折り返されるかを確かめます。",
        "絵文字も: 👍 ✅ 🎉 and more 👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍 words after",
        "mixed 한국어 문장도 있습니다 and English words 中文也有一些字 between them all",
    ],
)
def test_wide_characters_wrap_at_the_terminal_width(text: str) -> None:
    """Found by a tour at 50 columns: lanes wrapped at a count of characters, so a row of CJK or
    emoji was up to twice as wide as the terminal, which broke it again with no label."""
    for tty in (True, False):
        out = io.StringIO()
        target = RenderTarget(out, io.StringIO(), tty=tty, options={"lanes": ["uni"], "width": 40})
        renderer = made(target)
        for start in range(0, len(text), 3):  # pieces of three characters, as a stream sends them
            renderer.feed(TextDelta(text[start : start + 3], agent="uni"))
            renderer.flush()
        renderer.feed(StreamEnd("stop", agent="uni"))
        renderer.close()
        rows = [line for line in screen(out.getvalue()) if line.startswith("[uni] ")]
        assert all(cells(row) < 40 for row in rows), rows
        assert "".join(row.removeprefix("[uni] ") for row in rows).replace(" ", "") == text.replace(" ", "")
        assert len(rows) > 1


def test_combining_marks_take_no_room_of_their_own() -> None:
    """``e`` and a combining accent are one cell: a row of them is as long as a row of ``e``."""
    out = io.StringIO()
    target = RenderTarget(out, io.StringIO(), tty=False, options={"lanes": ["a"], "width": 30})
    renderer = made(target)
    renderer.feed(TextDelta("e\u0301" * 40 + "\n", agent="a"))
    rows = out.getvalue().splitlines()
    assert [len(row.removeprefix("[a] ")) for row in rows] == [2 * renderer.width, 2 * (40 - renderer.width)]
    assert _fit("e\u0301" * 10, 10) == "e\u0301" * 10


def test_a_wide_agent_name_is_padded_by_cells() -> None:
    """An agent named ``日本`` (a quoted TOML key) got the padding of six characters: its label was
    two cells wider than the others, its rows two cells past the edge."""
    out = io.StringIO()
    target = RenderTarget(out, io.StringIO(), tty=False, options={"lanes": ["日本", "athena"], "width": 40})
    renderer = made(target)
    renderer.feed(TextDelta("word " * 30 + "\n", agent="日本"))
    renderer.feed(TextDelta("word " * 30 + "\n", agent="athena"))
    renderer.close()
    rows = out.getvalue().splitlines()
    lanes = [row for row in rows if row.startswith(("[日本", "[athena"))]
    assert {cells(row.split("] ", 1)[0]) for row in lanes} == {7}, lanes
    assert all(cells(row) < 40 for row in lanes), lanes
    summary = [row for row in rows if row.startswith("  ")]
    assert len({cells(row.split("s ", 1)[0]) for row in summary}) == 1, summary


def counted(target: RenderTarget) -> tuple[LanesRenderer, threading.Thread | None]:
    """A renderer counting waits every 0.05 s, and its count's thread (None: it has none)."""
    before = set(threading.enumerate())
    renderer = made(target, count_after=0.05, count_every=0.05)
    new = [t for t in threading.enumerate() if t not in before and t.name == "aish-wait-count"]
    return renderer, new[0] if new else None


def test_a_lane_with_nothing_yet_counts_its_wait_on_its_live_line() -> None:
    """A tour: a lane whose server had not answered yet showed an empty '[slow  ]' for seconds."""
    out = TerminalText()
    renderer, count = counted(RenderTarget(out, io.StringIO(), tty=True, options={"lanes": ["apollo", "athena"]}))
    assert count is not None
    renderer.feed(TextDelta("Hel", agent="apollo"))
    renderer.flush()
    assert eventually(lambda: screen(out.getvalue())[-1].startswith("[athena] Waiting - "))
    assert screen(out.getvalue())[-2] == "[apollo] Hel"  # a lane with text shows its text
    renderer.feed(TextDelta("Thinking", agent="athena"))
    renderer.flush()
    assert screen(out.getvalue())[-2:] == ["[apollo] Hel", "[athena] Thinking"]
    assert eventually(lambda: not count.is_alive())  # every lane has spoken: the count ends
    written = out.getvalue()
    time.sleep(0.2)
    assert out.getvalue() == written
    renderer.close()


def test_a_lane_that_waits_after_a_retry_line_counts_and_the_count_ends_with_the_renderer() -> None:
    out = TerminalText()
    renderer, count = counted(RenderTarget(out, io.StringIO(), tty=True, options={"lanes": ["apollo"]}))
    assert count is not None
    renderer.feed(Retrying(attempt=1, delay=1.0, reason="HTTP 503", agent="apollo"))
    renderer.flush()
    assert eventually(lambda: screen(out.getvalue())[-1].startswith("[apollo] Waiting - "))
    assert screen(out.getvalue())[-2].startswith("[apollo] (retrying in 1.0s - HTTP 503)")
    renderer.close()
    assert eventually(lambda: not count.is_alive())
    assert not any("Waiting" in row for row in screen(out.getvalue()))  # the summary took the live line's place
    off, none = counted(RenderTarget(io.StringIO(), io.StringIO(), tty=False, options={"lanes": ["apollo"]}))
    assert none is None  # off a terminal: no count at all
    off.close()
