"""Tests for plugins/aish_sse/transport.py against real loopback servers.

Every server here is a real socket on 127.0.0.1 (tests/servers.py writes exact
bytes with chosen framing and timing; the reference server speaks real
OpenAI-compatible HTTP). Timings are measured with ``time.monotonic`` on both
sides: the server marks the instants it writes and wakes, the client the
instants batches arrive.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from servers import (
    DONE,
    Exchange,
    RawHTTPServer,
    Step,
    chunk,
    closed_port,
    json_reply,
    openai_stream,
    script,
    serving,
    sse,
)

from aish import (
    AgentConfig,
    CancelToken,
    ConfigError,
    ConnectionFailure,
    Context,
    HTTPStatusError,
    IdleTimeout,
    Prompt,
    Request,
    StreamEnd,
    StreamFailure,
    StreamIncomplete,
    TextDelta,
    Usage,
    WireComment,
    WireItem,
    WireMessage,
)
from aish.stream import AgentStream, StageResult
from aish_openai.codec import OpenAIChatCodec
from aish_refserver import RefServer, plan_reply
from aish_sse.transport import SSEConnection, SSETransport

FRAMINGS = ["chunked", "close", "length"]


def agent(url: str, **kw: Any) -> AgentConfig:
    kw.setdefault("connect_timeout", 2.0)
    kw.setdefault("idle_timeout", 5.0)
    kw.setdefault("model", "m")
    return AgentConfig(name="t", transport="sse", url=url, codec="openai-chat", **kw)


@pytest.fixture
def transports() -> Iterator[list[SSETransport]]:
    """Transports made by a test; all closed at the end."""
    made: list[SSETransport] = []
    yield made
    for transport in made:
        transport.close()


def open_conn(transports: list[SSETransport], url: str, path: str = "/v1/chat/completions", **kw: Any) -> SSEConnection:
    transport = SSETransport(agent(url, **kw))
    transports.append(transport)
    return transport.open(Request(url=url + path, body=b'{"stream": true}', headers={"X-Test": "1"}))


def timed(conn: SSEConnection) -> list[tuple[float, list[WireItem]]]:
    """Every batch with the monotonic time it arrived."""
    return [(time.monotonic(), list(batch)) for batch in conn]


def texts(items: Sequence[WireItem]) -> list[str]:
    return [item.data for item in items if isinstance(item, WireMessage)]


def run_stream(the_agent: AgentConfig, text: str = "hi") -> tuple[StageResult, list[Any]]:
    transport = SSETransport(the_agent)
    events: list[Any] = []
    try:
        result = AgentStream(the_agent, transport, OpenAIChatCodec(the_agent)).run(
            Prompt(text, Context(pipeline_id="p")), events.append, lambda: None
        )
    finally:
        transport.close()
    return result, events


# ------------------------------------------------------------------ the request


def test_request_reaches_the_server_as_given(transports: list[SSETransport]) -> None:
    with serving(script(openai_stream("x"))) as server:
        conn = open_conn(transports, server.url)
        list(conn)
    [request] = server.requests
    assert request.method == "POST"
    assert request.target == "/v1/chat/completions"
    assert request.body == b'{"stream": true}'
    assert request.header("X-Test") == "1"


# ------------------------------------------------------------ prompt delivery


@pytest.mark.parametrize("framing", FRAMINGS)
def test_first_event_arrives_while_the_server_still_sleeps(framing: str, transports: list[SSETransport]) -> None:
    """Event 1, a 0.3 s sleep, event 2: event 1 must be in hand before the sleep ends."""

    def handle(ex: Exchange) -> None:
        first, second = sse({"n": 1}), sse({"n": 2})
        ex.respond(200, {"Content-Type": "text/event-stream"}, framing=framing, length=len(first + second))  # type: ignore[arg-type]
        ex.send(first)
        ex.mark("sent1")
        ex.pause(0.3)
        ex.mark("woke")
        ex.send(second)
        ex.end()

    with serving(handle) as server:
        batches = timed(open_conn(transports, server.url))
    assert [texts(b) for _, b in batches] == [['{"n":1}'], ['{"n":2}']]
    (t1, _), (t2, _) = batches
    assert t1 < server.marks["woke"], "event 1 was held back until the server wrote again"
    assert t1 - server.marks["sent1"] < 0.2
    assert t2 >= server.marks["woke"]


def test_close_delimited_http10_body_is_streamed(transports: list[SSETransport]) -> None:
    """The classic trap: an HTTP/1.0 body with no length, ended by closing."""

    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"}, framing="close")
        ex.send(chunk(role="assistant") + chunk("Hel"))
        ex.mark("sent1")
        ex.pause(0.3)
        ex.mark("woke")
        ex.send(chunk("lo") + chunk(finish="stop") + DONE)
        ex.close()

    with serving(handle) as server:
        conn = open_conn(transports, server.url)
        assert server.requests[0].version == "HTTP/1.1"  # the client asked for 1.1, the server answered 1.0
        assert "Transfer-Encoding" not in conn.headers and "Content-Length" not in conn.headers
        batches = timed(conn)
    first_time, first = batches[0]
    assert first_time < server.marks["woke"]
    assert len(texts(first)) == 2
    assert sum(len(b) for _, b in batches) == 5
    assert texts(batches[-1][1])[-1] == "[DONE]"


def test_many_small_writes_each_reach_the_consumer_before_the_next(transports: list[SSETransport]) -> None:
    steps: list[bytes | float] = []
    for i in range(4):
        steps += [sse({"i": i}), 0.1]
    with serving(script(steps)) as server:
        batches = timed(open_conn(transports, server.url))
    assert [texts(b) for _, b in batches] == [[json.dumps({"i": i}, separators=(",", ":"))] for i in range(4)]
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(batches)]
    assert all(gap > 0.05 for gap in gaps), gaps


def test_events_sent_together_arrive_as_one_batch(transports: list[SSETransport]) -> None:
    with serving(script([b"".join(openai_stream("a", "b", "c"))])) as server:
        batches = list(open_conn(transports, server.url))
    assert len(batches) == 1
    assert len(batches[0]) == 6


def test_comments_reach_the_consumer_as_wire_comments(transports: list[SSETransport]) -> None:
    with serving(script([b": ping - 2026-01-01\n\n", sse("x"), b":\n\n"])) as server:
        items = [item for batch in open_conn(transports, server.url) for item in batch]
    assert items == [WireComment("ping - 2026-01-01"), WireMessage("x"), WireComment("")]


def test_event_split_across_writes_is_reassembled(transports: list[SSETransport]) -> None:
    whole = sse({"text": "split ü here"})
    cut = whole.index("ü".encode()) + 1  # inside the UTF-8 sequence
    with serving(script([whole[:cut], 0.05, whole[cut:]])) as server:
        batches = list(open_conn(transports, server.url))
    assert [texts(b) for b in batches] == [['{"text":"split ü here"}']]


def test_gzip_encoded_stream_is_decoded_as_it_arrives(transports: list[SSETransport]) -> None:
    """A server that compresses anyway (aish asks for ``identity``): the stream must still flow event by event."""

    def handle(ex: Exchange) -> None:
        gz = zlib.compressobj(wbits=31)
        ex.respond(200, {"Content-Type": "text/event-stream", "Content-Encoding": "gzip"})
        ex.send(gz.compress(sse("one")) + gz.flush(zlib.Z_SYNC_FLUSH))
        ex.pause(0.2)
        ex.mark("woke")
        ex.send(gz.compress(sse("two")) + gz.flush())
        ex.end()

    with serving(handle) as server:
        batches = timed(open_conn(transports, server.url))
    assert [texts(b) for _, b in batches] == [["one"], ["two"]]
    assert batches[0][0] < server.marks["woke"]


def chunked_body(events: Sequence[bytes], *, extension: bytes = b"", trailers: bytes = b"") -> bytes:
    """``events`` as chunked transfer coding, one chunk per event, then the last chunk."""
    body = b"".join(b"%x%b\r\n%b\r\n" % (len(e), extension, e) for e in events)
    return body + b"0\r\n" + trailers + b"\r\n"


@pytest.mark.parametrize("piece", [1, 3, 7, 50])
def test_chunked_framing_cut_anywhere_is_decoded(piece: int, transports: list[SSETransport]) -> None:
    """Chunk-size lines, extensions, CRLFs and trailers split across separate writes."""
    events = openai_stream("Hel", "lo ü", usage=(1, 2))
    body = chunked_body(events, extension=b";ext=1", trailers=b"X-Trailer: yes\r\n")

    def handle(ex: Exchange) -> None:
        ex.respond(200, [("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked")], framing="raw")
        for i in range(0, len(body), piece):
            ex.send(body[i : i + piece])
            if i // piece % 8 == 0:
                ex.pause(0.002)
        ex.close()

    with serving(handle) as server:
        got = [m for b in open_conn(transports, server.url) for m in texts(b)]
    assert got == [e.decode()[6:-2] for e in events]


def test_last_chunk_ends_the_stream_on_a_kept_alive_connection(transports: list[SSETransport]) -> None:
    """After the last chunk the server keeps the connection open: iteration must end at once."""

    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"}, keep_alive=True)
        for event in openai_stream("x"):
            ex.send(event)
        ex.write(b"0\r\n\r\n")
        ex.hang()

    with serving(handle) as server:
        started = time.monotonic()
        got = [m for b in open_conn(transports, server.url, idle_timeout=3) for m in texts(b)]
        elapsed = time.monotonic() - started
    assert got[-1] == "[DONE]"
    assert elapsed < 1.0


def test_invalid_chunk_size_is_a_failure_not_a_crash(transports: list[SSETransport]) -> None:
    def handle(ex: Exchange) -> None:
        ex.respond(200, [("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked")], framing="raw")
        ex.write(chunked_body([sse("fine")])[:-5])  # without the last chunk
        ex.pause(0.05)
        ex.write(b"zz\r\nnot hex\r\n")
        ex.hang(2)

    with serving(handle) as server:
        got: list[str] = []
        with pytest.raises(StreamFailure):
            for batch in open_conn(transports, server.url, idle_timeout=3):
                got += texts(batch)
    assert got == ["fine"]


# ------------------------------------------------------------------- JSON body


def test_plain_json_body_is_one_response_message(transports: list[SSETransport]) -> None:
    body = {
        "id": "chatcmpl-j",
        "object": "chat.completion",
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "All at once."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 2, "completion_tokens": 3},
    }
    with serving(json_reply(200, body, content_type="application/json; charset=utf-8")) as server:
        batches = list(open_conn(transports, server.url))
    assert len(batches) == 1
    [[message]] = batches
    assert isinstance(message, WireMessage)
    assert message.event == "response"
    assert json.loads(message.data) == body
    events = list(OpenAIChatCodec(agent(server.url)).decoder().decode(message))
    assert [type(e) for e in events] == [TextDelta, Usage, StreamEnd]
    assert events[0] == TextDelta("All at once.")


def test_empty_json_body_yields_nothing(transports: list[SSETransport]) -> None:
    with serving(json_reply(200, b"  \n")) as server:
        assert list(open_conn(transports, server.url)) == []


def test_non_streamed_answer_from_the_reference_server_becomes_one_text() -> None:
    """A real server asked not to stream (an agent option overriding ``stream``)."""
    with RefServer(pace=0.0) as server:
        the_agent = agent(server.base_url, model="athena", options={"stream": False})
        result, events = run_stream(the_agent, "tell me about owls")
        assert server.requests[0].body["stream"] is False
    plan = plan_reply("athena", "tell me about owls")
    assert result.status == "complete"
    assert result.deltas == 1
    assert result.text == plan.text()
    assert [type(e).__name__ for e in events] == ["StreamStart", "TextDelta", "Usage", "StreamEnd"]
    assert result.usage is not None and result.usage.output_tokens == plan.count
    assert result.finish_reason == "stop"


# ---------------------------------------------------------------- HTTP errors


@pytest.mark.parametrize(
    ("status", "body", "headers", "retry_after"),
    [
        (401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}, {}, None),
        (404, {"error": {"message": "Unknown request URL"}}, {}, None),
        (429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "7"}, 7.0),
        (429, {"error": {"message": "Slow down"}}, {"Retry-After": "0.5"}, 0.5),
        (429, {"error": {"message": "Slow down"}}, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
        (429, {"error": {"message": "Slow down"}}, {"Retry-After": "soon"}, None),
        (500, "upstream exploded\nstack trace...", {}, None),
    ],
)
def test_http_error_status_becomes_http_status_error(
    status: int, body: object, headers: dict[str, str], retry_after: float | None, transports: list[SSETransport]
) -> None:
    content_type = "text/plain" if isinstance(body, str) else "application/json"
    with (
        serving(json_reply(status, body, headers, content_type=content_type)) as server,
        pytest.raises(HTTPStatusError) as info,
    ):
        open_conn(transports, server.url)
    err = info.value
    url = server.url + "/v1/chat/completions"
    assert err.code == status
    assert err.status == status
    assert err.url == url
    assert err.body == (body if isinstance(body, str) else json.dumps(body))
    assert err.retry_after == retry_after
    assert str(err).startswith(f"HTTP {status} ")
    assert url in str(err)


def test_http_error_with_chunked_body(transports: list[SSETransport]) -> None:
    handler = script([b'{"error": ', 0.05, b'{"message": "bad model"}}'], status=400)
    with serving(handler) as server, pytest.raises(HTTPStatusError) as info:
        open_conn(transports, server.url)
    assert info.value.code == 400
    assert info.value.reason == "Bad Request"
    assert info.value.body == '{"error": {"message": "bad model"}}'


def test_http_error_body_is_bounded(transports: list[SSETransport]) -> None:
    handler = json_reply(500, "E" * 200_000, content_type="text/plain")
    with serving(handler) as server, pytest.raises(HTTPStatusError) as info:
        open_conn(transports, server.url)
    assert 0 < len(info.value.body) <= 65536


def test_http_error_from_the_reference_server() -> None:
    with RefServer(pace=0.0) as server:
        transport = SSETransport(agent(server.base_url))
        try:
            with pytest.raises(HTTPStatusError) as info:
                transport.open(Request(url=server.base_url + "/chat/completions", body=b'{"model": "nope"}'))
        finally:
            transport.close()
    assert info.value.code == 400
    assert json.loads(info.value.body)["error"]["param"] == "messages"


# --------------------------------------------------------- connection failures


def test_connection_refused_names_the_url(transports: list[SSETransport]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    with pytest.raises(ConnectionFailure) as info:
        open_conn(transports, url)
    assert time.monotonic() - started < 2
    assert not isinstance(info.value, IdleTimeout)
    assert str(info.value) == f"cannot connect to {url}/v1/chat/completions: connection refused"
    assert info.value.exit_code == 4


def test_invalid_url_is_a_config_error(transports: list[SSETransport]) -> None:
    transport = SSETransport(agent("nonsense"))
    transports.append(transport)
    with pytest.raises(ConfigError) as info:
        transport.open(Request(url="nonsense/chat/completions"))
    assert str(info.value) == "t: invalid url 'nonsense/chat/completions' (expected http:// or https://)"


def test_stall_after_headers_is_an_idle_timeout(transports: list[SSETransport]) -> None:
    with serving(script([sse("first")], finish="hang")) as server:
        conn = open_conn(transports, server.url, idle_timeout=0.5)
        got: list[list[WireItem]] = []
        started = time.monotonic()
        with pytest.raises(IdleTimeout) as info:
            for batch in conn:
                got.append(list(batch))
        elapsed = time.monotonic() - started
    assert got == [[WireMessage("first")]]
    assert 0.45 <= elapsed < 1.5
    assert str(info.value) == f"{server.url}/v1/chat/completions: nothing arrived for 0.5s"


def test_stall_before_headers_is_an_idle_timeout(transports: list[SSETransport]) -> None:
    def handle(ex: Exchange) -> None:
        ex.hang()

    with serving(handle) as server:
        started = time.monotonic()
        with pytest.raises(IdleTimeout) as info:
            open_conn(transports, server.url, idle_timeout=0.5)
        elapsed = time.monotonic() - started
    assert 0.45 <= elapsed < 1.5
    assert str(info.value) == f"{server.url}/v1/chat/completions sent nothing for 0.5s"


def test_heartbeats_keep_a_slow_stream_alive(transports: list[SSETransport]) -> None:
    """Silence is measured between reads: comments every 0.2 s beat a 0.5 s idle timeout."""
    steps: list[bytes | float] = []
    for _ in range(5):
        steps += [b": ping\n\n", 0.2]
    steps.append(sse("done"))
    with serving(script(steps)) as server:
        items = [i for b in open_conn(transports, server.url, idle_timeout=0.5) for i in b]
    assert items == [WireComment("ping")] * 5 + [WireMessage("done")]


def test_stall_inside_a_json_body_is_an_idle_timeout(transports: list[SSETransport]) -> None:
    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "application/json"}, framing="length", length=100)
        ex.send(b'{"choices": ')
        ex.hang()

    with serving(handle) as server:
        conn = open_conn(transports, server.url, idle_timeout=0.5)
        with pytest.raises(IdleTimeout):
            list(conn)


@pytest.mark.parametrize(
    ("framing", "finish", "error"),
    [
        ("chunked", "close", ConnectionFailure),
        ("chunked", "abort", ConnectionFailure),
        ("length", "close", ConnectionFailure),
        ("close", "abort", ConnectionFailure),
    ],
)
def test_connection_lost_mid_stream(
    framing: str, finish: str, error: type[Exception], transports: list[SSETransport]
) -> None:
    steps: list[bytes | float] = [sse("one"), 0.1]

    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"}, framing=framing, length=1000)  # type: ignore[arg-type]
        ex.send(steps[0])  # type: ignore[arg-type]
        ex.pause(0.1)
        ex.abort() if finish == "abort" else ex.close()

    with serving(handle) as server:
        got: list[str] = []
        with pytest.raises(error) as info:
            for batch in open_conn(transports, server.url):
                got += texts(batch)
    assert got == ["one"]
    assert type(info.value) is ConnectionFailure
    assert str(info.value).startswith("connection lost: ")


def test_close_delimited_body_just_ends_at_close(transports: list[SSETransport]) -> None:
    """With close framing, a close is the body's end: the stream layer decides it is incomplete."""
    with serving(script([sse("one"), sse("two")], framing="close", finish="close")) as server:
        batches = list(open_conn(transports, server.url))
    assert [m for b in batches for m in texts(b)] == ["one", "two"]


