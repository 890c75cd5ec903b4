"""The transport contract suite: every :class:`aish.Transport` must pass it, through the stream layer.

One set of tests against aish's reference server (:class:`aish_refserver.RefServer`)
and its fault injection: streaming order, first-token latency, drops with and
without resume, a server that starts over, stalls, heartbeats, malformed data,
HTTP-like statuses, cancellation and connection errors. Subclass it in your
plugin's tests, saying how to build your transport and codec and where the
reference server speaks your protocol::

    from aish.contract_tests.transport import TransportContract

    class TestMyTransport(TransportContract):
        transport = "mine"
        codec = "my-dialect"

        def make_transport(self, agent):
            return MyTransport(agent)

        def make_codec(self, agent):
            return MyDialectCodec(agent)

        def url(self, server):
            return server.base_url

Override :meth:`extensions` to run with stream extensions (the liveness watchdog).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import pytest

from aish.agents import AgentConfig
from aish.contract_tests import undefined
from aish.contracts import Codec, Context, Prompt, StreamExtension, Transport
from aish.errors import ConnectionFailure, HTTPStatusError, IdleTimeout, Interrupted, MalformedEvent
from aish.events import Event, StreamEnd, StreamError, StreamStart, TextDelta
from aish.stream import AgentStream, StageResult, with_extensions
from aish_refserver import MODELS, RefServer, plan_reply

PROMPT = "tell me about owls"
MODEL = sorted(MODELS)[0]
"""A demo agent of the reference server."""


def answer(tokens: int, model: str = MODEL) -> str:
    """The reference server's fault-free answer."""
    return plan_reply(model, PROMPT, exact_tokens=tokens).text()


