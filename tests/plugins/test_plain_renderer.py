"""Tests for plugins/aish_plain/renderer.py: exact text on pipes, status lines on terminals.

The elapsed time in the status line comes from ``time.monotonic``; the tests
that check it exactly give the renderer module a fake clock. One test feeds it
a real stream from the reference server.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from terminal import TerminalText, Tmux, eventually, screen, thread_running

import aish_plain.renderer as renderer_module
from aish import (
    AgentConfig,
    ConnectionFailure,
    Context,
    Event,
    Heartbeat,
    Interrupted,
    Prompt,
    Reasoning,
    RemoteError,
    RenderTarget,
    Retrying,
    StreamEnd,
    StreamError,
    StreamStart,
    TextDelta,
    Usage,
)
from aish.stream import AgentStream
from aish_openai.codec import OpenAIChatCodec
from aish_plain.renderer import PlainRenderer
from aish_refserver import RefServer, plan_reply
from aish_sse.transport import SSETransport


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(renderer_module, "time", fake)
    return fake


class Target:
    def __init__(self, tty: bool) -> None:
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.renderer = PlainRenderer(RenderTarget(self.out, self.err, tty=tty))

    def feed(self, *events: Event) -> None:
        for event in events:
            self.renderer.feed(event)
        self.renderer.flush()


def deltas(*texts: str) -> Iterator[TextDelta]:
    return (TextDelta(t) for t in texts)


# --------------------------------------------------------------------- not a tty


def test_pipe_gets_exactly_the_text_and_err_nothing() -> None:
    t = Target(tty=False)
    t.feed(StreamStart(model="m"), *deltas("Hello", ",", " world"), Heartbeat(), Usage(3, 9), StreamEnd("stop"))
    t.renderer.close()
    assert t.out.getvalue() == "Hello, world"  # no newline added on a pipe
    assert t.err.getvalue() == ""


def test_pipe_keeps_text_byte_exact() -> None:
    pieces = ["line 1\n", "\tindented ", "\x1b[31mred\x1b[0m", " ünï 🚀", "\r\n", "   "]
    t = Target(tty=False)
    t.feed(StreamStart(), *deltas(*pieces), StreamEnd())
    t.renderer.close()
    assert t.out.getvalue() == "".join(pieces)
    assert t.err.getvalue() == ""


def test_pipe_on_failure_writes_the_partial_text_only() -> None:
    t = Target(tty=False)
    t.feed(StreamStart(), *deltas("Hal", "f"), StreamError(ConnectionFailure("lost"), partial=True))
    t.renderer.close()
    assert t.out.getvalue() == "Half"
    assert t.err.getvalue() == ""


def test_text_is_written_before_flush_is_called() -> None:
    t = Target(tty=False)
    t.renderer.feed(StreamStart())
    t.renderer.feed(TextDelta("now"))
    assert t.out.getvalue() == "now"


# -------------------------------------------------------------------------- tty


def test_tty_streaming_marker_at_start(clock: FakeClock) -> None:
    t = Target(tty=True)
    t.feed(StreamStart())
    assert t.err.getvalue() == "[Streaming...] "
    assert t.out.getvalue() == ""


def test_tty_complete_line_with_usage_tokens_and_added_newline(clock: FakeClock) -> None:
    t = Target(tty=True)
    t.feed(StreamStart(model="m"), *deltas("Hello", " world"))
    clock.now += 2.34
    t.feed(Usage(5, 42), StreamEnd("stop"))
    t.renderer.close()
    assert t.out.getvalue() == "Hello world\n"
    assert t.err.getvalue() == "[Streaming...] [Complete - 2.3s, 42 tokens]\n"


def test_tty_complete_counts_deltas_without_usage(clock: FakeClock) -> None:
    t = Target(tty=True)
    t.feed(StreamStart(), *deltas("a", "b", "c"))
    clock.now += 0.06
    t.feed(StreamEnd())
    assert t.out.getvalue() == "abc\n"
    assert t.err.getvalue() == "[Streaming...] [Complete - 0.1s, 3 tokens]\n"


def test_tty_counts_every_piece_a_joined_delta_carries(clock: FakeClock) -> None:
    t = Target(tty=True)
    t.feed(StreamStart(), TextDelta("one read's", pieces=4), TextDelta(" text", pieces=2), StreamEnd())
    assert t.err.getvalue() == "[Streaming...] [Complete - 0.0s, 6 tokens]\n"


def test_tty_usage_without_output_tokens_falls_back_to_deltas(clock: FakeClock) -> None:
    t = Target(tty=True)
    t.feed(StreamStart(), *deltas("a", "b"), Usage(7, None), StreamEnd())
    assert t.err.getvalue().endswith("[Complete - 0.0s, 2 tokens]\n")


def test_tty_no_extra_newline_when_answer_ends_with_one(clock: FakeClock) -> None:
    t = Target(tty=True)
    t.feed(StreamStart(), *deltas("one\n", "two\n"), StreamEnd())
    assert t.out.getvalue() == "one\ntwo\n"


def test_tty_newline_after_answer_whose_last_delta_does_not_end_with_one(clock: FakeClock) -> None:
    t = Target(tty=True)
    t.feed(StreamStart(), *deltas("one\n", "two"), StreamEnd())
    assert t.out.getvalue() == "one\ntwo\n"


def test_tty_empty_answer_gets_no_newline_and_is_not_complete(clock: FakeClock) -> None:
    t = Target(tty=True)
    t.feed(StreamStart(), StreamEnd())
    assert t.out.getvalue() == ""
    assert t.err.getvalue() == "[Streaming...] [Empty answer - 0.0s, 0 tokens]\n"


def test_tty_partial_on_stream_error_with_partial(clock: FakeClock) -> None:
    t = Target(tty=True)
    t.feed(StreamStart(), *deltas("Hello", " wor"))
    clock.now += 1.25
    t.feed(StreamError(ConnectionFailure("connection lost"), partial=True))
    assert t.out.getvalue() == "Hello wor\n"
    assert t.err.getvalue() == "[Streaming...] [Partial - 1.2s, 2 tokens]\n"


def test_tty_failed_on_stream_error_without_partial(clock: FakeClock) -> None:
    t = Target(tty=True)
    t.feed(StreamStart())
    clock.now += 0.5
    t.feed(StreamError(RemoteError("boom"), partial=False))
    assert t.out.getvalue() == ""
    assert t.err.getvalue() == "[Streaming...] [Failed - 0.5s, 0 tokens]\n"


def test_on_a_terminal_an_answer_without_text_replaces_the_streaming_tag(clock: FakeClock) -> None:
    """A refused connection read '[Streaming...] [Failed ...]': streaming was never under way."""
    for events, summary in [
        ([StreamError(ConnectionFailure("connection refused"), partial=False)], "[Failed - 0.0s, 0 tokens]"),
        ([StreamError(Interrupted("athena: interrupted"), partial=False)], "[Interrupted - 0.0s, 0 tokens]"),
        ([StreamEnd()], "[Empty answer - 0.0s, 0 tokens]"),
    ]:
        t = Target(tty=True)
        t.err = TerminalText()
        t.renderer.err = t.err
        t.feed(StreamStart(), *events)
        assert t.err.getvalue() == f"[Streaming...] \r\x1b[K{summary}\n"
        assert t.out.getvalue() == ""
    t = Target(tty=True)
    t.err = TerminalText()
    t.renderer.err = t.err
    t.feed(StreamStart(), *deltas("Hi"), StreamError(Interrupted("athena: interrupted"), partial=True))
    assert t.err.getvalue() == "[Streaming...] [Partial - 0.0s, 1 token]\n"  # the tag stays before the text


def test_on_a_terminal_a_wait_to_retry_is_said_in_the_tag_until_text_comes(clock: FakeClock) -> None:
    """During a 429's backoff the tag said 'Streaming...' for as long as the server asked aish to wait."""
    t = Target(tty=True)
    t.err = TerminalText()
    t.renderer.err = t.err
    t.feed(StreamStart(agent="athena"), Retrying(2.0, "HTTP 429", 1, agent="athena"))
    assert screen(t.err.getvalue()) == ["[athena: Retrying in 2.0s - HTTP 429]"]
    t.feed(Reasoning("hmm", agent="athena"), *deltas("Hi"), StreamEnd())
    assert screen(t.err.getvalue())[0].startswith("[athena: Streaming...] [athena: Complete")
    assert t.out.getvalue().endswith("Hi\n")
    t = Target(tty=True)  # a wait after text came (a resume) leaves the answer's line alone
    t.err = TerminalText()
    t.renderer.err = t.err
    t.feed(StreamStart(agent="athena"), *deltas("Hi"), Retrying(1.0, "connection lost", 1, agent="athena"))
    assert t.err.getvalue() == "[athena: Streaming...] "
    t = Target(tty=True)  # all the retries failed: the summary takes the tag's place
    t.err = TerminalText()
    t.renderer.err = t.err
    t.feed(StreamStart(), Retrying(0.5, "HTTP 503"), StreamError(RemoteError("HTTP 503"), partial=False))
    assert screen(t.err.getvalue()) == ["[Failed - 0.0s, 0 tokens]"]