def test_unterminated_last_event_is_dropped_at_close(transports: list[SSETransport]) -> None:
    with serving(script([sse("kept"), b"data: half an event\n"], framing="close", finish="close")) as server:
        batches = list(open_conn(transports, server.url))
    assert [m for b in batches for m in texts(b)] == ["kept"]


# ------------------------------------------------------------------ cancelling


def iterate_in_thread(conn: SSEConnection) -> tuple[threading.Thread, threading.Event, list[Any]]:
    """Consume ``conn`` in a thread; the event is set when the first batch is in."""
    first = threading.Event()
    outcome: list[Any] = []

    def consume() -> None:
        try:
            for batch in conn:
                outcome.append(list(batch))
                first.set()
            outcome.append("ended")
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    return thread, first, outcome


@pytest.mark.parametrize("framing", FRAMINGS)
def test_cancel_from_another_thread_unblocks_a_pending_read(framing: str, transports: list[SSETransport]) -> None:
    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"}, framing=framing, length=10_000)  # type: ignore[arg-type]
        ex.send(sse("first"))
        ex.hang()

    with serving(handle) as server:
        conn = open_conn(transports, server.url, idle_timeout=5)
        thread, first, outcome = iterate_in_thread(conn)
        assert first.wait(2)
        time.sleep(0.1)  # the reader is now blocked in its next read
        assert thread.is_alive()
        started = time.monotonic()
        conn.cancel()
        thread.join(2)
        took = time.monotonic() - started
    conn.close()  # after the server stopped: close() would wait for a reader that cancel() failed to stop
    assert not thread.is_alive()
    assert took < 1.0
    assert outcome == [[WireMessage("first")], "ended"]


