"""Unit tests for plugins/aish_openai/codec.py: the ``openai-chat`` dialect.

encode: URL, body, headers, credentials. decode: every chunk shape an
OpenAI-compatible server sends (role-only, null content, text, finish reason,
usage with or without content, ``[DONE]``, error events, garbage) and whole
non-streamed bodies. error_message: what an HTTP error body becomes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from aish import (
    AgentConfig,
    Context,
    MalformedEvent,
    Prompt,
    RemoteError,
    StreamEnd,
    TextDelta,
    Usage,
    WireMessage,
)
from aish_openai.codec import ChunkDecoder, OpenAIChatCodec

KEY_ENV = "T_OPENAI_CODEC_KEY"


def agent(url: str = "http://h.test/v1", **kw: Any) -> AgentConfig:
    return AgentConfig(name="bot", transport="sse", url=url, codec="openai-chat", **kw)


def prompt(text: str = "hello there") -> Prompt:
    return Prompt(text, Context(pipeline_id="p1"))


def body_of(codec: OpenAIChatCodec, text: str = "hello there") -> dict[str, Any]:
    data: dict[str, Any] = json.loads(codec.encode(prompt(text)).body)
    return data


def msg(obj: object, event: str = "message") -> WireMessage:
    return WireMessage(obj if isinstance(obj, str) else json.dumps(obj), event=event)


def chunk_obj(content: Any = None, *, role: str | None = None, finish: str | None = None, **extra: Any) -> dict:
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "m1",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


# ------------------------------------------------------------------------ encode


@pytest.mark.parametrize("url", ["http://h.test/v1", "http://h.test/v1/", "http://h.test/v1//"])
def test_encode_url_joins_chat_completions_with_or_without_trailing_slash(url: str) -> None:
    request = OpenAIChatCodec(agent(url)).encode(prompt())
    assert request.url == "http://h.test/v1/chat/completions"
    assert request.method == "POST"


def test_encode_body_has_model_messages_stream_and_usage_option() -> None:
    body = body_of(OpenAIChatCodec(agent(model="gpt-test")), "what is 2+2?")
    assert body == {
        "model": "gpt-test",
        "messages": [{"role": "user", "content": "what is 2+2?"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_encode_without_model_sends_no_model_key() -> None:
    body = body_of(OpenAIChatCodec(agent()))
    assert "model" not in body
    assert body["stream"] is True


def test_encode_merges_options_and_turns_system_into_a_system_message() -> None:
    options = {"temperature": 0.2, "max_tokens": 7, "system": "Be brief.", "stop": ["\n\n"]}
    body = body_of(OpenAIChatCodec(agent(model="m", options=options)), "hi")
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 7
    assert body["stop"] == ["\n\n"]
    assert "system" not in body


def test_encode_options_override_defaults_and_do_not_mutate_the_agent() -> None:
    options = {"stream": False, "stream_options": {"include_usage": False}, "system": "x"}
    the_agent = agent(options=options)
    codec = OpenAIChatCodec(the_agent)
    body = body_of(codec)
    assert body["stream"] is False
    assert body["stream_options"] == {"include_usage": False}
    assert the_agent.options == options  # "system" was popped from a copy only
    assert body_of(codec)["messages"][0] == {"role": "system", "content": "x"}


def test_encode_empty_system_option_adds_no_system_message() -> None:
    body = body_of(OpenAIChatCodec(agent(options={"system": ""})))
    assert [m["role"] for m in body["messages"]] == ["user"]


def test_encode_headers_without_key() -> None:
    request = OpenAIChatCodec(agent(headers={"X-Org": "acme"})).encode(prompt())
    assert dict(request.headers) == {
        "Content-Type": "application/json",
        "Accept": "text/event-stream",
        "X-Org": "acme",
    }
    assert request.secrets == ()


def test_encode_no_authorization_when_key_env_is_unset_or_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = OpenAIChatCodec(agent(api_key_env=KEY_ENV))
    monkeypatch.delenv(KEY_ENV, raising=False)
    request = codec.encode(prompt())
    assert "Authorization" not in request.headers
    assert request.secrets == ()
    monkeypatch.setenv(KEY_ENV, "")
    request = codec.encode(prompt())
    assert "Authorization" not in request.headers
    assert request.secrets == ()


def test_encode_authorization_from_key_env_and_key_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-abc123")
    request = OpenAIChatCodec(agent(api_key_env=KEY_ENV, headers={"X-Org": "acme"})).encode(prompt())
    assert request.headers["Authorization"] == "Bearer sk-test-abc123"
    assert request.headers["X-Org"] == "acme"
    assert request.secrets == ("sk-test-abc123",)
    assert b"sk-test-abc123" not in request.body


def test_encode_reads_the_key_at_request_time(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = OpenAIChatCodec(agent(api_key_env=KEY_ENV))
    monkeypatch.setenv(KEY_ENV, "first")
    assert codec.encode(prompt()).headers["Authorization"] == "Bearer first"
    monkeypatch.setenv(KEY_ENV, "second")
    assert codec.encode(prompt()).headers["Authorization"] == "Bearer second"


def test_encode_agent_headers_may_override_content_negotiation() -> None:
    request = OpenAIChatCodec(agent(headers={"Accept": "application/json"})).encode(prompt())
    assert request.headers["Accept"] == "application/json"


# ------------------------------------------------------------------------ decode


def test_role_only_first_chunk_gives_no_events() -> None:
    assert list(ChunkDecoder().decode(msg(chunk_obj(role="assistant")))) == []


def test_null_content_gives_no_text() -> None:
    obj = chunk_obj()
    obj["choices"][0]["delta"] = {"content": None}
    assert list(ChunkDecoder().decode(msg(obj))) == []


def test_empty_string_content_gives_no_text() -> None:
    assert list(ChunkDecoder().decode(msg(chunk_obj("")))) == []


def test_text_chunk_gives_one_text_delta() -> None:
    assert list(ChunkDecoder().decode(msg(chunk_obj(" quantum")))) == [TextDelta(" quantum")]


def test_text_is_kept_exactly() -> None:
    text = "line one\n\ttabbed — ünïcödé 🚀 \\n literal"
    assert list(ChunkDecoder().decode(msg(chunk_obj(text)))) == [TextDelta(text)]


def test_finish_reason_is_remembered_and_reported_by_done() -> None:
    decoder = ChunkDecoder()
    assert list(decoder.decode(msg(chunk_obj("a")))) == [TextDelta("a")]
    assert list(decoder.decode(msg(chunk_obj(finish="length")))) == []
    assert list(decoder.decode(msg("[DONE]"))) == [StreamEnd("length")]


def test_finish_reason_with_text_in_the_same_chunk() -> None:
    decoder = ChunkDecoder()
    assert list(decoder.decode(msg(chunk_obj("end.", finish="stop")))) == [TextDelta("end.")]
    assert list(decoder.decode(msg("[DONE]"))) == [StreamEnd("stop")]


def test_done_without_finish_reason() -> None:
    assert list(ChunkDecoder().decode(msg("[DONE]"))) == [StreamEnd(None)]


def test_decoders_do_not_share_state() -> None:
    codec = OpenAIChatCodec(agent())
    first = codec.decoder()
    first.decode(msg(chunk_obj(finish="stop")))
    assert list(codec.decoder().decode(msg("[DONE]"))) == [StreamEnd(None)]


def test_usage_chunk_with_empty_choices() -> None:
    obj = {
        "id": "chatcmpl-9",
        "model": "m9",
        "choices": [],
        "usage": {"prompt_tokens": 12, "completion_tokens": 34, "total_tokens": 46},
    }
    events = list(ChunkDecoder().decode(msg(obj)))
    assert events == [Usage(12, 34, {"model": "m9", "id": "chatcmpl-9"})]


def test_usage_in_the_same_chunk_as_content() -> None:
    obj = chunk_obj("last", usage={"prompt_tokens": 1, "completion_tokens": 2})
    events = list(ChunkDecoder().decode(msg(obj)))
    assert events == [TextDelta("last"), Usage(1, 2, {"model": "m1", "id": "chatcmpl-1"})]


def test_null_usage_next_to_content_is_ignored() -> None:
    obj = chunk_obj("x", usage=None)
    assert list(ChunkDecoder().decode(msg(obj))) == [TextDelta("x")]


def test_chunk_without_choices_or_usage_gives_nothing() -> None:
    assert list(ChunkDecoder().decode(msg({"id": "x", "object": "chat.completion.chunk"}))) == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"message": "The server is overloaded", "type": "server_error"}, "The server is overloaded"),
        ("quota exceeded", "quota exceeded"),
    ],
)
def test_error_event_raises_remote_error(error: object, expected: str) -> None:
    with pytest.raises(RemoteError) as info:
        ChunkDecoder().decode(msg({"error": error}))
    assert not isinstance(info.value, MalformedEvent)
    assert str(info.value) == f"error event: {expected}"


@pytest.mark.parametrize("data", ["[1, 2]", "42", '"text"', "null", "true"])
def test_non_dict_json_is_malformed(data: str) -> None:
    with pytest.raises(MalformedEvent) as info:
        ChunkDecoder().decode(msg(data))
    assert data[:10] in str(info.value)


@pytest.mark.parametrize("data", ["{not json", '{"choices": [', "", "data: {}"])
def test_invalid_json_is_malformed(data: str) -> None:
    with pytest.raises(MalformedEvent) as info:
        ChunkDecoder().decode(msg(data))
    assert str(info.value).startswith("malformed event data: ")
    assert repr(data[:80]) in str(info.value)


def test_malformed_message_is_cut_short() -> None:
    data = "x" * 5000
    with pytest.raises(MalformedEvent) as info:
        ChunkDecoder().decode(msg(data))
    assert len(str(info.value)) < 200


@pytest.mark.parametrize(
    "data",
    [
        '{"choices": [42]}',
        '{"choices": [{"delta": "text"}]}',
        '{"choices": {"0": {}}}',
        '{"choices": [{"delta": {"content": 5}}]}',
        '{"choices": [], "usage": 5}',
    ],
)
def test_wrong_shape_chunks_are_malformed(data: str) -> None:
    """Valid JSON of the wrong shape is the codec's MalformedEvent, never a Python error."""
    with pytest.raises(MalformedEvent) as info:
        ChunkDecoder().decode(msg(data))
    assert str(info.value) == f"malformed event data: {data[:80]!r}"


