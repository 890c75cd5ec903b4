"""Helpers for the stream-layer tests: agents that ask the reference server for faults, and runs."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from aish import AgentConfig, Codec, Context, Event, Heartbeat, Prompt, StreamExtension, TextDelta
from aish.stream import AgentStream, StageResult, with_extensions
from aish_anthropic.codec import AnthropicMessagesCodec
from aish_heartbeat.watchdog import LivenessWatchdog
from aish_openai.codec import OpenAIChatCodec
from aish_refserver import RefServer, plan_reply
from aish_sse.transport import SSETransport
from aish_text.codec import TextCodec

PROMPT = "tell me about owls"
CODECS: dict[str, Callable[[AgentConfig], Codec]] = {
    "openai-chat": OpenAIChatCodec,
    "anthropic-messages": AnthropicMessagesCodec,
    "text": TextCodec,
}


def agent(url: str, codec: str = "openai-chat", **kw: Any) -> AgentConfig:
    """An agent with short timeouts and fast backoff, for tests."""
    kw.setdefault("model", "athena")
    kw.setdefault("connect_timeout", 2.0)
    kw.setdefault("idle_timeout", 2.0)
    kw.setdefault("backoff_initial", 0.01)
    kw.setdefault("backoff_max", 0.1)
    return AgentConfig(name="bot", transport="sse", url=url, codec=codec, **kw)


def fault_agent(server: RefServer, fault: dict[str, Any] | None = None, tokens: int = 40, **kw: Any) -> AgentConfig:
    """An openai-chat agent of ``server`` whose requests ask for ``fault`` and ``tokens`` tokens."""
    options: dict[str, Any] = {"aish_tokens": tokens, **kw.pop("options", {})}
    if fault:
        options["aish_fault"] = fault
    return agent(server.base_url, options=options, **kw)


def answer(tokens: int = 40, model: str = "athena", prompt: str = PROMPT) -> str:
    """The fault-free answer the reference server gives."""
    return plan_reply(model, prompt, exact_tokens=tokens).text()


class Run:
    """One AgentStream run over the real SSE transport: result, events, arrival times of text."""

    def __init__(
        self,
        the_agent: AgentConfig,
        text: str = PROMPT,
        *,
        watchdog: bool = True,
        sink: Callable[[Event], None] | None = None,
        start: bool = True,
        keep: bool = True,
    ) -> None:
        self.agent = the_agent
        self.text = text
        self.events: list[Event] = []
        self.arrivals: list[float] = []
        self._sink = sink
        self._keep = keep
        extensions: Sequence[StreamExtension] = [LivenessWatchdog(the_agent.idle_timeout)] if watchdog else []
        self.transport = with_extensions(SSETransport(the_agent), extensions)
        self.stream = AgentStream(the_agent, self.transport, CODECS[the_agent.codec](the_agent))
        self.result: StageResult | None = None
        self.thread: threading.Thread | None = None
        if start:
            self.run()

    def run(self) -> StageResult:
        try:
            self.result = self.stream.run(Prompt(self.text, Context(pipeline_id="p")), self.feed, lambda: None)
        finally:
            self.transport.close()
        return self.result

    def feed(self, event: Event) -> None:
        if self._keep:
            self.events.append(event)
        if isinstance(event, TextDelta):
            self.arrivals.append(time.monotonic())
        if self._sink is not None:
            self._sink(event)

    def in_thread(self) -> Run:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    @property
    def r(self) -> StageResult:
        assert self.result is not None
        return self.result

    @property
    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]

    @property
    def heartbeats(self) -> int:
        return sum(isinstance(e, Heartbeat) for e in self.events)


def open_fds() -> int:
    """File descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))


def settle(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
