"""The ``anthropic-messages`` codec: requests, every event type, errors, and real streams
from the reference server's ``/v1/messages`` endpoint (faults included)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from servers import Exchange, json_reply, serving
from streamkit import Run, agent, answer

from aish import (
    AgentConfig,
    Context,
    Heartbeat,
    MalformedEvent,
    Prompt,
    RemoteError,
    StreamEnd,
    TextDelta,
    ToolCall,
    Usage,
    WireMessage,
)
from aish_anthropic.codec import API_VERSION, AnthropicMessagesCodec, MessagesDecoder
from aish_refserver import RefServer

KEY_ENV = "T_ANTHROPIC_KEY"
KEY = "sk-ant-test-0123456789abcdef"


def claude(url: str, **kw: Any) -> AgentConfig:
    kw.setdefault("model", "hermes")
    return agent(url, codec="anthropic-messages", **kw)


def event(name: str, **obj: Any) -> WireMessage:
    return WireMessage(json.dumps({"type": name, **obj}), event=name)


def delta(text: str) -> WireMessage:
    return event("content_block_delta", index=0, delta={"type": "text_delta", "text": text})


@pytest.fixture
def server() -> Iterator[RefServer]:
    with RefServer(pace=0.0) as srv:
        yield srv


# ------------------------------------------------------------------ encode


def test_request_has_the_messages_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    the_agent = claude("https://api.example.test/v1/", api_key_env=KEY_ENV, options={"system": "Be brief.", "top_k": 5})
    request = AnthropicMessagesCodec(the_agent).encode(Prompt("hi there", Context("p")))
    assert request.url == "https://api.example.test/v1/messages"
    assert request.headers["x-api-key"] == KEY and "Authorization" not in request.headers
    assert request.headers["anthropic-version"] == API_VERSION == "2023-06-01"
    assert request.secrets == (KEY,)
    body = json.loads(request.body)
    assert body == {
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hi there"}],
        "stream": True,
        "model": "hermes",
        "system": "Be brief.",
        "top_k": 5,
    }


def test_max_tokens_from_options_and_no_key_no_header() -> None:
    request = AnthropicMessagesCodec(claude("http://h/v1", options={"max_tokens": 7})).encode(Prompt("x", Context("p")))
    assert json.loads(request.body)["max_tokens"] == 7
    assert "x-api-key" not in request.headers and request.secrets == ()


# ------------------------------------------------------------------ decode


def test_a_whole_stream_decodes_to_text_heartbeat_usage_and_end() -> None:
    decoder = MessagesDecoder()
    messages = [
        event("message_start", message={"id": "msg_1", "model": "m", "usage": {"input_tokens": 9, "output_tokens": 1}}),
        event("content_block_start", index=0, content_block={"type": "text", "text": ""}),
        event("ping"),
        delta("Hel"),
        delta("lo"),
        event("content_block_stop", index=0),
        event("message_delta", delta={"stop_reason": "end_turn"}, usage={"output_tokens": 2}),
        event("message_stop"),
    ]
    events = [e for m in messages for e in decoder.decode(m)]
    assert events == [
        Heartbeat(),
        TextDelta("Hel"),
        TextDelta("lo"),
        Usage(9, 2, {"id": "msg_1", "model": "m"}),
        StreamEnd("end_turn"),
    ]


def test_event_names_lost_by_a_proxy_are_read_from_the_data() -> None:
    decoder = MessagesDecoder()
    plain = WireMessage(json.dumps({"type": "content_block_delta", "delta": {"type": "text_delta", "text": "x"}}))
    assert list(decoder.decode(plain)) == [TextDelta("x")]
    assert decoder.is_answer_start(WireMessage('{"type":"message_start","message":{}}'))


def test_signatures_and_unknown_events_are_ignored() -> None:
    decoder = MessagesDecoder()
    signature = event("content_block_delta", index=0, delta={"type": "signature_delta", "signature": "EqQB"})
    assert list(decoder.decode(signature)) == []
    assert list(decoder.decode(event("some_future_event", x=1))) == []
    assert decoder.is_answer_start(event("message_start", message={}))
    assert not decoder.is_answer_start(delta("x"))


def test_error_event_is_a_remote_error() -> None:
    error = event("error", error={"type": "overloaded_error", "message": "Overloaded"})
    with pytest.raises(RemoteError, match=r"^error event: overloaded_error: Overloaded$"):
        MessagesDecoder().decode(error)


@pytest.mark.parametrize(
    "message",
    [
        WireMessage("{not json", event="content_block_delta"),
        WireMessage("[1, 2]", event="content_block_delta"),
        WireMessage(
            '{"type": "content_block_delta", "delta": {"type": "text_delta", "text": 5}}', "content_block_delta"
        ),
        WireMessage('{"type": "message_start"}', event="message_start"),
    ],
)
def test_malformed_events(message: WireMessage) -> None:
    with pytest.raises(MalformedEvent, match="malformed event data"):
        MessagesDecoder().decode(message)


def test_a_whole_json_answer() -> None:
    body = {
        "type": "message",
        "id": "msg_9",
        "model": "m",
        "content": [
            {"type": "text", "text": "All "},
            {"type": "tool_use", "id": "t1", "name": "f", "input": {"x": 1}},
            {"type": "text", "text": "at once."},
        ],
        "stop_reason": "max_tokens",
        "usage": {"input_tokens": 3, "output_tokens": 4},
    }
    events = MessagesDecoder().decode(WireMessage(json.dumps(body), event="response"))
    assert events == [
        TextDelta("All at once."),
        ToolCall("f", '{"x": 1}', "t1"),
        Usage(3, 4, {"model": "m", "id": "msg_9"}),
        StreamEnd("max_tokens"),
    ]


def test_error_bodies_read_well() -> None:
    codec = AnthropicMessagesCodec(claude("http://h/v1"))
    body = json.dumps({"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: required"}})
    assert codec.error_message(400, body) == "invalid_request_error: max_tokens: required"
    assert codec.error_message(502, "<html>Bad gateway</html>\n...") == "<html>Bad gateway</html>"


# ------------------------------------------------------- against a server


def test_streamed_answer_from_the_reference_server(server: RefServer) -> None:
    run = Run(claude(server.base_url, options={"aish_tokens": 25}))
    assert run.r.status == "complete", run.r.error
    assert run.r.text == answer(25, "hermes")
    assert run.r.finish_reason == "end_turn"
    assert run.r.usage is not None and (run.r.usage.input_tokens, run.r.usage.output_tokens) == (4, 25)
    assert run.heartbeats == 1  # the ping event
    [request] = server.requests
    assert request.path == "/v1/messages" and request.header("anthropic-version") == "2023-06-01"


def test_capped_answer_stops_with_max_tokens(server: RefServer) -> None:
    run = Run(claude(server.base_url, options={"max_tokens": 3}))
    assert run.r.finish_reason == "max_tokens" and run.r.deltas == 3


def test_non_streamed_answer(server: RefServer) -> None:
    run = Run(claude(server.base_url, options={"stream": False, "aish_tokens": 12}))
    assert run.r.status == "complete" and run.r.text == answer(12, "hermes") and run.r.deltas == 1


def test_dropped_stream_resumes_exactly(server: RefServer) -> None:
    fault = {"drop_after": 5, "resume": True}
    run = Run(claude(server.base_url, options={"aish_tokens": 30, "aish_fault": fault}))
    assert run.r.status == "complete" and run.r.text == answer(30, "hermes") and run.r.deltas == 30
    assert run.r.meta["resumes"] == 7  # 36 events


def test_restarted_answer_is_caught_by_its_message_start(server: RefServer) -> None:
    fault = {"drop_after": 5, "ids": True}
    run = Run(claude(server.base_url, options={"aish_tokens": 30, "aish_fault": fault}))
    assert run.r.status == "partial" and run.r.deltas == 2
    assert str(run.r.error).endswith("not resumed: the server started the answer over")


def test_missing_version_is_reported_in_anthropic_terms(server: RefServer) -> None:
    the_agent = claude(server.base_url, max_retries=0, headers={"anthropic-version": ""})
    run = Run(the_agent)
    assert str(run.r.error) == (
        f"bot: request rejected: HTTP 400 from {server.base_url}/messages: "
        "invalid_request_error: anthropic-version: header is required"
    )


def test_mid_stream_error_event_from_a_raw_server() -> None:
    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"})
        ex.send(b'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":1}}}\n\n')
        text = b'{"type":"content_block_delta","delta":{"type":"text_delta","text":"Par"}}'
        ex.send(b"event: content_block_delta\ndata: " + text + b"\n\n")
        ex.send(b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n')
        ex.end()

    with serving(handle) as raw:
        run = Run(claude(raw.url + "/v1"))
    assert run.r.status == "partial" and run.r.text == "Par"
    assert str(run.r.error) == "bot: error event: overloaded_error: Overloaded"


def test_rate_limit_error_body() -> None:
    body = {"type": "error", "error": {"type": "rate_limit_error", "message": "Number of requests exceeded"}}
    with serving(json_reply(429, body, {"Retry-After": "0"})) as raw:
        run = Run(claude(raw.url + "/v1", max_retries=1))
    assert str(run.r.error).startswith("bot: rate limited: HTTP 429 from ")
    assert str(run.r.error).endswith(": rate_limit_error: Number of requests exceeded; gave up after 1 retry")
    assert len(raw.requests) == 2