# ---------------------------------------------------------- whole (non-streamed)


def completion(content: Any = "The whole answer.", finish: str | None = "stop", **extra: Any) -> dict:
    return {
        "id": "chatcmpl-w",
        "object": "chat.completion",
        "model": "mw",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        **extra,
    }


def test_whole_response_gives_text_usage_and_end() -> None:
    obj = completion(usage={"prompt_tokens": 3, "completion_tokens": 4})
    events = list(ChunkDecoder().decode(msg(obj, event="response")))
    assert events == [
        TextDelta("The whole answer."),
        Usage(3, 4, {"model": "mw", "id": "chatcmpl-w"}),
        StreamEnd("stop"),
    ]


def test_whole_response_without_usage_and_with_null_content() -> None:
    events = list(ChunkDecoder().decode(msg(completion(None, finish="length"), event="response")))
    assert events == [StreamEnd("length")]


def test_same_object_as_a_stream_chunk_is_not_read_as_whole() -> None:
    # A chat.completion arriving as an ordinary SSE message has no delta: no text, no end.
    assert list(ChunkDecoder().decode(msg(completion()))) == []


def test_whole_error_body_raises_remote_error() -> None:
    with pytest.raises(RemoteError) as info:
        ChunkDecoder().decode(msg({"error": {"message": "model overloaded"}}, event="response"))
    assert not isinstance(info.value, MalformedEvent)
    assert "model overloaded" in str(info.value)