def test_tty_each_stage_has_its_own_counts_and_clock(clock: FakeClock) -> None:
    t = Target(tty=True)
    t.feed(StreamStart(), *deltas("a", "b"), Usage(1, 50), StreamEnd())
    clock.now += 10
    t.feed(StreamStart(), *deltas("c"))
    clock.now += 1.0
    t.feed(StreamEnd())
    assert t.out.getvalue() == "ab\nc\n"
    assert t.err.getvalue() == (
        "[Streaming...] [Complete - 0.0s, 50 tokens]\n[Streaming...] [Complete - 1.0s, 1 token]\n"
    )


def test_tty_status_goes_to_err_after_text_is_flushed(clock: FakeClock) -> None:
    """The summary flushes out before writing err, so a terminal shows them in order."""
    order: list[str] = []

    class Recorder(io.StringIO):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def flush(self) -> None:
            order.append(f"flush {self.name}")

        def write(self, s: str) -> int:
            order.append(f"write {self.name}")
            return super().write(s)

    out, err = Recorder("out"), Recorder("err")
    renderer = PlainRenderer(RenderTarget(out, err, tty=True))
    renderer.feed(StreamStart())
    renderer.feed(TextDelta("x"))
    order.clear()
    renderer.feed(StreamEnd())
    assert order == ["write out", "flush out", "write err", "flush err"]


