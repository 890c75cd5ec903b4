"""Control characters in answers: escaped on a terminal (``aish.terminal_safe``), exact elsewhere.

A server's answer could otherwise retitle the terminal, hide or colour text, hide the
cursor or write the clipboard. The pty tests run aish on a real terminal against a server
whose answer holds such sequences, and read the bytes the terminal was sent.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from hypothesis import given
from hypothesis import strategies as st
from servers import DONE, RawHTTPServer, chunk, script

from aish import Reasoning, RenderTarget, StreamEnd, StreamStart, TextDelta, ToolCall, terminal_safe
from aish.testing import agent_toml, run_aish
from aish_lanes.renderer import LanesRenderer
from aish_markdown.renderer import MarkdownRenderer
from aish_plain.renderer import PlainRenderer

EVIL = "before \x1b[?25l\x1b]0;PWNED\x07\x1b[31mred text\x1b[0m\x1b[8m after"
SHOWN = "before \\x1b[?25l\\x1b]0;PWNED\\x07\\x1b[31mred text\\x1b[0m\\x1b[8m after"
RAW = ("\x1b]0;PWNED", "\x1b[8m", "\x1b[31mred")
"""What must never reach the terminal from the answer (its ``\\x1b[?25l`` is left out here: rich's
live region hides the cursor with those very bytes itself, when two reads come apart)."""

CONTROLS = {chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}


def test_controls_are_escaped_newline_and_tab_kept() -> None:
    assert terminal_safe(EVIL) == SHOWN
    assert terminal_safe("a\tb\nc") == "a\tb\nc"
    assert terminal_safe("over\rwrite\bx\x7f\x9b2J") == "overwrite\\x08x\\x7f\\x9b2J"
    assert terminal_safe("line one\r\nline two\r\n") == "line one\nline two\n"  # CRLF ends lines
    assert terminal_safe("héllo 日本 \u200f\u202e") == "héllo 日本 \u200f\u202e"  # text, bidi marks included


@given(st.lists(st.text(alphabet=st.characters(max_codepoint=0x2FF)), max_size=6))
def test_pieces_made_safe_one_by_one_are_the_whole_made_safe(pieces: list[str]) -> None:
    """Per character: an escape sequence split between two deltas is neutralised all the same."""
    whole = terminal_safe("".join(pieces))
    assert "".join(terminal_safe(p) for p in pieces) == whole
    assert not CONTROLS & set(whole)


def _target(tty: bool, **options: object) -> tuple[RenderTarget, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return RenderTarget(out, err, tty=tty, options=options, color=False), out, err


def _feed(renderer: PlainRenderer | MarkdownRenderer | LanesRenderer, pieces: list[str]) -> None:
    renderer.feed(StreamStart(agent="bot"))
    for piece in pieces:
        renderer.feed(TextDelta(piece, agent="bot"))
        renderer.flush()
    renderer.feed(StreamEnd("stop", agent="bot"))
    renderer.close()


SPLIT = [EVIL[:9], EVIL[9:16], EVIL[16:]]  # ESC [ ? 2 | 5 l ESC ] 0 | ...: sequences cut in two


@pytest.mark.parametrize("make", [PlainRenderer, MarkdownRenderer, LanesRenderer])
def test_renderers_escape_controls_on_a_terminal_only(make: type) -> None:
    target, out, _err = _target(True, lanes=["bot"], width=200, height=20)
    _feed(make(target), SPLIT)
    written = out.getvalue()
    own = ("\x1b[?25l",) if make is MarkdownRenderer else ()  # rich's Live hides the cursor while it draws
    assert not any(raw in written for raw in RAW if raw not in own)
    assert "\\x1b[?25l\\x1b]0;PWNED\\x07" in written
    target, out, _err = _target(False, lanes=["bot"], width=200)
    _feed(make(target), SPLIT)
    exact = out.getvalue()  # off a terminal: the exact text (lanes: a line, then the summary)
    assert exact.startswith(f"[bot] {EVIL}\n") if make is LanesRenderer else exact == EVIL


def test_reasoning_and_tool_calls_are_escaped_on_a_terminal() -> None:
    target, out, err = _target(True)
    renderer = PlainRenderer(target)
    renderer.feed(StreamStart(agent="bot"))
    renderer.feed(Reasoning("think \x1b]52;c;aGk=\x07", agent="bot"))
    renderer.feed(ToolCall(name="run\x1b]0;X\x07", arguments='{"a": "\x1b[2J"}', agent="bot"))
    renderer.feed(StreamEnd("stop", agent="bot"))
    renderer.close()
    assert "\x1b]52" not in out.getvalue() and "\\x1b]52;c;aGk=\\x07" in out.getvalue()
    assert "\x1b]0;X" not in err.getvalue() and "\x1b[2J" not in err.getvalue()


# ---------------------------------------------------------------- real terminals


@pytest.fixture
def config(tmp_path: Path) -> Iterator[str]:
    steps = [chunk(role="assistant"), chunk(EVIL[:9]), chunk(EVIL[9:]), chunk(finish="stop"), DONE]
    with RawHTTPServer(script(steps)) as server:
        path = tmp_path / "config.toml"
        path.write_text(agent_toml("x", server.url) + agent_toml("y", server.url))
        yield str(path)


def on_a_terminal(config: str, line: str) -> str:
    """Everything aish sent to a real terminal (a pty) while running ``line``."""
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(
        sys.executable, ["-m", "aish", "--config", config, "-c", line], env=env, timeout=30, dimensions=(40, 120)
    )
    child.expect(pexpect.EOF)
    written = child.before.decode("utf-8", "replace")
    child.close()
    assert child.exitstatus == 0, written
    return written


@pytest.mark.parametrize(
    "line",
    ["echo q | x", "echo q | x --renderer markdown", "echo q | x & y", "echo q | x & y --renderer plain"],
    ids=["plain", "markdown", "lanes", "sequenced"],
)
def test_an_answer_cannot_drive_the_terminal(config: str, line: str) -> None:
    if "--renderer" in line:
        words, renderer = line.split(" --renderer ")
        line = f"set renderer {renderer}\n{words}"
    written = on_a_terminal(config, line)
    assert not any(raw in written for raw in RAW), written
    assert "\\x1b]0;PWNED\\x07" in written


def test_history_show_escapes_on_a_terminal_and_not_on_a_pipe(config: str) -> None:
    on_a_terminal(config, "echo q | x")
    written = on_a_terminal(config, "history show 1")
    assert "-- answer" in written and SHOWN in written
    assert not any(raw in written for raw in RAW)
    piped = run_aish("--config", config, "-c", "history show 1")
    assert EVIL in piped.stdout


def test_conversations_show_escapes_on_a_terminal_and_not_on_a_pipe(config: str) -> None:
    on_a_terminal(config, "echo q | x")
    listed = run_aish("--config", config, "-c", "conversations").stdout
    cid = listed.split()[0] if not listed.startswith("*") else listed.split()[1]
    written = on_a_terminal(config, f"conversations show {cid}")
    assert f"x: {SHOWN}" in written
    assert not any(raw in written for raw in RAW)
    assert f"x: {EVIL}\n" in run_aish("--config", config, "-c", f"conversations show {cid}").stdout
