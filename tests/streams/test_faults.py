"""Each fault of the reference server, through the whole stream layer (SSE + openai-chat + watchdog).

Every case runs against a real loopback server and checks the behaviour the
issue asks for: a resumable stream completes exactly (no token lost or
repeated), a non-resumable one ends partial and says why, errors are one line
naming the agent, and nothing waits longer than its bound.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from servers import json_reply, serving
from streamkit import PROMPT, Run, agent, answer, fault_agent

from aish import (
    ConnectionFailure,
    HTTPStatusError,
    IdleTimeout,
    MalformedEvent,
    StreamEnd,
    StreamError,
    StreamStart,
)
from aish.stream.messages import http_message
from aish_refserver import RefServer


@pytest.fixture
def server() -> Iterator[RefServer]:
    with RefServer(pace=0.0) as srv:
        yield srv


# --------------------------------------------------------------- drop + resume


@pytest.mark.parametrize("mode", ["close", "reset"])
def test_dropped_stream_resumes_exactly(server: RefServer, mode: str) -> None:
    run = Run(fault_agent(server, {"drop_after": 7, "drop_mode": mode, "resume": True}, tokens=40))
    assert run.r.status == "complete", run.r.error
    assert run.r.text == answer(40)
    assert run.r.deltas == 40  # nothing repeated, nothing lost
    assert run.r.meta["resumes"] == 6  # 44 events (role, 40 tokens, finish, usage, [DONE]), 7 per connection
    assert run.kinds[0] == "StreamStart" and run.kinds[-1] == "StreamEnd"
    assert run.kinds.count("StreamStart") == 1 and "StreamError" not in run.kinds
    assert [e.seq for e in run.events] == list(range(len(run.events)))
    resumed = [r for r in server.requests if r.header("Last-Event-ID")]
    assert len(resumed) == 6
    assert [r.header("Last-Event-ID") for r in resumed[:2]] == ["s1:6", "s1:13"]


def test_resume_waits_the_servers_retry_delay(server: RefServer) -> None:
    run = Run(fault_agent(server, {"drop_after": 10, "resume": True, "retry": 300}, tokens=12, backoff_max=1))
    assert run.r.text == answer(12)
    dropped = next(at for kind, at in server.fault_log if kind == "drop")
    resumed = next(at for kind, at in server.fault_log if kind == "resume")
    assert 0.29 <= resumed - dropped < 0.5
    gap = max(b - a for a, b in zip(run.arrivals, run.arrivals[1:], strict=False))
    assert 0.29 <= gap < 0.5  # the first resumed token: the retry delay plus a connection


def test_drop_without_event_ids_ends_partial_and_says_so(server: RefServer) -> None:
    run = Run(fault_agent(server, {"drop_after": 6}, tokens=40))
    assert run.r.status == "partial"
    assert run.r.text == answer(40)[: len(run.r.text)] and 0 < run.r.deltas == 5  # the role event is #1
    assert isinstance(run.r.error, ConnectionFailure)
    assert str(run.r.error) == (
        f"bot: connection lost: {server.base_url}/chat/completions closed the connection mid-answer; "
        "not resumed: the server sends no event ids"
    )
    assert len(server.requests) == 1  # never started over
    last = run.events[-1]
    assert isinstance(last, StreamError) and last.partial


def test_server_that_tags_events_but_starts_over_is_caught(server: RefServer) -> None:
    """Ids but no resume support: the reconnection repeats the answer; nothing of it is shown."""
    run = Run(fault_agent(server, {"drop_after": 6, "ids": True}, tokens=40))
    assert run.r.status == "partial"
    assert run.r.deltas == 5 and run.r.text == answer(40)[: len(run.r.text)]
    assert str(run.r.error).endswith("; not resumed: the server started the answer over")
    assert len(server.requests) == 2


def test_resume_off_for_the_agent_never_reconnects(server: RefServer) -> None:
    run = Run(fault_agent(server, {"drop_after": 6, "resume": True}, tokens=40, resume=False))
    assert run.r.status == "partial"
    assert str(run.r.error).endswith("; not resumed: resume is off")
    assert len(server.requests) == 1


def test_drop_before_any_text_starts_over(server: RefServer) -> None:
    """Nothing was shown yet, so asking again cannot repeat text: the stream is retried from scratch."""
    run = Run(fault_agent(server, {"drop_after": 0}, tokens=5, max_retries=2))
    assert run.r.status == "error"
    assert str(run.r.error).endswith("; gave up after 2 retries")
    assert len(server.requests) == 3


def test_progress_resets_the_retry_count(server: RefServer) -> None:
    """max_retries bounds failures in a row: a stream that keeps moving may reconnect any number of times."""
    run = Run(fault_agent(server, {"drop_after": 2, "resume": True}, tokens=20, max_retries=1))
    assert run.r.status == "complete", run.r.error
    assert run.r.text == answer(20)
    assert run.r.meta["resumes"] == 11


# ------------------------------------------------------ silence and liveness


def test_stall_shorter_than_the_idle_timeout_is_waited_out(server: RefServer) -> None:
    run = Run(fault_agent(server, {"stall": 0.4, "stall_after": 5}, tokens=20, idle_timeout=0.8))
    assert run.r.status == "complete"
    assert run.r.text == answer(20)


def test_stall_longer_than_the_idle_timeout_fails_within_the_bound(server: RefServer) -> None:
    started = time.monotonic()
    run = Run(fault_agent(server, {"stall": 5, "stall_after": 5}, tokens=20, idle_timeout=0.4))
    took = time.monotonic() - started
    assert run.r.status == "partial" and run.r.deltas == 4
    assert isinstance(run.r.error, IdleTimeout)
    assert str(run.r.error) == (
        f"bot: {server.base_url}/chat/completions: nothing arrived for 0.4s; not resumed: the server sends no event ids"
    )
    assert 0.4 <= took < 0.9


def test_stalled_resumable_stream_reconnects_and_completes(server: RefServer) -> None:
    run = Run(fault_agent(server, {"stall": 5, "stall_after": 8, "resume": True}, tokens=20, idle_timeout=0.3))
    assert run.r.status == "complete", run.r.error
    assert run.r.text == answer(20)
    assert run.r.meta["resumes"] >= 1


def test_heartbeats_keep_a_silent_answer_alive_beyond_the_idle_timeout(server: RefServer) -> None:
    run = Run(fault_agent(server, {"heartbeats": 1.0, "heartbeat_every": 0.1}, tokens=10, idle_timeout=0.3))
    assert run.r.status == "complete", run.r.error
    assert run.r.text == answer(10)
    assert 8 <= run.heartbeats <= 12
    assert run.kinds.index("Heartbeat") == 1  # before any text
    assert run.r.first_token is not None and run.r.first_token >= 1.0


def test_slow_drip_is_never_cut_however_long_it_runs(server: RefServer) -> None:
    """No total timeout: each event completes well within idle_timeout, the whole answer takes longer."""
    fault = {"drip": 0.004, "drip_bytes": 40}
    run = Run(fault_agent(server, fault, tokens=40, idle_timeout=0.25))
    assert run.r.status == "complete", run.r.error
    assert run.r.text == answer(40)
    assert run.r.duration > 2 * 0.25


# ----------------------------------------------------------- bad data, errors


def test_malformed_event_ends_partial_and_is_not_retried(server: RefServer) -> None:
    run = Run(fault_agent(server, {"malformed_after": 6, "resume": True}, tokens=20))
    assert run.r.status == "partial" and run.r.deltas == 5
    assert isinstance(run.r.error, MalformedEvent)
    assert str(run.r.error) == 'bot: malformed event data: \'{"choices": [{"delta": \''
    assert run.r.error.exit_code == 5
    assert len(server.requests) == 1


def test_429_waits_retry_after_then_succeeds(server: RefServer) -> None:
    started = time.monotonic()
    run = Run(fault_agent(server, {"status": 429, "retry_after": 0.25, "times": 2}, tokens=10, backoff_max=1))
    assert run.r.status == "complete", run.r.error
    assert run.r.text == answer(10)
    assert run.r.meta["retries"] == 2
    assert 0.5 <= time.monotonic() - started < 1.5


def test_429_retry_after_is_capped_then_fails(server: RefServer) -> None:
    started = time.monotonic()
    run = Run(fault_agent(server, {"status": 429, "retry_after": 3600}, tokens=10, max_retries=2, backoff_max=0.1))
    assert time.monotonic() - started < 1.0  # waited 2 x 0.1 s, not an hour
    err = run.r.error
    assert isinstance(err, HTTPStatusError) and err.code == 429 and err.retry_after == 3600
    assert str(err) == (
        f"bot: rate limited: HTTP 429 from {server.base_url}/chat/completions: "
        "injected fault: HTTP 429; gave up after 2 retries"
    )
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_with_backoff(server: RefServer, status: int) -> None:
    run = Run(fault_agent(server, {"status": status, "times": 2}, tokens=10))
    assert run.r.status == "complete", run.r.error
    assert run.r.meta["retries"] == 2 and len(server.requests) == 3


def test_server_error_that_persists_fails_after_the_retries(server: RefServer) -> None:
    run = Run(fault_agent(server, {"status": 503}, tokens=10, max_retries=3))
    assert str(run.r.error).startswith("bot: server error: HTTP 503 from ")
    assert str(run.r.error).endswith("; gave up after 3 retries")
    assert run.r.status == "error" and len(server.requests) == 4


@pytest.mark.parametrize(
    ("status", "what"),
    [
        (401, "authentication failed"),
        (403, "access denied (authentication failed)"),
        (404, "not found (check the agent's url)"),
        (413, "request too large (context too long?)"),
        (400, "request rejected"),
    ],
)
def test_client_errors_fail_at_once_with_one_line(server: RefServer, status: int, what: str) -> None:
    run = Run(fault_agent(server, {"status": status}, tokens=10))
    assert str(run.r.error) == (
        f"bot: {what}: HTTP {status} from {server.base_url}/chat/completions: injected fault: HTTP {status}"
    )
    assert len(server.requests) == 1


def test_context_too_long_is_named_for_a_400_that_says_so() -> None:
    body = {"error": {"message": "This model's maximum context length is 4096 tokens"}}
    with serving(json_reply(400, body)) as raw:
        run = Run(agent(raw.url + "/v1"))
    assert str(run.r.error) == (
        f"bot: request rejected (context too long?): HTTP 400 from {raw.url}/v1/chat/completions: "
        "This model's maximum context length is 4096 tokens"
    )
    plain = http_message("a", HTTPStatusError(400, "", "u"), "bad temperature")
    assert plain == "a: request rejected: HTTP 400 from u: bad temperature"


def test_the_stream_grammar_holds_across_reconnections(server: RefServer) -> None:
    run = Run(fault_agent(server, {"drop_after": 3, "resume": True, "retry": 0}, tokens=15))
    assert isinstance(run.events[0], StreamStart)
    assert isinstance(run.events[-1], StreamEnd)
    assert sum(isinstance(e, StreamStart | StreamEnd | StreamError) for e in run.events) == 2
    assert run.r.text == answer(15)


def test_last_event_id_goes_out_as_a_header(server: RefServer) -> None:
    Run(fault_agent(server, {"drop_after": 4, "resume": True}, tokens=6))
    first, second = server.requests[0], server.requests[1]
    assert first.header("Last-Event-ID") is None
    assert second.header("Last-Event-ID") == "s1:3"
    assert second.body == first.body  # the same request, continued
    assert PROMPT in str(first.body)
