"""Reading the JSONL file fast: only its tail for recent runs, byte searches before parsing.

A file of 100,000 runs is about 100 MB; parsing all of it takes seconds, so
``recent`` reads a growing tail (in pieces, :mod:`aish_history_jsonl.lines`),
``scan`` finds the bytes of the records it needs and parses only those
(``get`` and ``conversation`` go through :mod:`aish_history_jsonl.index`). Results are always folded records,
checked with :func:`aish.run_matches`, so the byte searches only pick
candidates and never decide a match. ``scan`` reads the whole file, so
searches go through the search cache (:mod:`aish_history_jsonl.search`) and
call it only when the cache cannot be written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from aish import RunRecord, brief_of, run_matches, search_terms
from aish_history_jsonl.lines import fold_lines
from aish_history_jsonl.records import OVERLAP, RM_PREFIX, Fold, id_key, parse

_TAIL = 262144


def _read(path: Path, start: int = 0) -> tuple[bytes, int]:
    """The file's bytes from ``start`` (then from the next line start) and where they begin."""
    try:
        with path.open("rb") as fh:
            end = fh.seek(0, 2)
            start = max(0, min(start, end))
            fh.seek(start)
            data = fh.read()
    except FileNotFoundError:
        return b"", 0
    if start > 0:
        cut = data.find(b"\n") + 1
        return data[cut:], start + cut
    return data, 0


def recent(path: Path, limit: int | None, *, brief: bool = False) -> list[RunRecord]:
    """The last ``limit`` runs: fold a tail of the file, growing it until it holds enough runs.

    Read in pieces (:mod:`aish_history_jsonl.lines`): ``brief``, no input is read at all;
    otherwise each long line is read alone, never the tail at once.
    """
    if limit is not None and limit <= 0:
        return []
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return []
    try:
        size = os.fstat(fd).st_size
        window = _TAIL
        while True:
            start = max(0, size - window) if limit is not None else 0
            fold = Fold(brief=brief)
            fold_lines(fold, fd, start, size, skip_first=start > 0)
            runs = fold.result()
            if limit is None or start == 0 or len(runs) >= limit:
                runs = runs if limit is None else runs[-limit:]
                return [brief_of(run) for run in runs] if brief else runs
            window *= 4
    finally:
        os.close(fd)


def scan(path: Path, text: str, limit: int) -> list[RunRecord]:
    """Search the whole file, without the cache: byte searches pick candidates, folds decide."""
    terms = search_terms(text)
    if not terms or limit <= 0:
        return []
    data, _ = _read(path)
    if not all(t.isascii() and len(t) <= OVERLAP + 1 for t in terms):
        runs = Fold().add_lines(data.split(b"\n")).result()
        return [r for r in runs if run_matches(r, terms)][-limit:]
    hay = data.lower()
    needles = [json.dumps(t.lower())[1:-1].encode() for t in terms]
    counts = [hay.count(n) for n in needles]
    if min(counts) == 0:
        return []
    needle = needles[counts.index(min(counts))]
    deleted = _deleted(data)
    found: dict[int, tuple[RunRecord, int]] = {}
    seen: set[bytes] = set()
    pos = len(hay)
    while (pos := hay.rfind(needle, 0, pos)) >= 0:
        start = data.rfind(b"\n", 0, pos) + 1
        if len(found) >= limit and start < min(begin for _run, begin in found.values()):
            break  # any run still to find began earlier: it is older than all found
        key = _key_of(data, start)
        pos = start
        if key is None or key in seen:
            continue
        seen.add(key)
        begin = _begin_of(data, key, start)
        run = fold_from(data, begin) if begin is not None else None
        if begin is not None and run is not None and run.number not in deleted and run_matches(run, terms):
            found[run.number] = (run, begin)
            if len(found) > limit:
                del found[min(found)]
    return [found[n][0] for n in sorted(found)]


def _deleted(data: bytes) -> set[int]:
    """The numbers of the runs ``rm`` records delete. A record counts only where a line starts,
    as a fold reads it: the rest of a line a killed writer tore (``{"op":"tex{"op":"rm",...}``)
    is no record."""
    numbers, pos = set(), 0
    while (pos := data.find(RM_PREFIX, pos)) >= 0:
        end = data.find(b"\n", pos)
        record = parse(data[pos : end if end >= 0 else len(data)]) if pos == 0 or data[pos - 1] == 0x0A else None
        if record is not None and isinstance(record.get("n"), int):
            numbers.add(record["n"])
        pos += len(RM_PREFIX)
    return numbers


def _key_of(data: bytes, start: int) -> bytes | None:
    """The ``"id":"…"`` bytes of the record starting at ``start``, or None."""
    pos = data.find(b'"id":"', start, start + 80)
    if pos < 0:
        return None
    end = data.find(b'"', pos + 6)
    return data[pos : end + 1] if end > 0 else None


def _line(data: bytes, start: int) -> tuple[bytes, int]:
    end = data.find(b"\n", start)
    end = len(data) if end < 0 else end
    return data[start:end], end


def _begin_of(data: bytes, key: bytes, start: int) -> int | None:
    """Walk back over the run's own records to its ``run`` record."""
    while not data.startswith(b'{"op":"run"', start):
        pos = data.rfind(key, 0, start)
        if pos < 0:
            return None
        start = data.rfind(b"\n", 0, pos) + 1
    return start


def fold_from(data: bytes, begin: int) -> RunRecord | None:
    """Fold one run from its ``run`` record, jumping from one of its records to the next."""
    line, end = _line(data, begin)
    first = parse(line)
    if first is None or "id" not in first:
        return None
    key, fold = id_key(str(first["id"])), Fold()
    fold.add(first)
    while (pos := data.find(key, end)) >= 0:
        line, end = _line(data, data.rfind(b"\n", 0, pos) + 1)
        record = parse(line)
        if record is not None:
            fold.add(record)
            if record.get("op") == "end":
                break
    runs = list(fold.runs.values())
    return runs[0] if runs else None
