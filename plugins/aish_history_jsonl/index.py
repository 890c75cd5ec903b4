"""Finding runs in the JSONL file without reading it whole: ``get`` and ``conversation`` (decision 33).

``history show N``, ``!N`` and ``history export`` (which reads every run with
``get``, one at a time) need whole runs by number. Reading the whole file
for each (as ``get`` did: 200 MB at once for ten runs of 20 MB piped in, and
every run of an export read the file again) is replaced by an index of the
file learnt in pieces: ``run`` and ``rm`` records are found by their first
bytes at line starts (``find``, PIECE bytes at a time: the time of reading
the file once, none of it held), and a later ``get`` of the same backend
scans only what was appended since (all again if the file was cleared,
cut or replaced); a backend's first ``get`` only searches for that run's
own records. A run is then folded from its ``run`` record to its ``end``
record (:func:`aish_history_jsonl.lines.fold_range`), which reads only the
lines of that stretch holding its id. ``conversation`` searches for its
stage records the same way, and back from each for its run's record.
"""

from __future__ import annotations

import json
import os

from aish import RunRecord
from aish_history_jsonl.lines import PIECE, fold_range
from aish_history_jsonl.records import parse

_START = b'\n{"op":"r'
"""A line starting a ``run`` or an ``rm`` record (``{"op":"run","n":…`` or ``{"op":"rm","n":…``)."""
_RUN, _RM = b'{"op":"run","n":', b'{"op":"rm","n":'
_REACH = len(_START) + 24
"""Bytes after a line's start that hold the record's number."""


class RunIndex:
    """What one backend instance learnt of one file: the offsets of run records, the deleted runs."""

    def __init__(self) -> None:
        self._forget(-1)
        self.first = False
        """Whether a first ``get`` was answered without the index."""

    def _forget(self, ino: int) -> None:
        self.ino = ino
        self.high = 0
        """The bytes scanned: ``[0, high)``."""
        self.tail = b""
        """The bytes just before ``high``: if they changed, the file was cleared and written again."""
        self.runs: dict[int, int] = {}
        """Run number -> where its (last) ``run`` record starts."""
        self.deleted: set[int] = set()

    def get(self, fd: int, number: int) -> RunRecord | None:
        """Run ``number`` folded whole from the file ``fd``, or None.

        The first ``get`` of an instance looks for that number's records only (``history show N``,
        ``!N``: one run wanted); the second learns where every run is (``history export``: all).
        """
        if self.ino == -1 and not self.first:
            self.first = True
            return _find(fd, number)
        size = self._follow(fd)
        runs, deleted = self.runs, self.deleted
        if size > self.high:  # a last line without its newline: it counts if it parses, for this read only
            runs, deleted = dict(runs), set(deleted)
            _scan(fd, self.high, size, runs, deleted)
        offset = runs.get(number)
        if offset is None or number in deleted:
            return None
        run = fold_range(fd, offset, size)
        return run if run is not None and run.number == number else None

    def _follow(self, fd: int) -> int:
        """Scan the whole lines appended since (all of them again if the file is another one, or was
        cut); the file's size."""
        st = os.fstat(fd)
        mark = len(self.tail)
        if st.st_ino != self.ino or st.st_size < self.high or os.pread(fd, mark, self.high - mark) != self.tail:
            self._forget(st.st_ino)
        whole = _after_last_newline(fd, self.high, st.st_size)
        for low in range(self.high, whole, PIECE):
            _scan(fd, low, min(low + PIECE, whole), self.runs, self.deleted)
        self.high = whole
        self.tail = os.pread(fd, min(64, whole), whole - min(64, whole))
        return st.st_size


def _find(fd: int, number: int) -> RunRecord | None:
    """Run ``number`` through a search for its own records: the last ``run`` record of that number,
    and an ``rm`` record of it (a line of its own), PIECE bytes at a time."""
    size = os.fstat(fd).st_size
    run = b'\n{"op":"run","n":%d,' % number
    high, offset = size + 2, None
    while offset is None and high > 0:
        low = max(0, high - PIECE)
        window = _lines_of(fd, size, low, high + len(run) - 1)
        at = window.rfind(run, 0, high - low + len(run) - 1)  # a match that starts before high
        offset = low + at if at >= 0 else None
        high = low
    if offset is None:
        return None
    rm = b'\n{"op":"rm","n":%d}\n' % number
    if any(rm in _lines_of(fd, size, low, low + PIECE + len(rm) - 1) for low in range(0, size + 2, PIECE)):
        return None
    found = fold_range(fd, offset, size)
    return found if found is not None and found.number == number else None


