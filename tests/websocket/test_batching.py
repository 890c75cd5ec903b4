"""The fast path, both ends: one batch per read on the client, many messages per write on the server."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from test_frames import frame

from aish import AgentConfig, Context, Prompt, TextDelta, WireComment, WireMessage
from aish.stream import AgentStream, StageResult
from aish_refserver import RefServer, plan_reply
from aish_refserver.faults import NO_FAULTS, parse_faults
from aish_refserver.ws import _messages, _Stop, _Writer
from aish_websocket.frames import CLOSE, PONG, TEXT, FrameReader
from aish_websocket.pool import POOL
from aish_websocket.transport import WebSocketTransport
from aish_wsproto.codec import AishWSCodec

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
Serve = Callable[[bytes], str]


def delta(seq: int, text: str) -> bytes:
    return frame(json.dumps({"type": "delta", "seq": seq, "text": text}).encode())


def done(seq: int) -> bytes:
    return frame(json.dumps({"type": "done", "seq": seq, "finish_reason": "stop"}).encode())


@pytest.fixture
def raw() -> Iterator[tuple[Serve, list[bytes]]]:
    """A bare-socket WebSocket server: after the handshake and the client's request it writes
    the given bytes with one ``sendall``, and keeps what the client sends next."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []
    held: list[socket.socket] = []

    def start(reply: bytes) -> str:
        def serve() -> None:
            conn, _ = listener.accept()
            held.append(conn)
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
                       if line.lower().startswith(b"sec-websocket-key"))  # fmt: skip
            accept = base64.b64encode(hashlib.sha1(key + GUID.encode()).digest())
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")  # fmt: skip
            conn.recv(65536)  # the request message
            conn.sendall(reply)
            with contextlib.suppress(OSError):
                while data := conn.recv(65536):
                    received.append(data)

        threading.Thread(target=serve, daemon=True).start()
        return f"ws://127.0.0.1:{listener.getsockname()[1]}/"

    yield start, received
    listener.close()
    for conn in held:
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
        conn.close()


def bot(url: str, **kw: Any) -> AgentConfig:
    kw.setdefault("idle_timeout", 2.0)
    kw.setdefault("max_retries", 0)
    return AgentConfig(name="bot", transport="websocket", url=url, codec="aish-ws", model="athena", **kw)


def run(agent: AgentConfig) -> StageResult:
    stream = AgentStream(agent, WebSocketTransport(agent), AishWSCodec(agent))
    return stream.run(Prompt("owls", Context("p")), lambda e: None, lambda: None)


def test_every_message_of_one_read_is_one_batch(raw: tuple[Serve, list[bytes]]) -> None:
    start, _ = raw
    url = start(b"".join(delta(i, f"w{i} ") for i in range(300)) + done(300))
    agent = bot(url)
    codec = AishWSCodec(agent)
    conn = WebSocketTransport(agent).open(codec.encode(Prompt("owls", Context("p"))))
    try:
        time.sleep(0.2)  # the whole answer is in the socket's buffer before the first read
        batch = next(iter(conn))
    finally:
        conn.close()
    assert len(batch) == 301
    assert all(type(item) is WireMessage for item in batch)
    assert [json.loads(item.data)["seq"] for item in batch if isinstance(item, WireMessage)] == list(range(301))


def test_bad_utf8_fails_after_the_messages_that_came_before_it(raw: tuple[Serve, list[bytes]]) -> None:
    start, _ = raw
    result = run(bot(start(delta(0, "kept") + frame(b'{"type": "delta", "seq": 1, "text": "\xff"}'))))
    assert result.status == "partial" and result.text == "kept"
    assert str(result.error).startswith("bot: malformed event data: cannot decode: ")


def test_a_close_frame_in_the_same_read_keeps_the_text_before_it(raw: tuple[Serve, list[bytes]]) -> None:
    start, _ = raw
    result = run(bot(start(delta(0, "hi") + frame(struct.pack("!H", 1008) + b"no such user", CLOSE))))
    assert result.status == "partial" and result.text == "hi"
    assert str(result.error).startswith("bot: the server closed the connection: 1008 policy violation: no such user")


def test_a_server_ping_is_answered_and_counts_as_liveness(raw: tuple[Serve, list[bytes]]) -> None:
    start, received = raw
    url = start(frame(b"are you there", 0x9))
    agent = bot(url)
    conn = WebSocketTransport(agent).open(AishWSCodec(agent).encode(Prompt("owls", Context("p"))))
    try:
        batch = next(iter(conn))
        deadline = time.monotonic() + 2
        while not received and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        conn.close()
    assert batch == [WireComment("ping")]
    opcode, payload = _client_frames(b"".join(received))[0]
    assert (opcode, payload) == (PONG, b"are you there")


@pytest.mark.parametrize(("after_done", "pooled"), [(b"", 1), (frame(b'{"type": "later"}'), 0)])
def test_a_session_connection_is_kept_only_when_nothing_followed_done(
    raw: tuple[Serve, list[bytes]], after_done: bytes, pooled: int
) -> None:
    start, _ = raw
    url = start(delta(0, "hi") + done(1) + after_done)
    try:
        result = run(bot(url, session=True))
        assert result.status == "complete" and result.text == "hi"
        assert POOL.idle(("bot", url)) == pooled
    finally:
        POOL.close()


