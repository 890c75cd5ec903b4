"""A one-shot process's history: its backend calls written to a journal, applied to the store later.

``aish -c LINE``, ``aish AGENT WORDS`` and a script live tens of
milliseconds. Recording their runs straight into the store would cost each
of them more than the rest of its run: importing the backend (``sqlite3``), a
thread to write beside the stream, opening the store and closing it, 5-9 ms
in all (decision 30). So a one-shot process writes the calls the recorder
makes (``begin_run``, ``begin_stage``, ``append_text``, ``end_stage``,
``end_run``) to a journal file of its own instead, one JSON line per call
(a long piped input and a long answer follow their call's line as UTF-8,
not escaped: the line gives their size), each with ``write(2)`` as the call
is made: what a crash or ``kill -9``
leaves is what the store itself would have kept. The file is locked
(``flock``) while its process writes it. One exception: the run's start
(``begin_run`` and ``begin_stage``) is held until the run first waits for a
server, its request sent, or for a program it started (:meth:`Journal.idle`),
or until the next call, whichever comes first: taking the file and writing
the start cost a process about 0.3 ms, which the wait hides (decision 107). A
``kill -9`` before then loses the line; text received, never.

Whoever next opens the store to read it (``history``, ``!N``, a
conversation resumed, the interactive shell's recorder) first applies every
journal no process holds, oldest first, to the backend, and deletes it
(:func:`fold`). A one-shot process takes one of the empty files (:data:`SPARES`, named
``spare-NN``) that an earlier process left for it, and names it as its
journal: making a file costs a process twice as much as taking one
(decision 105). A process that finds none left makes its journal, counts the
journals waiting and, when there are more than :data:`FOLD_AT`, folds them at
its exit, so a script of many ``aish -c`` calls never leaves a long backlog;
then it leaves new spares for the next processes.

A journal lives in a directory of the store's own: ``PATH.journal`` beside
the file ``[settings] history_path`` names, else ``journal-NAME`` in the data
directory. Its lines hold runs as the recorder made them: never a secret.
"""

from __future__ import annotations

import codecs
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO

from aish.contracts import HistoryBackend, RunRecord, StageRecord
from aish.errors import HistoryError
from aish.history.files import FILE_MODE
from aish.joined import Joined
from aish.jsonbody import json_chunks, json_line
from aish.private_dirs import make_private_dirs

SUFFIX = ".journal"
FOLD_AT = 64
"""A one-shot process that finds more journals than this waiting applies them at its exit (it looks
when it found no spare, so at most ``FOLD_AT + SPARES + 1`` wait)."""
SPARES = 16
"""Empty files left for the next one-shot processes' journals, taken lowest number first."""
SPARE = "spare-"
LONG = 1 << 16
"""A run's piped input longer than this is written once: a stage whose input it is refers to it."""
RAW_TEXT = 1 << 12
"""A stage's answer longer than this (in characters) is written as it is after its ``end_stage`` line,
not as a JSON string: escaping 64 KB took 0.35 ms of a 10,000-token run, encoding it 0.005."""
_PIECE = 1 << 20
_SEPARATORS = (",", ":")
_CALLS = frozenset({"begin_run", "begin_stage", "append_text", "end_stage", "end_run"})
_HELD = frozenset({"begin_run", "begin_stage"})
"""The calls :meth:`Journal.submit_later` holds until the run waits (:meth:`Journal.idle`) or a later call."""


def journal_dir(backend: str, options: Mapping[str, Any]) -> str:
    """Where the journals of the store that ``backend`` opens with ``options`` wait."""
    path = options.get("path")
    if path:
        return f"{path}.journal"
    return os.path.join(str(options["data_dir"]), f"journal-{backend}")