def _lines_of(fd: int, size: int, low: int, high: int) -> bytes:
    """Bytes ``[low, high)`` of the file with a newline before and after it (offset i of the file is
    i + 1 here): each line, the first and the last too, is between two newlines."""
    high = min(high, size + 2)
    start, stop = max(low - 1, 0), min(high - 1, size)
    return (
        (b"\n" if low == 0 else b"") + os.pread(fd, max(0, stop - start), start) + (b"\n" if high == size + 2 else b"")
    )


def _after_last_newline(fd: int, low: int, high: int) -> int:
    """Where the last line of ``fd[low:high]`` that ends in a newline ends (``low`` if none does)."""
    while high > low:
        start = max(low, high - PIECE)
        found = os.pread(fd, high - start, start).rfind(b"\n")
        if found >= 0:
            return start + found + 1
        high = start
    return low


def _scan(fd: int, low: int, high: int, runs: dict[int, int], deleted: set[int]) -> None:
    """Note the ``run`` and ``rm`` records whose lines start in ``[low, high)``."""
    data = os.pread(fd, high - low + _REACH, low - 1) if low else b"\n" + os.pread(fd, high + _REACH - 1, 0)
    at = 0
    while (at := data.find(_START, at)) >= 0 and at < high - low:
        head = data[at + 1 : at + 1 + _REACH]
        offset = low + at
        at += 1
        if head.startswith(_RUN):
            digits = head[len(_RUN) :].split(b",", 1)[0]
            if digits.isdigit():
                runs[int(digits)] = offset  # the last record of a number wins
        elif head.startswith(_RM):  # short: parsed, so that a torn or damaged line does not count
            end = head.find(b"\n")
            record = parse(head[:end] if end >= 0 else head) if end >= 0 or len(head) < _REACH else None
            if record is not None and record.get("op") == "rm" and type(record.get("n")) is int:
                deleted.add(record["n"])


def conversation(fd: int, conversation_id: str) -> list[RunRecord]:
    """The runs holding a stage of conversation ``conversation_id`` (its ``meta``), oldest first.

    The file is searched a piece at a time for the stage records' bytes; from each, the run's
    ``run`` record is found by searching back for its id, and only those runs are folded (whole:
    a conversation's turns are their inputs).
    """
    needle = b'"conversation":' + json.dumps(conversation_id, ensure_ascii=False).encode("utf-8", "surrogatepass")
    size = os.fstat(fd).st_size
    found: dict[int, RunRecord] = {}
    seen: set[bytes] = set()
    for low in range(0, size, PIECE):
        data = os.pread(fd, PIECE + len(needle) - 1, low)
        at = -1
        while (at := data.find(needle, at + 1)) >= 0 and at < PIECE:
            start = _line_start(fd, low + at)
            head = os.pread(fd, 120, start)
            opening = head.find(b'"id":"', 0, 80)
            closing = head.find(b'"', opening + 6) if opening >= 0 else -1
            key = head[opening : closing + 1] if closing > 0 else None
            if key is None or key in seen:
                continue
            seen.add(key)
            begin = _run_start(fd, key, start)
            run = fold_range(fd, begin, size) if begin is not None else None
            if run is not None and any(s.meta.get("conversation") == conversation_id for s in run.stages):
                found[run.number] = run
    deleted = _removed(fd, size) if found else set()
    return [found[n] for n in sorted(found) if n not in deleted]


def _removed(fd: int, size: int) -> set[int]:
    """The numbers of the ``rm`` records of the file (each a line of its own), found a piece at a time."""
    numbers: set[int] = set()
    rm = b'\n{"op":"rm","n":'
    for low in range(0, size + 2, PIECE):
        data = _lines_of(fd, size, low, low + PIECE + _REACH)
        at = -1
        while (at := data.find(rm, at + 1)) >= 0 and at < PIECE:
            end = data.find(b"\n", at + 1)
            record = parse(data[at + 1 : end]) if end >= 0 else None
            if record is not None and record.get("op") == "rm" and type(record.get("n")) is int:
                numbers.add(record["n"])
    return numbers


def _line_start(fd: int, pos: int) -> int:
    """Where the line holding offset ``pos`` starts (searched back a piece at a time)."""
    while pos > 0:
        low = max(0, pos - PIECE)
        newline = os.pread(fd, pos - low, low).rfind(b"\n")
        if newline >= 0:
            return low + newline + 1
        pos = low
    return 0


def _run_start(fd: int, key: bytes, before: int) -> int | None:
    """Where the ``run`` record with id ``key`` starts (the one line holding ``key`` then its line)."""
    pattern = key + b',"line":'
    high = before
    while high > 0:
        low = max(0, high - PIECE)
        found = os.pread(fd, high - low + len(pattern), low).rfind(pattern, 0, high - low + len(pattern) - 1)
        if found >= 0:
            return _line_start(fd, low + found)
        high = low
    return None