def test_ctrl_c_in_the_middle_of_a_long_write_puts_the_summary_on_a_line_of_its_own() -> None:
    """One huge delta, Ctrl-C while it is written: the summary was glued to the text, '0 tokens'."""

    class Interrupted_(io.StringIO):
        def write(self, s: str) -> int:
            if len(s) > 100:
                super().write(s[:50])
                raise KeyboardInterrupt
            return super().write(s)

    out, err = Interrupted_(), io.StringIO()
    renderer = PlainRenderer(RenderTarget(out, err, tty=True))
    renderer.feed(StreamStart(agent="big"))
    with pytest.raises(KeyboardInterrupt):
        renderer.feed(TextDelta("word " * 100, agent="big"))
    renderer.feed(StreamError(Interrupted("big: interrupted"), partial=True, agent="big"))
    assert out.getvalue().endswith("word word \n")  # the line the write left open is ended
    assert re.search(r"\[big: Partial - [\d.]+s, 1 token\]\n$", err.getvalue()), err.getvalue()


# -------------------------------------------------------------- a real stream


def test_renderer_fed_a_real_stream_writes_the_servers_text() -> None:
    with RefServer(pace=0.0) as server:
        agent = AgentConfig(name="athena", transport="sse", url=server.base_url, codec="openai-chat", model="athena")
        out, err = io.StringIO(), io.StringIO()
        renderer = PlainRenderer(RenderTarget(out, err, tty=False))
        transport = SSETransport(agent)
        try:
            result = AgentStream(agent, transport, OpenAIChatCodec(agent)).run(
                Prompt("tell me about owls", Context(pipeline_id="r")), renderer.feed, renderer.flush
            )
        finally:
            transport.close()
        renderer.close()
    expected = plan_reply("athena", "tell me about owls").text()
    assert result.status == "complete"
    assert out.getvalue() == expected
    assert err.getvalue() == ""


