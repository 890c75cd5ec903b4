"""The aish-ws codec on its own: the messages it sends and how it reads the server's."""

from __future__ import annotations

import json

import pytest

from aish import (
    AgentConfig,
    Context,
    Heartbeat,
    HTTPStatusError,
    MalformedEvent,
    Prompt,
    RemoteError,
    StreamEnd,
    TextDelta,
    Usage,
    WireMessage,
)
from aish_wsproto.codec import CONTROL, AishWSCodec

AGENT = AgentConfig(name="bot", transport="websocket", url="ws://h/v1/ws", codec="aish-ws", model="m", options={"x": 1})


def test_request_carries_input_context_and_options() -> None:
    request = AishWSCodec(AGENT).encode(Prompt("hi", Context("p", previous_answer="before")))
    body = json.loads(request.body)
    assert body["type"] == "request" and body["input"] == "hi" and body["model"] == "m"
    assert body["options"] == {"x": 1} and body["context"]["previous_answer"] == "before"
    assert request.control is CONTROL and request.url == "ws://h/v1/ws"


def test_resume_and_cancel_messages() -> None:
    resume = json.loads(CONTROL.resume(b'{"type": "request", "input": "hi"}', "s3:41"))
    assert resume == {"type": "resume", "stream": "s3", "after": 41, "request": {"type": "request", "input": "hi"}}
    assert json.loads(CONTROL.cancel() or b"") == {"type": "cancel"}
    assert CONTROL.message_id('{"type": "delta", "seq": 4, "stream": "s3", "text": "x"}') == "s3:4"
    assert CONTROL.message_id('{"type": "delta", "seq": 4, "text": "\\"stream\\""}') is None


def test_decoder_maps_every_message() -> None:
    d = AishWSCodec(AGENT).decoder()
    assert d.decode(WireMessage('{"type": "delta", "seq": 0, "text": "a"}')) == (TextDelta("a"),)
    assert d.decode(WireMessage('{"type": "heartbeat"}')) == (Heartbeat(),)
    assert d.decode(WireMessage('{"type": "future-thing"}')) == ()
    done = d.decode(
        WireMessage('{"type": "done", "finish_reason": "stop", "usage": {"input_tokens": 2, "output_tokens": 1}}')
    )
    assert done == [Usage(2, 1), StreamEnd("stop")]


def test_decoder_rejects_gaps_and_garbage_and_raises_errors() -> None:
    d = AishWSCodec(AGENT).decoder()
    with pytest.raises(MalformedEvent, match="expected seq 0"):
        d.decode(WireMessage('{"type": "delta", "seq": 1, "text": "a"}'))
    with pytest.raises(MalformedEvent):
        d.decode(WireMessage("{not json"))
    with pytest.raises(HTTPStatusError) as status:
        d.decode(WireMessage('{"type": "error", "status": 429, "message": "slow down", "retry_after": 2}'))
    assert status.value.code == 429 and status.value.retry_after == 2.0
    with pytest.raises(RemoteError, match="error event: boom: bad"):
        d.decode(WireMessage('{"type": "error", "code": "boom", "message": "bad"}'))
