"""Tests for aish.waiting: a renderer's count of a wait for the first text (decision 101)."""

from __future__ import annotations

import threading
import time

import pytest
from terminal import eventually, thread_running

from aish import WaitCount


def test_counts_from_after_on_every_every_until_stopped() -> None:
    calls: list[float] = []
    lock = threading.Lock()
    began = time.monotonic()
    count = WaitCount(lambda s: calls.append(s) or True, lock, after=0.1, every=0.02)
    assert eventually(lambda: len(calls) >= 3)
    assert calls[0] >= 0.1 and time.monotonic() - began >= 0.1
    assert calls == sorted(calls)
    count.stop()
    assert eventually(lambda: not thread_running("aish-wait-count"))
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
    assert eventually(lambda: len(held) >= 1)
    count.stop()
    assert all(held)


def test_show_saying_false_or_failing_ends_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    raised: list[object] = []
    monkeypatch.setattr(threading, "excepthook", raised.append)
    calls: list[float] = []
    WaitCount(lambda s: calls.append(s) and False, threading.Lock(), after=0.01, every=0.01)
    assert eventually(lambda: len(calls) == 1 and not thread_running("aish-wait-count"))

    def broken(seconds: float) -> bool:
        raise OSError("the terminal is gone")

    WaitCount(broken, threading.Lock(), after=0.01, every=0.01)
    assert eventually(lambda: not thread_running("aish-wait-count"))
    time.sleep(0.05)
    assert len(calls) == 1 and raised == []  # no traceback on the screen


def test_a_wait_that_begins_later_is_counted_from_its_beginning() -> None:
    """``begins``: a stage that waits to ask again (``Retrying``) is not waiting for its answer yet."""
    seconds: list[float] = []
    count = WaitCount(lambda s: seconds.append(s) or True, threading.Lock(), after=0.05, every=0.05, begins=0.3)
    time.sleep(0.2)
    assert seconds == []
    assert eventually(lambda: len(seconds) >= 2)
    count.stop()
    assert 0.0 < seconds[0] < 0.25  # from the wait's beginning, not from the count's start


def test_a_count_made_unstarted_counts_each_wait_it_is_restarted_for() -> None:
    """A renderer makes its count once (``start=False``) and restarts it per stream and after a retry:
    the wait under way stops, the new one is counted from its own beginning."""
    seconds: list[float] = []
    count = WaitCount(lambda s: seconds.append(s) or True, threading.Lock(), after=0.05, every=0.05, start=False)
    time.sleep(0.15)
    assert seconds == [] and not count.counting
    count.restart()
    assert count.counting and eventually(lambda: len(seconds) >= 2)
    count.restart(begins=0.3)  # the first count stops; the new one begins later
    seen = len(seconds)
    time.sleep(0.2)
    assert len(seconds) == seen
    assert eventually(lambda: len(seconds) > seen) and seconds[seen] < 0.25
    count.stop()
    assert not count.counting and eventually(lambda: not thread_running("aish-wait-count"))
    ended = WaitCount(lambda s: False, threading.Lock(), after=0.01, every=0.01)
    assert eventually(lambda: not ended.counting)  # show said False: the count ended