def test_cancel_then_close_with_a_blocked_reader_is_prompt(transports: list[SSETransport]) -> None:
    with serving(script([sse("x")], finish="hang")) as server:
        conn = open_conn(transports, server.url, idle_timeout=5)
        thread, first, _ = iterate_in_thread(conn)
        assert first.wait(2)
        started = time.monotonic()
        conn.cancel()
        conn.close()
        thread.join(2)
        assert time.monotonic() - started < 1.0
        assert not thread.is_alive()


def test_cancel_after_the_stream_ended_is_harmless(transports: list[SSETransport]) -> None:
    """urllib3's shutdown() raises RuntimeError once the connection went back to the pool: cancel is a no-op."""
    with serving(script(openai_stream("a"))) as server:
        conn = open_conn(transports, server.url)
        assert [m for b in conn for m in texts(b)][-1] == "[DONE]"
        conn.cancel()
        conn.close()


def test_cancel_after_close_is_harmless(transports: list[SSETransport]) -> None:
    """After close(), urllib3's shutdown() raises ValueError: cancel is still a no-op."""
    with serving(script(openai_stream("a"))) as server:
        conn = open_conn(transports, server.url)
        assert [m for b in conn for m in texts(b)][-1] == "[DONE]"
        conn.close()
        conn.cancel()


