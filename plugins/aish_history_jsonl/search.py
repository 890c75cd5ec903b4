"""``history search`` on the JSONL backend: candidates from the search cache, results from the file.

The cache (:mod:`aish_history_jsonl.cache`) is brought up to date, then
its blocks are read backwards (newest runs first): the open block, then each
closed block whose trigram filter (:mod:`aish_history_jsonl.grams`) admits
every term; a block it turns away cannot hold a match and is not read. Each
block read is scanned backwards for one key: a whole term, or a
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

The cache is read with ``pread``, a piece of whole lines at a time (about
WINDOW bytes), into memory the search owns: a search holds one piece and the
sample, whatever the history's size. (It was a memory map whose pages were
given back behind the scan; but the kernel maps a whole large folio of the
page cache when one page of it is touched, so the resident size depended on
the page cache: 1-4 MiB more over 100,000 runs than over 10,000, for the
same speed.)

When the cache cannot be used (a read-only directory, a full disk) the
search reads the whole file instead (:func:`aish_history_jsonl.read.scan`):
slower, never an error because of the cache.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from aish import RunRecord, brief_of, run_matches, search_terms
from aish_history_jsonl import cache, grams
from aish_history_jsonl.lines import fold_range
from aish_history_jsonl.read import scan

SAMPLE = 1 << 20
"""Bytes of the newest entries on which each possible key is tried."""
CAP = 32
"""Hits after which a key's density on the sample is known well enough."""
BYTE_NS, FIND_NS, HIT_NS = 0.05, 0.5, 1500.0
"""Measured costs: scanning a byte for one byte (memrchr), for a longer key, and checking a line."""
PREFIX = 96
"""Enough bytes for an entry's four numbers and their spaces."""
WINDOW = 256 << 10
"""Bytes of entries read at a time (more for an entry longer than that: a run's whole answer)."""


def search(path: Path, text: str, limit: int, *, brief: bool = False) -> list[RunRecord]:
    """The ``limit`` newest runs matching ``text``, oldest first; ``brief``: without their inputs,
    which are then never read (the answers are, to confirm each match: decision 33)."""
    terms = search_terms(text)
    if not terms or limit <= 0:
        return []
    try:
        main = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return []
    try:
        found = _cached(path, main, terms, limit, brief)
    finally:
        os.close(main)
    if found is None:
        found = scan(path, text, limit)
    return [brief_of(run) for run in found] if brief else found


def _cached(path: Path, main: int, terms: Sequence[str], limit: int, brief: bool) -> list[RunRecord] | None:
    """The search through the cache; None when the cache cannot be opened or brought up to date."""
    try:
        fd = cache.acquire(cache.cache_path(path))
    except OSError:
        return None
    try:
        try:
            state = cache.refresh(fd, main)
            return _search(fd, main, state, terms, limit, brief)
        except (OSError, cache.Stale):
            return None
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


def _search(fd: int, main: int, state: cache.State, terms: Sequence[str], limit: int, brief: bool) -> list[RunRecord]:
    best = _Best(limit)
    unread, offsets = cache.unread(main, state)
    for run in unread.result():
        if run_matches(run, terms):
            best.add(run)
    if state.body:
        _scan(fd, state, unread.deleted, main, terms, best, brief)
    if brief:
        return best.result()
    size = os.fstat(main).st_size  # the runs not in entries were folded without inputs: read them whole
    return [_refold(main, offsets, run, size) for run in best.result()]


def _refold(main: int, offsets: dict[str, int], run: RunRecord, size: int) -> RunRecord:
    """``run`` with its inputs, if it was folded without them (it is not in the cache's entries)."""
    offset = offsets.get(run.id)
    whole = fold_range(main, offset, size) if offset is not None else None
    return whole if whole is not None and whole.number == run.number else run


def _blocks(state: cache.State) -> Iterator[tuple[int, int, int | None]]:
    """``(start, end, last)`` of each block's entries, newest first: the open block (``last`` None:
    unknown), then the closed ones (``end`` is where the block's filter line starts)."""
    yield state.open, state.body, None
    for k in range(len(state.blocks) - 1, -1, -1):
        end, last = state.blocks[k]
        yield (state.blocks[k - 1][0] + grams.LINE if k else 0), end, last