def _client_frames(data: bytes) -> list[tuple[int, bytes]]:
    """The client's (masked) frames, read with the same parser."""
    return FrameReader().feed(data)


# -- the reference server ----------------------------------------------------


class FakeConnection:
    """Enough of a websockets ``ServerConnection`` for ``_Writer``: records every write."""

    def __init__(self, incoming: list[str] | None = None) -> None:
        self.writes: list[bytes] = []
        self.sent: list[Any] = []
        self.incoming = incoming or []
        self.socket = self

    @contextlib.contextmanager
    def send_context(self) -> Iterator[None]:
        yield

    def sendall(self, data: bytes) -> None:
        self.writes.append(data)

    def send(self, data: Any) -> None:
        self.sent.append(data)

    def recv(self, timeout: float | None = None) -> str:
        if self.incoming:
            return self.incoming.pop(0)
        raise TimeoutError


class FakeOwner:
    def __init__(self) -> None:
        self._stopping = threading.Event()
        self.faults: list[str] = []

    def log_fault(self, kind: str) -> None:
        self.faults.append(kind)


def answer(tokens: int, sid: str = "") -> list[str]:
    plan = plan_reply("athena", "owls", exact_tokens=tokens)
    done = {"type": "done", "finish_reason": plan.finish_reason, "usage": {"input_tokens": 1, "output_tokens": tokens}}
    return list(_messages(plan.tokens(), plan.count, done, 0, sid))


def test_an_unpaced_answer_is_written_many_messages_at_a_time() -> None:
    ws = FakeConnection()
    messages = answer(5000)
    assert _Writer(ws, FakeOwner(), NO_FAULTS, 0.0).write(iter(messages)) is True
    assert 2 <= len(ws.writes) <= 10 and not ws.sent
    frames = FrameReader().feed(b"".join(ws.writes))
    assert frames == [(TEXT, m.encode()) for m in messages]


def test_a_paced_or_faulty_answer_is_still_written_message_by_message() -> None:
    for faults, pace in [(NO_FAULTS, 0.0001), (parse_faults({"drop_after": 100000}), 0.0)]:
        ws = FakeConnection()
        _Writer(ws, FakeOwner(), faults, pace).write(iter(answer(20)))
        assert len(ws.sent) == 21 and not ws.writes


def test_a_cancel_stops_an_unpaced_answer_before_its_next_write() -> None:
    ws, owner = FakeConnection(['{"type": "cancel"}']), FakeOwner()
    with pytest.raises(_Stop):
        _Writer(ws, owner, NO_FAULTS, 0.0).write(iter(answer(5000)))
    assert owner.faults == ["cancel"] and not ws.writes


def test_messages_are_written_exactly_as_json_dumps_writes_them() -> None:
    tokens = ["plain", ' "quoted" \\ back', "é☃\n\t", "\x00\x1f😀"]
    plan_done = {"type": "done", "finish_reason": "stop", "usage": {"input_tokens": 1, "output_tokens": 4}}
    got = list(_messages(iter(tokens), 4, plan_done, 1, "s7"))
    expected = [json.dumps({"type": "delta", "seq": i, "stream": "s7", "text": t}) for i, t in enumerate(tokens)][1:]
    assert got[:-1] == expected
    assert got[-1] == json.dumps({"type": "done", "seq": 4, "stream": "s7", "finish_reason": "stop",
                                  "usage": {"input_tokens": 1, "output_tokens": 4}})  # fmt: skip


def test_the_reference_server_streams_a_long_answer_whole(server: RefServer) -> None:
    result = run(bot(server.ws_url, options={"aish_tokens": 20000}))
    assert result.status == "complete" and result.deltas == 20000
    assert result.text == plan_reply("athena", "owls", exact_tokens=20000).text()


def test_cancelling_an_unpaced_answer_stops_the_server(server: RefServer) -> None:
    """The server blocks in a 64 KiB write to a reader that is not reading: the cancel still stops it."""
    agent = bot(server.ws_url, options={"aish_tokens": 500_000})
    stream = AgentStream(agent, WebSocketTransport(agent), AishWSCodec(agent))
    got = threading.Event()

    def sink(event: object) -> None:
        if type(event) is TextDelta and not got.is_set():
            got.set()
            time.sleep(0.3)  # a slow consumer: the socket's buffers fill up

    results: list[StageResult] = []
    prompt = Prompt("owls", Context("p"))
    worker = threading.Thread(target=lambda: results.append(stream.run(prompt, sink, lambda: None)))
    worker.start()
    assert got.wait(5)
    stream.cancel()
    worker.join(3)
    assert results and results[0].status == "cancelled" and 0 < results[0].deltas < 500_000
    assert server.wait_idle(3), "the server kept generating"


@pytest.fixture
def server() -> Iterator[RefServer]:
    with RefServer(pace=0.0) as srv:
        yield srv
