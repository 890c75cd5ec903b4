"""The retry policy as pure functions (aish/stream/retry.py) and the cancel token: no network."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

from aish import (
    AgentConfig,
    CancelToken,
    ConnectionFailure,
    HTTPStatusError,
    IdleTimeout,
    MalformedEvent,
    RemoteError,
    StreamIncomplete,
)
from aish.stream import RetryPolicy, plan, retryable_status

POLICY = RetryPolicy(max_retries=3, initial=0.5, maximum=8.0, random=lambda: 0.5)


def decide(error: Any, **kw: Any) -> Any:
    state = {"failures": 1, "connected": True, "recovering": False, "resumable": False, "has_text": False}
    state.update(kw)
    return plan(error, POLICY, **state)


# ------------------------------------------------------------------- backoff


def test_backoff_doubles_with_equal_jitter_and_is_capped() -> None:
    low, high = RetryPolicy(9, 0.5, 8.0, random=lambda: 0.0), RetryPolicy(9, 0.5, 8.0, random=lambda: 0.999999)
    for failures, step in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 8.0), (60, 8.0)]:
        assert low.backoff(failures) == pytest.approx(step / 2)
        assert high.backoff(failures) == pytest.approx(step, rel=1e-5)


def test_backoff_is_random_within_its_step() -> None:
    rng = random.Random(7)
    policy = RetryPolicy(9, 1.0, 30.0, random=rng.random)
    delays = [policy.backoff(3) for _ in range(200)]
    assert all(2.0 <= d <= 4.0 for d in delays)
    assert len({round(d, 6) for d in delays}) > 150  # jittered, not constant


def test_server_retry_hint_is_honoured_exactly_once_then_backed_off_from() -> None:
    assert POLICY.backoff(1, hint=0.3) == 0.3  # as EventSource: the server's delay, no jitter
    assert POLICY.backoff(2, hint=0.3) == pytest.approx(0.6 * 0.75)
    assert POLICY.backoff(1, hint=100.0) == 8.0  # capped
    assert POLICY.backoff(1, hint=0.0) == 0.0


def test_retry_after_is_used_and_capped() -> None:
    assert POLICY.status_delay(HTTPStatusError(429, "", "u", retry_after=2.0), 1) == 2.0
    assert POLICY.status_delay(HTTPStatusError(429, "", "u", retry_after=3600), 1) == 8.0
    assert POLICY.status_delay(HTTPStatusError(429, "", "u", retry_after=-5), 1) == 0.0
    assert POLICY.status_delay(HTTPStatusError(503, "", "u"), 2) == POLICY.backoff(2)


def test_policy_from_an_agent() -> None:
    agent = AgentConfig("a", "t", "u", "c", max_retries=5, backoff_initial=0.2, backoff_max=4.0)
    policy = RetryPolicy.for_agent(agent)
    assert (policy.max_retries, policy.initial, policy.maximum) == (5, 0.2, 4.0)
    assert RetryPolicy.for_agent(AgentConfig("a", "t", "u", "c", backoff_initial=9, backoff_max=1)).maximum == 9


# -------------------------------------------------------------------- plans


@pytest.mark.parametrize(
    ("code", "retry"),
    [(code, True) for code in (408, 429, 500, 502, 503, 504, 599)]
    + [(code, False) for code in (400, 401, 403, 404, 413, 422, 501, 505)],
)
def test_which_statuses_are_retried(code: int, retry: bool) -> None:
    assert retryable_status(code) is retry
    assert decide(HTTPStatusError(code, "", "u"), connected=False).retry is retry


def test_retries_are_bounded_and_say_so() -> None:
    error = HTTPStatusError(503, "", "u")
    assert [decide(error, failures=n, connected=False).retry for n in (1, 2, 3, 4)] == [True, True, True, False]
    assert decide(error, failures=4, connected=False).why == "gave up after 3 retries"
    one = plan(error, RetryPolicy(1), failures=2, connected=False, recovering=False, resumable=False, has_text=False)
    assert one.why == "gave up after 1 retry"
    none = plan(error, RetryPolicy(0), failures=1, connected=False, recovering=False, resumable=False, has_text=False)
    assert (none.retry, none.why) == (False, "")


@pytest.mark.parametrize("error", [MalformedEvent("x"), RemoteError("error event: boom")])
def test_bad_data_and_error_events_are_never_retried(error: Exception) -> None:
    assert not decide(error, resumable=True).retry


def test_connecting_fails_at_once_unless_recovering() -> None:
    refused = ConnectionFailure("cannot connect to u: connection refused")
    assert not decide(refused, connected=False).retry
    assert not decide(IdleTimeout("u sent nothing for 1s"), connected=False).retry
    assert decide(refused, connected=False, recovering=True).retry


@pytest.mark.parametrize("error", [ConnectionFailure("lost"), IdleTimeout("quiet"), StreamIncomplete("ended")])
def test_a_resumable_stream_always_resumes(error: Exception) -> None:
    step = decide(error, resumable=True, has_text=True, hint=0.25)
    assert step.retry and step.delay == 0.25


def test_a_stream_that_cannot_resume_ends_after_text_and_says_why() -> None:
    lost = decide(ConnectionFailure("lost"), has_text=True)
    assert (lost.retry, lost.why) == (False, "not resumed: the server sends no event ids")
    off = decide(IdleTimeout("quiet"), has_text=True, no_resume_reason="resume is off")
    assert off.why == "not resumed: resume is off"
    ended = decide(StreamIncomplete("the stream ended before its end marker"), has_text=True)
    assert (ended.retry, ended.why) == (False, "")  # its own message says it all


def test_before_any_text_only_a_lost_connection_starts_over() -> None:
    assert decide(ConnectionFailure("lost")).retry
    assert not decide(StreamIncomplete("empty answer")).retry  # it would come back the same
    assert not decide(IdleTimeout("stalled")).retry


# ------------------------------------------------------------- cancel token


def test_cancel_token_runs_callbacks_once_and_late_ones_at_once() -> None:
    token = CancelToken()
    calls: list[str] = []
    token.on_cancel(lambda: calls.append("a"))
    forget = token.on_cancel(lambda: calls.append("b"))
    forget()
    token.on_cancel(lambda: 1 / 0)  # a failing callback does not stop the others
    token.on_cancel(lambda: calls.append("c"))
    assert not token.cancelled
    token.cancel()
    token.cancel()
    assert calls == ["a", "c"] and token.cancelled
    token.on_cancel(lambda: calls.append("late"))
    assert calls == ["a", "c", "late"]


def test_cancel_token_wait_wakes_at_once_from_another_thread() -> None:
    token = CancelToken()
    assert token.wait(0.01) is False and token.wait(0) is False
    threading.Timer(0.05, token.cancel).start()
    started = time.monotonic()
    assert token.wait(5) is True
    assert time.monotonic() - started < 1
