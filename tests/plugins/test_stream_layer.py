"""Tests for aish/stream.py (AgentStream) with the real SSE transport and openai-chat codec.

The peers are real loopback servers: the reference server for well-behaved
streams and errors, tests/servers.py for exact bytes (heartbeats, garbage,
error events, echoed credentials, early ends).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from servers import (
    DONE,
    Exchange,
    chunk,
    json_reply,
    openai_stream,
    script,
    serving,
    sse,
    usage_chunk,
)

from aish import (
    AgentConfig,
    Context,
    Event,
    Heartbeat,
    HTTPStatusError,
    MalformedEvent,
    Prompt,
    RemoteError,
    StreamEnd,
    StreamError,
    StreamIncomplete,
    StreamStart,
    TextDelta,
    Usage,
)
from aish.stream import AgentStream, StageResult
from aish_openai.codec import OpenAIChatCodec
from aish_refserver import RefServer, plan_reply
from aish_sse.transport import SSETransport

KEY_ENV = "T_STREAM_LAYER_KEY"
FAKE_KEY = "sk-fake-9f8e7d6c5b4a39281706f5e4"


def agent(url: str, **kw: Any) -> AgentConfig:
    kw.setdefault("idle_timeout", 5.0)
    kw.setdefault("connect_timeout", 2.0)
    kw.setdefault("model", "athena")
    return AgentConfig(name="bot", transport="sse", url=url, codec="openai-chat", **kw)


class Run:
    """One AgentStream run: its result, the events in order, and sink/flush calls interleaved."""

    def __init__(self, the_agent: AgentConfig, text: str = "tell me about owls") -> None:
        self.events: list[Event] = []
        self.calls: list[str] = []
        transport = SSETransport(the_agent)
        self.stream = AgentStream(the_agent, transport, OpenAIChatCodec(the_agent))
        try:
            self.result: StageResult = self.stream.run(Prompt(text, Context(pipeline_id="p")), self._sink, self._flush)
        finally:
            transport.close()

    def _sink(self, event: Event) -> None:
        self.events.append(event)
        self.calls.append(type(event).__name__)

    def _flush(self) -> None:
        self.calls.append("flush")

    @property
    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]

    @property
    def shape(self) -> list[str]:
        """The kinds, each run of TextDeltas as one: how many a run is depends on the network's reads."""
        return [k for i, k in enumerate(self.kinds) if k != "TextDelta" or self.kinds[i - 1 : i] != ["TextDelta"]]

    @property
    def texts(self) -> list[TextDelta]:
        return [e for e in self.events if isinstance(e, TextDelta)]

    @property
    def last(self) -> StreamError:
        event = self.events[-1]
        assert isinstance(event, StreamError)
        return event


@pytest.fixture
def ref() -> Iterator[RefServer]:
    server = RefServer(pace=0.0).start()
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------ a complete stream


def test_event_order_seq_and_agent_on_a_real_stream(ref: RefServer) -> None:
    run = Run(agent(ref.base_url))
    plan = plan_reply("athena", "tell me about owls")
    result = run.result
    assert result.status == "complete"
    assert result.error is None
    assert result.text == plan.text()
    assert run.shape == ["StreamStart", "TextDelta", "Usage", "StreamEnd"]
    assert sum(e.pieces for e in run.texts) == plan.count
    assert [e.seq for e in run.events] == list(range(len(run.events)))
    assert {e.agent for e in run.events} == {"bot"}
    start, usage, end = run.events[0], run.events[-2], run.events[-1]
    assert isinstance(start, StreamStart) and start.model == "athena"
    assert isinstance(usage, Usage) and usage.output_tokens == plan.count and usage.input_tokens == 4
    assert usage.meta["model"] == "athena"
    assert str(usage.meta["id"]).startswith("chatcmpl-")
    assert isinstance(end, StreamEnd) and end.finish_reason == "stop"
    assert result.deltas == plan.count
    assert result.tokens == plan.count
    assert result.usage is usage
    assert result.finish_reason == "stop"
    assert result.first_token is not None and 0 < result.first_token <= result.duration


