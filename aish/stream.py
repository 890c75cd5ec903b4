"""The stream layer: one agent stage from request to last event.

It sits between transports and everything else and owns what is the same for
every transport: building the request through the codec, opening the
connection, turning wire items into stamped :mod:`aish.events`, liveness
(comments become heartbeats), cancellation, and mapping failures to aish's
error tree with the partial text kept. Transports only move bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aish.agents import AgentConfig
from aish.contracts import Codec, Connection, Prompt, Request, Transport
from aish.errors import (
    AishError,
    HTTPStatusError,
    Interrupted,
    StreamFailure,
    StreamIncomplete,
)
from aish.events import (
    Event,
    Heartbeat,
    StreamEnd,
    StreamError,
    StreamStart,
    TextDelta,
    Usage,
)
from aish.wire import WireComment

COMPLETE = "complete"
PARTIAL = "partial"
ERROR = "error"
CANCELLED = "cancelled"


@dataclass
class StageResult:
    """How one agent stage ended, and what it produced."""

    agent: str
    text: str = ""
    status: str = COMPLETE
    error: AishError | None = None
    started: float = 0.0
    first_token: float | None = None
    """Seconds from start to the first text."""
    duration: float = 0.0
    deltas: int = 0
    usage: Usage | None = None
    finish_reason: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        """Output tokens: the endpoint's count when it sent one, else text events seen."""
        if self.usage is not None and self.usage.output_tokens is not None:
            return self.usage.output_tokens
        return self.deltas


EventSink = Callable[[Event], None]


class AgentStream:
    """Runs one prompt against one agent, feeding every event to ``sink``.

    ``flush`` is called after each batch of events that arrived together.
    :meth:`cancel` may be called from another thread.
    """

    def __init__(self, agent: AgentConfig, transport: Transport, codec: Codec) -> None:
        self.agent = agent
        self.transport = transport
        self.codec = codec
        self._conn: Connection | None = None
        self._cancelled = False
        self._seq = 0

    def cancel(self) -> None:
        self._cancelled = True
        if self._conn is not None:
            self._conn.cancel()

    def run(self, prompt: Prompt, sink: EventSink, flush: Callable[[], None]) -> StageResult:
        result = StageResult(agent=self.agent.name, started=time.monotonic())
        parts: list[str] = []
        request: Request | None = None
        try:
            self._emit(sink, StreamStart(model=self.agent.model))
            request = self.codec.encode(prompt)
            self._stream(request, sink, flush, parts, result)
        except KeyboardInterrupt:
            if self._conn is not None:
                self._conn.cancel()
            self._fail(result, parts, Interrupted(f"{self.agent.name}: interrupted"), sink, CANCELLED)
        except StreamFailure as exc:
            self._fail(result, parts, self._explain(exc, request), sink, None)
        except AishError as exc:
            self._fail(result, parts, exc, sink, ERROR)
        finally:
            if self._conn is not None:
                self._conn.close()
            result.duration = time.monotonic() - result.started
            result.text = "".join(parts)
            flush()
        return result

    def _stream(
        self,
        request: Request,
        sink: EventSink,
        flush: Callable[[], None],
        parts: list[str],
        result: StageResult,
    ) -> None:
        emit = self._emit
        self._conn = conn = self.transport.open(request)
        decode = self.codec.decoder().decode
        for batch in conn:
            if self._cancelled:
                raise KeyboardInterrupt
            for item in batch:
                if type(item) is WireComment:
                    emit(sink, Heartbeat())
                    continue
                for event in decode(item):  # type: ignore[arg-type]
                    kind = type(event)
                    if kind is TextDelta:
                        if not parts:
                            result.first_token = time.monotonic() - result.started
                        parts.append(event.text)  # type: ignore[union-attr]
                        result.deltas += 1
                    elif kind is Usage:
                        result.usage = event  # type: ignore[assignment]
                    elif kind is StreamEnd:
                        result.finish_reason = event.finish_reason  # type: ignore[union-attr]
                        emit(sink, event)
                        return
                    emit(sink, event)
            flush()
        if self._cancelled:
            raise KeyboardInterrupt
        raise StreamIncomplete(f"{self.agent.name}: the stream ended before its end marker")

    def _emit(self, sink: EventSink, event: Event) -> None:
        event.agent = self.agent.name
        event.seq = self._seq
        self._seq += 1
        sink(event)

    def _explain(self, exc: StreamFailure, request: Request | None) -> AishError:
        """Name the agent, let the codec read an error body, and scrub secrets."""
        secrets = [s for s in (request.secrets if request else ()) if s]

        def scrub(text: str) -> str:
            for secret in secrets:
                text = text.replace(secret, "***")
            return text

        message = str(exc)
        if isinstance(exc, HTTPStatusError):
            body = scrub(exc.body)  # before the codec shortens it, so no prefix of a key survives
            detail = self.codec.error_message(exc.code, body) if body else None
            message = _http_message(self.agent.name, exc, detail)
        elif not message.startswith(f"{self.agent.name}:"):
            message = f"{self.agent.name}: {message}"
        clean = exc.reworded(scrub(message))
        if isinstance(clean, HTTPStatusError):
            clean.body = scrub(clean.body)
        return clean

    def _fail(
        self, result: StageResult, parts: list[str], error: AishError, sink: EventSink, status: str | None
    ) -> None:
        partial = bool(parts)
        result.error = error
        result.status = status or (PARTIAL if partial else ERROR)
        self._emit(sink, StreamError(error=error, partial=partial))


def _http_message(agent: str, exc: HTTPStatusError, detail: str | None) -> str:
    what = {
        401: "authentication failed",
        403: "access denied (authentication failed)",
        404: "not found (check the agent's url)",
        413: "request too large (context too long?)",
        429: "rate limited",
    }.get(exc.code, "server error" if exc.code >= 500 else "request rejected")
    tail = f": {detail}" if detail else ""
    return f"{agent}: {what}: HTTP {exc.code} from {exc.url}{tail}"
