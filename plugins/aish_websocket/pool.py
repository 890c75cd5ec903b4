"""Session mode: idle WebSocket connections kept open across turns, per agent and URL.

The pipeline makes a transport per stage, so the pool lives in the plugin and
outlives them; ``aish_shutdown`` closes it. A connection is returned only
after a finished answer (its end message seen, nothing cancelled or failed),
so the next request starts on a clean connection. A connection taken from the
pool is checked first: an idle socket with anything to read (the peer closed
it, or sent something unasked) is discarded and a new one is opened.
"""

from __future__ import annotations

import contextlib
import select
import threading
from typing import Any, cast

import websocket

MAX_IDLE = 4
"""Idle connections kept per agent and URL (parallel lanes of one agent may open several)."""

Key = tuple[str, str]


class SessionPool:
    """Idle connections by ``(agent name, url)``; thread-safe."""

    def __init__(self) -> None:
        self._idle: dict[Key, list[websocket.WebSocket]] = {}
        self._lock = threading.Lock()

    def take(self, key: Key) -> websocket.WebSocket | None:
        """An idle connection that still looks alive, or None."""
        while True:
            with self._lock:
                idle = self._idle.get(key)
                ws = idle.pop() if idle else None
            if ws is None:
                return None
            if _alive(ws):
                return ws
            _close(ws)

    def give(self, key: Key, ws: websocket.WebSocket) -> None:
        """Keep ``ws`` for the next turn (closed when the pool is full)."""
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < MAX_IDLE:
                idle.append(ws)
                return
        _close(ws)

    def idle(self, key: Key) -> int:
        """How many idle connections are kept for ``key``."""
        with self._lock:
            return len(self._idle.get(key, ()))

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            kept = [ws for idle in self._idle.values() for ws in idle]
            self._idle.clear()
        for ws in kept:
            _close(ws)


def _alive(ws: websocket.WebSocket) -> bool:
    sock = ws.sock
    if sock is None or not ws.connected:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _close(ws: websocket.WebSocket) -> None:
    with contextlib.suppress(websocket.WebSocketException, OSError):
        ws.send_close()
    with contextlib.suppress(OSError):
        cast(Any, ws).shutdown()


POOL = SessionPool()
"""The plugin's pool, for agents with ``session = true``."""