def test_tty_renderer_fed_a_real_stream_reports_the_servers_token_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("TERM", "xterm-256color")  # not dumb: it wraps
    with RefServer(pace=0.0) as server:
        agent = AgentConfig(name="apollo", transport="sse", url=server.base_url, codec="openai-chat", model="apollo")
        out, err = io.StringIO(), io.StringIO()
        renderer = PlainRenderer(RenderTarget(out, err, tty=True))
        transport = SSETransport(agent)
        try:
            AgentStream(agent, transport, OpenAIChatCodec(agent)).run(
                Prompt("the weather", Context(pipeline_id="r")), renderer.feed, renderer.flush
            )
        finally:
            transport.close()
    plan = plan_reply("apollo", "the weather")
    rows = out.getvalue().split("\n")  # the answer, its lines broken between words (see test_plain_wrap.py)
    assert " ".join(rows).split() == plan.text().split()
    assert len(rows) > 3
    assert all(len(row.rstrip()) <= 60 for row in rows)  # err is no terminal: the tag is not on out's rows
    assert re.fullmatch(
        rf"\[apollo: Streaming\.\.\.\] \[apollo: Complete - \d+\.\ds, {plan.count} tokens\]\n", err.getvalue()
    )


# ------------------------------------------------------------ how it ended


def test_tty_status_lines_name_the_agent(clock: FakeClock) -> None:
    t = Target(tty=True)
    t.feed(StreamStart(agent="apollo"), TextDelta("a", agent="apollo"), StreamEnd("stop", agent="apollo"))
    t.feed(StreamStart(agent="athena"), TextDelta("b", agent="athena"), StreamEnd("stop", agent="athena"))
    assert t.err.getvalue() == (
        "[apollo: Streaming...] [apollo: Complete - 0.0s, 1 token]\n"
        "[athena: Streaming...] [athena: Complete - 0.0s, 1 token]\n"
    )


@pytest.mark.parametrize(
    ("reason", "word"),
    [
        ("length", "Cut at max_tokens"),  # OpenAI
        ("max_tokens", "Cut at max_tokens"),  # Anthropic
        ("content_filter", "Stopped by the content filter"),
        ("refusal", "Refused"),
        ("tool_calls", "Stopped to call a tool"),
        ("something_new", "Stopped: something_new"),
        ("stop", "Complete"),
        ("end_turn", "Complete"),
        ("stop_sequence", "Complete"),
        (None, "Complete"),
    ],
)
def test_tty_a_stop_other_than_the_natural_end_is_said(clock: FakeClock, reason: str | None, word: str) -> None:
    t = Target(tty=True)
    t.feed(StreamStart(agent="athena"), TextDelta("text", agent="athena"), StreamEnd(reason, agent="athena"))
    assert t.err.getvalue() == f"[athena: Streaming...] [athena: {word} - 0.0s, 1 token]\n"
    assert t.out.getvalue() == "text\n"


@pytest.mark.parametrize("texts", [(), ("",), (" ", "\n")])
def test_tty_an_answer_without_text_is_an_empty_answer(clock: FakeClock, texts: tuple[str, ...]) -> None:
    t = Target(tty=True)
    t.feed(StreamStart(agent="athena"), *(TextDelta(x, agent="athena") for x in texts), StreamEnd("stop"))
    tokens = f"{len(texts)} token{'s' if len(texts) != 1 else ''}"  # "1 token", "2 tokens"
    assert t.err.getvalue().endswith(f"[athena: Empty answer - 0.0s, {tokens}]\n")
    assert "Complete" not in t.err.getvalue()


def test_tty_an_empty_answer_cut_short_says_both(clock: FakeClock) -> None:
    t = Target(tty=True)
    t.feed(StreamStart(agent="athena"), StreamEnd("content_filter", agent="athena"))
    assert t.err.getvalue() == (
        "[athena: Streaming...] [athena: Empty answer (stopped by the content filter) - 0.0s, 0 tokens]\n"
    )


