"""The liveness watchdog: one small thread per connection, awake once per idle period.

The consumer marks when it starts waiting for a batch and when the batch
arrives; the watchdog sleeps until the moment the current wait would exceed
``idle`` seconds, checks, and either sleeps again (something arrived) or
cancels the connection, which the wrapper then reports as ``IdleTimeout``,
naming what the connection names (its ``where``, when it has one: the SSE
transport's names the proxy too), else the request's URL, credentials as ``***``.
The hot path pays two clock reads per batch, never per event.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from aish import Connection, IdleTimeout, Request, StreamFailure, WireItem, shown_url


class LivenessWatchdog:
    """A stream extension: wraps each connection in a :class:`WatchedConnection`."""

    def __init__(self, idle: float) -> None:
        self.idle = idle

    def wrap(self, connection: Connection, request: Request) -> Connection:
        return WatchedConnection(connection, self.idle, request.url)

    def __repr__(self) -> str:
        return f"LivenessWatchdog(idle={self.idle:g})"


class WatchedConnection:
    """A connection declared dead after ``idle`` seconds of waiting with nothing arriving."""

    def __init__(self, inner: Connection, idle: float, url: str = "") -> None:
        self.inner = inner
        self.idle = idle
        self.url = url
        self.expired = False
        self._since: float | None = None  # when the consumer began waiting; None while it works
        self._cond = threading.Condition()
        self._running = False
        self._thread: threading.Thread | None = None

    def __iter__(self) -> Iterator[Sequence[WireItem]]:
        self._start()
        clock = time.monotonic
        batches = iter(self.inner)
        try:
            while True:
                self._since = clock()
                try:
                    batch = next(batches)
                except StopIteration:
                    break
                except StreamFailure as exc:
                    if self.expired:
                        raise self._timeout() from exc
                    raise
                finally:
                    self._since = None
                yield batch
            if self.expired:
                raise self._timeout()
        finally:
            self._stop()

    def _timeout(self) -> IdleTimeout:
        where = getattr(self.inner, "where", None) or shown_url(self.url)
        return IdleTimeout(
            f"{where}: nothing arrived for {self.idle:g}s" if where else f"nothing arrived for {self.idle:g}s"
        )

    def _start(self) -> None:
        with self._cond:
            if self._running:
                return
            self._running = True
        self._thread = threading.Thread(target=self._watch, name="aish-heartbeat", daemon=True)
        self._thread.start()

    def _stop(self) -> None:
        with self._cond:
            self._running = False
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        # not alive: never started, or a signal (SIGTERM in ``aish --test``) interrupted its start,
        # where join would raise RuntimeError over the signal's exception
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(1.0)

    def _watch(self) -> None:
        clock, idle = time.monotonic, self.idle
        with self._cond:
            while self._running:
                since = self._since
                now = clock()
                if since is not None and now - since >= idle:
                    self.expired = True
                    break
                self._cond.wait(idle if since is None else since + idle - now)
        if self.expired:
            self.inner.cancel()

    # -- the rest of the Connection contract, and what the stream layer reads
    def cancel(self) -> None:
        self.inner.cancel()

    def close(self) -> None:
        self._stop()
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
