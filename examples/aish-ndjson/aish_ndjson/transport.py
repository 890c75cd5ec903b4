"""The ``ndjson`` transport: one TCP connection per stream, one JSON message per line.

``url`` is ``tcp://HOST:PORT``. The request's body (from the codec) is sent as
one line, or the codec's resume line when the stream layer resumes after
``last_event_id``. Every received line is a :class:`aish.WireMessage`;
silence longer than the agent's ``idle_timeout`` is an :class:`aish.IdleTimeout`,
a hang-up mid-answer a :class:`aish.ConnectionFailure` (which the stream layer
resumes when the server tags its lines).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

from aish import (
    AgentConfig,
    ConfigError,
    ConnectionFailure,
    IdleTimeout,
    MalformedEvent,
    Request,
    WireItem,
    WireMessage,
)

MAX_LINE = 1 << 20


class NDJSONTransport:
    """Opens one TCP connection per stream for an agent."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    def open(self, request: Request) -> NDJSONConnection:
        url = request.url
        parts = urlsplit(url)
        if parts.scheme != "tcp" or not parts.hostname or parts.port is None:
            raise ConfigError(f"{self.agent.name}: invalid url {url!r} (the ndjson transport needs tcp://HOST:PORT)")
        try:
            sock = socket.create_connection((parts.hostname, parts.port), timeout=self.agent.connect_timeout)
        except OSError as exc:
            raise ConnectionFailure(f"cannot connect to {url}: {_reason(exc)}") from None
        first = request.body
        if request.last_event_id and request.control is not None:
            first = request.control.resume(request.body, request.last_event_id)
        try:
            sock.sendall(first + b"\n")
        except OSError as exc:
            sock.close()
            raise ConnectionFailure(f"cannot connect to {url}: {_reason(exc)}") from None
        return NDJSONConnection(sock, request, idle_timeout=self.agent.idle_timeout)

    def close(self) -> None:
        """Nothing is pooled: each connection closes its socket."""


class NDJSONConnection:
    """Iterates one batch per line; ``last_event_id`` as the codec's control reads ids."""

    def __init__(self, sock: socket.socket, request: Request, *, idle_timeout: float) -> None:
        self.sock = sock
        self.request = request
        self.idle_timeout = idle_timeout
        self._last_id = request.last_event_id or None
        self._cancelled = False
        self._closed = False

    @property
    def last_event_id(self) -> str | None:
        return self._last_id

    @property
    def retry_delay(self) -> float | None:
        return None

    def __iter__(self) -> Iterator[Sequence[WireItem]]:
        control = self.request.control
        self.sock.settimeout(self.idle_timeout)
        buffer = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                raise IdleTimeout(f"nothing arrived for {self.idle_timeout:g}s") from None
            except OSError as exc:
                if self._cancelled:
                    return
                raise ConnectionFailure(f"connection lost: {_lost(exc)}") from None
            if not chunk:
                if self._cancelled:
                    return
                raise ConnectionFailure("connection lost: the server closed the connection mid-answer")
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            if len(buffer) > MAX_LINE:
                raise MalformedEvent(f"malformed event data: a line longer than {MAX_LINE} bytes")
            batch: list[WireItem] = []
            for raw in lines:
                data = raw.decode("utf-8", errors="replace").strip()
                if not data:
                    continue
                mid = control.message_id(data) if control is not None else None
                if mid:
                    self._last_id = mid
                batch.append(WireMessage(data, id=mid))
            if batch:
                yield batch

    def cancel(self) -> None:
        """Ask the server to stop, then unblock the reading loop."""
        self._cancelled = True
        self._send_cancel()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if not self._cancelled:
            self._send_cancel()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def _send_cancel(self) -> None:
        control = self.request.control
        message = control.cancel() if control is not None else None
        if message is not None:
            with contextlib.suppress(OSError):
                self.sock.settimeout(0.2)
                self.sock.sendall(message + b"\n")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__


def _lost(exc: BaseException) -> str:
    if isinstance(exc, ConnectionResetError):
        return "the server reset the connection"
    return str(exc) or type(exc).__name__
