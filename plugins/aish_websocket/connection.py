"""One WebSocket stream: its own receive loop, pings on an interval, close codes in aish's terms.

The loop reads whatever bytes have arrived (up to 64 KiB) with a socket
timeout that wakes it for the next ping or deadline; the messages they
complete (:mod:`.frames`) are one batch, so a fast stream costs one read and
one flush per many messages. websocket-client still opens the connection
(TLS, proxies, the handshake) and sends (pings, pongs, close, cancel).
While the server sends nothing, a ping goes out every
``ping_every`` seconds; a peer that answers neither it nor anything else
within another ``ping_every`` is dead (``ConnectionFailure``, so the stream
layer resumes). Data frames (and the server's own pings) are the stream's
liveness: ``idle_timeout`` without one is an ``IdleTimeout``. Pongs prove the
peer's network stack alive, not its answer, so they never hide a stall.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import websocket

from aish import (
    ConnectionFailure,
    IdleTimeout,
    MalformedEvent,
    RemoteError,
    Request,
    WireComment,
    WireItem,
    WireMessage,
    shown_url,
)
from aish_websocket.frames import BINARY, CLOSE, PING, TEXT, FrameError, FrameReader

CANCEL_SEND_TIMEOUT = 0.2
"""How long ``cancel``/``close`` may block sending the cancel message."""

READ_SIZE = 65536
"""Bytes asked of one read: every frame they complete is one batch."""

RETRYABLE_CLOSE = {1001: "going away", 1006: "abnormal closure", 1011: "internal error", 1012: "service restart",
                   1013: "try again later", 1014: "bad gateway"}  # fmt: skip
FATAL_CLOSE = {1002: "protocol error", 1003: "unsupported data", 1007: "invalid data", 1008: "policy violation",
               1009: "message too big", 1010: "extension required"}  # fmt: skip


def ping_interval(idle_timeout: float) -> float:
    """Seconds of quiet before a ping: a third of ``idle_timeout`` (0.05 to 20), so a dead peer is
    found within two thirds of the bound."""
    return min(max(idle_timeout / 3, 0.05), 20.0)


def close_failure(code: int | None, reason: str) -> ConnectionFailure | RemoteError | None:
    """The failure a close frame means: None for a normal close (1000, or no code)."""
    if code is None or code == 1000:
        return None
    name = RETRYABLE_CLOSE.get(code) or FATAL_CLOSE.get(code) or ("application" if code >= 3000 else "unknown")
    detail = f"{code} {name}" + (f": {reason}" if reason else "")
    if code in RETRYABLE_CLOSE:
        return ConnectionFailure(f"connection lost: the server closed the connection ({detail})")
    return RemoteError(f"the server closed the connection: {detail}")


class WebSocketConnection:
    """Iterates one batch per text message; ``last_event_id`` as the codec's control reads ids."""

    def __init__(
        self,
        ws: websocket.WebSocket,
        request: Request,
        *,
        idle_timeout: float,
        ping_every: float,
        release: Callable[[websocket.WebSocket], None] | None = None,
    ) -> None:
        self.ws = ws
        self.release = release
        """Session mode: takes the socket back after a finished answer, instead of closing it."""
        self._finished = False
        self.request = request
        self.idle_timeout = idle_timeout
        self.ping_every = ping_every
        self._last_id = request.last_event_id or None
        self._cancelled = False
        self._peer_closed = False
        self._closed = False
        self._frames = FrameReader()
        self.pings = 0
        """Pings sent (for tests)."""

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
        ws, idle, every = self.ws, self.idle_timeout, self.ping_every
        control = self.request.control
        message_id = control.message_id if control is not None else None
        is_end: Callable[[str], bool] | None = getattr(control, "is_end", None) if self.release else None
        feed = self._frames.feed
        clock = time.monotonic
        last_data = quiet_since = clock()
        ping_sent: float | None = None
        while True:
            now = clock()
            if now - last_data >= idle:
                raise IdleTimeout(f"{self.where}: nothing arrived for {idle:g}s")
            if ping_sent is not None and now - ping_sent >= every:
                raise ConnectionFailure(f"connection lost: no answer to a ping for {every:g}s")
            if ping_sent is None and now - quiet_since >= every:
                self._ping()
                ping_sent = now
            due = (ping_sent if ping_sent is not None else quiet_since) + every
            ws.settimeout(max(min(due, last_data + idle) - now, 0.001))
            try:
                frames = feed(websocket.recv(cast(socket.socket, ws.sock), READ_SIZE))  # None: raises closed
            except websocket.WebSocketTimeoutException:
                continue
            except FrameError as exc:
                raise ConnectionFailure(f"connection lost: {exc}") from None
            except (websocket.WebSocketException, OSError) as exc:
                if self._cancelled:
                    return
                raise ConnectionFailure(f"connection lost: {_lost(exc)}") from None
            quiet_since = clock()  # any bytes prove the connection
            ping_sent = None
            if not frames:
                continue  # part of a message: wait for the rest
            batch: list[WireItem] = []
            for opcode, payload in frames:
                if opcode == TEXT:
                    try:
                        data = payload.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        yield from _pending(batch)
                        raise MalformedEvent(f"malformed event data: cannot decode: {payload[:80]!r}: {exc}") from None
                    mid = message_id(data) if message_id is not None else None
                    if mid:
                        self._last_id = mid
                    if is_end is not None:  # finished only if nothing followed the end message
                        self._finished = is_end(data)
                    batch.append(WireMessage(data, "message", mid))
                elif opcode == PING:
                    self._pong(payload)
                    batch.append(WireComment("ping"))
                elif opcode == CLOSE:
                    yield from _pending(batch)
                    self._peer_closed = True
                    with contextlib.suppress(websocket.WebSocketException, OSError):
                        ws.send_close()  # the closing handshake's answer, as websocket-client gives it
                    failure = _close_failure(payload)
                    if failure is not None:
                        raise failure
                    return
                elif opcode == BINARY:
                    yield from _pending(batch)
                    raise MalformedEvent("malformed event data: a binary message")
            if batch:  # text and the server's pings are liveness; pongs only prove the connection
                last_data = quiet_since
                yield batch

    def _pong(self, payload: bytes) -> None:
        try:
            self.ws.pong(payload)
        except (websocket.WebSocketException, OSError) as exc:
            raise ConnectionFailure(f"connection lost: {_lost(exc)}") from None

    def _ping(self) -> None:
        try:
            self.ws.ping()
        except (websocket.WebSocketException, OSError) as exc:
            raise ConnectionFailure(f"connection lost: {_lost(exc)}") from None
        self.pings += 1

    def cancel(self) -> None:
        """Ask the server to stop generating, then unblock the receive loop."""
        self._cancelled = True
        self._send_cancel()
        sock = self.ws.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Tell the server to stop (an answer that ended makes it a no-op) and close the socket."""
        if self._closed:
            return
        self._closed = True
        reusable = (
            self._finished and not (self._cancelled or self._peer_closed or self._frames.buffered) and self.ws.connected
        )
        if self.release is not None and reusable:
            self.release(self.ws)  # session mode: the answer ended, keep the connection
            return
        if not self._cancelled:
            self._send_cancel()
        if not self._peer_closed and self.ws.connected:
            with contextlib.suppress(websocket.WebSocketException, OSError):
                self.ws.send_close()
        shutdown_socket(self.ws)

    def _send_cancel(self) -> None:
        control = self.request.control
        message = control.cancel() if control is not None and not self._peer_closed else None
        if message is None or not self.ws.connected:
            return
        with contextlib.suppress(websocket.WebSocketException, OSError, ValueError):
            self.ws.settimeout(CANCEL_SEND_TIMEOUT)
            self.ws.send(message.decode("utf-8"))


def _pending(batch: list[WireItem]) -> Iterator[Sequence[WireItem]]:
    """The messages before a close or a bad frame, as their own batch (they arrived first)."""
    if batch:
        yield batch


def _close_failure(data: bytes | str) -> ConnectionFailure | RemoteError | None:
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) < 2:
        return None
    reason = raw[2:].decode("utf-8", errors="replace")
    return close_failure(int.from_bytes(raw[:2], "big"), reason)


def _lost(exc: BaseException) -> str:
    if isinstance(exc, ConnectionResetError):
        return "the server reset the connection"
    if isinstance(exc, websocket.WebSocketConnectionClosedException):
        return "the server closed the connection mid-answer"
    return str(exc) or type(exc).__name__


def shutdown_socket(ws: websocket.WebSocket) -> None:
    """Close the socket at once (websocket-client's ``shutdown``, which is untyped)."""
    cast(Any, ws).shutdown()
