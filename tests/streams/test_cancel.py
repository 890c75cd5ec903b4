"""Cancellation at every point of a stream's life: before it starts, waiting for headers or to
retry, while reading, and Ctrl-C. Each one is prompt, keeps the partial text and leaks nothing."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import pytest
from servers import Exchange, chunk, script, serving
from streamkit import Run, agent, answer, fault_agent, open_fds, settle

from aish import Event, Interrupted, TextDelta
from aish_refserver import RefServer


@pytest.fixture
def server() -> Iterator[RefServer]:
    with RefServer(pace=0.0) as srv:
        yield srv


def cancel_when(run: Run, ready: threading.Event, delay: float = 0.05) -> float:
    """Cancel ``run`` (running in a thread) once ``ready`` is set; return how long the run took to end."""
    assert ready.wait(3), "the stream never got there"
    time.sleep(delay)
    started = time.monotonic()
    run.stream.cancel()
    assert run.thread is not None
    run.thread.join(3)
    assert not run.thread.is_alive()
    return time.monotonic() - started


def test_cancel_before_the_run_sends_nothing(server: RefServer) -> None:
    run = Run(fault_agent(server, tokens=5), start=False)
    run.stream.cancel()
    run.run()
    assert run.r.status == "cancelled" and isinstance(run.r.error, Interrupted)
    assert str(run.r.error) == "bot: interrupted"
    assert len(server.requests) == 0


def test_cancel_while_waiting_to_retry_is_prompt(server: RefServer) -> None:
    """A 429 asked for a 30 s wait: cancelling during it ends the run at once."""
    the_agent = fault_agent(server, {"status": 429, "retry_after": 30}, tokens=5, backoff_max=60)
    run = Run(the_agent, start=False).in_thread()
    assert settle(lambda: len(server.requests) == 1)
    waiting = threading.Event()
    waiting.set()
    assert cancel_when(run, waiting, delay=0.1) < 0.5
    assert run.r.status == "cancelled" and len(server.requests) == 1


def test_cancel_while_reading_keeps_the_partial_and_stops_the_watchdog(server: RefServer) -> None:
    threads, fds = threading.active_count(), open_fds()
    got_text = threading.Event()
    the_agent = fault_agent(server, {"stall": 30, "stall_after": 4}, tokens=20, idle_timeout=10)
    run = Run(the_agent, start=False, sink=lambda e: got_text.set() if isinstance(e, TextDelta) else None)
    run.in_thread()
    assert cancel_when(run, got_text, delay=0.2) < 0.5
    assert run.r.status == "cancelled"
    assert run.r.text == answer(20)[: len(run.r.text)] and run.r.deltas == 3
    assert run.kinds[-1] == "StreamError"
    assert settle(lambda: threading.active_count() <= threads + 1)  # the server's handler may still sleep
    assert settle(lambda: open_fds() <= fds + 1)


def test_cancel_during_a_resume_wait_is_prompt(server: RefServer) -> None:
    dropped = threading.Event()
    the_agent = fault_agent(server, {"drop_after": 5, "resume": True, "retry": 30_000}, tokens=20, backoff_max=60)
    run = Run(the_agent, start=False).in_thread()
    assert settle(lambda: any(kind == "drop" for kind, _ in server.fault_log))
    dropped.set()  # the layer now waits the server's 30 s retry delay
    assert cancel_when(run, dropped, delay=0.1) < 0.5
    assert run.r.status == "cancelled" and run.r.deltas == 4
    assert len(server.requests) == 1


def test_ctrl_c_in_the_main_thread_stops_a_blocked_read_and_keeps_the_text() -> None:
    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"})
        ex.send(chunk(role="assistant") + chunk("kept"))
        ex.hang(10)

    first = threading.Event()

    def sink(event: Event) -> None:
        if isinstance(event, TextDelta):
            first.set()

    main = threading.main_thread().ident
    assert main is not None and threading.current_thread() is threading.main_thread()
    interrupter = threading.Thread(
        target=lambda: first.wait(3) and (time.sleep(0.1), signal.pthread_kill(main, signal.SIGINT)), daemon=True
    )
    with serving(handle) as raw:
        interrupter.start()
        started = time.monotonic()
        try:
            run = Run(agent(raw.url + "/v1", idle_timeout=10), sink=sink)
        except KeyboardInterrupt:  # pragma: no cover - would mean the layer let Ctrl-C escape
            pytest.fail("KeyboardInterrupt escaped the stream layer")
        took = time.monotonic() - started
    interrupter.join(1)
    assert took < 2
    assert run.r.status == "cancelled" and run.r.text == "kept"
    assert str(run.r.error) == "bot: interrupted"


def test_stream_layer_cancel_from_a_sink_stops_after_the_batch() -> None:
    """A consumer may cancel from inside its own callback (a renderer reacting to a key)."""
    steps: list[bytes | float] = [chunk(role="assistant"), chunk("a"), 0.05, chunk("b"), 0.05, chunk("c"), 5.0]
    holder: list[Run] = []

    def sink(event: Event) -> None:
        if isinstance(event, TextDelta) and event.text == "b":
            holder[0].stream.cancel()

    with serving(script(steps)) as raw:
        run = Run(agent(raw.url + "/v1"), start=False, sink=sink)
        holder.append(run)
        started = time.monotonic()
        run.run()
    assert time.monotonic() - started < 1
    assert run.r.status == "cancelled" and run.r.text == "ab"
