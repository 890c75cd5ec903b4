"""Soak: hundreds of randomly faulted streams (seeded), four at a time, against one reference server.

Every stream must either complete exactly (its text is the fault-free answer)
or end the way its fault says: partial with the right error and a prefix of
the answer, an error before any text, or cancelled. Afterwards no thread and
no file descriptor may be left over.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from streamkit import Run, agent, open_fds, settle

from aish import ConnectionFailure, HTTPStatusError, IdleTimeout, Interrupted, MalformedEvent, TextDelta
from aish_refserver import RefServer, plan_reply

SEED = 20261124
STREAMS = 300
WORKERS = 4
SHAPE = {"openai-chat": (1, 3), "anthropic-messages": (3, 3)}  # events before and after the tokens
MODELS = ("athena", "apollo", "hermes")
KINDS = ("clean", "resume", "resume", "no_ids", "restart", "stall", "stall_long", "heartbeats", "malformed", "drip")
KINDS += ("status_ok", "status_fail", "status_exhaust", "cancel")


@dataclass
class Case:
    """One stream: what to ask for and what must come of it."""

    n: int
    codec: str
    model: str
    tokens: int
    fault: dict[str, Any]
    expect: str  # complete, partial, error, cancelled
    error: type[Exception] | None = None
    says: str = ""
    text_events: int | None = None  # events received before the failure, when known
    agent_kw: dict[str, Any] = field(default_factory=dict)
    cancel: bool = False

    @property
    def prompt(self) -> str:
        return f"question {self.n} about owls"

    @property
    def answer(self) -> str:
        return plan_reply(self.model, self.prompt, exact_tokens=self.tokens).text()


def make_case(n: int, rng: random.Random) -> Case:
    codec = rng.choice(["openai-chat"] * 3 + ["anthropic-messages"])
    tokens = rng.randint(4, 30)
    head, tail = SHAPE[codec]
    total = head + tokens + tail
    case = Case(n, codec, rng.choice(MODELS), tokens, {}, "complete")
    kind = rng.choice(KINDS)
    if kind == "resume":
        case.fault = {"drop_after": rng.randint(2, 12), "drop_mode": rng.choice(["close", "reset"]), "resume": True}
        case.fault["retry"] = rng.choice([0, 5])
    elif kind in ("no_ids", "restart"):
        k = rng.randint(head + 1, total + 2)
        case.fault = {"drop_after": k, "ids": kind == "restart"}
        if k < total:
            case.expect, case.error, case.text_events = "partial", ConnectionFailure, k
            case.says = "the server sends no event ids" if kind == "no_ids" else "the server started the answer over"
    elif kind == "stall":
        case.fault = {"stall": 0.03, "stall_after": rng.randint(0, total)}
    elif kind == "stall_long":
        k = rng.randint(head + 4, head + tokens)
        resume = rng.random() < 0.5
        case.fault = {"stall": 2.0, "stall_after": k, "resume": resume}
        case.agent_kw = {"idle_timeout": 0.5}  # well under the stall, well over a loaded machine's gaps
        if not resume:
            case.expect, case.error, case.text_events, case.says = "partial", IdleTimeout, k, "nothing arrived"
    elif kind == "heartbeats":
        case.fault = {"heartbeats": 0.12, "heartbeat_every": 0.04}
        case.agent_kw = {"idle_timeout": 1.0}  # heartbeats 0.04 s apart keep it alive; 1 s tolerates a loaded CI
    elif kind == "malformed":
        k = rng.randint(0, total + 1)
        case.fault = {"malformed_after": k}
        if k < total:
            case.error, case.text_events, case.says = MalformedEvent, k, "malformed event data"
            case.expect = "partial" if k > head else "error"
    elif kind == "drip":
        case.fault = {"drip": 0.0002, "drip_bytes": rng.randint(30, 90)}
    elif kind == "status_ok":
        retry_after = rng.choice([None, 0.01])
        case.fault = {"status": rng.choice([429, 500, 502, 503]), "times": rng.randint(1, 2), "key": f"soak-{n}"}
        if retry_after is not None:
            case.fault["retry_after"] = retry_after
    elif kind == "status_fail":
        status = rng.choice([400, 401, 403, 404, 413])
        case.fault = {"status": status}
        case.expect, case.error, case.says = "error", HTTPStatusError, f"HTTP {status} from"
    elif kind == "status_exhaust":
        case.fault = {"status": 503}
        case.expect, case.error, case.says = "error", HTTPStatusError, "gave up after 2 retries"
        case.agent_kw = {"max_retries": 2}
    elif kind == "cancel":
        case.fault = {"stall": 5.0, "stall_after": head + rng.randint(1, tokens)}
        case.expect, case.error, case.cancel = "cancelled", Interrupted, True
    return case


def run_case(case: Case, server: RefServer) -> str | None:
    """Run one case; return what went wrong, or None."""
    options: dict[str, Any] = {"aish_tokens": case.tokens, "aish_fault": case.fault}
    if case.codec == "anthropic-messages":
        options["max_tokens"] = 1000
    kw = {"max_retries": 4, "idle_timeout": 2.0, **case.agent_kw}
    the_agent = agent(server.base_url, codec=case.codec, model=case.model, options=options, **kw)
    got_text = threading.Event()
    run = Run(the_agent, case.prompt, start=False, sink=lambda e: got_text.set() if type(e) is TextDelta else None)
    run.in_thread()
    assert run.thread is not None
    if case.cancel:
        if not got_text.wait(5):
            return "no text before cancelling"
        run.stream.cancel()
    run.thread.join(30)
    if run.thread.is_alive():  # a hang is a failure, not a stuck test run
        run.stream.cancel()
        run.thread.join(5)
        return "did not finish within 30 s"
    result = run.r
    answer = case.answer
    if result.status != case.expect:
        return f"status {result.status} ({result.error}), expected {case.expect}"
    if case.expect == "complete":
        return None if result.text == answer and result.deltas == case.tokens else "text differs"
    if not answer.startswith(result.text):
        return "the partial text is not a prefix of the answer"
    if case.error is not None and not isinstance(result.error, case.error):
        return f"error {type(result.error).__name__}: {result.error}, expected {case.error.__name__}"
    message = str(result.error)
    if not message.startswith("bot: ") or "\n" in message or case.says not in message:
        return f"message {message!r} lacks {case.says!r}"
    if case.text_events is not None:
        head = SHAPE[case.codec][0]
        expected = max(0, min(case.text_events - head, case.tokens))
        if result.deltas != expected:
            return f"{result.deltas} text events before the failure, expected {expected}"
    return None


@pytest.mark.slow
def test_soak_hundreds_of_faulted_streams_complete_exactly_or_fail_rightly() -> None:
    rng = random.Random(SEED)
    cases = [make_case(n, rng) for n in range(STREAMS)]
    assert len({tuple(sorted(c.fault)) for c in cases}) >= 10  # the mix really is mixed
    with RefServer(pace=0.0) as server:
        threads, fds = threading.active_count(), open_fds()
        started = time.monotonic()
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="soak") as pool:
            outcomes = list(pool.map(lambda c: (c, run_case(c, server)), cases))
        took = time.monotonic() - started
        failures = [f"#{c.n} {c.codec} {c.fault}: {problem}" for c, problem in outcomes if problem]
        assert not failures, "\n".join(failures[:20])
        assert took < 60
        assert server.wait_idle(10)
        leaked: Callable[[], bool] = lambda: threading.active_count() <= threads and open_fds() <= fds  # noqa: E731
        assert settle(leaked, 10), (
            f"threads {threads} -> {threading.active_count()}: {[t.name for t in threading.enumerate()]}, "
            f"fds {fds} -> {open_fds()}"
        )
    kinds = {c.expect for c in cases}
    assert kinds == {"complete", "partial", "error", "cancelled"}