class Journal:
    """The recorder's writer in a one-shot process: each call appended to this process's journal at once.

    It has the :class:`~aish.history.writer.Writer`'s interface: ``submit``,
    ``submit_later``, ``idle``, ``sync``, ``close`` and ``failure``. The file is
    created on the first call written.
    ``sync`` (before the process reads history itself) closes it, so that the
    read folds it; later calls start another. ``close`` folds the waiting
    journals through ``fold_all`` when there are more than :data:`FOLD_AT`;
    ``warn`` reports that fold's failure (the journals stay for the next reader).
    """

    def __init__(
        self,
        directory: str,
        *,
        fold_all: Callable[[], object] | None = None,
        warn: Callable[[str], object] | None = None,
    ) -> None:
        self.directory = directory
        self.fold_all = fold_all
        self.warn = warn
        self.failure: BaseException | None = None
        self._fd: int | None = None
        self._path = ""
        self._files = 0
        self._made = False
        """Whether a journal of this process's was made, not a spare taken: it then leaves spares."""
        self._stdin: dict[str, str] = {}
        """Long piped inputs by run id: a stage input that is one refers to it."""
        self._held: list[tuple[str, Callable[[], tuple[Any, ...]]]] = []
        """The run's start, written when the run waits (:meth:`idle`) or before a later call."""
        self._lock = threading.Lock()
        """Parallel stages record from threads of their own: a call is written whole, in order."""

    def submit(self, method: str, *args: Any) -> None:
        with self._lock:
            self._write_held()
            self._submit(method, args)

    def submit_later(self, method: str, make: Callable[[], tuple[Any, ...]]) -> None:
        """``submit(method, *make())``; the run's start (``begin_run``, ``begin_stage``) is held until
        :meth:`idle` or the next call, any other call written at once."""
        with self._lock:
            if method in _HELD:
                self._held.append((method, make))
                return
            self._write_held()
            self._made_call(method, make)

    def idle(self) -> None:
        """The run waits (a request sent, a program started): write the calls held (never raises)."""
        with self._lock:
            self._write_held()

    def _write_held(self) -> None:
        held = self._held
        while held:  # one at a time: a Ctrl-C in the middle leaves the rest held, in order
            method, make = held.pop(0)
            self._made_call(method, make)

    def _made_call(self, method: str, make: Callable[[], tuple[Any, ...]]) -> None:
        if self.failure is not None:
            return
        try:
            args = make()
        except Exception as exc:  # a record that cannot be made: recording stops, the run goes on
            self.failure = HistoryError(f"cannot record a run's {method}: {exc or type(exc).__name__}")
            self._release()
            return
        self._submit(method, args)

    def _submit(self, method: str, args: tuple[Any, ...]) -> None:
        if self.failure is not None or method not in _CALLS:
            return
        try:
            fd = self._fd if self._fd is not None else self._open()
            call = self._encode(method, args)
            # A long piped input or answer goes after the line, as it is: read back in pieces, never as
            # one JSON string. The line gives its size in place of the field (see _raw_field).
            fields, name = _raw_field(call)
            long = (method == "begin_run" and args[0].id in self._stdin) or (
                method == "end_stage" and len(args[1].text) > RAW_TEXT
            )
            raw: str | None = fields.pop(name) if long else None
            whole: bytes | None = None  # raw encoded once, when it is short enough to hold twice (most answers)
            if raw is not None:
                if len(raw) <= _PIECE:
                    whole = raw.encode("utf-8", "surrogatepass")
                    fields[f"{name}_bytes"] = len(whole)
                else:
                    fields[f"{name}_bytes"] = sum(len(piece) for piece in _utf8(raw))
            last = json_line(call, ensure_ascii=False, separators=_SEPARATORS) or b""
            if not last:  # a string of it is long: written in pieces
                for piece in json_chunks(call, ensure_ascii=False, separators=_SEPARATORS):
                    if last:
                        _write_all(fd, last)
                    last = piece
            if whole is not None:  # the call, its text and the line end: one write
                _write_all(fd, last + b"\n", whole, b"\n")
                return
            _write_all(fd, last + b"\n")  # a call of short strings is one write
            if raw is not None:
                for piece in _utf8(raw):
                    _write_all(fd, piece)
                _write_all(fd, b"\n")
        except OSError as exc:
            self.failure = HistoryError(f"cannot write {self._path or self.directory}: {exc.strerror or exc}")
            self._release()

    def sync(self, timeout: float | None = None) -> bool:
        """Close the journal so far: a read that follows applies it to the store."""
        with self._lock:
            self._write_held()
            self._release()
        return True

    def close(self, timeout: float | None = None) -> bool:
        with self._lock:
            self._write_held()
            self._release()
        if not self._made:  # a spare was taken (or nothing written): the next process looks
            return True
        if self.fold_all is not None and self._waiting() > FOLD_AT:
            try:
                self.fold_all()
            except Exception as exc:  # the journals stay for the next reader
                if self.warn is not None:
                    self.warn(f"{exc or type(exc).__name__}; the journals in {self.directory} are kept")
        make_spares(self.directory)
        return True

    # ---------------------------------------------------------------- plumbing
    def _open(self) -> int:
        """This process's journal: a spare taken, else a new file; locked before it gets its name, so
        that a reader never sees it unlocked and empty."""
        self._files += 1
        name = f"{self.directory}{os.sep}{time.time_ns():020d}-{os.getpid()}-{self._files}{SUFFIX}"
        fd = self._take_spare(name)
        if fd is None:
            make_private_dirs(self.directory)
            hidden = os.path.join(self.directory, f".{os.path.basename(name)}.new")
            fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, FILE_MODE)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                os.rename(hidden, name)
            except OSError:
                os.close(fd)
                raise
            self._made = True
        self._path = name
        self._fd = fd
        return fd

    def _take_spare(self, name: str) -> int | None:
        """The lowest-numbered spare left, locked and renamed ``name``; None when none is left.

        Spares are taken lowest first, so those left are the highest numbers: a
        binary search finds the first. Two processes may try to take one at once:
        the one that gets its lock while it is still named a spare takes it.
        """
        lo, hi = 0, SPARES
        while lo < hi:
            mid = (lo + hi) // 2
            if os.access(_spare(self.directory, mid), os.F_OK):
                hi = mid
            else:
                lo = mid + 1
        for index in range(lo, SPARES):
            path = _spare(self.directory, index)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
            except OSError:  # taken meanwhile
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                opened = os.fstat(fd)
                # still the spare (not taken and renamed before the lock), and empty: a line written
                # after anything else there could be read back as part of it
                if opened.st_size == 0 and os.stat(path).st_ino == opened.st_ino:
                    os.rename(path, name)
                    return fd
            except OSError:  # being taken by another process, or gone
                pass
            os.close(fd)
        return None

    def _release(self) -> None:
        self._stdin.clear()  # a stage in the next journal writes its input whole: the run may be applied by then
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # and with it the lock

    def _waiting(self) -> int:
        try:
            return sum(1 for name in os.listdir(self.directory) if name.endswith(SUFFIX))
        except OSError:
            return 0

    def _encode(self, method: str, args: tuple[Any, ...]) -> dict[str, Any]:
        if method == "begin_run":
            (run,) = args
            if run.stdin is not None and len(run.stdin) > LONG:
                self._stdin[run.id] = run.stdin
            return {"call": method, "run": _run_fields(run)}
        if method in ("begin_stage", "end_stage"):
            run_id, stage = args
            fields = stage.as_dict()
            stdin = self._stdin.get(run_id)
            after = stage.input.after(stdin) if stdin is not None and isinstance(stage.input, Joined) else None
            if stdin is not None and (stage.input is stdin or stage.input == stdin):
                del fields["input"]
                fields["input_from"] = "stdin"  # written once, with the run
            elif after is not None:  # the start of the piped input, then the stage's words (decision 31)
                fields.update(input_from="stdin", input_end=after[0], input=after[1])
            return {"call": method, "id": run_id, "stage": fields}
        if method == "append_text":
            run_id, index, text = args
            return {"call": method, "id": run_id, "i": index, "text": text}
        run_id, status, ended = args
        self._stdin.pop(run_id, None)
        return {"call": method, "id": run_id, "status": status, "ended": ended}


