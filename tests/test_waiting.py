"""Tests for aish.waiting: a renderer's count of a wait for the first text (decision 101)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from aish import WaitCount


def _until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.005)
    return check()


def _counting() -> bool:
    return any(t.name == "aish-wait-count" for t in threading.enumerate())


def test_counts_from_after_on_every_every_until_stopped() -> None:
    calls: list[float] = []
    lock = threading.Lock()
    began = time.monotonic()
    count = WaitCount(lambda s: calls.append(s) or True, lock, after=0.1, every=0.02)
    assert _until(lambda: len(calls) >= 3)
    assert calls[0] >= 0.1 and time.monotonic() - began >= 0.1
    assert calls == sorted(calls)
    count.stop()
    assert _until(lambda: not _counting())
    seen = len(calls)
    time.sleep(0.1)
    assert len(calls) == seen


def test_show_is_called_holding_the_lock() -> None:
    lock = threading.Lock()
    held: list[bool] = []
    with lock:  # the renderer feeds an event: no count meanwhile
        count = WaitCount(lambda s: held.append(lock.locked()) or True, lock, after=0.01, every=0.01)
        time.sleep(0.1)
        assert held == []
    assert _until(lambda: len(held) >= 1)
    count.stop()
    assert all(held)


def test_show_saying_false_or_failing_ends_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    raised: list[object] = []
    monkeypatch.setattr(threading, "excepthook", raised.append)
    calls: list[float] = []
    WaitCount(lambda s: calls.append(s) and False, threading.Lock(), after=0.01, every=0.01)
    assert _until(lambda: len(calls) == 1 and not _counting())

    def broken(seconds: float) -> bool:
        raise OSError("the terminal is gone")

    WaitCount(broken, threading.Lock(), after=0.01, every=0.01)
    assert _until(lambda: not _counting())
    time.sleep(0.05)
    assert len(calls) == 1 and raised == []  # no traceback on the screen