def test_request_sent_by_the_stream_layer(ref: RefServer) -> None:
    Run(agent(ref.base_url, options={"max_tokens": 5, "system": "Be terse."}), "hi there")
    [request] = ref.requests
    assert request.path == "/v1/chat/completions"
    assert request.body["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "hi there"},
    ]
    assert request.body["max_tokens"] == 5
    assert request.header("Accept") == "text/event-stream"


def test_finish_reason_length_from_a_capped_reply(ref: RefServer) -> None:
    run = Run(agent(ref.base_url, options={"max_tokens": 3}))
    assert run.result.status == "complete"
    assert run.result.deltas == 3
    assert run.result.finish_reason == "length"


def test_flush_follows_every_batch() -> None:
    steps: list[bytes | float] = [chunk(role="assistant") + chunk("a"), 0.1, chunk("b"), 0.1, chunk("c"), 0.1]
    steps += [chunk(finish="stop") + usage_chunk(1, 3) + DONE]
    with serving(script(steps)) as server:
        run = Run(agent(server.url))
    assert run.calls == [
        "StreamStart",
        "TextDelta",
        "flush",
        "TextDelta",
        "flush",
        "TextDelta",
        "flush",
        "Usage",
        "StreamEnd",
        "flush",
    ]
    assert run.result.text == "abc"


def test_heartbeats_become_heartbeat_events_in_order() -> None:
    steps: list[bytes | float] = [b": ping - 2026-11-24 00:00:00\n\n", chunk(role="assistant"), chunk("Hi")]
    steps += [b":\n\n", chunk("!"), b": keep-alive\n\n", chunk(finish="stop"), DONE]
    with serving(script(steps)) as server:
        run = Run(agent(server.url))
    assert run.kinds == ["StreamStart", "Heartbeat", "TextDelta", "Heartbeat", "TextDelta", "Heartbeat", "StreamEnd"]
    assert [e.seq for e in run.events] == list(range(7))
    assert all(e.agent == "bot" for e in run.events if isinstance(e, Heartbeat))
    assert run.result.text == "Hi!"
    assert run.result.deltas == 2


def test_without_usage_tokens_counts_deltas() -> None:
    with serving(script(openai_stream("one", " two", " three"))) as server:
        run = Run(agent(server.url))
    assert run.result.usage is None
    assert run.result.tokens == 3


def test_anything_after_done_is_ignored() -> None:
    with serving(script([*openai_stream("x"), chunk("ignored"), b"data: {garbage\n\n"])) as server:
        run = Run(agent(server.url))
    assert run.result.status == "complete"
    assert run.result.text == "x"
    assert run.kinds[-1] == "StreamEnd"


# ----------------------------------------------------------------- HTTP errors


def test_http_error_from_an_openai_style_server_is_one_line_naming_the_agent(ref: RefServer) -> None:
    run = Run(agent(ref.base_url, model="nope"))
    err = run.result.error
    assert run.result.status == "error"
    assert isinstance(err, HTTPStatusError)
    assert err.code == 404
    assert str(err) == (
        f"bot: not found (check the agent's url): HTTP 404 from {ref.base_url}/chat/completions: "
        "The model 'nope' does not exist. Available models: apollo, athena, hermes, echo."
    )
    assert "\n" not in str(err)
    assert err.exit_code == 5
    assert run.kinds == ["StreamStart", "StreamError"]
    assert run.last.error is err and run.last.partial is False
    assert run.result.text == ""


@pytest.mark.parametrize(
    ("status", "body", "what", "detail"),
    [
        (401, {"error": {"message": "Invalid token", "type": "auth"}}, "authentication failed", "Invalid token"),
        (403, {"error": "forbidden for this org"}, "access denied (authentication failed)", "forbidden for this org"),
        (413, {"error": {"message": "too long"}}, "request too large (context too long?)", "too long"),
        (429, {"error": {"message": "Rate limit reached"}}, "rate limited", "Rate limit reached"),
        (400, {"error": {"message": "bad temperature"}}, "request rejected", "bad temperature"),
        (500, "Internal Server Error\n<pre>Traceback ...</pre>", "server error", "Internal Server Error"),
        (503, "", "server error", None),
    ],
)
def test_http_error_messages(status: int, body: object, what: str, detail: str | None) -> None:
    headers = {"Retry-After": "12"} if status == 429 else {}
    with serving(json_reply(status, body, headers)) as server:
        run = Run(agent(server.url + "/v1", max_retries=0))  # retries: tests/streams/test_retry.py
    err = run.result.error
    assert isinstance(err, HTTPStatusError)
    tail = f": {detail}" if detail else ""
    assert str(err) == f"bot: {what}: HTTP {status} from {server.url}/v1/chat/completions{tail}"
    assert err.retry_after == (12.0 if status == 429 else None)
    assert run.result.status == "error"


