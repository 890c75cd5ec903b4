"""Opening WebSocket connections: the handshake, the first message, and errors in aish's terms.

One synchronous ``websocket.WebSocket`` per stream (``WebSocketApp.run_forever``
retries on its own, without backoff, and would fight the stream layer). The
request's cancel token reaches a connection still in its TCP connect or
handshake. The handshake carries the request's headers; a refused upgrade
(an HTTP status) is an :class:`aish.HTTPStatusError`, like any HTTP answer.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Callable
from functools import partial
from typing import Any, cast

import websocket

from aish import AgentConfig, ConfigError, ConnectionFailure, HTTPStatusError, Request
from aish_websocket.connection import WebSocketConnection, ping_interval, shutdown_socket
from aish_websocket.pool import POOL

ERROR_BODY_LIMIT = 65536


class WebSocketTransport:
    """Opens one WebSocket connection per stream for an agent; with ``session``, reuses idle ones."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    def open(self, request: Request) -> WebSocketConnection:
        agent, url = self.agent, request.url
        if not url.startswith(("ws://", "wss://")):
            raise ConfigError(f"{agent.name}: invalid url {url!r} (the websocket transport needs ws:// or wss://)")
        release: Callable[[websocket.WebSocket], None] | None = None
        if agent.session:
            key = (agent.name, url)
            release = partial(POOL.give, key)
            reused = _reuse(POOL.take(key), _first_message(request))
            if reused is not None:
                return self._connection(reused, request, release)
        return self._connection(self._connect(request), request, release)

    def _connection(
        self, ws: websocket.WebSocket, request: Request, release: Callable[[websocket.WebSocket], None] | None
    ) -> WebSocketConnection:
        agent = self.agent
        interval = ping_interval(agent.idle_timeout)
        return WebSocketConnection(ws, request, idle_timeout=agent.idle_timeout, ping_every=interval, release=release)

    def _connect(self, request: Request) -> websocket.WebSocket:
        """A new connection with the request's first message sent."""
        agent, url = self.agent, request.url
        ws = websocket.WebSocket(enable_multithread=True, skip_utf8_validation=False)
        cancelled = False

        def cancel() -> None:
            nonlocal cancelled
            cancelled = True
            sock = ws.sock
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        unhook = request.cancel.on_cancel(cancel) if request.cancel is not None else None
        try:
            cast(Any, ws).connect(
                url, timeout=agent.connect_timeout, header=dict(request.headers), suppress_origin=True
            )
            ws.send(_first_message(request))
        except websocket.WebSocketBadStatusException as exc:
            shutdown_socket(ws)
            raise _status_error(exc, url) from None
        except (websocket.WebSocketException, OSError, ssl.SSLError) as exc:
            shutdown_socket(ws)
            reason = "cancelled" if cancelled else _reason(exc)
            raise ConnectionFailure(f"cannot connect to {url}: {reason}") from None
        except BaseException:
            shutdown_socket(ws)
            raise
        finally:
            if unhook is not None:
                unhook()  # from now on the stream layer cancels the connection itself
        if cancelled:
            shutdown_socket(ws)
            raise ConnectionFailure(f"cannot connect to {url}: cancelled")
        return ws

    def close(self) -> None:
        """Nothing to release: connections close (or, in session mode, return to the pool) themselves."""


def _first_message(request: Request) -> str:
    """The request, or on a reconnection the codec's resume message."""
    control, first = request.control, bytes(request.body)  # the same object: bytes (sends_pieces is not set)
    if request.last_event_id and control is not None:
        first = control.resume(first, request.last_event_id)
    return first.decode("utf-8")


def _reuse(ws: websocket.WebSocket | None, first: str) -> websocket.WebSocket | None:
    """``ws`` with ``first`` sent on it, or None (no idle connection, or it died while idle)."""
    if ws is None:
        return None
    try:
        ws.send(first)
    except (websocket.WebSocketException, OSError):
        shutdown_socket(ws)
        return None
    return ws


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror | websocket.WebSocketAddressException):
        return "unknown host"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed ({exc.reason or exc})"
    if isinstance(exc, TimeoutError | socket.timeout | websocket.WebSocketTimeoutException):
        return "timed out"
    return str(exc) or type(exc).__name__


def _status_error(exc: websocket.WebSocketBadStatusException, url: str) -> HTTPStatusError:
    raw = exc.resp_body or b""
    body = raw[:ERROR_BODY_LIMIT].decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
    headers = {str(k).lower(): str(v) for k, v in (exc.resp_headers or {}).items()}
    retry_after: float | None = None
    with contextlib.suppress(KeyError, ValueError):
        retry_after = float(headers["retry-after"])
    return HTTPStatusError(exc.status_code, exc.status_message or "", url, body, retry_after)
