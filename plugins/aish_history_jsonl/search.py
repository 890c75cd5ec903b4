"""``history search`` on the JSONL backend: candidates from the search cache, results from the file.

The cache (:mod:`aish_history_jsonl.cache`) is brought up to date, then
scanned backwards (newest runs first) for one key: a whole term, or a
single byte of one (``rfind`` of one byte is ``memrchr``, ten to twenty
times faster than a search for a short word, so the ``|`` of ``a|b`` or a
letter rare in the history make the best keys). The key is chosen by what
scanning for it would cost on the newest megabyte of entries. A line holding
the key is checked for every term; a line holding them all is confirmed by
folding its run from the JSONL file and calling :func:`aish.run_matches`, so
the cache only picks candidates and never decides a match. The scan stops
once it holds ``limit`` matches newer than anything left to read. Runs not in
the cache (running at the last update, or past it in the file) are folded
and checked directly.

When the cache cannot be used (a read-only directory, a full disk) the
search reads the whole file instead (:func:`aish_history_jsonl.read.scan`):
slower, never an error because of the cache.
"""

from __future__ import annotations

import heapq
import mmap
import os
from collections.abc import Sequence
from pathlib import Path

from aish import RunRecord, run_matches, search_terms
from aish_history_jsonl import cache
from aish_history_jsonl.read import fold_from, scan

SAMPLE = 1 << 20
"""Bytes of the newest entries on which each possible key is tried."""
CAP = 32
"""Hits after which a key's density on the sample is known well enough."""
BYTE_NS, FIND_NS, HIT_NS = 0.05, 0.5, 1500.0
"""Measured costs: scanning a byte for one byte (memrchr), for a longer key, and checking a line."""
PREFIX = 96
"""Enough bytes for an entry's four numbers and their spaces."""
WINDOW = 256 << 10
"""Bytes of entries scanned per ``rfind``; pages above the window are then given back
(``MADV_DONTNEED``), so a search's memory does not grow with the history's size. Small,
because the kernel maps more than the pages touched (a whole large folio of the page cache):
4 MiB windows peaked 9 MiB higher over 100,000 runs than over 10,000, 256 KiB windows 0.3 MiB,
at about the same speed (1 MiB: 2 MiB higher; 64 KiB: 0.1 MiB, but 40% slower)."""
_DROP = getattr(mmap, "MADV_DONTNEED", None)


def search(path: Path, text: str, limit: int) -> list[RunRecord]:
    terms = search_terms(text)
    if not terms or limit <= 0:
        return []
    try:
        main = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return []
    try:
        found = _cached(path, main, terms, limit)
    finally:
        os.close(main)
    return found if found is not None else scan(path, text, limit)


def _cached(path: Path, main: int, terms: Sequence[str], limit: int) -> list[RunRecord] | None:
    """The search through the cache; None when the cache cannot be opened or brought up to date."""
    try:
        fd = cache.acquire(cache.cache_path(path))
    except OSError:
        return None
    try:
        try:
            state = cache.refresh(fd, main)
        except (OSError, cache.Stale):
            return None
        return _search(fd, main, state, terms, limit)
    finally:
        os.close(fd)  # releases the lock


class _Best:
    """The ``limit`` highest-numbered runs offered so far."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.runs: dict[int, RunRecord] = {}
        self.heap: list[int] = []

    def add(self, run: RunRecord) -> None:
        self.runs[run.number] = run
        heapq.heappush(self.heap, run.number)
        if len(self.runs) > self.limit:
            del self.runs[heapq.heappop(self.heap)]

    def beats(self, number: int) -> bool:
        """Are all ``limit`` runs held newer than run ``number``?"""
        return len(self.runs) >= self.limit and number < self.heap[0]

    def result(self) -> list[RunRecord]:
        return [self.runs[n] for n in sorted(self.runs)]


def _search(fd: int, main: int, state: cache.State, terms: Sequence[str], limit: int) -> list[RunRecord]:
    best = _Best(limit)
    unread = cache.unread(main, state)
    for run in unread.result():
        if run_matches(run, terms):
            best.add(run)
    if state.body:
        with mmap.mmap(fd, state.body, access=mmap.ACCESS_READ) as entries:
            _scan(entries, state.body, unread.deleted, main, terms, best)
    return best.result()


def _scan(entries: mmap.mmap, size: int, deleted: set[int], main: int, terms: Sequence[str], best: _Best) -> None:
    needles = [cache.needle(term) for term in terms]
    key = _cheapest(entries, size, needles)
    pos = size
    kept = size  # the pages from here on were given back
    while (hit := _rfind(entries, key, pos)) >= 0:
        start = pos = entries.rfind(b"\n", 0, hit) + 1
        if kept - start > 2 * WINDOW:
            kept = _give_back(entries, start + WINDOW, kept)
        fields = entries[start : start + PREFIX].split(b" ", 4)[:4]
        try:
            number, begin, end, last = (int(f) for f in fields)
        except ValueError:
            continue  # not an entry: the cache is damaged, and the results will be confirmed anyway
        if best.beats(last):
            return  # every entry from here back is older than the matches held
        if number in deleted or number in best.runs:
            continue
        text, stop = start + sum(map(len, fields)) + 4, entries.find(b"\n", hit)
        if any(entries.find(n, text, stop) < 0 for n in needles):
            continue
        run = _confirm(main, begin, end, number)
        if run is not None and run_matches(run, terms):
            best.add(run)


def _rfind(entries: mmap.mmap, key: bytes, pos: int) -> int:
    """``entries.rfind(key, 0, pos)``, a window at a time (see WINDOW)."""
    kept = pos
    while pos > 0:
        low = max(0, pos - WINDOW)
        hit = entries.rfind(key, low, pos)
        if hit >= 0 or low == 0:
            return hit
        pos = low + min(len(key) - 1, WINDOW // 2)  # a key across the window's edge: in the next window
        if kept - pos > 2 * WINDOW:
            kept = _give_back(entries, pos + WINDOW, kept)
    return -1


def _give_back(entries: mmap.mmap, start: int, end: int) -> int:
    """Drop the mapped pages in [start, end) from this process (they stay in the page cache)."""
    start -= start % mmap.PAGESIZE
    if _DROP is not None and end > start:
        entries.madvise(_DROP, start, end - start)
    return start


def _confirm(main: int, begin: int, end: int, number: int) -> RunRecord | None:
    """Run ``number`` folded from its records in the JSONL file (None if they are not there)."""
    data = os.pread(main, max(0, end - begin), begin)
    run = fold_from(data, 0)
    return run if run is not None and run.number == number else None


def _cheapest(entries: mmap.mmap, size: int, needles: Sequence[bytes]) -> bytes:
    """The key whose scan costs least: each term whole, and each byte of each term."""
    low = max(0, size - SAMPLE)
    keys = sorted({*needles, *(bytes([b]) for n in needles for b in n)}, key=lambda k: (-len(k), k))
    return min(keys, key=lambda k: _cost(entries, k, low, size))


def _cost(entries: mmap.mmap, key: bytes, low: int, high: int) -> float:
    """Nanoseconds per byte of entries to scan for ``key``, from its hits (a line counts once) near the end."""
    hits, pos = 0, high
    while hits < CAP and (hit := entries.rfind(key, low, pos)) >= 0:
        hits += 1
        pos = max(low, entries.rfind(b"\n", low, hit) + 1)
    span = high - pos if hits >= CAP else high - low
    density = hits / span if span > 0 else 1.0
    return (BYTE_NS if len(key) == 1 else FIND_NS) + density * HIT_NS
