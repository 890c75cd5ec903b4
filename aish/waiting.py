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
    ) -> None:
        """``after``: :data:`AFTER` when None; ``every``: :data:`EVERY` when None; ``begins``: seconds
        from now when the wait begins (a ``Retrying`` stage asks again after its delay)."""
        self._show = show
        self._lock = lock
        self._stopped = threading.Event()
        self._after = (AFTER if after is None else after) + begins
        self._every = EVERY if every is None else every
        self._clock = clock
        self._began = clock() + begins
        threading.Thread(target=self._count, name="aish-wait-count", daemon=True).start()

    def stop(self) -> None:
        """No more calls of ``show`` (one under way ends first, if the caller does not hold the lock)."""
        self._stopped.set()

    def _count(self) -> None:
        wait = self._after
        while not self._stopped.wait(wait):
            with self._lock:
                if self._stopped.is_set():
                    return
                try:
                    if not self._show(self._clock() - self._began):
                        return
                except Exception:  # the terminal is gone: the stream's own writes will say so
                    return
            wait = self._every


__all__ = ["AFTER", "EVERY", "WaitCount"]
