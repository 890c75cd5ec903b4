"""What only the WebSocket transport does: cancel and resume messages, pings, close codes, the handshake."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.sync.server import ServerConnection, serve

from aish import AgentConfig, ConnectionFailure, Context, IdleTimeout, Prompt, RemoteError
from aish.stream import AgentStream, StageResult
from aish_refserver import RefServer, plan_reply
from aish_websocket.transport import WebSocketTransport
from aish_wsproto.codec import AishWSCodec


@pytest.fixture
def server() -> Iterator[RefServer]:
    with RefServer(pace=0.0) as srv:
        yield srv


def bot(url: str, **kw: Any) -> AgentConfig:
    kw.setdefault("idle_timeout", 2.0)
    kw.setdefault("backoff_initial", 0.01)
    kw.setdefault("backoff_max", 0.05)
    return AgentConfig(name="bot", transport="websocket", url=url, codec="aish-ws", model="athena", **kw)


def run(agent: AgentConfig, stream: list[AgentStream] | None = None) -> StageResult:
    s = AgentStream(agent, WebSocketTransport(agent), AishWSCodec(agent))
    if stream is not None:
        stream.append(s)
    return s.run(Prompt("tell me about owls", Context("p")), lambda e: None, lambda: None)


@pytest.fixture
def fake() -> Iterator[Callable[[Callable[[ServerConnection], None]], str]]:
    """A WebSocket server running a handler of the test's, on loopback."""
    servers = []

    def start(handler: Callable[[ServerConnection], None]) -> str:
        srv = serve(handler, "127.0.0.1", 0, ping_interval=None, compression=None)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"ws://127.0.0.1:{srv.socket.getsockname()[1]}/"

    yield start
    for srv in servers:
        srv.shutdown()


def test_cancel_sends_a_cancel_message_and_the_server_stops(server: RefServer) -> None:
    streams: list[AgentStream] = []
    agent = bot(server.ws_url, options={"aish_tokens": 1000, "aish_pace": 0.01})
    worker = threading.Thread(target=lambda: run(agent, streams), daemon=True)
    worker.start()
    assert _wait(lambda: bool(streams) and len(server.requests) == 1)
    time.sleep(0.1)
    streams[0].cancel()
    worker.join(2)
    assert _wait(lambda: any(kind == "cancel" for kind, _ in server.fault_log)), "no cancel message reached the server"
    assert server.wait_idle(1)  # it stopped generating


def test_resume_asks_for_the_last_sequence_number(server: RefServer) -> None:
    result = run(bot(server.ws_url, options={"aish_tokens": 20, "aish_fault": {"drop_after": 7, "resume": True}}))
    assert result.status == "complete" and result.meta["resumes"] == 2
    resumes = [r.body for r in server.requests if r.body["type"] == "resume"]
    assert [(m["stream"], m["after"]) for m in resumes] == [("s1", 6), ("s1", 13)]
    assert resumes[0]["request"]["input"] == "tell me about owls"


def test_a_dead_peer_is_found_by_pings_within_the_bound() -> None:
    """A peer that completes the handshake and then answers nothing, not even pings."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        conn, _ = listener.accept()
        held.append(conn)
        request = conn.recv(65536).decode()
        key = next(
            line.split(":", 1)[1].strip()
            for line in request.split("\r\n")
            if line.lower().startswith("sec-websocket-key")
        )
        import base64
        import hashlib

        accept_key = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + accept_key + b"\r\n\r\n")  # fmt: skip

    threading.Thread(target=accept, daemon=True).start()
    started = time.monotonic()
    result = run(bot(f"ws://127.0.0.1:{listener.getsockname()[1]}/", idle_timeout=0.6, max_retries=0))
    took = time.monotonic() - started
    listener.close()
    for conn in held:
        conn.close()
    assert isinstance(result.error, ConnectionFailure)
    assert str(result.error) == "bot: connection lost: no answer to a ping for 0.2s"
    assert 0.35 <= took < 0.6  # a ping after 0.2 s of quiet, dead 0.2 s later: before idle_timeout


@pytest.mark.parametrize(
    ("code", "kind", "message"),
    [
        (1008, RemoteError, "bot: the server closed the connection: 1008 policy violation: no such user"),
        (4001, RemoteError, "bot: the server closed the connection: 4001 application: no such user"),
        (1011, ConnectionFailure, "bot: connection lost: the server closed the connection (1011 internal error: no"),
    ],
)  # fmt: skip
def test_close_codes_become_one_line_errors(fake: Any, code: int, kind: type, message: str) -> None:
    def handler(ws: ServerConnection) -> None:
        ws.recv()
        ws.send(json.dumps({"type": "delta", "seq": 0, "text": "hi"}))
        ws.close(code, "no such user")

    result = run(bot(fake(handler), max_retries=1))
    assert isinstance(result.error, kind) and result.status == "partial"
    assert str(result.error).startswith(message)


def test_a_refused_upgrade_is_an_http_error_naming_the_agent(server: RefServer) -> None:
    url = server.ws_url.replace("/v1/ws", "/v2/nope")
    result = run(bot(url))
    assert result.status == "error"
    assert str(result.error).startswith(f"bot: not found (check the agent's url): HTTP 404 from {url}")


def test_an_error_message_is_one_line(fake: Any) -> None:
    def handler(ws: ServerConnection) -> None:
        ws.recv()
        ws.send(json.dumps({"type": "error", "code": "overloaded", "message": "try later"}))

    result = run(bot(fake(handler)))
    assert str(result.error) == "bot: error event: overloaded: try later" and result.status == "error"


def test_a_configured_websocket_agent_answers_through_aish(server: RefServer, run_line: Any) -> None:
    config = f"""
[agents.wsbot]
transport = "websocket"
codec = "aish-ws"
url = "{server.ws_url}"
model = "athena"
options = {{ aish_tokens = 12 }}
"""
    outcome = run_line("wsbot hello there", config)
    assert outcome.status == 0, outcome.err
    assert outcome.out.strip() == plan_reply("athena", "hello there", exact_tokens=12).text()


def _wait(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_silence_after_the_answer_started_names_the_url(server: RefServer) -> None:
    """Pongs keep coming, text does not: an idle timeout, naming the URL (its credentials as ``***``)."""
    url = server.ws_url.replace("ws://", "ws://alice:pw-hunter2@")
    fault = {"stall": 3, "stall_after": 3}
    result = run(bot(url, idle_timeout=0.5, max_retries=0, options={"aish_tokens": 20, "aish_fault": fault}))
    assert isinstance(result.error, IdleTimeout) and result.status == "partial"
    shown = server.ws_url.replace("ws://", "ws://alice:***@")
    assert str(result.error) == f"bot: {shown}: nothing arrived for 0.5s; not resumed: the server sends no event ids"