class Outcome:
    """One finished (or running) stage: its result, events and the arrival times of text."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.arrivals: list[float] = []
        self.started = time.monotonic()
        self.result: StageResult | None = None
        self.stream: AgentStream | None = None
        self.thread: threading.Thread | None = None
        self.got_text = threading.Event()

    def feed(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, TextDelta):
            self.arrivals.append(time.monotonic())
            self.got_text.set()

    @property
    def r(self) -> StageResult:
        assert self.result is not None, "the stage did not end"
        return self.result


def _one_line_naming(error: object) -> str:
    text = str(error)
    assert text.startswith("bot: ") and "\n" not in text, text
    return text


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class TransportContract:
    """The tests; subclasses name the transport and codec and say how to build them."""

    transport: ClassVar[str]
    codec: ClassVar[str]

    def make_transport(self, agent: AgentConfig) -> Transport:
        raise undefined(self, "make_transport(self, agent)", "return your transport for that AgentConfig")

    def make_codec(self, agent: AgentConfig) -> Codec:
        raise undefined(self, "make_codec(self, agent)", "return the codec your transport is tested with")

    def url(self, server: RefServer) -> str:
        """Where ``server`` speaks this transport's protocol with this codec."""
        raise undefined(self, "url(self, server)", "the URL where the server speaks your protocol (server.base_url)")

    def extensions(self, agent: AgentConfig) -> Sequence[StreamExtension]:
        return ()

    # -- helpers ---------------------------------------------------------------

    @pytest.fixture
    def server(self) -> Iterator[RefServer]:
        with RefServer(pace=0.0) as srv:
            yield srv

    def agent(self, url: str, fault: dict[str, Any] | None = None, tokens: int = 30, **kw: Any) -> AgentConfig:
        options: dict[str, Any] = {"aish_tokens": tokens, **kw.pop("options", {})}
        if fault:
            options["aish_fault"] = fault
        for key, value in (("connect_timeout", 2.0), ("idle_timeout", 2.0), ("backoff_initial", 0.01)):
            kw.setdefault(key, value)
        kw.setdefault("backoff_max", 0.1)
        transport, codec = (self._name(key) for key in ("transport", "codec"))
        return AgentConfig(name="bot", transport=transport, url=url, codec=codec, model=MODEL, options=options, **kw)

    def _name(self, key: str) -> str:
        value = getattr(self, key, None)
        if not isinstance(value, str) or not value:
            raise undefined(self, key, f"the name your plugin registers the {key} under, as a class attribute")
        return value

    def start(self, agent: AgentConfig, *, background: bool = False) -> Outcome:
        out = Outcome()
        transport = with_extensions(self.make_transport(agent), self.extensions(agent))
        out.stream = stream = AgentStream(agent, transport, self.make_codec(agent))

        def run() -> None:
            try:
                out.result = stream.run(Prompt(PROMPT, Context(pipeline_id="p")), out.feed, lambda: None)
            finally:
                transport.close()

        if not background:
            run()
            return out
        out.thread = threading.Thread(target=run, daemon=True)
        out.thread.start()
        return out

    def run(self, server: RefServer, fault: dict[str, Any] | None = None, tokens: int = 30, **kw: Any) -> Outcome:
        return self.start(self.agent(self.url(server), fault, tokens, **kw))

    # -- streaming ---------------------------------------------------------------

    def test_streams_the_answer_in_order(self, server: RefServer) -> None:
        out = self.run(server, tokens=200)
        assert out.r.status == "complete", out.r.error
        assert out.r.text == answer(200) and out.r.deltas == 200
        kinds = [type(e) for e in out.events]
        assert kinds[0] is StreamStart and kinds[-1] is StreamEnd and kinds.count(StreamStart) == 1
        assert [e.seq for e in out.events] == list(range(len(out.events)))

    def test_first_token_arrives_before_the_answer_ends(self, server: RefServer) -> None:
        out = self.run(server, tokens=10, options={"aish_pace": 0.03})
        assert out.r.status == "complete", out.r.error
        assert out.r.first_token is not None and out.r.first_token < 0.25
        assert out.arrivals[-1] - out.arrivals[0] >= 0.2  # streamed as produced, not buffered

    # -- faults ------------------------------------------------------------------

    @pytest.mark.parametrize("mode", ["close", "reset"])
    def test_dropped_stream_resumes_exactly(self, server: RefServer, mode: str) -> None:
        out = self.run(server, {"drop_after": 7, "drop_mode": mode, "resume": True}, tokens=30)
        assert out.r.status == "complete", out.r.error
        assert out.r.text == answer(30) and out.r.deltas == 30  # nothing lost, nothing repeated
        assert out.r.meta.get("resumes", 0) >= 3
        assert [e.seq for e in out.events] == list(range(len(out.events)))

    def test_drop_without_resume_ends_partial_and_says_so(self, server: RefServer) -> None:
        out = self.run(server, {"drop_after": 8}, tokens=30)
        assert out.r.status == "partial" and isinstance(out.r.error, ConnectionFailure)
        assert 0 < out.r.deltas <= 8 and out.r.text == answer(30)[: len(out.r.text)]
        assert "not resumed" in _one_line_naming(out.r.error)
        assert isinstance(out.events[-1], StreamError) and out.events[-1].partial

    def test_a_server_that_starts_over_is_caught(self, server: RefServer) -> None:
        out = self.run(server, {"drop_after": 8, "ids": True}, tokens=30)
        assert out.r.status == "partial"
        assert "not resumed: the server started the answer over" in _one_line_naming(out.r.error)
        assert out.r.text == answer(30)[: len(out.r.text)]  # nothing repeated

    def test_a_stall_is_detected_within_the_idle_timeout(self, server: RefServer) -> None:
        out = self.run(server, {"stall": 10, "stall_after": 4}, tokens=30, idle_timeout=0.3)
        assert out.r.status == "partial" and isinstance(out.r.error, IdleTimeout)
        assert "nothing arrived for 0.3s" in _one_line_naming(out.r.error)
        assert out.r.duration < 1.5

    def test_heartbeats_keep_a_quiet_stream_alive(self, server: RefServer) -> None:
        out = self.run(server, {"heartbeats": 0.8, "heartbeat_every": 0.1}, tokens=10, idle_timeout=0.3)
        assert out.r.status == "complete", out.r.error
        assert out.r.text == answer(10)

    def test_dripped_messages_arrive_whole(self, server: RefServer) -> None:
        out = self.run(server, {"drip": 0.001, "drip_bytes": 7}, tokens=8)
        assert out.r.status == "complete", out.r.error
        assert out.r.text == answer(8)

    def test_malformed_data_is_a_one_line_error(self, server: RefServer) -> None:
        out = self.run(server, {"malformed_after": 3}, tokens=30)
        assert out.r.status == "partial" and isinstance(out.r.error, MalformedEvent)
        assert "malformed event data" in _one_line_naming(out.r.error)

    def test_a_rate_limit_is_retried(self, server: RefServer) -> None:
        out = self.run(server, {"status": 429, "times": 1, "retry_after": 0.05, "key": self.transport}, tokens=10)
        assert out.r.status == "complete", out.r.error
        assert out.r.text == answer(10) and out.r.meta["retries"] == 1

    def test_an_auth_error_fails_at_once_naming_the_agent(self, server: RefServer) -> None:
        out = self.run(server, {"status": 401}, tokens=10)
        assert out.r.status == "error" and isinstance(out.r.error, HTTPStatusError)
        assert _one_line_naming(out.r.error).startswith("bot: authentication failed: HTTP 401")
        assert out.r.error.exit_code == 5

    # -- cancellation and errors ---------------------------------------------------

    def test_cancel_mid_stream_is_prompt_and_keeps_the_partial(self, server: RefServer) -> None:
        url = self.url(server)  # may start the server's side of the protocol
        threads, fds = threading.active_count(), _open_fds()
        out = self.start(self.agent(url, tokens=500, options={"aish_pace": 0.01}), background=True)
        assert out.got_text.wait(3), "no text arrived"
        time.sleep(0.05)
        began = time.monotonic()
        assert out.stream is not None and out.thread is not None
        out.stream.cancel()
        out.thread.join(3)
        assert time.monotonic() - began < 0.5
        assert out.r.status == "cancelled" and isinstance(out.r.error, Interrupted)
        assert str(out.r.error) == "bot: interrupted"
        assert 0 < out.r.deltas < 500 and out.r.text == answer(500)[: len(out.r.text)]
        assert _settle(lambda: server.wait_idle(0.1), 3), "the server kept generating"
        assert _settle(lambda: threading.active_count() <= threads + 1 and _open_fds() <= fds + 1, 3)

    def test_a_refused_connection_is_one_line_and_not_retried(self, server: RefServer) -> None:
        url = _with_port(self.url(server), _closed_port())
        out = self.start(self.agent(url, tokens=5))
        assert out.r.status == "error" and isinstance(out.r.error, ConnectionFailure)
        message = _one_line_naming(out.r.error)
        assert message.startswith(f"bot: cannot connect to {url}") and message.endswith(": connection refused")
        assert "retries" not in out.r.meta


def _settle(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with_port(url: str, port: int) -> str:
    scheme, _, rest = url.partition("://")
    host_port, slash, path = rest.partition("/")
    host = host_port.rsplit(":", 1)[0]
    return f"{scheme}://{host}:{port}{slash}{path}"
