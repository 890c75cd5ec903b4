"""The search cache beside the JSONL file: each finished run's searchable text on one line.

Why: without it ``history search`` reads, lowercases and byte-searches the
whole JSONL file, 120 MB for 100,000 runs, every time. ``history.jsonl.search``
keeps for every finished run what a search looks in
(:func:`aish.searchable`, lowercased) on one line, about 40% of
the JSONL file's size and nothing else, so a search is an ``rfind`` over each
piece of it, read newest first (:mod:`aish_history_jsonl.search`).

It is derived data, kept up to date by readers only. The JSONL file stays the
one source of truth; recording never touches the cache, so an append costs
what it always did. A search first brings the cache up to date, under an
exclusive ``flock`` on it, reading only what was appended to the JSONL file
since the last update. Deleting the cache loses nothing: the next search
rebuilds it.

The file is entry lines, with a filter line after each block of them, and one
state line at the end::

    12 40960 41815 12 athena owls<NUL>owls hunt at night
    #AAAQAAAAAAAgAA…
    13 41815 42210 13 apollo tides<NUL>…
    ~{"v":2,"body":…,"pos":…,"ino":…,"tail":"…","last":13,"deleted":[3],"pending":[[40100,{…}]],"blocks":[[38,12]]} <d>

(``<d>``: its digest).

An entry holds the run's number; where its ``run`` record starts in the JSONL
file and where its ``end`` record ends (the bytes a search folds to confirm
it); the highest number of any entry up to this one (runs are written as
they end, so a long run comes after newer ones: a search that already has
enough newer matches stops when this falls below them); and its text,
lowercased, newlines turned into NUL so that it stays one line.

Each time the entries since the last filter line (the open block) reach
:data:`aish_history_jsonl.grams.BLOCK` bytes, the block is closed: its
filter line (:mod:`aish_history_jsonl.grams`: which trigrams occur in it) is
written after it, and the state line's ``blocks`` gets where that line starts
and the highest run number up to it. A search reads a closed block only if
its filter admits every term, and reads the open block always.

The state line says how far into the JSONL file the entries go (``pos``);
the file's inode and a digest of its bytes just before ``pos``, so that a
cleared, truncated or replaced file is noticed and the cache rebuilt; the
runs that were still running at ``pos``, folded so far with the offset of
their ``run`` record (carried on by the next update, never read again); the
numbers of deleted runs; and a digest of itself. An update truncates the
state line, appends entries, then writes the new state line: a process
killed in between leaves a last line that is no valid state line, and the
next search rebuilds the cache. A search never trusts the cache for a result,
only for candidates: it confirms each one from the JSONL file.

Like the ``sqlite`` backend's index, an entry is written when the run's
``end`` record is read: aish writes nothing for a run after ``end_run``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from aish import RunRecord, private_file, searchable
from aish_history_jsonl import grams
from aish_history_jsonl.lines import Line, fold_lines, lines, record
from aish_history_jsonl.records import Fold
from aish_history_jsonl.store import SEARCH_SUFFIX

VERSION = 2
"""2: filter lines after blocks of entries (1 had none: such a cache is rebuilt)."""
NUL = "\x00"
"""Stands for a newline in entries (and in search terms, transformed alike)."""
CHUNK = 1 << 20
"""Bytes of entries written at a time while updating (the JSONL file is read in pieces, its
inputs never: :mod:`aish_history_jsonl.lines`)."""
PROBE = 256
"""Bytes before ``pos`` whose digest tells the JSONL file is still the one the entries describe."""
MARK = b"~"


class Stale(Exception):
    """The JSONL file changed under an update (cleared or replaced): this update is void."""


def cache_path(path: Path) -> Path:
    return path.with_name(path.name + SEARCH_SUFFIX)


def needle(text: str) -> bytes:
    """Text as it appears in an entry: lowercased, newlines as NUL, UTF-8 (a term gets the same)."""
    return text.lower().replace("\n", NUL).encode("utf-8", "surrogatepass")


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


_EMPTY_TAIL = _digest(b"")


class State:
    """What the state line says (see the module docstring).

    Equal when every field is (a plain class: a dataclass costs ~0.4 ms to create, issue 15).
    """

    __slots__ = ("body", "pos", "ino", "tail", "last", "deleted", "pending", "blocks")
    body: int
    """Bytes of entries: the state line starts here."""
    pos: int
    ino: int
    tail: str
    last: int
    deleted: set[int]
    pending: dict[str, tuple[int, RunRecord]]
    """Run id -> (offset of its ``run`` record, the run folded up to ``pos``)."""
    blocks: list[tuple[int, int]]
    """Per closed block, oldest first: where its filter line starts (the block's entries end
    there and start where the previous filter line ends, or at 0), and the highest run number
    of its entries and all before them."""

    def __init__(
        self,
        body: int = 0,
        pos: int = 0,
        ino: int = 0,
        tail: str = _EMPTY_TAIL,
        last: int = 0,
        deleted: set[int] | None = None,
        pending: dict[str, tuple[int, RunRecord]] | None = None,
        blocks: list[tuple[int, int]] | None = None,
    ) -> None:
        self.body = body
        self.pos = pos
        self.ino = ino
        self.tail = tail
        self.last = last
        self.deleted = set() if deleted is None else deleted
        self.pending = {} if pending is None else pending
        self.blocks = [] if blocks is None else blocks

    @property
    def open(self) -> int:
        """Where the open block (the entries after the last filter line) starts."""
        return _open(self.blocks)

    def __eq__(self, other: object) -> bool:
        if type(other) is not State:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __repr__(self) -> str:
        return "State(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__) + ")"

    def dumps(self) -> bytes:
        data = {
            "v": VERSION,
            **{k: getattr(self, k) for k in ("body", "pos", "ino", "tail", "last")},
            "deleted": sorted(self.deleted),
            "pending": [[offset, run.to_dict()] for offset, run in self.pending.values()],
            "blocks": self.blocks,
        }
        text = json.dumps(data, separators=(",", ":")).encode()  # ASCII: lone surrogates escaped
        return MARK + text + b" " + _digest(text).encode() + b"\n"

    @classmethod
    def loads(cls, line: bytes, at: int) -> State | None:
        """The state line ``line`` (without its newline) found at offset ``at``, or None if it is not one."""
        text, _, digest = line[len(MARK) :].rpartition(b" ")
        if not line.startswith(MARK) or _digest(text).encode() != digest:
            return None
        try:
            data: dict[str, Any] = json.loads(text)
            if data["v"] != VERSION or data["body"] != at:
                return None
            pending = {}
            for offset, fields in data["pending"]:
                run = RunRecord.from_dict(fields)
                pending[run.id] = (int(offset), run)
            body, pos, ino, last = (int(data[k]) for k in ("body", "pos", "ino", "last"))
            deleted = {int(n) for n in data["deleted"]}
            blocks = [(int(at), int(high)) for at, high in data["blocks"]]
            start = 0
            for at, _high in blocks:  # each filter line after the one before, all before the state line
                if at < start or at + grams.LINE > body:
                    return None
                start = at + grams.LINE
            return cls(body, pos, ino, str(data["tail"]), last, deleted, pending, blocks)
        except (KeyError, TypeError, ValueError):
            return None


def acquire(path: Path) -> int:
    """The cache file (created 0600 when missing), locked exclusively until the caller closes it.

    ``history clear`` deletes the file: after waiting for the lock, check that
    the path still names the file we locked, or start again with the new one.
    """
    for _attempt in range(8):
        fd = os.open(private_file(path), os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            mine, now = os.fstat(fd), os.stat(path)
            if (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino):
                return fd
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    raise OSError(f"{path} keeps being replaced")


def refresh(fd: int, main: int) -> State:
    """Bring the cache ``fd`` (locked) up to date with the JSONL file ``main``; the new state.

    Raises OSError when the cache cannot be read or written, :class:`Stale`
    when the JSONL file changed under the update; the caller then searches
    without the cache (a failed update leaves the old state line in place when it can).
    """
    loaded = _load(fd)
    st = os.fstat(main)
    before = _check(loaded, main, st) if loaded is not None else None
    state = loaded if loaded is not None and before is not None else State(ino=st.st_ino)
    fresh = state is not loaded
    if not fresh and st.st_size == state.pos:
        return state
    line = b"" if fresh else state.dumps()  # before the update folds on into the pending runs
    update = _Update(fd, state, before or b"", fresh)
    try:
        return update.run(main, st.st_size)
    except BaseException:
        if line and update.truncated:
            _restore(fd, line, state.body)
        raise


def unread(main: int, state: State) -> tuple[Fold, dict[str, int]]:
    """The runs not in entries, without their inputs: those pending at ``pos``, folded on through
    whatever follows it; and where each one's ``run`` record starts, by run id.

    That is a last line without its newline (still being written, or left
    by a killed writer: a fold of the file counts it when it parses), and
    anything appended since the update. Its ``deleted`` includes ``rm``
    records found there.
    """
    fold = Fold(brief=True)
    fold.deleted = set(state.deleted)
    fold.runs = {run_id: _brief(run) for run_id, (_offset, run) in state.pending.items()}
    offsets = {run_id: offset for run_id, (offset, _run) in state.pending.items()}
    size = os.fstat(main).st_size
    if size > state.pos:
        offsets.update(fold_lines(fold, main, state.pos, size))
    return fold, offsets


def _brief(run: RunRecord) -> RunRecord:
    """A pending run without its inputs (a cache written before decision 33 kept them)."""
    run.stdin = None
    for stage in run.stages:
        stage.input = ""
    return run


def _open(blocks: list[tuple[int, int]]) -> int:
    """Where the open block starts: after the last filter line, or at 0."""
    return blocks[-1][0] + grams.LINE if blocks else 0


def _load(fd: int) -> State | None:
    """The state on the cache's last line, or None when that is no valid state line."""
    size = os.fstat(fd).st_size
    window = 4096
    while True:
        start = max(0, size - window)
        data = os.pread(fd, size - start, start)
        if len(data) != size - start or not data.endswith(b"\n"):
            return None
        begin = data.rfind(b"\n", 0, len(data) - 1) + 1
        if begin > 0 or start == 0:
            return State.loads(data[begin:-1], start + begin)
        window *= 16