def test_on_a_terminal_a_slow_first_token_is_counted_on_the_tag() -> None:
    """A server loading its model, or one that hangs, left '[athena: Streaming...]' alone for as long
    as it took (two minutes, to the idle timeout): the tag counts the wait, and is ``Streaming...``
    again when text comes; its thread ends then."""
    out, err = TerminalText(), TerminalText()
    renderer = PlainRenderer(RenderTarget(out, err, tty=True), count_after=0.05, count_every=0.05)
    renderer.feed(StreamStart(agent="athena"))
    eventually(lambda: err.getvalue().count("Waiting") >= 2)
    assert screen(err.getvalue()) == ["[athena: Waiting - 0s]"]
    renderer.feed(TextDelta("Hi"))
    renderer.feed(StreamEnd())
    renderer.close()
    assert screen(err.getvalue())[0] == "[athena: Streaming...] [athena: Complete - 0.1s, 1 token]"
    eventually(lambda: not thread_running("aish-wait-count"))
    assert not thread_running("aish-wait-count")
    shown = err.getvalue()
    time.sleep(0.15)
    assert err.getvalue() == shown


def test_after_a_retry_the_wait_is_counted_again_from_the_asking_again() -> None:
    """The noticed gap of decision 101: after 'Retrying in 0.2s' a request that hung again left that
    tag for as long as it hung. The count resumes once the stage has asked again, from zero."""
    out, err = TerminalText(), TerminalText()
    renderer = PlainRenderer(RenderTarget(out, err, tty=True), count_after=0.05, count_every=0.05)
    renderer.feed(StreamStart(agent="athena"))
    renderer.feed(Retrying(0.3, "HTTP 503", 1, agent="athena"))
    assert screen(err.getvalue()) == ["[athena: Retrying in 0.3s - HTTP 503]"]
    time.sleep(0.2)
    assert screen(err.getvalue()) == ["[athena: Retrying in 0.3s - HTTP 503]"]  # the retry's own wait
    assert eventually(lambda: screen(err.getvalue()) == ["[athena: Waiting - 0s]"])
    renderer.feed(TextDelta("Hi"))
    renderer.feed(StreamEnd())
    renderer.close()
    assert screen(err.getvalue())[0].startswith("[athena: Streaming...] [athena: Complete - ")
    assert screen(out.getvalue()) == ["Hi"]


def test_the_wait_is_not_counted_off_a_terminal_or_when_text_comes_at_once() -> None:
    out, err = io.StringIO(), TerminalText()  # the answer goes to a file: its line is not the tag's
    renderer = PlainRenderer(RenderTarget(out, err, tty=True), count_after=0.01, count_every=0.01)
    renderer.feed(StreamStart(agent="athena"))
    time.sleep(0.1)
    assert err.getvalue() == "[athena: Streaming...] "
    out = TerminalText()
    renderer = PlainRenderer(RenderTarget(out, err, tty=True), count_after=0.1, count_every=0.1)
    err.seek(0)
    err.truncate()
    renderer.feed(StreamStart(agent="athena"))
    renderer.feed(TextDelta("Hi"))
    time.sleep(0.25)
    assert "Waiting" not in err.getvalue()


def test_in_a_real_terminal_the_tag_counts_a_stalled_first_token(refserver: RefServer, tmp_path: Path) -> None:
    """The reference server sends nothing for 2.6 s: tmux shows the wait counted, then the answer after
    ``Streaming...`` on the tag's line."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[agents.slow]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{refserver.base_url}"\nmodel = "athena"\n'
        "[agents.slow.options]\naish_tokens = 5\naish_fault = { stall = 2.6, stall_after = 0 }\n",
        encoding="utf-8",
    )
    keep = ("PATH", "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(AISH_CONFIG=str(config), LANG="C.UTF-8", TERM="xterm")
    with Tmux([sys.executable, "-m", "aish", "slow", "hello"], env, width=80, linger=10) as term:
        term.wait_for(r"^\[slow: Waiting - 2s\]$")
        lines = term.wait_for(r"^\[slow: Complete")
    assert lines[0].startswith("[slow: Streaming...] Athena"), lines
    assert not any("Waiting" in line for line in lines), lines
