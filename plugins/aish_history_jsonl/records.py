"""The JSONL record format, and folding records back into runs.

One record per line, written with compact separators and the keys in this
order (``op`` first, then ``n`` or ``id``), which the fast readers rely on::

    {"op":"run","n":7,"id":"…","line":"…","started":…,"pid":…,"replay_of":null}   (+ "stdin":"…" if piped)
    {"op":"stage","id":"…","i":0,"agent":"…","transport":"…","codec":"…","input":"…","meta":{}}
        (or "input_from":"stdin" instead of "input": the run's piped input, when it is long; or
        "input_from":"stdin","input_end":N,"input":"…": its first N characters, then "input")
    {"op":"text","id":"…","i":0,"o":12,"t":"…"}
    {"op":"done","id":"…","i":0,"status":"…","error":null,"meta":{…}}
    {"op":"end","id":"…","status":"…","ended":…}
    {"op":"rm","n":7}

A ``text`` record repeats the last ``o`` characters of the stage's text before
the new text (``t[o:]`` is new), so any search term of up to ``OVERLAP + 1``
characters lies whole inside one record. ``done`` carries ``"text"`` only
when the final text is not what the ``text`` records add up to. A line that
does not parse (a writer killed mid-write) is skipped; records of a run whose
``run`` record is gone (after ``clear``) are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from aish import RunRecord, StageRecord, json_chunks

OVERLAP = 64
RUN_PREFIX = b'{"op":"run","n":'
RM_PREFIX = b'{"op":"rm","n":'
_decode = json.JSONDecoder().raw_decode


def dumps(record: dict[str, Any]) -> bytes:
    """One record as a line (lone surrogates survive; ``json.loads`` reads them back)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass") + b"\n"


def pieces(record: dict[str, Any]) -> Iterator[bytes]:
    """The bytes of :func:`dumps`, in pieces of at most a few MiB whatever the record holds
    (20 MB of piped input is never a second string, or bytes, at once: decision 27). A record
    of short strings is one piece, written at once."""
    chunks = json_chunks(record, ensure_ascii=False, separators=(",", ":"), errors="surrogatepass")
    last = b""
    for chunk in chunks:
        if last:
            yield last
        last = chunk
    yield last + b"\n"


def parse(line: bytes) -> dict[str, Any] | None:
    """A record, or None for a torn or foreign line.

    What ``json.loads(line)`` would return, without its per-call encoding
    detection and wrappers: 40% of the time to fold a big file.
    """
    if not line.startswith(b'{"op":'):
        return None
    try:
        text = line.decode("utf-8", "surrogatepass")
    except ValueError:
        return None
    return parse_text(text)


def parse_text(text: str) -> dict[str, Any] | None:
    """:func:`parse` of a line already decoded (a long line: its bytes are gone by now)."""
    if not text.startswith('{"op":'):
        return None
    try:
        record, end = _decode(text)
    except ValueError:
        return None
    if text[end:].strip(" \t\n\r"):
        return None  # extra data after the object
    return record if isinstance(record, dict) else None


def id_key(run_id: str) -> bytes:
    """The bytes every record of the run contains exactly once."""
    return b'"id":"' + run_id.encode("ascii", "replace") + b'"'


class Fold:
    """Builds runs from records in file order.

    ``brief``: without inputs (each run's ``stdin`` None, each stage's ``input`` empty; the
    answers whole, to search them), as read by :mod:`aish_history_jsonl.lines` (decision 33).
    """

    def __init__(self, *, brief: bool = False) -> None:
        self.runs: dict[str, RunRecord] = {}
        self.deleted: set[int] = set()
        self.brief = brief

    def add_lines(self, lines: Iterable[bytes]) -> Fold:
        for line in lines:
            record = parse(line)
            if record is not None:
                self.add(record)
        return self

    def add(self, record: dict[str, Any]) -> None:
        try:  # not contextlib.suppress: a context manager per record costs 10% of a fold
            self._add(record)
        except (KeyError, TypeError, ValueError, AttributeError, StopIteration):
            return  # a damaged record is skipped: keep what the others say

    def _add(self, rec: dict[str, Any]) -> None:
        op = rec["op"]
        if op == "run":
            self.runs[rec["id"]] = RunRecord(
                id=rec["id"],
                line=rec["line"],
                started=rec["started"],
                number=int(rec["n"]),
                pid=rec.get("pid") or 0,
                replay_of=rec.get("replay_of"),
                stdin=None if self.brief else rec.get("stdin"),
            )
            return
        if op == "rm":
            self.deleted.add(int(rec["n"]))
            return
        run = self.runs.get(rec["id"])
        if run is None:
            return
        if op == "end":
            run.status, run.ended = rec["status"], rec["ended"]
        elif op == "stage":
            fields = {k: rec[k] for k in ("agent", "transport", "codec", "input", "meta") if k in rec}
            if self.brief:
                fields["input"] = ""
            elif rec.get("input_from") == "stdin":
                stdin, end = run.stdin or "", rec.get("input_end")  # the run's stdin, the same str, or its start
                fields["input"] = stdin if end is None else "%.*s%s" % (int(end), stdin, rec.get("input", ""))  # noqa: UP031
            run.stages.append(StageRecord(index=int(rec["i"]), **fields))
            run.stages.sort(key=lambda s: s.index)
        else:
            stage = next(s for s in run.stages if s.index == rec["i"])
            if op == "text":
                stage.text += rec["t"][int(rec.get("o", 0)) :]
            elif op == "done":
                stage.status, stage.error, stage.meta = rec["status"], rec.get("error"), rec.get("meta") or {}
                if "text" in rec:
                    stage.text = rec["text"]

    def result(self) -> list[RunRecord]:
        """The runs not deleted, oldest first."""
        return sorted((r for r in self.runs.values() if r.number not in self.deleted), key=lambda r: r.number)
