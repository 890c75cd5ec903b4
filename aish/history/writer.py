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
import time
from collections.abc import Callable
from typing import Any

from aish.contracts import HistoryBackend

Args = tuple[Any, ...] | Callable[[], tuple[Any, ...]]
Call = tuple[str, Args]
"""(method name, arguments, or the function that makes them where the call is applied)."""


LINGER = 0.1
"""Seconds a queued call waits for the ones after it before the thread applies them all."""
POLL = 1.0
"""Seconds between the idle thread's looks at the queue while the store is in use (see :data:`WARM`)."""
WARM = 60.0
"""Seconds after its last batch that the idle thread goes on looking every :data:`POLL` seconds: the
start of a run typed meanwhile need not wake it."""


class Writer:
    """Applies queued backend calls on a daemon thread, started by the first :meth:`submit`.

    Calls are applied in batches, at most ``linger`` seconds after the first
    of a batch was queued, at once when somebody waits (:meth:`sync`,
    :meth:`close`): a run's beginning (its run and first stage) and the text
    of the next 100 ms become one wake-up of the thread, not several in the
    middle of a stream, where each would take the GIL from the thread reading
    it. The very first batch goes at once: it opens the store (SQLite reads
    its schema), work that runs beside the stream while it starts.

    While the thread looks at the queue every ``poll`` seconds, which it does
    for ``warm`` seconds after each batch, only a stage's text and a run's end
    wake it: a line typed then starts, and its stages end, without a thread
    switch in the middle of the run (decision 103). A request that hangs
    before its first token is on disk at the next look, within about a
    second. After ``warm`` quiet seconds the thread sleeps until any call wakes it.
    """

    def __init__(
        self,
        open_backend: Callable[[], HistoryBackend],
        *,
        linger: float = LINGER,
        poll: float = POLL,
        warm: float = WARM,
    ) -> None:
        self._open = open_backend
        self.linger = linger
        self.poll = poll
        self.warm = warm
        self._calls: list[Call] = []
        self._cond = threading.Condition()
        self._busy = False
        self._waiters = 0
        """Threads in :meth:`sync`: the batch goes at once."""
        self._closing = False
        self._idle: str | None = None
        """How the thread waits for a first call: :data:`_POLLING` (only the calls in :data:`_WAKE`
        wake it), :data:`_ASLEEP` (any call does) or None (none does: it lingers, or applies a
        batch). A wake-up in the middle of a stream takes the GIL from the thread reading it."""
        self._thread: threading.Thread | None = None
        self.failure: BaseException | None = None
        self._late: list[Call] = []
        """Ends of stages and runs submitted after the failure: tried once more at close."""

    def submit(self, method: str, *args: Any) -> None:
        self._submit(method, args)

    def submit_later(self, method: str, make: Callable[[], tuple[Any, ...]]) -> None:
        """Queue ``method`` with the arguments ``make`` returns, called on the thread as the call is
        applied: a record is made off the run's thread."""
        self._submit(method, make)

    def idle(self) -> None:
        """The run waits (a request sent, a program started): nothing to do, the thread writes on its own."""

    def _submit(self, method: str, args: Args) -> None:
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
            elif self._idle is _ASLEEP or (self._idle is _POLLING and method in _WAKE):
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
        applied = time.monotonic()
        while True:
            with self._cond:
                woken = self._wait_for_calls(applied)
                if not self._calls:
                    break
                if backend is not None and woken:  # the first batch, and one the thread found, go at once
                    self._cond.wait_for(lambda: self._waiters or self._closing, self.linger)
                calls, self._calls = _merge(self._calls), []
                self._busy = True
            try:
                if self.failure is None:
                    backend = backend or self._open()
                    for method, args in calls:
                        getattr(backend, method)(*_made(args))
            except Exception as exc:  # a store or plugin failure must never reach a run
                with self._cond:
                    self.failure = exc
                    self._late = [call for call in calls if call[0] in _ENDS]
            finally:
                applied = time.monotonic()
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
        if self._late:  # best effort: the failure stays what is reported
            with contextlib.suppress(Exception):
                backend = backend or self._open()
                for method, args in self._late:
                    getattr(backend, method)(*_made(args))
        if backend is not None:
            try:
                backend.close()
            except Exception as exc:
                self.failure = self.failure or exc

    def _wait_for_calls(self, applied: float) -> bool:
        """Wait, holding the condition, until there are calls or the writer closes (``applied``:
        when the last batch was); False: the calls were found by a look at the queue, not a wake-up."""
        try:
            while not (self._calls or self._closing):
                quiet = time.monotonic() - applied
                if quiet >= self.warm:
                    self._idle = _ASLEEP
                    self._cond.wait()
                else:
                    self._idle = _POLLING
                    if not self._cond.wait(min(self.poll, self.warm - quiet)) and self._calls:
                        return False
            return True
        finally:
            self._idle = None


_ENDS = frozenset({"end_stage", "end_run"})
_WAKE = frozenset({"append_text", "end_run"})
"""The calls that wake the thread while it polls: a stage's text, and the end of a run."""
_POLLING = "polling"
_ASLEEP = "asleep"


def _made(args: Args) -> tuple[Any, ...]:
    return args() if callable(args) else args


def _merge(calls: list[Call]) -> list[Call]:
    """Join consecutive ``append_text`` calls for the same stage into one."""
    merged: list[Call] = []
    for method, args in calls:
        last = merged[-1][1] if merged and merged[-1][0] == method == "append_text" else None
        if isinstance(last, tuple) and isinstance(args, tuple) and last[:2] == args[:2]:  # append_text is never later
            run_id, index, text = last
            merged[-1] = (method, (run_id, index, text + args[2]))
        else:
            merged.append((method, args))
    return merged