def test_a_refused_key_whose_variable_is_unset_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unset key variable read exactly like a wrong key."""
    body = {"error": {"message": "Invalid API Key"}}
    monkeypatch.delenv("AISH_TEST_UNSET_KEY", raising=False)
    with serving(json_reply(401, body)) as server:
        run = Run(agent(server.url + "/v1", max_retries=0, api_key_env="AISH_TEST_UNSET_KEY"))
    assert str(run.result.error).endswith(
        ": Invalid API Key ($AISH_TEST_UNSET_KEY is not set: keys set AISH_TEST_UNSET_KEY stores a key)"
    )
    monkeypatch.setenv("AISH_TEST_UNSET_KEY", "wrong")
    with serving(json_reply(401, body)) as server:
        run = Run(agent(server.url + "/v1", max_retries=0, api_key_env="AISH_TEST_UNSET_KEY"))
    assert str(run.result.error).endswith(": Invalid API Key")  # set, and wrong: the server's word
    monkeypatch.setenv("AISH_TEST_UNSET_KEY", "")
    with serving(json_reply(401, body)) as server:
        run = Run(agent(server.url + "/v1", max_retries=0, api_key_env="AISH_TEST_UNSET_KEY"))
    assert str(run.result.error).endswith(  # it said 'is not set'
        ": Invalid API Key ($AISH_TEST_UNSET_KEY is empty: keys set AISH_TEST_UNSET_KEY stores a key)"
    )


# --------------------------------------------------------------------- secrets


def echo_auth(status: int, plain: bool = False) -> Any:
    """A server that echoes the Authorization header in its error body."""

    def handle(ex: Exchange) -> None:
        auth = ex.request.header("Authorization") or ""
        if plain:
            body = f"Unauthorized: {auth} is not valid\n".encode()
            ctype = "text/plain"
        else:
            message = f"Incorrect API key provided: {auth.removeprefix('Bearer ')}. Header was '{auth}'."
            body = json.dumps({"error": {"message": message, "type": "invalid_request_error"}}).encode()
            ctype = "application/json"
        ex.respond(status, {"Content-Type": ctype}, framing="length", length=len(body))
        ex.send(body)
        ex.end()

    return handle


@pytest.mark.parametrize("plain", [False, True])
def test_api_key_echoed_by_the_server_never_reaches_the_message(plain: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)
    with serving(echo_auth(401, plain)) as server:
        run = Run(agent(server.url, api_key_env=KEY_ENV))
    assert server.requests[0].header("Authorization") == f"Bearer {FAKE_KEY}"  # the key was really sent
    message = str(run.result.error)
    assert message.startswith("bot: authentication failed: HTTP 401 from ")
    assert FAKE_KEY not in message
    assert "***" in message
    assert FAKE_KEY not in str(run.last.error)


def test_api_key_echoed_in_an_error_event_never_reaches_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)

    def handle(ex: Exchange) -> None:
        auth = ex.request.header("Authorization") or ""
        ex.respond(200, {"Content-Type": "text/event-stream"})
        ex.send(chunk(role="assistant") + sse({"error": {"message": f"key {auth} revoked"}}))
        ex.end()

    with serving(handle) as server:
        run = Run(agent(server.url, api_key_env=KEY_ENV))
    assert isinstance(run.result.error, RemoteError)
    assert str(run.result.error) == "bot: error event: key Bearer *** revoked"


def test_api_key_cut_by_the_detail_limit_does_not_leak_a_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """The codec shortens error details to 300 characters: a key straddling the cut must not leave a prefix."""
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)

    def handle(ex: Exchange) -> None:
        auth = ex.request.header("Authorization") or ""
        message = "x" * 280 + " key=" + auth.removeprefix("Bearer ")
        body = json.dumps({"error": {"message": message}}).encode()
        ex.respond(401, {"Content-Type": "application/json"}, framing="length", length=len(body))
        ex.send(body)
        ex.end()

    with serving(handle) as server:
        run = Run(agent(server.url, api_key_env=KEY_ENV))
    message = str(run.result.error)
    assert "key=" in message
    assert FAKE_KEY[:6] not in message


# ------------------------------------------------------------ broken streams


def test_malformed_first_event_is_an_error() -> None:
    with serving(script([b"data: {this is not json\n\n", *openai_stream("never")])) as server:
        run = Run(agent(server.url))
    err = run.result.error
    assert isinstance(err, MalformedEvent)
    assert run.result.status == "error"
    assert str(err) == "bot: malformed event data: '{this is not json'"
    assert run.last.partial is False
    assert err.exit_code == 5


def test_malformed_event_after_text_is_partial() -> None:
    steps = [chunk(role="assistant"), chunk("Good"), chunk(" start"), b'data: {"choices": [\n\n', DONE]
    with serving(script(steps)) as server:
        run = Run(agent(server.url))
    assert isinstance(run.result.error, MalformedEvent)
    assert run.result.status == "partial"
    assert run.result.text == "Good start"
    assert run.last.partial is True
    assert run.shape == ["StreamStart", "TextDelta", "StreamError"]
    assert "".join(e.text for e in run.texts) == "Good start"


def test_text_before_a_malformed_event_of_the_same_read_is_shown() -> None:
    steps = [b"".join([chunk(role="assistant"), chunk("Good"), chunk(" start"), b'data: {"choices": [\n\n', DONE])]
    with serving(script(steps)) as server:
        run = Run(agent(server.url))
    assert isinstance(run.result.error, MalformedEvent) and run.result.text == "Good start"
    assert run.shape == ["StreamStart", "TextDelta", "StreamError"]
    assert "".join(e.text for e in run.texts) == "Good start"


def test_the_text_pieces_of_one_read_reach_consumers_as_one_event() -> None:
    words = [f"w{i} " for i in range(40)]
    one_write = b"".join([chunk(role="assistant"), *(chunk(w) for w in words[:20]), b": ping\n\n"])
    steps = [one_write, b"".join([*(chunk(w) for w in words[20:]), chunk(finish="stop"), DONE])]
    with serving(script(steps)) as server:
        run = Run(agent(server.url))
    assert run.result.text == "".join(words) and run.result.deltas == 40
    assert run.shape == ["StreamStart", "TextDelta", "Heartbeat", "TextDelta", "StreamEnd"]
    assert len(run.texts) < 10  # a read carries many pieces (one per read when reads are whole writes)
    assert sum(e.pieces for e in run.texts) == 40
    assert [e.seq for e in run.events] == list(range(len(run.events)))
    assert run.calls.index("Heartbeat") < run.calls.index("flush")  # the comment's place in its read is kept


def test_mid_stream_error_event_is_a_remote_error() -> None:
    error = {"error": {"message": "The server had an error while processing your request.", "type": "server_error"}}
    steps = [chunk(role="assistant"), chunk("Half"), sse(error), chunk("never shown"), DONE]
    with serving(script(steps)) as server:
        run = Run(agent(server.url))
    err = run.result.error
    assert isinstance(err, RemoteError)
    assert not isinstance(err, MalformedEvent | HTTPStatusError)
    assert str(err) == "bot: error event: The server had an error while processing your request."
    assert run.result.status == "partial"
    assert run.result.text == "Half"
    assert err.exit_code == 5


def test_stream_ended_properly_but_without_done_is_incomplete() -> None:
    with serving(script([chunk(role="assistant"), chunk("Cut"), chunk(finish="stop")])) as server:
        run = Run(agent(server.url))
    err = run.result.error
    assert isinstance(err, StreamIncomplete)
    assert str(err) == "bot: the stream ended before its end marker"
    assert run.result.status == "partial"
    assert run.result.text == "Cut"
    assert err.exit_code == 4


def test_empty_event_stream_is_an_error_not_an_empty_answer() -> None:
    """llama.cpp's overlong prompt: HTTP 200, SSE headers, zero bytes, close."""
    with serving(script([], framing="close", finish="close")) as server:
        run = Run(agent(server.url))
    assert isinstance(run.result.error, StreamIncomplete)
    assert run.result.status == "error"
    assert run.kinds == ["StreamStart", "StreamError"]


