"""Tests for plugins/aish_markdown: exact text on pipes, live-rendered Markdown on terminals.

Terminal output is checked by replaying it on a minimal screen (the cursor
controls rich's live display uses: carriage return, cursor up, erase line),
so a test sees what a terminal would finally show, not just the bytes. One
test runs the shell in a real pty.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from terminal import TerminalText, Tmux, eventually, screen, thread_running

from aish import (
    AgentConfig,
    ConnectionFailure,
    Context,
    Event,
    Interrupted,
    Prompt,
    RenderTarget,
    Retrying,
    StreamEnd,
    StreamError,
    StreamStart,
    TextDelta,
    Usage,
    cells,
)
from aish.app import build_app
from aish.config import load_config
from aish.runner import Runner
from aish.stream import AgentStream
from aish_markdown.blocks import live_window, open_fence, stable_prefix
from aish_markdown.renderer import MarkdownRenderer
from aish_openai.codec import OpenAIChatCodec
from aish_refserver import RefServer, plan_reply
from aish_sse.transport import SSETransport


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Target:
    """A renderer that redraws at every flush (``frame=0`` and a clock that stands still), so that what a
    test sees after each batch does not depend on time; :func:`test_redraws_are_at_most_one_a_frame`
    checks the frames."""

    def __init__(self, tty: bool, clock: Clock | None = None) -> None:
        self.out, self.err = io.StringIO(), io.StringIO()
        self.renderer = MarkdownRenderer(RenderTarget(self.out, self.err, tty=tty), clock=clock or Clock(), frame=0)

    def batch(self, *events: Event) -> None:
        for event in events:
            self.renderer.feed(event)
        self.renderer.flush()

    def stream(self, pieces: list[str]) -> None:
        self.batch(StreamStart())
        for piece in pieces:
            self.batch(TextDelta(piece))
        self.batch(StreamEnd())
        self.renderer.close()


DOCUMENT = "# Owls\n\nOwls are **nocturnal** birds.\n\n- barn owl\n- snowy owl\n\n```python\nhoot = 1\n```\n\nThe end."
EXPECTED_SCREEN = [
    "Owls",
    "",
    "Owls are nocturnal birds.",
    "",
    "• barn owl",
    "• snowy owl",
    "",
    "",
    "hoot = 1",
    "",
    "",
    "The end.",
]


def shown(target: Target) -> list[str]:
    return [line.strip() for line in screen(target.out.getvalue())]


# ----------------------------------------------------------------- not a tty


def test_pipe_gets_exactly_the_text_and_nothing_on_stderr() -> None:
    t = Target(tty=False)
    pieces = ["# Ti", "tle\n\n", "**bold** \x1b[31mraw\x1b[0m\t", "ünï 🚀", "\r\n", "no newline at the end"]
    t.stream(pieces)
    assert t.out.getvalue() == "".join(pieces)
    assert t.err.getvalue() == ""
    assert t.renderer._view is None  # rich is never involved on a pipe


def test_pipe_text_is_written_before_flush() -> None:
    t = Target(tty=False)
    t.renderer.feed(StreamStart())
    t.renderer.feed(TextDelta("now"))
    assert t.out.getvalue() == "now"


# ------------------------------------------------------------------------ tty


@pytest.mark.parametrize("size", [1, 3, 7, len(DOCUMENT)])
def test_tty_final_screen_is_the_rendered_document_once(size: int) -> None:
    """However the text is cut into batches, the terminal ends up showing each block once, formatted."""
    t = Target(tty=True)
    t.stream([DOCUMENT[i : i + size] for i in range(0, len(DOCUMENT), size)])
    assert shown(t) == EXPECTED_SCREEN
    assert "**" not in "".join(screen(t.out.getvalue()))


def test_tty_output_is_styled() -> None:
    t = Target(tty=True)
    t.stream(["Owls are **nocturnal** birds."])
    assert "\x1b[1mnocturnal\x1b[0m" in t.out.getvalue()


def test_tty_complete_blocks_are_printed_for_good_while_the_rest_streams() -> None:
    t = Target(tty=True)
    t.batch(StreamStart(), TextDelta("First paragraph.\n\nSecond"))
    assert shown(t) == ["First paragraph.", "", "Second"]
    t.batch(TextDelta(" paragraph,\nstill **arriv"))  # now the second block has begun: the first is done
    assert shown(t) == ["First paragraph.", "", "Second paragraph, still **arriv"]
    before = len(t.out.getvalue())
    t.batch(TextDelta("ing**."), StreamEnd())
    assert shown(t) == ["First paragraph.", "", "Second paragraph, still arriving."]
    assert "First" not in t.out.getvalue()[before:]  # only the block still arriving is redrawn


def test_tty_status_lines_on_stderr() -> None:
    clock = Clock()
    t = Target(tty=True, clock=clock)
    t.batch(StreamStart())
    assert t.err.getvalue() == "[Streaming...]\n"
    t.batch(TextDelta("a"), TextDelta("b"))
    clock.now += 2.34
    t.batch(Usage(3, 42), StreamEnd())
    assert t.err.getvalue() == "[Streaming...]\n[Complete - 2.3s, 42 tokens]\n"
    assert shown(t) == ["ab"]


def test_tty_counts_every_piece_a_joined_delta_carries() -> None:
    t = Target(tty=True, clock=Clock())
    t.batch(StreamStart(), TextDelta("one read's", pieces=4), TextDelta(" text", pieces=2), StreamEnd())
    assert t.err.getvalue() == "[Streaming...]\n[Complete - 0.0s, 6 tokens]\n"


def test_tty_counts_deltas_without_usage_and_reports_partial_and_failed() -> None:
    clock = Clock()
    t = Target(tty=True, clock=clock)
    t.batch(StreamStart(), TextDelta("half"), TextDelta(" an answer"))
    clock.now += 1.0
    t.batch(StreamError(ConnectionFailure("lost"), partial=True))
    t.batch(StreamStart())
    t.batch(StreamError(ConnectionFailure("refused"), partial=False))
    t.batch(StreamStart())
    t.batch(StreamError(Interrupted("athena: interrupted"), partial=False))
    t.renderer.close()
    assert t.err.getvalue() == (
        "[Streaming...]\n[Partial - 1.0s, 2 tokens]\n[Streaming...]\n[Failed - 0.0s, 0 tokens]\n"
        "[Streaming...]\n[Interrupted - 0.0s, 0 tokens]\n"
    )
    assert shown(t) == ["half an answer"]


def test_tty_close_without_an_end_event_still_shows_the_text() -> None:
    t = Target(tty=True)
    t.batch(StreamStart(), TextDelta("cut *short"))
    t.renderer.close()
    assert shown(t) == ["cut *short"]
    assert t.err.getvalue() == "[Streaming...]\n"


def test_tty_several_streams_in_a_row() -> None:
    t = Target(tty=True)
    t.batch(StreamStart(), TextDelta("**one**"), StreamEnd())
    t.batch(StreamStart(), TextDelta("*two*"), StreamEnd())
    t.renderer.close()
    assert shown(t) == ["one", "two"]
    assert t.err.getvalue().count("[Complete - ") == 2


# -------------------------------------------------------------- block splitting


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("", 0),
        ("one paragraph", 0),
        ("one\n\ntwo", 0),  # the next block's first line is unfinished
        ("one\n\ntwo\n", 5),
        ("one\n\n\n\ntwo\n", 7),
        ("one\n\ntwo\n\nthree\n", 10),
        ("- item\n\n  continued\n", 0),  # indented: still the list item
        ("    code\n\n    more code\n", 0),
        ("```\na\n\nb\n```\n", 0),  # blank line inside a fence
        ("```\na\n\nb\n```\n\nafter\n", 14),
        ("~~~~\n```\n\nx\n~~~~\n\nafter\n", 18),  # a shorter or other fence does not close it
        ("```\nunclosed\n\nnot a block\n", 0),
    ],
)
def test_stable_prefix(text: str, cut: int) -> None:
    assert stable_prefix(text) == cut


# ------------------------------------------------------------ real streams and wiring


@pytest.mark.parametrize(
    ("text", "opener"),
    [
        ("para\n\n```py\nx = 1\n", "```py"),
        ("```py\nx\n```\nafter\n", None),
        ("~~~~\n```\nstill code\n", "~~~~"),  # a shorter or other fence does not close it
        ("no code at all", None),
    ],
)
def test_open_fence(text: str, opener: str | None) -> None:
    assert open_fence(text) == opener


def test_live_window_is_the_end_a_screen_shows_inside_its_code_block() -> None:
    """Found on a tour: a 300-line code block streamed as its first screen and ``...``, each redraw
    laying out the whole block (50 ms). The live region lays out what a screen holds, and shows its
    end: the last rows lines, from a blank in a long line, after the fence they are in."""
    assert live_window("short", 5, 80) == "short"
    code = "Here:\n\n```python\n" + "".join(f"line_{i} = {i}\n" for i in range(300))
    assert live_window(code, 5, 80) == "```python\n" + "".join(f"line_{i} = {i}\n" for i in range(295, 300))
    prose = " ".join(f"w{i}" for i in range(2000))
    window = live_window(prose, 4, 30)
    assert len(window) <= 120 and prose.endswith(window) and window.startswith("w")
    assert live_window("".join(f"l{i}\n" for i in range(100)), 3, 100) == "l97\nl98\nl99\n"


def test_tty_a_long_block_streams_its_end_and_is_printed_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """While a block longer than the screen arrives, the screen shows its newest lines (not its first
    screen and ``...``); once it is complete, the whole block is printed, once."""
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("LINES", "12")
    t = Target(tty=True)
    code = "".join(f"line_{i} = {i}\n" for i in range(80))
    t.batch(StreamStart(), TextDelta("Code:\n\n```python\n"))
    for i in range(0, len(code), 7):
        t.batch(TextDelta(code[i : i + 7]))
    now = shown(t)
    assert now[-1] == "line_79 = 79" and "..." not in "".join(now), now[-12:]
    assert len(now) <= 3 + 11  # "Code:", a blank, then at most the region's rows
    t.batch(TextDelta("```\n\nDone."), StreamEnd())
    t.renderer.close()
    final = shown(t)
    assert [line for line in final if line.startswith("line_")] == [f"line_{i} = {i}" for i in range(80)]
    assert final[-1] == "Done."


def test_fed_a_real_stream_on_a_pipe_writes_the_servers_text() -> None:
    with RefServer(pace=0.0) as server:
        agent = AgentConfig(name="athena", transport="sse", url=server.base_url, codec="openai-chat", model="athena")
        out, err = io.StringIO(), io.StringIO()
        renderer = MarkdownRenderer(RenderTarget(out, err, tty=False))
        transport = SSETransport(agent)
        try:
            AgentStream(agent, transport, OpenAIChatCodec(agent)).run(
                Prompt("tell me about owls", Context(pipeline_id="m")), renderer.feed, renderer.flush
            )
        finally:
            transport.close()
        renderer.close()
    assert out.getvalue() == plan_reply("athena", "tell me about owls").text()
    assert err.getvalue() == ""


def mdecho_config(url: str, renderer: str | None = None) -> str:
    line = f'renderer = "{renderer}"\n' if renderer else ""
    return f'[agents.mdecho]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{url}"\nmodel = "echo"\n{line}'


def test_an_agent_can_choose_the_markdown_renderer(refserver: RefServer, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(mdecho_config(refserver.base_url, renderer="markdown"))
    app = build_app(load_config(str(config)))
    assert app.registration("renderer", "markdown").plugin == "markdown"
    out, err = io.StringIO(), io.StringIO()
    status = Runner(app, out=out, err=err, tty=True).run_source('mdecho "some **bold** words"')
    assert status == 0
    assert "\x1b[1mbold\x1b[0m" in out.getvalue()
    assert screen(out.getvalue()) == ["some bold words"]
    assert re.fullmatch(r"\[mdecho: Streaming\.\.\.\]\n\[mdecho: Complete - \d+\.\ds, 3 tokens\]\n", err.getvalue())


@pytest.fixture
def md_shell(refserver: RefServer, tmp_path: Path) -> Iterator[pexpect.spawn]:
    config = tmp_path / "config.toml"
    config.write_text(mdecho_config(refserver.base_url))
    env = {**os.environ, "AISH_CONFIG": str(config), "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "aish", "--renderer", "markdown"],
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 100),
    )
    child.expect_exact("aish>")
    try:
        yield child
    finally:
        child.close(force=True)


def test_markdown_in_a_real_terminal_is_formatted(md_shell: pexpect.spawn) -> None:
    md_shell.sendline('mdecho "# Owls **hoot** at `night`"')
    md_shell.expect_exact("[mdecho: Streaming...]")
    md_shell.expect(r"\[mdecho: Complete - \d+\.\ds, 5 tokens\]")
    rendered = md_shell.before
    assert re.search(r"\x1b\[1;4mOwls", rendered)  # a heading: bold, underlined
    assert screen(rendered.replace("\r\n", "\n"))[-1].strip() == "Owls hoot at night"  # no ** or backticks
    md_shell.expect_exact("aish>")
    md_shell.sendline("quit")
    md_shell.expect(pexpect.EOF)


def test_tty_status_names_the_agent_and_how_the_answer_ended() -> None:
    clock = Clock()
    t = Target(tty=True, clock=clock)
    t.batch(StreamStart(agent="apollo"), TextDelta("cut", agent="apollo"), StreamEnd("length", agent="apollo"))
    t.batch(StreamStart(agent="athena"), StreamEnd("stop", agent="athena"))
    t.batch(StreamStart(agent="hermes"), TextDelta("x", agent="hermes"), StreamEnd("end_turn", agent="hermes"))
    assert t.err.getvalue() == (
        "[apollo: Streaming...]\n[apollo: Cut at max_tokens - 0.0s, 1 token]\n"
        "[athena: Streaming...]\n[athena: Empty answer - 0.0s, 0 tokens]\n"
        "[hermes: Streaming...]\n[hermes: Complete - 0.0s, 1 token]\n"
    )


def test_tty_a_wait_to_retry_before_any_text_is_a_status_line() -> None:
    t = Target(tty=True)
    t.batch(StreamStart(agent="athena"), Retrying(2.0, "HTTP 429", agent="athena"))
    t.batch(TextDelta("hi", agent="athena"), Retrying(1.0, "connection lost", agent="athena"), StreamEnd())
    assert t.err.getvalue() == (
        "[athena: Streaming...]\n[athena: Retrying in 2.0s - HTTP 429]\n[athena: Complete - 0.0s, 1 token]\n"
    )


def test_redraws_are_at_most_one_a_frame() -> None:
    """A fast server's reads come every millisecond or two and a redraw takes several: redrawn at
    every read, the stream went at the renderer's pace (1,891 tokens from llama.cpp: 5.8 s, 2.8 s
    with ``plain``). Reads within a frame are drawn once, when the frame's time comes."""
    from aish_markdown.live import LiveMarkdown

    now = [0.0]
    out = io.StringIO()
    live = LiveMarkdown(out, frame=60.0, clock=lambda: now[0])  # the ticker's turn does not come in the test
    live.append("Start")
    live.refresh()
    for i in range(100):
        live.append(f" w{i}")
        live.refresh()
    assert out.getvalue().count("Start") == 1  # the first read is drawn at once, the others wait for the frame
    now[0] = 61.0
    live.append(" end")
    live.refresh()
    assert out.getvalue().count("Start") == 2 and "w99 end" in screen(out.getvalue())[-1]
    live.close()
    assert out.getvalue().count("Start") == 3  # printed for good, once


