"""A background thread that applies history writes, so a slow or locked store never slows a stream.

Writes are queued as calls of :class:`~aish.contracts.HistoryBackend` methods
and applied in order by one thread, which opens the backend on first use.
Consecutive ``append_text`` calls for the same stage are merged, so a store
that falls behind catches up in one write. The first failure stops recording:
it is kept in :attr:`Writer.failure` for the caller to report, and later
writes are dropped, except the ends of stages and runs: :meth:`Writer.close`
tries those once more (a stage's end carries its whole text), so a store
that was only briefly unwritable (locked, or a disk that had space again)
still records how each run ended, instead of leaving it ``running`` to be
read back as interrupted.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from aish.contracts import HistoryBackend

Call = tuple[str, tuple[Any, ...]]
"""(method name, arguments)."""


LINGER = 0.1
"""Seconds a queued call waits for the ones after it before the thread applies them all."""


class Writer:
    """Applies queued backend calls on a daemon thread, started by the first :meth:`submit`.

    Calls are applied in batches, at most ``linger`` seconds after the first
    of a batch was queued, at once when somebody waits (:meth:`sync`,
    :meth:`close`): a run's beginning (its run and first stage) and the text
    of the next 100 ms become one wake-up of the thread, not several in the
    middle of a stream, where each would take the GIL from the thread reading
    it. The very first batch goes at once: it opens the store (SQLite reads
    its schema), work that runs beside the stream while it starts.
    """

    def __init__(self, open_backend: Callable[[], HistoryBackend], *, linger: float = LINGER) -> None:
        self._open = open_backend
        self.linger = linger
        self._calls: list[Call] = []
        self._cond = threading.Condition()
        self._busy = False
        self._waiters = 0
        """Threads in :meth:`sync`: the batch goes at once."""
        self._closing = False
        self._idle = False
        """The thread waits for a first call: only then does :meth:`submit` wake it (a wake-up in
        the middle of a stream takes the GIL from the thread reading it)."""
        self._thread: threading.Thread | None = None
        self.failure: BaseException | None = None
        self._late: list[Call] = []
        """Ends of stages and runs submitted after the failure: tried once more at close."""

    def submit(self, method: str, *args: Any) -> None:
        with self._cond:
            if self._closing:
                return
            if self.failure is not None:
                if method in _ENDS:
                    self._late.append((method, args))
                return
            self._calls.append((method, args))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="aish-history", daemon=True)
                self._thread.start()
            elif self._idle:
                self._cond.notify_all()

    def sync(self, timeout: float | None = None) -> bool:
        """Apply every submitted call now and wait until they are applied (or dropped); False on timeout."""
        with self._cond:
            self._waiters += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(lambda: not self._calls and not self._busy, timeout)
            finally:
                self._waiters -= 1

    def close(self, timeout: float | None = None) -> bool:
        """Apply what is queued, close the backend and stop the thread; False on timeout."""
        done = self.sync(timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout if done else 0)
        return done

    def _loop(self) -> None:
        backend: HistoryBackend | None = None
        while True:
            with self._cond:
                self._idle = True
                self._cond.wait_for(lambda: self._calls or self._closing)
                self._idle = False
                if not self._calls:
                    break
                if backend is not None:  # the first batch goes at once: opening the store overlaps the stream
                    self._cond.wait_for(lambda: self._waiters or self._closing, self.linger)
                calls, self._calls = _merge(self._calls), []
                self._busy = True
            try:
                if self.failure is None:
                    backend = backend or self._open()
                    for method, args in calls:
                        getattr(backend, method)(*args)
            except Exception as exc:  # a store or plugin failure must never reach a run
                with self._cond:
                    self.failure = exc
                    self._late = [call for call in calls if call[0] in _ENDS]
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
        if self._late:  # best effort: the failure stays what is reported
            with contextlib.suppress(Exception):
                backend = backend or self._open()
                for method, args in self._late:
                    getattr(backend, method)(*args)
        if backend is not None:
            try:
                backend.close()
            except Exception as exc:
                self.failure = self.failure or exc


_ENDS = frozenset({"end_stage", "end_run"})


def _merge(calls: list[Call]) -> list[Call]:
    """Join consecutive ``append_text`` calls for the same stage into one."""
    merged: list[Call] = []
    for method, args in calls:
        if method == "append_text" and merged and merged[-1][0] == "append_text" and merged[-1][1][:2] == args[:2]:
            run_id, index, text = merged[-1][1]
            merged[-1] = (method, (run_id, index, text + args[2]))
        else:
            merged.append((method, args))
    return merged