def _check(state: State, main: int, st: os.stat_result) -> bytes | None:
    """The bytes before ``state.pos`` if the JSONL file is still the one the entries describe, else None."""
    if st.st_ino != state.ino or st.st_size < state.pos:
        return None
    size = min(PROBE, state.pos)
    before = os.pread(main, size, state.pos - size)
    return before if _digest(before) == state.tail else None


def _restore(fd: int, line: bytes, body: int) -> None:
    """Best effort after a failed update: put the old state line back (else the next search rebuilds)."""
    with contextlib.suppress(OSError):
        _write(fd, line, body, truncate=True)


def _write(fd: int, data: bytes, offset: int, *, truncate: bool = False) -> None:
    view = memoryview(data)
    while view:
        offset += (written := os.pwrite(fd, view, offset))
        view = view[written:]
    if truncate:
        os.ftruncate(fd, offset)


class _Update:
    """Folds what was appended to the JSONL file since ``state.pos``, writing an entry per run that ended."""

    def __init__(self, fd: int, state: State, before: bytes, fresh: bool) -> None:
        self.fd = fd
        self.state = state
        self.fresh = fresh
        """A rebuild: the state line is written even when nothing was folded."""
        self.before = before
        """The last bytes folded so far (their digest goes into the state line)."""
        self.truncated = False
        self.fold = Fold(brief=True)
        self.fold.deleted = set(state.deleted)
        self.offsets = {run_id: offset for run_id, (offset, _run) in state.pending.items()}
        self.fold.runs = {run_id: _brief(run) for run_id, (_offset, run) in state.pending.items()}
        self.last = state.last
        self.blocks = list(state.blocks)

    def run(self, main: int, size: int) -> State:
        pos, body = self.state.pos, self.state.body
        entries: list[bytes] = []
        held = 0
        for line in lines(main, pos, size, whole=True):  # a last line without its newline is still being written
            entry = self.entry(main, line)
            pos = line.stop + 1
            if entry is not None:
                entries.append(entry)
                held += len(entry)
                if body + held - _open(self.blocks) >= grams.BLOCK:
                    body = self._close(self._flush(entries, body))
                    entries, held = [], 0
            if held >= CHUNK:
                body = self._flush(entries, body)
                entries, held = [], 0
        body = self._flush(entries, body)
        if pos == self.state.pos and not self.fresh:
            return self.state  # nothing new but a line still being written
        if os.pread(main, len(self.before), pos - len(self.before)) != self.before:
            raise Stale("the history file changed while the search cache was being updated")
        deleted = self.fold.deleted
        pending = {i: (self.offsets[i], run) for i, run in self.fold.runs.items() if run.number not in deleted}
        state = State(body, pos, self.state.ino, _digest(self.before), self.last, set(deleted), pending, self.blocks)
        self._truncate(body)
        _write(self.fd, state.dumps(), body, truncate=True)
        return state

    def _flush(self, entries: list[bytes], body: int) -> int:
        """Write ``entries`` at ``body`` (the old state line dropped first); where the entries now end."""
        if not entries:
            return body
        data = b"".join(entries)
        self._truncate(body)
        _write(self.fd, data, body)
        return body + len(data)

    def _close(self, body: int) -> int:
        """Close the open block, whose entries end at ``body``: write its filter line there; where that ends."""
        start = _open(self.blocks)
        data = os.pread(self.fd, body - start, start)
        if len(data) != body - start:
            raise OSError(f"the search cache is shorter than {body} bytes")
        _write(self.fd, grams.line(data), body)
        self.blocks.append((body, self.last))
        return body + grams.LINE

    def _truncate(self, body: int) -> None:
        """Drop the old state line before the first write: until the new one is written, none is valid."""
        if not self.truncated:
            os.ftruncate(self.fd, body)
            self.truncated = True

    def entry(self, main: int, line: Line) -> bytes | None:
        """Fold the record on ``line`` (a whole line): the entry of the run it ended, if it ended one.

        Folded without inputs, which are never read: an entry holds the line and the answers.
        """
        data = line.data
        if data is None:  # a line longer than a piece: its last bytes, read from the file
            size = min(PROBE - 1, line.stop - line.start)
            tail = os.pread(main, size, line.stop - size)
        else:
            tail = data[-(PROBE - 1) :]
        self.before = (self.before + tail + b"\n")[-PROBE:]
        rec = record(main, line, brief=True)
        if rec is None:
            return None
        run_id = rec.get("id")
        before = self.fold.runs.get(run_id) if isinstance(run_id, str) else None
        self.fold.add(rec)
        run = self.fold.runs.get(run_id) if isinstance(run_id, str) else None
        if run is None:
            return None
        if run is not before:  # a run record
            self.offsets[run.id] = line.start
        elif rec["op"] == "end" and "status" in rec and "ended" in rec:  # folded: the run is over
            del self.fold.runs[run.id]
            begin = self.offsets.pop(run.id)
            if run.number not in self.fold.deleted:
                self.last = max(self.last, run.number)
                return b"%d %d %d %d " % (run.number, begin, line.stop + 1, self.last) + needle(searchable(run)) + b"\n"
        return None
