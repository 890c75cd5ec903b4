"""The ``jsonl`` backend: appends under ``fcntl.flock``, reads by folding records."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aish import HistoryError, Joined, RunRecord, StageRecord, private_file
from aish_history_jsonl.records import OVERLAP, RUN_PREFIX, dumps, parse, pieces

if TYPE_CHECKING:
    from aish_history_jsonl.index import RunIndex

FILENAME = "history.jsonl"
SEARCH_SUFFIX = ".search"
"""The search cache is the history file's path plus this (see :mod:`aish_history_jsonl.cache`)."""
_T = TypeVar("_T")
_TAIL = 65536
LONG = 1 << 16
"""A stage whose input is the run's piped input of more characters than this refers to it (decision 27)."""
_FORWARD = 1 << 20


class JsonlHistory:
    """A :class:`aish.HistoryBackend` on one JSON-lines file (see :mod:`aish_history_jsonl.records`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._fd: int | None = None
        self._sent: dict[tuple[str, int], tuple[int, str]] = {}
        """(run id, stage) -> (characters appended so far, their last OVERLAP characters)."""
        self._stdin: dict[str, str] = {}
        """Run id -> its long piped input, until the run ends: a stage whose input it is refers to it."""
        self._index: RunIndex | None = None
        """Where run records are in the file, learnt by ``get`` (aish_history_jsonl.index)."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> JsonlHistory:
        path = options.get("path") or Path(options.get("data_dir") or ".") / FILENAME
        return cls(path)

    # ------------------------------------------------------------------ writes
    def begin_run(self, run: RunRecord) -> None:
        with self._locked() as fd:
            number = _last_number(fd) + 1
            record = {"op": "run", "n": number, "id": run.id, "line": run.line, "started": run.started}
            record.update(pid=run.pid, replay_of=run.replay_of)
            if run.stdin is not None:
                record["stdin"] = run.stdin
            self._write_record(fd, record)
        run.number = number
        if run.stdin is not None and len(run.stdin) > LONG:
            self._stdin[run.id] = run.stdin

    def begin_stage(self, run_id: str, stage: StageRecord) -> None:
        fields: dict[str, Any] = {"agent": stage.agent, "transport": stage.transport, "codec": stage.codec}
        stdin = self._stdin.get(run_id)
        after = stage.input.after(stdin) if stdin is not None and isinstance(stage.input, Joined) else None
        if stdin is not None and (stage.input is stdin or stage.input == stdin):
            fields["input_from"] = "stdin"  # the run's piped input, stored once (decision 27)
        elif after is not None:  # the start of the piped input, then the stage's words (decision 31)
            fields.update(input_from="stdin", input_end=after[0], input=after[1])
        else:
            fields["input"] = stage.input  # a Joined is written in pieces (json_chunks)
        self._append({"op": "stage", "id": run_id, "i": stage.index, **fields, "meta": stage.meta})
        self._sent[(run_id, stage.index)] = (0, "")
        if stage.text:
            self.append_text(run_id, stage.index, stage.text)

    def append_text(self, run_id: str, index: int, text: str) -> None:
        if not text:
            return
        sent, tail = self._sent.get((run_id, index), (0, ""))
        self._append({"op": "text", "id": run_id, "i": index, "o": len(tail), "t": tail + text})
        self._sent[(run_id, index)] = (sent + len(text), (tail + text)[-OVERLAP:])

    def end_stage(self, run_id: str, stage: StageRecord) -> None:
        sent, tail = self._sent.pop((run_id, stage.index), (0, ""))
        record: dict[str, Any] = {"op": "done", "id": run_id, "i": stage.index, "status": stage.status}
        record.update(error=stage.error, meta=stage.meta)
        lines = []
        consistent = len(stage.text) >= sent and stage.text[max(0, sent - len(tail)) : sent] == tail
        if consistent and sent == 0 and stage.text:
            consistent = False  # nothing of it was appended by this instance: store it whole
        if consistent and len(stage.text) > sent:
            rest = stage.text[sent:]
            lines.append(dumps({"op": "text", "id": run_id, "i": stage.index, "o": len(tail), "t": tail + rest}))
        elif not consistent:
            record["text"] = stage.text
        lines.append(dumps(record))
        with self._locked() as fd:
            self._write(fd, b"".join(lines))

    def end_run(self, run_id: str, status: str, ended: float) -> None:
        self._append({"op": "end", "id": run_id, "status": status, "ended": ended})
        for key in [k for k in self._sent if k[0] == run_id]:
            del self._sent[key]
        self._stdin.pop(run_id, None)

    def delete(self, number: int) -> bool:
        if self.get(number) is None:
            return False
        self._append({"op": "rm", "n": number})
        return True

    def clear(self) -> None:
        with self._locked() as fd:
            try:
                os.ftruncate(fd, 0)
            except OSError as exc:
                raise self._error("clear", exc) from None
            self._index = None
            with contextlib.suppress(OSError):  # derived data; a search would notice the cleared file anyway
                os.unlink(self.path.with_name(self.path.name + SEARCH_SUFFIX))
        self._sent.clear()

    # ------------------------------------------------------------------- reads
    def runs(self, limit: int | None = 20) -> list[RunRecord]:
        from aish_history_jsonl.read import recent  # readers only: recording never imports it

        return self._read(lambda: recent(self.path, limit))

    def get(self, number: int) -> RunRecord | None:
        """Run ``number``, found through what this instance learnt of the file (its index): the file
        is scanned in pieces, and only the run itself is read (decision 33)."""
        from aish_history_jsonl.index import RunIndex

        if self._index is None:
            self._index = RunIndex()
        index = self._index
        return self._read(lambda: self._with_file(lambda fd: index.get(fd, number)))

    def _with_file(self, action: Callable[[int], _T | None]) -> _T | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            return action(fd)
        finally:
            os.close(fd)

    def conversation(self, conversation_id: str) -> list[RunRecord]:
        """The runs holding a stage of conversation ``conversation_id``, oldest first."""
        from aish_history_jsonl.index import conversation

        return self._read(lambda: self._with_file(lambda fd: conversation(fd, conversation_id))) or []

    def search(self, text: str, limit: int = 20) -> list[RunRecord]:
        from aish_history_jsonl.search import search

        return self._read(lambda: search(self.path, text, limit))

    def brief(self, limit: int | None = 20, text: str | None = None) -> list[RunRecord]:
        """``runs(limit)`` or ``search(text, limit)`` without inputs, each answer cut to
        ``aish.brief_of``'s length: no input is read, not even its bytes (decision 33)."""
        if text is None:
            from aish_history_jsonl.read import recent

            return self._read(lambda: recent(self.path, limit, brief=True))
        from aish_history_jsonl.search import search

        return self._read(lambda: search(self.path, text, sys.maxsize if limit is None else limit, brief=True))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # ---------------------------------------------------------------- plumbing
    def _read(self, action: Callable[[], _T]) -> _T:
        try:
            return action()
        except OSError as exc:
            raise self._error("read", exc) from None

    def _append(self, record: dict[str, Any]) -> None:
        with self._locked() as fd:
            self._write_record(fd, record)

    def _write_record(self, fd: int, record: dict[str, Any]) -> None:
        for piece in pieces(record):
            self._write(fd, piece)

    @contextmanager
    def _locked(self) -> Iterator[int]:
        """The file, locked exclusively, ending in a newline (a torn last line stays on its own)."""
        try:
            if self._fd is None:
                private_file(self.path)
                self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
            fd = self._fd
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            raise self._error("open", exc) from None
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                self._write(fd, b"\n")
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _write(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            raise self._error("write", exc) from None

    def _error(self, what: str, exc: OSError) -> HistoryError:
        return HistoryError(f"cannot {what} {self.path}: {exc.strerror or exc}")


def _last_number(fd: int) -> int:
    """The number of the last run record in the file (0 if none): read backwards from the end.

    In windows of ``_TAIL`` bytes, never more at once: a record may hold 20 MB of piped input,
    and the next run must not read it whole to find its number (decision 27).
    """
    end = os.fstat(fd).st_size
    pos = end  # a run record starting before pos is looked for
    while pos > 0:
        start = max(0, pos - _TAIL)
        data = os.pread(fd, min(end, pos + len(RUN_PREFIX) - 1) - start, start)
        at = pos - start  # a record starting before it, read in full or not
        while (at := data.rfind(RUN_PREFIX, 0, at + len(RUN_PREFIX) - 1)) >= 0:
            before = data[at - 1 : at] if at else (os.pread(fd, 1, start - 1) if start else b"\n")
            if before == b"\n":
                number = _run_number(fd, start + at, end)
                if number is not None:
                    return number
        pos = start
    return 0


def _run_number(fd: int, start: int, end: int) -> int | None:
    """The number of the run record on the line at ``start``, or None if that line is torn.

    A line of up to ``_TAIL`` bytes is parsed; a longer one is taken as whole when it ends with
    the ``}`` that closes a record (its number is right after the prefix), and is never read whole.
    """
    stop = start
    while stop < end:
        chunk = os.pread(fd, min(_TAIL if stop == start else _FORWARD, end - stop), stop)
        newline = chunk.find(b"\n")
        if newline >= 0:
            stop += newline
            break
        stop += len(chunk)
    if stop - start <= _TAIL:
        record = parse(os.pread(fd, stop - start, start))
        return int(record["n"]) if record is not None and isinstance(record.get("n"), int) else None
    digits = os.pread(fd, 32, start + len(RUN_PREFIX)).split(b",", 1)[0]
    if not digits.isdigit() or os.pread(fd, 1, stop - 1) != b"}":
        return None
    return int(digits)