def test_close_is_idempotent(transports: list[SSETransport]) -> None:
    with serving(script(openai_stream("a"))) as server:
        conn = open_conn(transports, server.url)
        list(conn)
        conn.close()
        conn.close()
        transports[0].close()
        transports[0].close()


def test_transport_reopens_after_close(transports: list[SSETransport]) -> None:
    with serving(script([sse("again")])) as server:
        transport = SSETransport(agent(server.url))
        transports.append(transport)
        for _ in range(2):
            conn = transport.open(Request(url=server.url + "/x", body=b"{}"))
            assert [texts(b) for b in conn] == [["again"]]
            conn.close()
            transport.close()
    assert len(server.requests) == 2


# ------------------------------------------------------ through the stream layer


@pytest.mark.parametrize("framing", FRAMINGS)
def test_stream_layer_sees_each_token_as_it_is_flushed(framing: str) -> None:
    """The server holds "lo" back until the client has shown "Hel": a client that waited for more
    data (a full buffer, the end of the body) before passing "Hel" on would never see it."""
    seen_hel = threading.Event()
    held_back: list[bool] = []
    steps: list[Step] = [
        chunk(role="assistant"),
        chunk("Hel"),
        lambda: held_back.append(seen_hel.wait(10)),
        chunk("lo"),
        chunk(finish="stop"),
        DONE,
    ]
    server = RawHTTPServer(script(steps, framing=framing, finish="close")).start()
    arrivals: list[tuple[float, str]] = []

    def sink(e: object) -> None:
        if isinstance(e, TextDelta):
            arrivals.append((time.monotonic(), e.text))
            seen_hel.set()

    try:
        the_agent = agent(server.url)
        transport = SSETransport(the_agent)
        try:
            result = AgentStream(the_agent, transport, OpenAIChatCodec(the_agent)).run(
                Prompt("hi", Context(pipeline_id="p")),
                sink,
                lambda: None,
            )
        finally:
            transport.close()
    finally:
        server.stop()
    assert result.status == "complete"
    assert result.text == "Hello"
    assert [t for _, t in arrivals] == ["Hel", "lo"]
    assert held_back == [True], "the client did not pass 'Hel' on until more data came"