def test_a_redraw_put_off_is_made_while_the_stream_waits() -> None:
    """The last reads of a frame are on screen when the server pauses, without another read; the
    ticker's thread ends with the view."""
    from aish_markdown.live import LiveMarkdown

    out = io.StringIO()
    live = LiveMarkdown(out, frame=0.05)
    live.append("Start")
    live.refresh()
    live.append(" and the last words")
    live.refresh()  # within the frame: put off
    eventually(lambda: "the last words" in out.getvalue())
    assert screen(out.getvalue())[-1].strip() == "Start and the last words"
    live.close()
    eventually(lambda: not thread_running("aish-markdown"))
    assert not thread_running("aish-markdown")
    size = len(out.getvalue())
    time.sleep(0.15)
    assert len(out.getvalue()) == size


def test_a_block_too_long_to_lay_out_is_written_as_it_comes() -> None:
    """One 5 MB paragraph in one delta took 45 s to lay out (Ctrl-C waited for it): past
    PLAIN_AFTER characters the rest of the answer is written as it is, not re-laid out per redraw."""
    from aish_markdown.live import PLAIN_AFTER, LiveMarkdown

    out = io.StringIO()
    live = LiveMarkdown(out)
    live.append("# Title\n\nA first paragraph.\n\n")
    live.refresh()
    huge = "word " * (PLAIN_AFTER // 5 + 100)
    live.append(huge[:1000])
    live.refresh()
    live.append(huge[1000:])  # past the limit: from here on, the text itself
    live.refresh()
    live.append("and **more**")
    live.refresh()
    live.close()
    shown = out.getvalue()
    assert "Title" in shown and "A first paragraph." in shown  # the blocks before were laid out
    assert shown.endswith(huge + "and **more**\n")  # not wrapped by rich into a thousand rows


EMOJI = (
    "絵文字も: 👍🏽 👨‍👩‍👧 🇯🇵 ✅ and more words to make this line long enough to wrap at forty columns 👍🏽👍🏽👍🏽👍🏽"
)


def test_tty_lines_fit_terminals_that_draw_emoji_sequences_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich counts a skin-toned or ZWJ emoji as two cells, as some terminals draw it; tmux, xterm and
    VTE draw each of its parts (four, six cells). A line rich fills then wraps on the terminal, and
    the live region, redrawn by moving up the rows rich counted, left a copy of its first row behind
    at every redraw (47 copies of one line at 60 columns, found by a tour). Every row is laid out
    to fit with each part counted (:func:`aish.cells`)."""
    monkeypatch.setenv("COLUMNS", "40")
    t = Target(tty=True)
    t.stream([EMOJI[i : i + 3] for i in range(0, len(EMOJI), 3)])
    rows = [row.rstrip() for row in t.out.getvalue().replace("\r", "\n").split("\n")]
    plain = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", row) for row in rows]
    assert all(cells(row) <= 40 for row in plain), [row for row in plain if cells(row) > 40]
    assert "".join(shown(t)).replace(" ", "") == EMOJI.replace(" ", "")


def test_markdown_with_emoji_in_tmux_leaves_no_copies(refserver: RefServer, tmp_path: Path) -> None:
    refserver.pace = 0.01
    keep = ("PATH", "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(AISH_DEMO_URL=refserver.base_url, PROMPT_TOOLKIT_NO_CPR="1", LANG="C.UTF-8", TERM="xterm")
    argv = [sys.executable, "-m", "aish", "--renderer", "markdown", "athena", "-m", "echo", EMOJI]
    with Tmux(argv, env, width=40, linger=10) as term:
        lines = term.wait_for(r"^\[athena: Complete")
    assert sum("絵文字も" in line for line in lines) == 1, "\n".join(lines)


def test_on_a_terminal_a_slow_first_token_is_counted_on_the_tag() -> None:
    """As with ``plain`` (decision 101): the tag, the line above the cursor, counts the wait, and says
    ``Streaming...`` again when text comes; nothing is counted after that, nor off a terminal."""
    out, err = TerminalText(), TerminalText()
    renderer = MarkdownRenderer(RenderTarget(out, err, tty=True), frame=0, count_after=0.05, count_every=0.05)
    renderer.feed(StreamStart(agent="athena"))
    eventually(lambda: err.getvalue().count("Waiting") >= 2)
    assert screen(err.getvalue()) == ["[athena: Waiting - 0s]"]
    renderer.feed(TextDelta("Hi **there**"))
    renderer.flush()
    renderer.feed(StreamEnd())
    renderer.close()
    assert screen(err.getvalue())[:1] == ["[athena: Streaming...]"]
    assert "Hi there" in screen(out.getvalue())
    shown = err.getvalue()
    time.sleep(0.2)
    assert err.getvalue() == shown
    err = TerminalText()
    renderer = MarkdownRenderer(RenderTarget(io.StringIO(), err, tty=True), count_after=0.01, count_every=0.01)
    renderer.feed(StreamStart(agent="athena"))
    time.sleep(0.1)
    renderer.close()
    assert err.getvalue() == "[athena: Streaming...]\n"


def test_a_retry_below_the_counted_tag_is_not_overwritten() -> None:
    out, err = TerminalText(), TerminalText()
    renderer = MarkdownRenderer(RenderTarget(out, err, tty=True), frame=0, count_after=0.02, count_every=0.02)
    renderer.feed(StreamStart(agent="athena"))
    eventually(lambda: "Waiting" in err.getvalue())
    renderer.feed(Retrying(2.0, "HTTP 429", 1, agent="athena"))
    time.sleep(0.1)
    renderer.feed(TextDelta("Hi"))
    renderer.feed(StreamEnd())
    renderer.close()
    lines = screen(err.getvalue())
    assert lines[0].startswith("[athena: Waiting - ") and lines[1] == "[athena: Retrying in 2.0s - HTTP 429]", lines


def test_after_a_retry_the_wait_is_counted_again_on_the_retry_line() -> None:
    """Once the stage has asked again, the wait is counted from zero on the line above the cursor
    (the retry's, whose wait is over); text brings ``Streaming...`` back there."""
    out, err = TerminalText(), TerminalText()
    renderer = MarkdownRenderer(RenderTarget(out, err, tty=True), frame=0, count_after=0.05, count_every=0.05)
    renderer.feed(StreamStart(agent="athena"))
    renderer.feed(Retrying(0.3, "HTTP 503", 1, agent="athena"))
    time.sleep(0.2)
    assert screen(err.getvalue()) == ["[athena: Streaming...]", "[athena: Retrying in 0.3s - HTTP 503]"]
    assert eventually(lambda: screen(err.getvalue())[1:] == ["[athena: Waiting - 0s]"])
    renderer.feed(TextDelta("Hi"))
    renderer.feed(StreamEnd())
    renderer.close()
    assert screen(err.getvalue())[1] == "[athena: Streaming...]"