def _sample(fd: int, state: cache.State) -> bytearray:
    """About SAMPLE bytes of the newest entries (whole lines of the newest blocks, oldest first)."""
    spans: list[tuple[int, int]] = []
    held = 0
    for start, end, _last in _blocks(state):
        if held >= SAMPLE:
            break
        low = max(start, end - (SAMPLE - held))
        spans.append((low, end))
        held += end - low
    sample = bytearray(held)  # read in place: a list of pieces joined would hold the sample twice
    view, at = memoryview(sample), held
    for low, end in spans:
        at -= end - low
        if os.preadv(fd, [view[at : at + end - low]], low) != end - low:
            raise OSError("the search cache is shorter than its state line says")
    return sample


def _scan(
    fd: int, state: cache.State, deleted: set[int], main: int, terms: Sequence[str], best: _Best, brief: bool
) -> None:
    """Offer ``best`` every confirmed match among the cache's entries, newest first, until it needs no more."""
    needles = [cache.needle(term) for term in terms]
    key = _cheapest(_sample(fd, state), needles)
    wanted = grams.slots(needles)
    for start, end, last in _blocks(state):
        if last is not None:
            if best.beats(last):
                return  # every entry from here back is older than the matches held
            if wanted and not grams.admits(os.pread(fd, grams.LINE, end), wanted):
                continue
        if _scan_block(fd, start, end, key, needles, deleted, main, terms, best, brief):
            return


def _scan_block(
    fd: int,
    start: int,
    end: int,
    key: bytes,
    needles: Sequence[bytes],
    deleted: set[int],
    main: int,
    terms: Sequence[str],
    best: _Best,
    brief: bool,
) -> bool:
    """Offer ``best`` the confirmed matches among the entries ``fd[start:end]``, newest first; True
    once it needs no more."""
    for data, begin in _pieces(fd, start, end):
        pos = len(data)
        while (hit := data.rfind(key, begin, pos)) >= 0:
            start = pos = data.rfind(b"\n", 0, hit) + 1  # a piece starts at a line's start: never before begin
            fields = data[start : start + PREFIX].split(b" ", 4)[:4]
            try:
                number, first, end, last = (int(f) for f in fields)
            except ValueError:
                continue  # not an entry: the cache is damaged, and the results will be confirmed anyway
            if best.beats(last):
                return True  # every entry from here back is older than the matches held
            if number in deleted or number in best.runs:
                continue
            text, stop = start + sum(map(len, fields)) + 4, data.find(b"\n", hit)
            if any(data.find(n, text, stop) < 0 for n in needles):
                continue
            run = _confirm(main, first, end, number, brief)
            if run is not None and run_matches(run, terms):
                best.add(run)
    return False


def _pieces(fd: int, start: int, size: int) -> Iterator[tuple[bytes, int]]:
    """``fd[start:size]`` (whole lines) from its end backwards, about WINDOW bytes at a time.

    Yields ``(data, begin)``: the lines of the piece are ``data[begin:]``
    (what comes before ``begin`` is the end of a line that the next piece
    holds whole). A key has no newline, so none is cut by a piece's edge.
    """
    high = size
    while high > start:
        want = WINDOW
        while True:
            low = max(start, high - want)
            data = os.pread(fd, high - low, low)
            if len(data) != high - low:
                raise OSError(f"the search cache is {low + len(data)} bytes, not {size}")
            begin = 0 if low == start else data.find(b"\n", 0, len(data) - 1) + 1  # its last byte ends a line
            if begin or low == start:
                break
            want *= 4  # no whole line in the piece: read more of it
        yield data, begin
        high = low + begin


def _confirm(main: int, begin: int, end: int, number: int, brief: bool) -> RunRecord | None:
    """Run ``number`` folded from its records in the JSONL file (None if they are not there)."""
    run = fold_range(main, begin, end, brief=brief)
    return run if run is not None and run.number == number else None


def _cheapest(sample: bytes | bytearray, needles: Sequence[bytes]) -> bytes:
    """The key whose scan costs least (each term whole, and each byte of each term), tried on the newest entries."""
    keys = sorted({*needles, *(bytes([b]) for n in needles for b in n)}, key=lambda k: (-len(k), k))
    return min(keys, key=lambda k: _cost(sample, k))


def _cost(sample: bytes | bytearray, key: bytes) -> float:
    """Nanoseconds per byte of entries to scan for ``key``, from its hits (a line counts once) near the end."""
    hits, pos = 0, len(sample)
    while hits < CAP and (hit := sample.rfind(key, 0, pos)) >= 0:
        hits += 1
        pos = sample.rfind(b"\n", 0, hit) + 1
    span = len(sample) - pos if hits >= CAP else len(sample)
    density = hits / span if span > 0 else 1.0
    return (BYTE_NS if len(key) == 1 else FIND_NS) + density * HIT_NS