@pytest.mark.parametrize(
    ("framing", "finish", "error"),
    [
        ("chunked", "close", ConnectionFailure),
        ("chunked", "abort", ConnectionFailure),
        ("length", "close", ConnectionFailure),
        ("close", "close", StreamIncomplete),
        ("close", "abort", ConnectionFailure),
    ],
)
def test_stream_layer_keeps_the_partial_text_when_the_server_closes_mid_stream(
    framing: str, finish: str, error: type[Exception]
) -> None:
    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"}, framing=framing, length=10_000)  # type: ignore[arg-type]
        ex.send(chunk(role="assistant") + chunk("Hello") + chunk(" wor"))
        ex.pause(0.1)
        ex.abort() if finish == "abort" else ex.close()

    with serving(handle) as server:
        result, events = run_stream(agent(server.url))
    assert result.status == "partial"
    assert result.text == "Hello wor"
    assert isinstance(result.error, error)
    assert str(result.error).startswith("t: ")
    assert events[-1].partial is True
    assert events[-1].error is result.error


def test_stream_layer_connection_refused_is_an_error_naming_the_agent_and_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    result, events = run_stream(agent(url))
    assert result.status == "error"
    assert isinstance(result.error, ConnectionFailure)
    assert str(result.error) == f"t: cannot connect to {url}/chat/completions: connection refused"
    assert events[-1].partial is False


