"""Liveness: the heartbeat plugin (a stream extension) and pressure from a slow consumer."""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from servers import Exchange, chunk, serving, sse
from streamkit import Run, agent, answer, fault_agent, settle

from aish import Event, Heartbeat, IdleTimeout, TextDelta
from aish.app import App
from aish.stream import ExtendedTransport
from aish_heartbeat.watchdog import LivenessWatchdog, WatchedConnection
from aish_refserver import RefServer
from aish_sse.transport import SSETransport

CONFIG = """
[agents.slow]
transport = "sse"
codec = "openai-chat"
url = "http://127.0.0.1:9/v1"
idle_timeout = 7
"""


def test_every_agents_transport_is_wrapped_by_the_heartbeat_extension(make_app: Callable[..., App]) -> None:
    app = make_app(CONFIG)
    assert app.registration("extension", "heartbeat").plugin == "heartbeat"
    transport = app.transport(app.agent("slow"))
    assert isinstance(transport, ExtendedTransport) and isinstance(transport.inner, SSETransport)
    [watchdog] = transport.extensions
    assert isinstance(watchdog, LivenessWatchdog) and watchdog.idle == 7
    assert transport.agent.name == "slow"  # the inner transport's attributes show through


def test_without_the_plugin_transports_are_not_wrapped(make_app: Callable[..., App]) -> None:
    app = make_app(CONFIG + '\n[settings]\ndisable_plugins = ["heartbeat"]\n')
    assert isinstance(app.transport(app.agent("slow")), SSETransport)


def drip_one_endless_event(ex: Exchange) -> None:
    """Bytes keep coming, but they never complete an event."""
    ex.respond(200, {"Content-Type": "text/event-stream"})
    ex.send(chunk(role="assistant") + chunk("Hi"))
    ex.send(b"data: ")
    while ex.pause(0.02):
        ex.send(b"x")


def test_bytes_that_never_complete_an_event_are_silence() -> None:
    with serving(drip_one_endless_event) as raw:
        started = time.monotonic()
        run = Run(agent(raw.url + "/v1", idle_timeout=0.3))
        took = time.monotonic() - started
    assert isinstance(run.r.error, IdleTimeout)
    assert run.r.status == "partial" and run.r.text == "Hi"
    assert str(run.r.error) == (
        f"bot: {raw.url}/v1/chat/completions: nothing arrived for 0.3s; not resumed: the server sends no event ids"
    )
    assert 0.3 <= took < 0.7  # declared dead within the bound, not when the socket falls quiet


def test_without_the_watchdog_a_trickle_of_bytes_keeps_the_socket_alive() -> None:
    """What the plugin adds: the transport alone only times out a silent socket."""
    with serving(drip_one_endless_event) as raw:
        run = Run(agent(raw.url + "/v1", idle_timeout=0.3), watchdog=False, start=False).in_thread()
        time.sleep(1.0)
        assert run.result is None  # still running after three idle timeouts
        run.stream.cancel()
        assert run.thread is not None
        run.thread.join(2)
    assert run.r.status == "cancelled"


def test_time_spent_by_a_slow_consumer_is_not_silence() -> None:
    """The consumer sleeps 0.6 s on the first token; the watchdog (0.2 s) only counts waiting."""
    slept: list[bool] = []

    def slow(event: Event) -> None:
        if isinstance(event, TextDelta) and not slept:
            slept.append(True)
            time.sleep(0.6)

    with RefServer(pace=0.0) as server:
        run = Run(fault_agent(server, tokens=30, idle_timeout=0.2), sink=slow)
    assert run.r.status == "complete", run.r.error
    assert run.r.text == answer(30)


def test_heartbeats_count_as_liveness_and_reach_the_consumer() -> None:
    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"})
        for _ in range(6):
            ex.send(b": ping\n\n")
            ex.pause(0.1)
        ex.send(chunk(role="assistant") + chunk("late") + chunk(finish="stop") + b"data: [DONE]\n\n")
        ex.end()

    with serving(handle) as raw:
        run = Run(agent(raw.url + "/v1", idle_timeout=0.25))
    assert run.r.status == "complete" and run.r.text == "late"
    assert run.heartbeats == 6


def test_the_watchdog_thread_ends_with_its_stream() -> None:
    before = {t.name for t in threading.enumerate()}
    with RefServer(pace=0.0) as server:
        for _ in range(5):
            assert Run(fault_agent(server, tokens=5)).r.status == "complete"
    assert settle(lambda: not [t for t in threading.enumerate() if t.name == "aish-heartbeat"])
    assert "aish-heartbeat" not in before


def test_a_watched_connection_forwards_what_the_layer_reads() -> None:
    class Inner:
        last_event_id = "s1:4"
        retry_delay = 0.5
        closed = cancelled = False

        def __iter__(self) -> Any:
            return iter([])

        def cancel(self) -> None:
            self.cancelled = True

        def close(self) -> None:
            self.closed = True

    inner = Inner()
    watched = WatchedConnection(inner, 1.0)  # type: ignore[arg-type]
    assert (watched.last_event_id, watched.retry_delay) == ("s1:4", 0.5)
    assert list(watched) == []
    watched.cancel()
    watched.close()
    assert inner.cancelled and inner.closed


# ----------------------------------------------------------------- pressure


def test_a_paused_consumer_holds_the_server_back_and_memory_stays_bounded() -> None:
    """Backpressure: aish reads only as fast as it shows. While the consumer is paused the server
    blocks once the socket buffers are full, and aish's own memory stays at one read's worth."""
    total = 48 * 1024 * 1024
    comment = b": " + b"x" * 1022 + b"\n\n"
    block = comment * 64
    sent = [0]

    def flood(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"})
        while sent[0] < total:
            ex.send(block)
            sent[0] += len(block)
        ex.send(chunk(role="assistant") + chunk("end") + chunk(finish="stop") + b"data: [DONE]\n\n")
        ex.end()

    during_pause: list[int] = []
    heartbeats = [0]

    def sink(event: Event) -> None:
        if isinstance(event, Heartbeat):
            heartbeats[0] += 1
            if not during_pause:
                time.sleep(1.0)  # a paused terminal
                during_pause.append(sent[0])

    with serving(flood) as raw:
        tracemalloc.start()
        try:
            run = Run(agent(raw.url + "/v1", idle_timeout=5), sink=sink, keep=False)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert run.r.status == "complete" and run.r.text == "end"
    assert heartbeats[0] == sent[0] // len(comment) >= total // len(comment)
    assert during_pause[0] < total // 3, "the server was not held back"
    assert peak < 2 * 1024 * 1024, f"aish held {peak:,} bytes"


def test_a_long_answer_keeps_flowing_through_many_small_reads() -> None:
    """Events split across many tiny reads are reassembled and nothing piles up."""

    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"})
        body = chunk(role="assistant") + b"".join(chunk(f"{i} ") for i in range(300))
        body += chunk(finish="stop") + b"data: [DONE]\n\n"
        for i in range(0, len(body), 97):
            ex.send(body[i : i + 97])
        ex.send(sse("after the end"))
        ex.end()

    with serving(handle) as raw:
        run = Run(agent(raw.url + "/v1"))
    assert run.r.text == "".join(f"{i} " for i in range(300))
