"""Counting a wait for a stream's first text, for renderers (decision 101).

A server loading its model, or one that hangs, sends nothing for seconds;
a renderer can count that wait on its status line. :class:`WaitCount` calls
the renderer back on a small daemon thread, from ``after`` seconds on, once
every ``every`` seconds, holding the renderer's lock, until the renderer
stops it (text came, the stream ended) or the callback says the wait is no
longer its to show::

    self._lock = threading.Lock()  # held by feed() too: the count never writes beside the answer
    self._count = WaitCount(self._show_wait, self._lock)

    def _show_wait(self, seconds: float) -> bool:
        if self._text_came:
            return False  # the count ends
        self.err.write(f"\\r\\x1b[K[Waiting - {seconds:.0f}s] ")
        return True
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

AFTER = 2.0
"""Seconds without text before a wait is counted."""
EVERY = 1.0
"""Seconds between two counts."""


class WaitCount:
    """Calls ``show(seconds since the count began)`` on a thread of its own, holding ``lock``, from
    ``after`` seconds on, every ``every`` seconds, until :meth:`stop` or until ``show`` returns False."""

    def __init__(
        self,
        show: Callable[[float], bool],
        lock: Any,
        *,
        after: float | None = None,
        every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        begins: float = 0.0,
        start: bool = True,
    ) -> None:
        """``after``: :data:`AFTER` when None; ``every``: :data:`EVERY` when None; ``begins``: seconds
        from now when the wait begins; ``start``: False counts nothing until :meth:`restart` (a
        renderer makes its count once, and counts each stream's wait with it)."""
        self._show = show
        self._lock = lock
        self._after = AFTER if after is None else after
        self._every = EVERY if every is None else every
        self._clock = clock
        self._stopped = threading.Event()
        self._stopped.set()
        if start:
            self.restart(begins)

    @property
    def after(self) -> float:
        """Seconds of a wait before the first call of ``show``."""
        return self._after

    @property
    def counting(self) -> bool:
        """Whether a wait is being counted: started, not stopped, and ``show`` has not said False."""
        return not self._stopped.is_set()

    def restart(self, begins: float = 0.0) -> None:
        """Count a new wait, beginning ``begins`` seconds from now (a ``Retrying`` stage asks again
        after its delay); the count under way, if any, stops."""
        self._stopped.set()
        stopped = self._stopped = threading.Event()
        began = self._clock() + begins
        threading.Thread(
            target=self._count, args=(stopped, began, self._after + begins), name="aish-wait-count", daemon=True
        ).start()

    def stop(self) -> None:
        """No more calls of ``show`` (one under way ends first, if the caller does not hold the lock)."""
        self._stopped.set()

    def _count(self, stopped: threading.Event, began: float, wait: float) -> None:
        while not stopped.wait(wait):
            with self._lock:
                if stopped.is_set():
                    return
                try:
                    if not self._show(self._clock() - began):
                        stopped.set()
                        return
                except Exception:  # the terminal is gone: the stream's own writes will say so
                    stopped.set()
                    return
            wait = self._every


__all__ = ["AFTER", "EVERY", "WaitCount"]