def test_stream_layer_idle_timeout_is_bounded() -> None:
    with serving(script([chunk(role="assistant"), chunk("so far")], finish="hang")) as server:
        started = time.monotonic()
        result, _ = run_stream(agent(server.url, idle_timeout=0.5))
        elapsed = time.monotonic() - started
    assert isinstance(result.error, IdleTimeout)
    assert result.status == "partial"
    assert result.text == "so far"
    assert str(result.error) == (
        f"t: {server.url}/chat/completions: nothing arrived for 0.5s; not resumed: the server sends no event ids"
    )
    assert elapsed < 1.5


def test_stream_layer_cancel_from_another_thread_is_prompt() -> None:
    with serving(script([chunk(role="assistant"), chunk("first")], finish="hang")) as server:
        the_agent = agent(server.url, idle_timeout=5)
        transport = SSETransport(the_agent)
        stream = AgentStream(the_agent, transport, OpenAIChatCodec(the_agent))
        got_text = threading.Event()
        events: list[Any] = []
        results: list[StageResult] = []

        def sink(event: Any) -> None:
            events.append(event)
            if isinstance(event, TextDelta):
                got_text.set()

        thread = threading.Thread(
            target=lambda: results.append(stream.run(Prompt("hi", Context(pipeline_id="p")), sink, lambda: None)),
            daemon=True,
        )
        thread.start()
        assert got_text.wait(2)
        time.sleep(0.1)
        started = time.monotonic()
        stream.cancel()
        thread.join(2)
        took = time.monotonic() - started
    transport.close()
    assert not thread.is_alive()
    assert took < 1.0
    [result] = results
    assert result.status == "cancelled"
    assert result.text == "first"
    assert str(result.error) == "t: interrupted"
    assert events[-1].error is result.error


