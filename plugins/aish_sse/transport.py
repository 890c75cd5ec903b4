"""The SSE transport: a streaming POST (:mod:`aish_sse.http11`), parsed by :mod:`aish_sse.parser`.

Every network read is handed on at once, whatever the transfer framing, as
one batch of parsed items. A plain JSON answer (a server or proxy that does
not stream) becomes one ``WireMessage(event="response")`` holding the whole
body, for the codec to read.

What the stream layer needs to resume, the connection exposes as EventSource
keeps it: ``last_event_id`` (carried over from the request's, sent back as
``Last-Event-ID``) and ``retry_delay`` (the server's ``retry:``, in seconds).
The request's cancel token reaches a request still waiting for its headers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from aish import (
    AgentConfig,
    ConfigError,
    ConnectionFailure,
    HTTPStatusError,
    Request,
    StreamFailure,
    WireItem,
    WireMessage,
)
from aish_sse.http11 import Cancelled, HTTPStream
from aish_sse.parser import SSEParser

READ_SIZE = 65536
ERROR_BODY_LIMIT = 65536
JSON_BODY_LIMIT = 64 * 1024 * 1024


class SSETransport:
    """Opens one HTTP connection per stream for an agent."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    def open(self, request: Request) -> SSEConnection:
        agent = self.agent
        try:
            stream = HTTPStream(request.url, connect_timeout=agent.connect_timeout, idle_timeout=agent.idle_timeout)
        except ConfigError:
            raise ConfigError(f"{agent.name}: invalid url {request.url!r}") from None
        headers = dict(request.headers)
        if request.last_event_id:
            headers["Last-Event-ID"] = request.last_event_id
        unhook = request.cancel.on_cancel(stream.cancel) if request.cancel is not None else None
        try:
            stream.open(request.method, request.body, headers)
            if stream.status >= 400:
                raise _status_error(stream, request.url)
        except Cancelled:
            stream.close()
            raise ConnectionFailure(f"cannot connect to {request.url}: cancelled") from None
        except BaseException:
            stream.close()
            raise
        finally:
            if unhook is not None:
                unhook()  # from now on the stream layer cancels the connection itself
        return SSEConnection(stream, request.last_event_id)

    def close(self) -> None:
        """Nothing is pooled: each connection is closed by its stream."""


class SSEConnection:
    """Iterates batches of parsed SSE items from one response."""

    def __init__(self, stream: HTTPStream, last_event_id: str | None = None) -> None:
        self.stream = stream
        self.parser = SSEParser(last_event_id or "")

    @property
    def status(self) -> int:
        return self.stream.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self.stream.headers

    @property
    def last_event_id(self) -> str | None:
        """The last event id received (or carried over), ``None`` when the server gave none."""
        return self.parser.last_event_id or None

    @property
    def retry_delay(self) -> float | None:
        """The server's reconnection time (``retry:``) in seconds, if it sent one."""
        retry = self.parser.retry
        return None if retry is None else retry / 1000

    def __iter__(self) -> Iterator[Sequence[WireItem]]:
        content_type = self.stream.headers.get("Content-Type", "")
        if "json" in content_type and "event-stream" not in content_type:
            body = self.stream.read_all(JSON_BODY_LIMIT).decode("utf-8", errors="replace")
            if body.strip():
                yield [WireMessage(body, event="response")]
            return
        read = self.stream.read
        feed = self.parser.feed
        while chunk := read(READ_SIZE):
            items = feed(chunk)
            if items:
                yield items
        self.parser.close()

    def cancel(self) -> None:
        self.stream.cancel()

    def close(self) -> None:
        self.stream.close()


def _status_error(stream: HTTPStream, url: str) -> HTTPStatusError:
    try:
        body = stream.read_all(ERROR_BODY_LIMIT).decode("utf-8", errors="replace")
    except (StreamFailure, OSError):
        body = ""
    retry_after: float | None = None
    value = stream.headers.get("Retry-After")
    if value:
        try:
            retry_after = float(value)
        except ValueError:
            retry_after = None
    return HTTPStatusError(stream.status, stream.reason or "", url, body, retry_after)