def test_a_web_page_is_refused_by_its_content_type() -> None:
    with serving(json_reply(200, "<html><body>Login</body></html>", content_type="text/html")) as server:
        run = Run(agent(server.url))
    assert isinstance(run.result.error, RemoteError)
    assert "the server sent a web page, not an event stream (Content-Type: text/html)" in str(run.result.error)
    assert run.result.status == "error"
    assert run.kinds == ["StreamStart", "StreamError"]


def test_an_html_error_page_is_said_in_its_words() -> None:
    """A proxy's or a server's default error page: its title (or text), not its markup."""
    page = (
        "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title><style>body {color: red}</style></head>"
        "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
    )
    with serving(json_reply(502, page, content_type="text/html")) as server:
        run = Run(agent(server.url, max_retries=0))
    assert str(run.result.error).endswith(f"HTTP 502 from {server.url}/chat/completions: 502 Bad Gateway"), str(
        run.result.error
    )
    untitled = "<html><body><h1>500 Internal Server Error</h1><p>Try again &amp; again.</p></body></html>"
    with serving(json_reply(500, untitled, content_type="text/html")) as server:
        run = Run(agent(server.url, max_retries=0))
    assert str(run.result.error).endswith(": 500 Internal Server Error Try again & again."), str(run.result.error)