def make_spares(directory: str) -> int:
    """Make the missing spares in ``directory`` (which exists); how many were made. Fails quietly:
    without spares, processes make their journals."""
    made = 0
    for index in range(SPARES):
        try:
            os.close(os.open(_spare(directory, index), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE))
            made += 1
        except FileExistsError:
            continue
        except OSError:
            break
    return made


def _spare(directory: str, index: int) -> str:
    return f"{directory}{os.sep}{SPARE}{index:02d}"


def _run_fields(run: RunRecord) -> dict[str, Any]:
    fields = run.as_dict()
    del fields["stages"], fields["number"]  # the store numbers it; stages come as calls of their own
    return fields


def _utf8(text: str) -> Iterator[bytes]:
    """``text`` encoded, a MiB of characters at a time."""
    for start in range(0, len(text), _PIECE):
        yield text[start : start + _PIECE].encode("utf-8", "surrogatepass")


def _write_all(fd: int, *data: bytes) -> None:
    """Write ``data`` whole, in one ``writev(2)`` unless the system writes less than asked."""
    written = os.writev(fd, data)
    if written == sum(map(len, data)):
        return
    views = [memoryview(piece) for piece in data if piece]
    while views:
        while views and written >= len(views[0]):
            written -= len(views.pop(0))
        if views:
            views[0] = views[0][written:]
            written = os.writev(fd, views)


