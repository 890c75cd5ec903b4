"""Tests for plugins/aish_jsonl: one JSON object per event, per batch, never a secret."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from servers import DONE, chunk, serving, sse

from aish import (
    ConnectionFailure,
    Event,
    Heartbeat,
    HTTPStatusError,
    RenderTarget,
    StreamEnd,
    StreamError,
    StreamStart,
    TextDelta,
    Usage,
)
from aish.cli import main
from aish_jsonl.renderer import JsonlRenderer, event_type
from aish_refserver import plan_reply

KEY_ENV = "T_JSONL_KEY"
FAKE_KEY = "sk-fake-jsonl-5a4b3c2d1e0f"


class Recorder(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes: list[int] = []

    def flush(self) -> None:
        self.flushes.append(len(self.getvalue()))


def render(*batches: list[Any], tty: bool = False) -> tuple[Recorder, io.StringIO]:
    out, err = Recorder(), io.StringIO()
    renderer = JsonlRenderer(RenderTarget(out, err, tty=tty))
    for batch in batches:
        for event in batch:
            renderer.feed(event)
        renderer.flush()
    renderer.close()
    return out, err


def objects(text: str) -> list[dict[str, Any]]:
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("tty", [False, True])
def test_one_object_per_event_with_type_agent_seq_and_fields(tty: bool) -> None:
    events: list[Event] = [
        StreamStart(model="m", agent="athena", seq=0),
        TextDelta("Hel", agent="athena", seq=1),
        TextDelta('lo "world"\n', agent="athena", seq=2, pieces=3),
        Heartbeat(agent="athena", seq=3),
        Usage(3, 9, {"model": "m", "id": "x1"}, agent="athena", seq=4),
        StreamEnd("stop", agent="athena", seq=5),
    ]
    out, err = render(events, tty=tty)
    assert objects(out.getvalue()) == [
        {"type": "stream_start", "agent": "athena", "seq": 0, "model": "m"},
        {"type": "text_delta", "agent": "athena", "seq": 1, "text": "Hel"},
        {"type": "text_delta", "agent": "athena", "seq": 2, "text": 'lo "world"\n', "pieces": 3},
        {"type": "heartbeat", "agent": "athena", "seq": 3},
        {
            "type": "usage",
            "agent": "athena",
            "seq": 4,
            "input_tokens": 3,
            "output_tokens": 9,
            "meta": {"model": "m", "id": "x1"},
        },
        {"type": "stream_end", "agent": "athena", "seq": 5, "finish_reason": "stop"},
    ]
    assert list(objects(out.getvalue())[0]) == ["type", "agent", "seq", "model"]
    assert err.getvalue() == ""


def test_text_keeps_every_character_and_each_object_is_one_line() -> None:
    text = "tab\there\nnew line \u2028 \u2029 \x85 ünï 🚀 \x1b[31m"
    out, _ = render([TextDelta(text)])
    assert len(out.getvalue().splitlines()) == 1  # splitlines() also splits on U+2028, U+2029, U+0085
    assert objects(out.getvalue())[0]["text"] == text
    assert "ünï 🚀" in out.getvalue()  # readable UTF-8, not \\u escapes


def test_errors_are_their_message_only() -> None:
    error = HTTPStatusError(401, "Unauthorized", "http://x/v1", body=f"bad key {FAKE_KEY}")
    error = error.reworded("athena: authentication failed: HTTP 401")
    out, _ = render([StreamError(error, partial=False, agent="athena", seq=1)])
    assert objects(out.getvalue()) == [
        {
            "type": "stream_error",
            "agent": "athena",
            "seq": 1,
            "error": "athena: authentication failed: HTTP 401",
            "partial": False,
        }
    ]
    assert FAKE_KEY not in out.getvalue()


def test_written_and_flushed_once_per_batch() -> None:
    out = Recorder()
    renderer = JsonlRenderer(RenderTarget(out, io.StringIO()))
    renderer.feed(StreamStart())
    renderer.feed(TextDelta("a"))
    assert out.getvalue() == ""  # buffered until the batch ends
    renderer.flush()
    assert len(out.getvalue().splitlines()) == 2 and out.flushes == [len(out.getvalue())]
    renderer.feed(TextDelta("b"))
    renderer.feed(StreamError(ConnectionFailure("lost"), partial=True))
    renderer.close()
    assert [o["type"] for o in objects(out.getvalue())] == ["stream_start", "text_delta", "text_delta", "stream_error"]
    assert len(out.flushes) == 2


def test_new_event_types_are_named_after_their_class_and_non_events_ignored() -> None:
    @dataclass
    class ToolCallDelta:
        name: str
        agent: str = ""
        seq: int = 0

    assert event_type(ToolCallDelta("x")) == "tool_call_delta"
    out, _ = render([ToolCallDelta("search", agent="a", seq=3), object(), "text"])  # type: ignore[list-item]
    assert objects(out.getvalue()) == [{"type": "tool_call_delta", "agent": "a", "seq": 3, "name": "search"}]


# ----------------------------------------------------------------- through aish


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdin=io.StringIO(), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_format_jsonl_streams_a_real_answer(demo_url: str) -> None:
    status, out, err = run_cli("--format", "jsonl", "-c", "athena tell me about owls")
    assert (status, err) == (0, "")
    events = objects(out)
    assert [e["type"] for e in events[:1] + events[-2:]] == ["stream_start", "usage", "stream_end"]
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert {e["agent"] for e in events} == {"athena"}
    text = "".join(e["text"] for e in events if e["type"] == "text_delta")
    assert text == plan_reply("athena", "tell me about owls").text()


def test_jsonl_never_shows_a_secret_the_server_echoes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)

    def handle(ex: Any) -> None:
        auth = ex.request.header("Authorization") or ""
        ex.respond(200, {"Content-Type": "text/event-stream"})
        ex.send(chunk(role="assistant") + chunk("partial ") + sse({"error": {"message": f"key {auth} revoked"}}))
        ex.end()

    with serving(handle) as server:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[agents.bot]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{server.url}"\napi_key_env = "{KEY_ENV}"\n'
        )
        status, out, err = run_cli("--config", str(config), "--format", "jsonl", "-c", "bot hi")
    assert server.requests[0].header("Authorization") == f"Bearer {FAKE_KEY}"  # the key was really sent
    assert status == 5
    last = objects(out)[-1]
    assert last["type"] == "stream_error" and last["partial"] is True
    assert last["error"] == "bot: error event: key Bearer *** revoked"
    assert FAKE_KEY not in out and FAKE_KEY not in err


@pytest.mark.parametrize("line", ["bot hi", "bot hi & bot2 hi"])
def test_every_text_event_is_its_own_object_though_one_read_brought_them(tmp_path: Path, line: str) -> None:
    words = [f"w{i} " for i in range(30)]

    def handle(ex: Any) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"})
        ex.send(b"".join([chunk(role="assistant"), *(chunk(w) for w in words), chunk(finish="stop"), DONE]))
        ex.end()

    with serving(handle) as server:
        config = tmp_path / "config.toml"
        agent = f'transport = "sse"\ncodec = "openai-chat"\nurl = "{server.url}"\n'
        config.write_text(f"[agents.bot]\n{agent}[agents.bot2]\n{agent}")
        status, out, err = run_cli("--config", str(config), "--format", "jsonl", "-c", line)
    assert (status, err) == (0, "")
    for name in line.replace("&", " ").split()[::2]:
        texts = [e for e in objects(out) if e["type"] == "text_delta" and e["agent"] == name]
        assert [e["text"] for e in texts] == words  # not joined (other renderers get them as one TextDelta)
        assert all("pieces" not in e for e in texts)


def test_the_renderer_is_registered_by_its_plugin() -> None:
    from aish.app import build_app
    from aish.config import Config

    app = build_app(Config())
    registration = app.registration("renderer", "jsonl")
    assert (registration.plugin, registration.default) == ("jsonl", False)
    assert app.default_name("renderer") != "jsonl"
