"""``ByteStreamTransport``: a transport over one TCP connection per stream, framed by a subclass.

What every such transport repeats is here: parse ``scheme://HOST:PORT``, connect
within ``agent.connect_timeout``, send the request (or the codec's resume
message after a drop, ``Request.control.resume``), read with ``agent.idle_timeout``
as the idle limit, give each message the id the codec reads from it (so the
stream layer can resume), stop at once on ``cancel()`` from another thread
(sending the codec's cancel message first), and word every failure the way
the transport contract suite expects::

    class LinesTransport(ByteStreamTransport):
        scheme = "tcp"  # the default framing: one message per line

A subclass overrides :meth:`~ByteStreamTransport.split` and
:meth:`~ByteStreamTransport.frame` for another framing, and
:meth:`~ByteStreamTransport.connect` for TLS or a Unix socket.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Sequence
from typing import ClassVar
from urllib.parse import urlsplit

from aish.agents import AgentConfig, shown_url
from aish.contracts import Request
from aish.errors import ConfigError, ConnectionFailure, IdleTimeout, MalformedEvent
from aish.wire import WireItem, WireMessage


class ByteStreamTransport:
    """A :class:`aish.Transport`: one connection per stream to ``scheme://HOST:PORT``."""

    scheme: ClassVar[str] = "tcp"
    """The URL scheme the transport accepts."""
    max_message: ClassVar[int] = 1 << 20
    """A message longer than this many bytes is a :class:`aish.MalformedEvent`."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    # -- what a subclass may change ------------------------------------------------

    def split(self, buffer: bytes) -> tuple[list[bytes], bytes]:
        """Complete messages at the start of ``buffer``, and the bytes left over (default: lines)."""
        *messages, rest = buffer.split(b"\n")
        return messages, rest

    def frame(self, message: bytes) -> bytes:
        """``message`` as sent on the wire (default: a line)."""
        return message + b"\n"

    def connect(self, host: str, port: int, timeout: float) -> socket.socket:
        """An open socket to ``host:port`` (override for TLS, proxies...)."""
        return socket.create_connection((host, port), timeout=timeout)

    # -- the Transport contract ------------------------------------------------------

    def open(self, request: Request) -> ByteStreamConnection:
        url = request.url
        parts = urlsplit(url)
        if parts.scheme != self.scheme or not parts.hostname or parts.port is None:
            raise ConfigError(f"{self.agent.name}: invalid url {url!r} (expected {self.scheme}://HOST:PORT)")
        try:
            sock = self.connect(parts.hostname, parts.port, self.agent.connect_timeout)
        except OSError as exc:
            raise ConnectionFailure(f"cannot connect to {url}: {_reason(exc)}") from None
        first = bytes(request.body)  # the same object when it is bytes (a Body never reaches this transport)
        if request.last_event_id and request.control is not None:
            first = request.control.resume(first, request.last_event_id)
        try:
            sock.sendall(self.frame(first))
        except OSError as exc:
            sock.close()
            raise ConnectionFailure(f"cannot connect to {url}: {_reason(exc)}") from None
        return ByteStreamConnection(self, sock, request)

    def close(self) -> None:
        """Nothing is pooled: each connection closes its socket."""


class ByteStreamConnection:
    """One stream: iterates a batch of messages per read; resumable through the codec's ids."""

    def __init__(self, transport: ByteStreamTransport, sock: socket.socket, request: Request) -> None:
        self.transport, self.sock, self.request = transport, sock, request
        self.idle_timeout = transport.agent.idle_timeout
        self._last_id = request.last_event_id or None
        self._cancelled = self._closed = False

    @property
    def where(self) -> str:
        """What a failure names: the URL, credentials in it as ``***``."""
        return shown_url(self.request.url)

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
                raise IdleTimeout(f"{self.where}: nothing arrived for {self.idle_timeout:g}s") from None
            except OSError as exc:
                if self._cancelled:
                    return
                raise ConnectionFailure(f"connection lost: {_lost(exc)}") from None
            if not chunk:
                if self._cancelled:
                    return
                raise ConnectionFailure("connection lost: the server closed the connection mid-answer")
            messages, buffer = self.transport.split(buffer + chunk)
            if len(buffer) > self.transport.max_message:
                raise MalformedEvent(f"malformed event data: a message longer than {self.transport.max_message} bytes")
            batch: list[WireItem] = []
            for raw in messages:
                data = raw.decode("utf-8", errors="replace").strip()
                if data:
                    mid = control.message_id(data) if control is not None else None
                    self._last_id = mid or self._last_id
                    batch.append(WireMessage(data, id=mid))
            if batch:
                yield batch

    def cancel(self) -> None:
        """Ask the server to stop (the codec's cancel message), then unblock the reading loop."""
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
                self.sock.sendall(self.transport.frame(message))


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


__all__ = ["ByteStreamConnection", "ByteStreamTransport"]