# -------------------------------------------------------------------- folding
def fold(directory: str, backend: HistoryBackend) -> int:
    """Apply every journal in ``directory`` that no process holds to ``backend``, oldest first,
    deleting each once applied; the number applied.

    A journal still being written (locked) is left for a later fold. A line
    that does not parse (its writer was killed in the middle of it) is
    skipped. If the backend fails, the calls not yet applied stay in the
    journal and :class:`~aish.errors.HistoryError` says which.
    """
    try:
        names = sorted(name for name in os.listdir(directory) if name.endswith(SUFFIX))
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise HistoryError(f"cannot read {directory}: {exc.strerror or exc}") from None
    applied = 0
    for name in names:
        path = os.path.join(directory, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:  # another reader applied it
            continue
        except OSError as exc:
            raise HistoryError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # its process is still writing it
                continue
            if os.fstat(fd).st_nlink == 0:  # applied and deleted by another reader meanwhile
                continue
            _apply(path, fd, backend)
            os.unlink(path)
            applied += 1
        except OSError as exc:
            raise HistoryError(f"cannot apply {path}: {exc.strerror or exc}") from None
        finally:
            os.close(fd)
    return applied


def _apply(path: str, fd: int, backend: HistoryBackend) -> None:
    """Make the journal's calls on ``backend``, a line at a time (one 20 MB input is never the whole
    file at once, and is decoded in pieces into one string)."""
    stdin: dict[str, str] = {}
    offset = 0
    with open(fd, "rb", closefd=False) as file:
        while line := file.readline():
            start, offset = offset, offset + len(line)
            call = _decode(line)
            if call is None:
                continue
            fields, name = _raw_field(call)
            size = fields.pop(f"{name}_bytes", None) if name else None
            if size is not None:
                raw = _read_text(file, int(size))
                if raw is None:  # its writer was killed in the middle of it
                    return
                fields[name] = raw
                offset += int(size) + 1
            try:
                _call(backend, call, stdin)
            except Exception as exc:
                _keep(path, fd, start)
                raise HistoryError(f"cannot apply {path}: {exc or type(exc).__name__}") from None


def _raw_field(call: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Where a call may say that a text follows its line as it is: the fields and the text's name."""
    if call["call"] == "begin_run":
        return call["run"], "stdin"
    if call["call"] == "end_stage" and isinstance(call.get("stage"), dict):
        return call["stage"], "text"
    return {}, ""


def _read_text(file: BinaryIO, size: int) -> str | None:
    """The ``size`` bytes that follow (and their line end) as text grown in place; None if cut short."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
    text = ""
    while size > 0:
        piece = file.read(min(size, _PIECE))
        if not piece:
            return None
        size -= len(piece)
        text += decoder.decode(piece, final=size == 0)  # one reference: CPython grows it in place
    return text if file.read(1) == b"\n" else None


def _decode(line: bytes) -> dict[str, Any] | None:
    if not line.startswith(b'{"call":'):
        return None
    try:
        call = json.loads(line)
    except ValueError:
        return None
    return call if isinstance(call, dict) and call.get("call") in _CALLS else None


def _call(backend: HistoryBackend, call: dict[str, Any], stdin: dict[str, str]) -> None:
    method = call["call"]
    if method == "begin_run":
        run = RunRecord.from_dict(call["run"])
        if run.stdin is not None and len(run.stdin) > LONG:
            stdin[run.id] = run.stdin
        backend.begin_run(run)
    elif method in ("begin_stage", "end_stage"):
        fields = dict(call["stage"])
        if fields.pop("input_from", None) == "stdin":
            piped, end = stdin.get(call["id"], ""), fields.pop("input_end", None)
            if end is None:
                fields["input"] = piped  # the same str: the store keeps it once too
            else:  # its start, then the words: a Joined that refers to it (decision 31)
                fields["input"] = Joined((piped, int(end)), str(fields.get("input", "")))
        getattr(backend, method)(call["id"], StageRecord(**fields))
    elif method == "append_text":
        backend.append_text(call["id"], call["i"], call["text"])
    else:
        stdin.pop(call["id"], None)
        backend.end_run(call["id"], call["status"], call["ended"])


def _keep(path: str, fd: int, start: int) -> None:
    """Replace the journal by what follows ``start``, the calls not applied (a failed fold resumes there)."""
    hidden = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.rest")
    out = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    try:
        while piece := os.pread(fd, 1 << 20, start):
            _write_all(out, piece)
            start += len(piece)
    finally:
        os.close(out)
    os.replace(hidden, path)