@pytest.mark.parametrize(
    "obj",
    [{"choices": []}, {"choices": [{"finish_reason": "stop"}]}, {"object": "list", "data": []}, {"choices": [7]}],
)
def test_whole_body_that_is_not_a_completion_is_malformed(obj: dict) -> None:
    with pytest.raises(MalformedEvent) as info:
        ChunkDecoder().decode(msg(obj, event="response"))
    assert "not a chat completion" in str(info.value)


def test_whole_invalid_json_is_malformed() -> None:
    with pytest.raises(MalformedEvent):
        ChunkDecoder().decode(msg("<html>oops</html>", event="response"))


# ----------------------------------------------------------------- error_message


@pytest.fixture
def codec() -> OpenAIChatCodec:
    return OpenAIChatCodec(agent())


def test_error_message_from_openai_error_object(codec: OpenAIChatCodec) -> None:
    body = json.dumps({"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error"}})
    assert codec.error_message(401, body) == "Incorrect API key provided."


def test_error_message_from_string_error(codec: OpenAIChatCodec) -> None:
    assert codec.error_message(500, '{"error": "upstream timed out"}') == "upstream timed out"


def test_error_message_from_plain_text_is_its_first_line(codec: OpenAIChatCodec) -> None:
    assert codec.error_message(502, "\n  Bad gateway: upstream down\nmore detail\n") == "Bad gateway: upstream down"


def test_error_message_from_html_is_cut_to_a_line(codec: OpenAIChatCodec) -> None:
    body = "<html>" + "x" * 1000 + "</html>\n<body>"
    message = codec.error_message(503, body)
    assert message is not None
    assert message.startswith("xxx")  # the page's words, not its markup
    assert len(message) == 200


@pytest.mark.parametrize("body", ["", "   \n\t ", '{"other": "nope"}', "[1]", "null"])
def test_error_message_none_when_nothing_readable(codec: OpenAIChatCodec, body: str) -> None:
    assert codec.error_message(400, body) is None


def test_error_message_is_bounded(codec: OpenAIChatCodec) -> None:
    message = codec.error_message(400, json.dumps({"error": {"message": "m" * 2000}}))
    assert message == "m" * 300


@pytest.mark.parametrize(
    ("body", "expected"),
    [('{"detail": "model missing"}', "model missing"), ('{"message": "bad key"}', "bad key")],
)
def test_error_message_reads_other_common_shapes(codec: OpenAIChatCodec, body: str, expected: str) -> None:
    assert codec.error_message(400, body) == expected
