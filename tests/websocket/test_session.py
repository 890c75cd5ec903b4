"""Session mode (``session = true``): one WebSocket connection across turns, recovered when dropped."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import websocket

from aish import AgentConfig, ConfigError, Context, Prompt
from aish.app import App
from aish.config import parse_config
from aish.runner import Runner
from aish.stream import AgentStream, StageResult
from aish_refserver import RefServer, plan_reply
from aish_websocket.pool import POOL
from aish_websocket.transport import WebSocketTransport
from aish_wsproto.codec import AishWSCodec


@pytest.fixture
def server() -> Iterator[RefServer]:
    with RefServer(pace=0.0) as srv:
        yield srv
        POOL.close()  # before the server stops, which waits for open connections


def config(url: str, session: bool = True) -> str:
    return f"""
[agents.wsbot]
transport = "websocket"
codec = "aish-ws"
url = "{url}"
model = "athena"
session = {"true" if session else "false"}
options = {{ aish_tokens = 8 }}
"""


def turn(app: App, line: str) -> tuple[int, str, list[StageResult]]:
    out, err = io.StringIO(), io.StringIO()
    runner = Runner(app, out=out, err=err, tty=False)
    status = runner.run_source(line, None)
    assert status == 0, err.getvalue()
    return status, out.getvalue(), runner.last_results


def cancels(server: RefServer) -> int:
    return sum(1 for r in server.requests if isinstance(r.body, dict) and r.body.get("type") == "cancel")


@pytest.mark.parametrize(("session", "connections"), [(True, 1), (False, 2)])
def test_two_turns_share_one_connection_in_session_mode(
    server: RefServer, make_app: Callable[..., App], session: bool, connections: int
) -> None:
    app = make_app(config(server.ws_url, session))
    try:
        _, first, _ = turn(app, "wsbot hello there")
        _, second, _ = turn(app, "wsbot and again")
    finally:
        app.shutdown()
    assert first.strip() == plan_reply("athena", "hello there", exact_tokens=8).text()
    assert second.strip() == plan_reply("athena", "and again", exact_tokens=8).text()
    assert server.ws_connections == connections
    if session:
        assert cancels(server) == 0, "a finished answer on a pooled connection must not be cancelled"
        assert POOL.idle(("wsbot", server.ws_url)) == 0, "aish_shutdown must close the pool"


def test_a_dropped_idle_pooled_connection_reconnects_transparently(
    server: RefServer, make_app: Callable[..., App]
) -> None:
    app = make_app(config(server.ws_url))
    try:
        turn(app, "wsbot one")
        assert POOL.idle(("wsbot", server.ws_url)) == 1
        assert server.drop_ws_connections() == 1
        time.sleep(0.05)  # the FIN reaches the idle socket
        _, out, results = turn(app, "wsbot two")
    finally:
        app.shutdown()
    assert out.strip() == plan_reply("athena", "two", exact_tokens=8).text()
    assert results[0].status == "complete" and not results[0].meta.get("retries")
    assert server.ws_connections == 2


def test_a_pooled_connection_dropped_as_it_is_reused_is_retried(
    server: RefServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the idle check cannot see: the peer closes just after the check. The layer retries."""
    agent = bot(server.ws_url)
    assert run(agent).status == "complete"
    key = ("bot", server.ws_url)
    ws = POOL.take(key)
    assert ws is not None
    POOL.give(key, ws)
    original = POOL.take

    def take_then_drop(k: tuple[str, str]) -> websocket.WebSocket | None:
        taken = original(k)
        server.drop_ws_connections()
        time.sleep(0.05)
        return taken

    monkeypatch.setattr(POOL, "take", take_then_drop)
    result = run(agent)
    assert result.status == "complete", result.error
    assert server.ws_connections == 2


def test_a_cancelled_answer_does_not_return_its_connection(server: RefServer) -> None:
    agent = bot(server.ws_url, options={"aish_tokens": 1000, "aish_pace": 0.01})
    streams: list[AgentStream] = []
    results: list[StageResult] = []
    worker = threading.Thread(target=lambda: results.append(run(agent, streams)), daemon=True)
    worker.start()
    deadline = time.monotonic() + 3
    while not (streams and server.requests) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    streams[0].cancel()
    worker.join(3)
    assert results and results[0].status == "cancelled"
    assert POOL.idle(("bot", server.ws_url)) == 0
    assert run(bot(server.ws_url)).status == "complete"
    assert POOL.idle(("bot", server.ws_url)) == 1


def bot(url: str, **kw: Any) -> AgentConfig:
    kw.setdefault("idle_timeout", 2.0)
    kw.setdefault("backoff_initial", 0.01)
    kw.setdefault("backoff_max", 0.05)
    kw.setdefault("options", {"aish_tokens": 6})
    return AgentConfig(name="bot", transport="websocket", url=url, codec="aish-ws", model="athena", session=True, **kw)


def run(agent: AgentConfig, streams: list[AgentStream] | None = None) -> StageResult:
    stream = AgentStream(agent, WebSocketTransport(agent), AishWSCodec(agent))
    if streams is not None:
        streams.append(stream)
    return stream.run(Prompt("tell me about owls", Context("p")), lambda e: None, lambda: None)


def test_the_session_key_is_a_boolean(tmp_path: Any) -> None:
    table = {"transport": "websocket", "url": "ws://h/v1/ws", "codec": "aish-ws"}
    path = tmp_path / "c.toml"
    assert parse_config({"agents": {"w": {**table, "session": True}}}, path).agents["w"].session is True
    assert parse_config({"agents": {"w": table}}, path).agents["w"].session is False
    with pytest.raises(ConfigError, match=r"c\.toml: agent 'w': session: expected bool, got str"):
        parse_config({"agents": {"w": {**table, "session": "yes"}}}, path)
