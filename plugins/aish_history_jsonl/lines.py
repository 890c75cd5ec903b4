"""Reading records from the JSONL file in pieces, a long input skipped unread (decision 33).

A record holding 20 MB of piped input is one line of 20 MB. Folding a stretch
of the file used to read it whole (its bytes, then the split lines, the
decoded text and the parsed string: four copies at once), though a listing
or a search needs none of it. Here the file is read PIECE bytes at a time;
a line longer than PIECE is not read but found (its newline), and a *brief*
reader (no inputs: a ``run`` record's ``stdin``, a ``stage`` record's
``input``) parses it without the input: the bytes before the input's string,
an empty string, and the bytes after it. The end of the string is found by
looking for its closing quote (one preceded by an even number of
backslashes: inside a JSON string every ``"`` is escaped), PIECE bytes at a
time; nothing of it is kept.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from json import JSONDecoder
from typing import Any, NamedTuple

from aish import RunRecord
from aish_history_jsonl.records import Fold, id_key, parse, parse_text

PIECE = 1 << 18
"""Bytes read at a time; a longer line is never read whole by a brief reader."""
HEAD = 1 << 16
"""Bytes of a long line read to find the field it holds (its other fields come first)."""
SKIMMED = ((b'{"op":"run",', b',"stdin":"'), (b'{"op":"stage",', b',"input":"'))
"""(start of a record, the key of its input): what a brief reader leaves unread."""
_BACKSLASH = 0x5C
_decode = JSONDecoder().raw_decode


class Line(NamedTuple):
    start: int
    stop: int
    """Where its newline is (or the end of what is read, for a last line without one)."""
    data: bytes | None
    """Its bytes, or None for a line longer than PIECE (read with :func:`record`)."""


def lines(fd: int, start: int, end: int, *, whole: bool = False, skip_first: bool = False) -> Iterator[Line]:
    """The lines of ``fd[start:end]``, in order.

    ``skip_first``: the first line is dropped (``start`` may be inside it).
    ``whole``: a last line without its newline (being written, or left by a
    killed writer) is not yielded; else it is, and a fold counts it if it parses.
    """
    pos = start
    if skip_first:
        pos = _newline(fd, start, end) + 1
    while pos < end:
        data = os.pread(fd, min(PIECE, end - pos), pos)
        if not data:
            return  # the file shrank
        at = 0
        while (newline := data.find(b"\n", at)) >= 0:
            yield Line(pos + at, pos + newline, data[at:newline])
            at = newline + 1
        if at:
            pos += at  # the rest is the start of a line: read it again from there
            continue
        stop = _newline(fd, pos + len(data), end)  # a line longer than the piece, or the last one
        if stop < end or not whole:
            yield Line(pos, stop, data if stop == pos + len(data) else None)
        pos = stop + 1


def _newline(fd: int, pos: int, end: int) -> int:
    """Where the next newline at or after ``pos`` is, or ``end``."""
    while pos < end:
        data = os.pread(fd, min(PIECE, end - pos), pos)
        if not data:
            return end
        found = data.find(b"\n")
        if found >= 0:
            return pos + found
        pos += len(data)
    return end


def record(fd: int, line: Line, *, brief: bool = False, key: bytes | None = None) -> dict[str, Any] | None:
    """The record on ``line`` (None: torn, foreign, or without ``key``, the id of the run wanted).

    A long ``run`` or ``stage`` line is parsed without its input first; ``brief``, the input is
    ``""``, unread, else it is decoded from the file in pieces into a string that grows in place
    (:func:`decode_string`): the line is never whole in memory, as bytes or as text.
    """
    if line.data is not None:
        return parse(line.data) if key is None or key in line.data else None
    head = os.pread(fd, min(HEAD, line.stop - line.start), line.start)
    if key is not None and key not in head[:200]:
        return None
    for prefix, field in SKIMMED:
        at = head.find(field) if head.startswith(prefix) else -1
        if at >= 0:
            begin = line.start + at + len(field)
            close = string_end(fd, begin, line.stop)
            if close is None:
                return None  # torn inside the input
            rec = parse(head[: at + len(field)] + os.pread(fd, line.stop - close, close))
            name = field[2:-3].decode()  # stdin, input
            if rec is not None and not brief and rec.get(name) == "":
                rec[name] = decode_string(fd, begin, close)
            return rec
    try:  # its bytes are freed once decoded: the bytes, then the text, then the record, never all three
        return parse_text(os.pread(fd, line.stop - line.start, line.start).decode("utf-8", "surrogatepass"))
    except ValueError:
        return None


def decode_string(fd: int, begin: int, close: int) -> str:
    """The JSON string whose escaped UTF-8 is ``fd[begin:close]``, decoded PIECE bytes at a time.

    Each piece is decoded as far as it holds whole escapes (an escape is at most 12 characters,
    a surrogate pair's; one is never cut: the cut goes before the run of backslashes it starts
    with); ``text += piece`` on a local holding the only reference grows it in place
    (decision 27: ``while True``, whose loop warms up)."""
    utf8 = codecs.getincrementaldecoder("utf-8")("surrogatepass")
    text, pending, pos = "", "", begin
    while True:
        chunk = os.pread(fd, min(PIECE, close - pos), pos)
        pos += len(chunk)
        final = pos >= close or not chunk
        pending += utf8.decode(chunk, final)
        cut = len(pending) if final else _escape_start(pending)
        text += _unescape(pending[:cut])
        pending = pending[cut:]
        if final:
            return text


def _escape_start(text: str) -> int:
    """Where ``text`` may be cut without cutting an escape: before any escape in its last 12 characters."""
    window = max(0, len(text) - 12)
    at = text.find("\\", window)
    if at < 0:
        return len(text)
    while at > 0 and text[at - 1] == "\\":
        at -= 1
    if at == 0:  # backslashes all along: cut after an even number of them, whole escapes
        return window // 2 * 2
    high = text[at - 6 : at]
    if len(high) == 6 and high[:3].lower() == "\\ud" and high[3].lower() in "89ab":  # a pair's first half
        return _escape_start(text[: at - 6])
    return at


def _unescape(escaped: str) -> str:
    if "\\" not in escaped:
        return escaped
    value: str = _decode('"' + escaped + '"')[0]
    return value


def string_end(fd: int, pos: int, stop: int) -> int | None:
    """Where the JSON string whose content starts at ``pos`` ends (its closing quote), or None before ``stop``."""
    slashes = 0  # backslashes just before the piece
    while pos < stop:
        data = os.pread(fd, min(PIECE, stop - pos), pos)
        if not data:
            return None
        at = 0
        while (quote := data.find(b'"', at)) >= 0:
            back = quote
            while back > 0 and data[back - 1] == _BACKSLASH:
                back -= 1
            if (quote - back + (slashes if back == 0 else 0)) % 2 == 0:
                return pos + quote
            at = quote + 1
        back = len(data)
        while back > 0 and data[back - 1] == _BACKSLASH:
            back -= 1
        slashes = len(data) - back + (slashes if back == 0 else 0)
        pos += len(data)
    return None


def fold_lines(fold: Fold, fd: int, begin: int, end: int, **options: bool) -> dict[str, int]:
    """Add the records of ``fd[begin:end]`` to ``fold``; where each ``run`` record found starts, by run id."""
    offsets = {}
    brief = fold.brief
    for line in lines(fd, begin, end, **options):
        rec = record(fd, line, brief=brief)
        if rec is not None:
            fold.add(rec)
            if rec.get("op") == "run" and isinstance(rec.get("id"), str):
                offsets[rec["id"]] = line.start
    return offsets


def fold_range(fd: int, begin: int, end: int, *, brief: bool = False) -> RunRecord | None:
    """The run whose ``run`` record starts at ``begin``, folded from its records up to ``end``."""
    lines_ = lines(fd, begin, end)
    first = next(lines_, None)
    rec = record(fd, first, brief=brief) if first is not None else None
    if rec is None or rec.get("op") != "run" or not isinstance(rec.get("id"), str):
        return None
    key, fold = id_key(rec["id"]), Fold(brief=brief)
    fold.add(rec)
    for line in lines_:
        rec = record(fd, line, brief=brief, key=key)
        if rec is not None:
            fold.add(rec)
            if rec.get("op") == "end":
                break
    runs = list(fold.runs.values())
    return runs[0] if runs else None