def test_error_in_a_whole_json_body_is_a_remote_error() -> None:
    with serving(json_reply(200, {"error": {"message": "quota exhausted"}})) as server:
        run = Run(agent(server.url))
    assert isinstance(run.result.error, RemoteError)
    assert str(run.result.error) == "bot: error: quota exhausted"
    assert run.result.status == "error"


# ------------------------------------------------------------------- cancel


def test_cancel_after_the_run_finished_is_harmless(ref: RefServer) -> None:
    run = Run(agent(ref.base_url))
    assert run.result.status == "complete"
    run.stream.cancel()  # the connection is closed: urllib3 would raise ValueError
    assert run.kinds[-1] == "StreamEnd"


# ------------------------------------------------------------- reusing a transport


def test_one_transport_runs_several_streams_on_a_keep_alive_server(ref: RefServer) -> None:
    """The reference server keeps HTTP/1.1 connections open between answers."""
    the_agent = agent(ref.base_url)
    transport = SSETransport(the_agent)
    results = []
    try:
        for text in ("owls", "bats", "owls"):
            stream = AgentStream(the_agent, transport, OpenAIChatCodec(the_agent))
            results.append(stream.run(Prompt(text, Context(pipeline_id="p")), lambda e: None, lambda: None))
    finally:
        transport.close()
    assert [r.status for r in results] == ["complete"] * 3
    assert [r.text for r in results] == [plan_reply("athena", t).text() for t in ("owls", "bats", "owls")]
    assert len(ref.requests) == 3


def test_help_says_whether_the_key_variable_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from aish.shell_help import _key_source

    monkeypatch.delenv("AISH_TEST_UNSET_KEY", raising=False)
    assert _key_source(agent("http://127.0.0.1:9/v1", api_key_env="AISH_TEST_UNSET_KEY")) == (
        "$AISH_TEST_UNSET_KEY (not set)"
    )
    monkeypatch.setenv("AISH_TEST_UNSET_KEY", "sekrit")
    assert _key_source(agent("http://127.0.0.1:9/v1", api_key_env="AISH_TEST_UNSET_KEY")) == "$AISH_TEST_UNSET_KEY"
    assert _key_source(agent("http://127.0.0.1:9/v1")) == "(none)"
