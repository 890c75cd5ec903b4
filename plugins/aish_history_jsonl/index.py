"""Where each run's ``run`` record is in the JSONL file, for ``get`` (decision 33).

``history show N``, ``!N`` and ``history export`` (which reads every run with
``get``, one at a time) need whole runs by number. Reading the whole file
for each (as ``get`` did: 200 MB at once for ten runs of 20 MB piped in, and
every run of an export read the file again) is replaced by an index of the
file learnt in pieces: ``run`` and ``rm`` records are found by their first
bytes at line starts (``find``, PIECE bytes at a time: the time of reading
the file once, none of it held), and a later ``get`` of the same backend
scans only what was appended since (all again if the file was cleared,
cut or replaced). A run is then folded from its ``run`` record to its
``end`` record (:func:`aish_history_jsonl.lines.fold_range`), which reads
only the lines of that stretch holding its id.
"""

from __future__ import annotations

import os

from aish import RunRecord
from aish_history_jsonl.lines import PIECE, fold_range

_START = b'\n{"op":"r'
"""A line starting a ``run`` or an ``rm`` record (``{"op":"run","n":…`` or ``{"op":"rm","n":…``)."""
_RUN, _RM = b'{"op":"run","n":', b'{"op":"rm","n":'
_REACH = len(_START) + 24
"""Bytes after a line's start that hold the record's number."""


class RunIndex:
    """What one backend instance learnt of one file: the offsets of run records, the deleted runs."""

    def __init__(self) -> None:
        self.ino = -1
        self.high = 0
        """The bytes scanned: ``[0, high)``."""
        self.tail = b""
        """The bytes just before ``high``: if they changed, the file was cleared and written again."""
        self.runs: dict[int, int] = {}
        """Run number -> where its (last) ``run`` record starts."""
        self.deleted: set[int] = set()

    def get(self, fd: int, number: int) -> RunRecord | None:
        """Run ``number`` folded whole from the file ``fd``, or None."""
        self._follow(fd)
        offset = self.runs.get(number)
        if offset is None or number in self.deleted:
            return None
        run = fold_range(fd, offset, self.high)
        return run if run is not None and run.number == number else None

    def _follow(self, fd: int) -> None:
        """Scan what was appended since; all of it again if the file is another one, or was cut."""
        st = os.fstat(fd)
        mark = len(self.tail)
        if st.st_ino != self.ino or st.st_size < self.high or os.pread(fd, mark, self.high - mark) != self.tail:
            self.__init__()  # type: ignore[misc]
            self.ino = st.st_ino
        for low in range(self.high, st.st_size, PIECE):
            self._scan(fd, low, min(low + PIECE, st.st_size))
        self.high = st.st_size
        self.tail = os.pread(fd, min(64, self.high), self.high - min(64, self.high))

    def _scan(self, fd: int, low: int, high: int) -> None:
        """Note the ``run`` and ``rm`` records whose lines start in ``[low, high)``."""
        data = os.pread(fd, high - low + _REACH, low - 1) if low else b"\n" + os.pread(fd, high + _REACH - 1, 0)
        at = 0
        while (at := data.find(_START, at)) >= 0 and at < high - low:
            head = data[at + 1 : at + 1 + _REACH]
            offset = low + at
            at += 1
            is_run = head.startswith(_RUN)
            if not is_run and not head.startswith(_RM):
                continue
            digits = head[len(_RUN if is_run else _RM) :].split(b"," if is_run else b"}", 1)[0]
            if not digits.isdigit():
                continue
            if is_run:
                self.runs[int(digits)] = offset  # the last record of a number wins
            else:
                self.deleted.add(int(digits))