def test_stream_layer_cancel_while_waiting_for_headers_is_prompt() -> None:
    def handle(ex: Exchange) -> None:
        ex.hang()

    server = RawHTTPServer(handle).start()
    try:
        the_agent = agent(server.url, idle_timeout=3)
        transport = SSETransport(the_agent)
        stream = AgentStream(the_agent, transport, OpenAIChatCodec(the_agent))
        results: list[StageResult] = []
        thread = threading.Thread(
            target=lambda: results.append(
                stream.run(Prompt("hi", Context(pipeline_id="p")), lambda e: None, lambda: None)
            ),
            daemon=True,
        )
        thread.start()
        deadline = time.monotonic() + 2
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.requests
        stream.cancel()
        thread.join(1.0)
        assert not thread.is_alive()
        assert results[0].status == "cancelled"
    finally:
        server.stop()
        thread.join(3)
        transport.close()


# ------------------------------------------------------------ what resuming needs


def test_last_event_id_goes_out_and_carries_over(transports: list[SSETransport]) -> None:
    with serving(script([b"retry: 1500\n\n", sse("no id yet"), b"id: 8\ndata: x\n\n", b"id: 9\n\n"])) as server:
        transport = SSETransport(agent(server.url))
        transports.append(transport)
        conn = transport.open(Request(url=server.url + "/s", last_event_id="7"))
        assert conn.last_event_id == "7" and conn.retry_delay is None  # before anything arrived
        items = [i for b in conn for i in b]
    assert server.requests[0].header("Last-Event-ID") == "7"
    assert items == [WireMessage("no id yet", id="7"), WireMessage("x", id="8")]
    assert (conn.last_event_id, conn.retry_delay) == ("9", 1.5)


def test_no_ids_means_nothing_to_resume_from(transports: list[SSETransport]) -> None:
    with serving(script([sse("a")])) as server:
        conn = open_conn(transports, server.url)
        list(conn)
    assert server.requests[0].header("Last-Event-ID") is None
    assert conn.last_event_id is None and conn.retry_delay is None


def test_a_cancel_token_aborts_an_open_waiting_for_headers(transports: list[SSETransport]) -> None:
    token = CancelToken()
    with serving(lambda ex: ex.hang(10)) as server:
        transport = SSETransport(agent(server.url, idle_timeout=10))
        transports.append(transport)
        threading.Timer(0.2, token.cancel).start()
        started = time.monotonic()
        with pytest.raises(ConnectionFailure, match="cancelled"):
            transport.open(Request(url=server.url + "/slow", cancel=token))
        assert time.monotonic() - started < 1
        with pytest.raises(ConnectionFailure, match="cancelled"):  # an already cancelled token: never connects
            transport.open(Request(url=server.url + "/again", cancel=token))
    assert len(server.requests) == 1
