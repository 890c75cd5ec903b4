"""The ``sqlite`` backend: one row per run and per stage, FTS5 over finished runs."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from aish import HistoryError, Joined, RunRecord, StageRecord, private_file
from aish_history_sqlite.schema import CONVERSATION, connect

FILENAME = "history.sqlite3"
DEFAULT_TIMEOUT = 5.0
BRIEF_TEXT = 256
"""Characters of each answer a brief run keeps (as ``aish.brief_of``; any prefix would do)."""
_RUN_COLUMNS = (
    "number, id, line, started, ended, status, replay_of, pid,"
    " (SELECT CASE WHEN typeof(stdin) = 'blob' THEN NULL ELSE stdin END FROM inputs WHERE run = number),"
    " (SELECT typeof(stdin) = 'blob' FROM inputs WHERE run = number)"
)
"""A run's columns: its piped input, or (a long one, a BLOB: schema._V6) whether to read it in pieces."""
_BRIEF_RUN_COLUMNS = "number, id, line, started, ended, status, replay_of, pid, NULL, NULL"
"""A brief run's columns: its piped input is not read (decision 33)."""
_STAGE_COLUMNS = "run, idx, agent, transport, codec, input, text, status, error, meta"
_STAGE_READ = (
    _STAGE_COLUMNS.replace(
        "input",
        "CASE WHEN input_is_stdin THEN input ELSE coalesce((SELECT CASE WHEN typeof(i.input) = 'blob' THEN NULL"
        " ELSE i.input END FROM stage_inputs AS i WHERE i.run = stages.run AND i.idx = stages.idx), input) END",
    )
    + ", input_is_stdin, input_stdin_end,"
    " (SELECT i.rowid FROM stage_inputs AS i WHERE i.run = stages.run AND i.idx = stages.idx"
    " AND typeof(i.input) = 'blob')"
)
"""The columns read back: a stage's input is in ``stage_inputs`` (see schema._V4), a long one as UTF-8 in a
BLOB (schema._V6: its rowid, to read it in pieces), or it is the run's piped input (schema._V7), or the start
of it and then ``input`` (schema._V8): the run's own string then, or a slice of it (decision 33)."""
_STAGE_SKIM = _STAGE_COLUMNS.replace("input", "''") + ", 0, NULL, NULL"
"""A stage without its input (a search matches lines and answers only)."""
_STAGE_BRIEF = _STAGE_SKIM.replace("text", f"substr(text, 1, {BRIEF_TEXT})")
"""A brief run's stage: no input, the first BRIEF_TEXT characters of the answer."""
LONG = 1 << 16
"""An input of more characters than this is written in pieces of PIECE characters (schema._V6)."""
PIECE = 1 << 18


class SqliteHistory:
    """A :class:`aish.HistoryBackend` on an SQLite database (see :mod:`aish_history_sqlite.schema`)."""

    def __init__(self, path: str | os.PathLike[str], timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = os.path.expanduser(os.fspath(path))  # a str: pathlib costs 1-2 ms of every start-up
        self.timeout = timeout
        self._conn: sqlite3.Connection | None = None
        self._checkpointed = False
        """Whether this instance's first run began by checkpointing the WAL."""
        self._sent: dict[tuple[str, int], list[str]] = {}
        """(run id, stage) -> the text this instance appended to it, in order."""
        self._stdin: dict[str, str] = {}
        """Run id -> its long piped input, until the run ends: a stage whose input it is refers to it."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SqliteHistory:
        path = options.get("path") or os.path.join(options.get("data_dir") or ".", FILENAME)
        return cls(path, float(options.get("timeout") or DEFAULT_TIMEOUT))

    # ------------------------------------------------------------------ writes
    def begin_run(self, run: RunRecord) -> None:
        if not self._checkpointed:  # what earlier processes left in the WAL (see _linger); later: SQLite's own
            self._checkpointed = True
            with self._db() as db:
                _checkpoint(db)
        with self._db() as db, _transaction(db):
            cursor = db.execute(
                "INSERT INTO runs (id, line, started, status, replay_of, pid) VALUES (?, ?, ?, ?, ?, ?)",
                (run.id, run.line, run.started, run.status, run.replay_of, run.pid),
            )
            run.number = int(cursor.lastrowid or 0)
            if run.stdin is not None:
                sql = "INSERT INTO inputs (run, stdin) VALUES (:run, :text)"
                _insert_text(db, "inputs", "stdin", sql, {"run": run.number}, run.stdin)
        if run.stdin is not None and len(run.stdin) > LONG:
            self._stdin[run.id] = run.stdin

    def begin_stage(self, run_id: str, stage: StageRecord) -> None:
        stdin = self._stdin.get(run_id)
        same = stdin is not None and (stage.input is stdin or stage.input == stdin)  # stored once, in inputs
        end, rest = None, ""
        if stdin is not None and isinstance(stage.input, Joined) and (after := stage.input.after(stdin)) is not None:
            same, (end, rest) = True, after  # the piped input, then the stage's words (decision 31)
        values = (stage.index, stage.agent, stage.transport, stage.codec, rest, stage.text, stage.status)
        with self._db() as db, _transaction(db):
            db.execute(
                f"INSERT INTO stages ({_STAGE_COLUMNS}, input_is_stdin, input_stdin_end) "
                "SELECT number, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM runs WHERE id = ?",
                (*values, stage.error, json.dumps(stage.meta), int(same), end, run_id),
            )
            row = db.execute("SELECT number FROM runs WHERE id = ?", (run_id,)).fetchone() if stage.input else None
            if row is not None and not same:  # VALUES, not INSERT ... SELECT, which copies a zeroblob out whole
                sql = "INSERT INTO stage_inputs (run, idx, input) VALUES (:run, :idx, :text)"
                _insert_text(db, "stage_inputs", "input", sql, {"run": row[0], "idx": stage.index}, stage.input)

    def append_text(self, run_id: str, index: int, text: str) -> None:
        with self._db() as db:
            _append_chunk(db, run_id, index, text)
        self._sent.setdefault((run_id, index), []).append(text)

    def end_stage(self, run_id: str, stage: StageRecord) -> None:
        """Store the outcome; the text streamed by this instance stays in its chunks (written once)."""
        sent = "".join(self._sent.pop((run_id, stage.index), ()))
        kept = bool(sent) and stage.text.startswith(sent)
        with self._db() as db, _transaction(db):
            row = db.execute("SELECT number FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                return  # deleted while it ran
            meta = json.dumps(stage.meta)
            values = (stage.status, stage.error, meta, row[0], stage.index)
            if kept:
                db.execute("UPDATE stages SET status = ?, error = ?, meta = ? WHERE run = ? AND idx = ?", values)
                if len(stage.text) > len(sent):
                    _append_chunk(db, run_id, stage.index, stage.text[len(sent) :])
            else:  # not streamed here, or the final text differs: store it whole
                db.execute(
                    "UPDATE stages SET text = ?, status = ?, error = ?, meta = ? WHERE run = ? AND idx = ?",
                    (stage.text, *values),
                )
                db.execute("DELETE FROM chunks WHERE run = ? AND idx = ?", (row[0], stage.index))

    def end_run(self, run_id: str, status: str, ended: float) -> None:
        with self._db() as db:
            db.execute("UPDATE runs SET status = ?, ended = ? WHERE id = ?", (status, ended, run_id))
        for key in [k for k in self._sent if k[0] == run_id]:
            del self._sent[key]
        self._stdin.pop(run_id, None)

    def delete(self, number: int) -> bool:
        with self._db() as db, _transaction(db):
            db.execute("DELETE FROM runs_fts WHERE rowid = ?", (number,))
            return db.execute("DELETE FROM runs WHERE number = ?", (number,)).rowcount > 0

    def clear(self) -> None:
        with self._db() as db, _transaction(db):
            for table in ("chunks", "stage_inputs", "stages", "inputs", "runs", "runs_fts"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM sqlite_sequence WHERE name = 'runs'")

    # ------------------------------------------------------------------- reads
    def runs(self, limit: int | None = 20) -> list[RunRecord]:
        with self._db() as db:
            rows = db.execute(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY number DESC LIMIT ?", (_limit(limit),))
            return self._records(db, list(rows)[::-1])

    def get(self, number: int) -> RunRecord | None:
        with self._db() as db:
            rows = list(db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE number = ?", (number,)))
            found = self._records(db, rows)
            return found[0] if found else None

    def conversation(self, conversation_id: str) -> list[RunRecord]:
        """The runs holding a stage of conversation ``conversation_id``, oldest first (through its index)."""
        with self._db() as db:
            sql = (
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE number IN "
                f"(SELECT run FROM stages WHERE {CONVERSATION} = ? AND {CONVERSATION} IS NOT NULL) ORDER BY number"
            )
            return self._records(db, list(db.execute(sql, (conversation_id,))))

    def search(self, text: str, limit: int = 20) -> list[RunRecord]:
        return self._search(text, limit, brief=False)

    def brief(self, limit: int | None = 20, text: str | None = None) -> list[RunRecord]:
        """``runs(limit)`` or ``search(text, limit)`` without inputs, each answer cut to BRIEF_TEXT
        characters: neither ``inputs`` nor ``stage_inputs`` is read (decision 33)."""
        if text is not None:
            return self._search(text, limit, brief=True)
        with self._db() as db:
            sql = f"SELECT {_BRIEF_RUN_COLUMNS} FROM runs ORDER BY number DESC LIMIT ?"
            return self._records(db, list(db.execute(sql, (_limit(limit),)))[::-1], _STAGE_BRIEF)

    def _search(self, text: str, limit: int | None, *, brief: bool) -> list[RunRecord]:
        from aish import run_matches, search_terms  # searching only

        terms = search_terms(text)
        if not terms or (limit is not None and limit <= 0):
            return []
        where, params = _fts_query(terms)
        with self._db() as db:
            with contextlib.suppress(sqlite3.OperationalError):
                while True:  # best effort: if another process holds the lock, unindexed runs are read below
                    with _transaction(db):
                        if not _index_finished(db):
                            break
            sql = f"SELECT rowid FROM runs_fts WHERE {where} ORDER BY rowid DESC LIMIT ?"
            numbers = {n for (n,) in db.execute(sql, (*params, _limit(limit)))}
            rows = list(db.execute(f"SELECT {_BRIEF_RUN_COLUMNS} FROM runs WHERE indexed = 0 ORDER BY number"))
            unfinished = [r for r in self._records(db, rows, _STAGE_SKIM) if run_matches(r, terms)]
            numbers.update(r.number for r in unfinished)
            newest = sorted(numbers)[-limit:] if limit is not None else sorted(numbers)
            marks = ",".join("?" * len(newest))
            columns, stages = (_BRIEF_RUN_COLUMNS, _STAGE_BRIEF) if brief else (_RUN_COLUMNS, _STAGE_READ)
            rows = list(db.execute(f"SELECT {columns} FROM runs WHERE number IN ({marks})", newest))
            return self._records(db, sorted(rows), stages)

    def close(self) -> None:
        """Release the store: what it wrote is on disk, and its connection is left open (see ``_linger``)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            _sync(f"{self.path}-wal")
        except OSError as exc:
            conn.close()
            raise HistoryError(f"{self.path}: {_reason(exc, os.path.dirname(self.path))}") from None
        _linger(os.path.realpath(self.path), conn)

    # ---------------------------------------------------------------- plumbing
    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """The connection (opened on first use); SQLite and OS errors become HistoryError.

        Closing any descriptor of the database file drops every POSIX lock this
        process holds on it, including those of another connection still open
        here (the shell's recorder, while ``history`` reads): another process
        could then take itself for the last user and delete the WAL under it.
        So an existing file is left to SQLite alone.
        """
        try:
            if self._conn is None:
                if not os.path.exists(self.path):  # never open and close an existing database file: see below
                    private_file(self.path)  # 0600 before SQLite creates it; -wal and -shm inherit the mode
                self._conn = connect(str(self.path), self.timeout)
            yield self._conn
        except (sqlite3.Error, OSError) as exc:
            raise HistoryError(f"{self.path}: {_reason(exc, os.path.dirname(self.path))}") from None

    def _records(
        self, db: sqlite3.Connection, rows: Sequence[tuple[Any, ...]], stage_columns: str = _STAGE_READ
    ) -> list[RunRecord]:
        """Runs from ``rows`` (``_RUN_COLUMNS`` or ``_BRIEF_RUN_COLUMNS``) with their stages' ``stage_columns``.

        A stage whose input is the run's piped input gets the run's own string (one copy, not two).
        With ``_STAGE_BRIEF`` each answer is its first BRIEF_TEXT characters, streamed chunks included.
        """
        runs: dict[int, RunRecord] = {}
        for number, run_id, line, started, ended, status, replay_of, pid, stdin, long in rows:
            if long:
                stdin = _read_text(db, "inputs", "stdin", number)
            runs[number] = RunRecord(run_id, line, started, number, status, ended, replay_of, pid, stdin)
        if runs:
            brief = stage_columns is _STAGE_BRIEF
            marks = ",".join("?" * len(runs))
            sql = f"SELECT {stage_columns} FROM stages WHERE run IN ({marks}) ORDER BY run, idx"
            stages: dict[tuple[int, int], StageRecord] = {}
            for row in db.execute(sql, list(runs)):
                number, idx, agent, transport, codec, input_, text, status, error, meta, of_stdin, end, blob = row
                if of_stdin:  # the run's piped input (schema._V7), or its start and then input (_V8)
                    input_ = _from_stdin(runs[number].stdin or "", end, input_)
                elif blob is not None:
                    input_ = _read_text(db, "stage_inputs", "input", blob)
                stage = StageRecord(idx, agent, transport, codec, input_, text, status, error, json.loads(meta))
                runs[number].stages.append(stage)
                stages[(number, idx)] = stage
            chunk = f"substr(text, 1, {BRIEF_TEXT})" if brief else "text"
            sql = f"SELECT run, idx, {chunk} FROM chunks WHERE run IN ({marks}) ORDER BY run, idx, seq"
            for number, idx, text in db.execute(sql, list(runs)):
                found = stages.get((number, idx))
                if found is not None and (not brief or len(found.text) < BRIEF_TEXT):
                    found.text = (found.text + text)[:BRIEF_TEXT] if brief else found.text + text
        return list(runs.values())


def _read_text(db: sqlite3.Connection, table: str, column: str, rowid: int) -> str:
    """A long text stored as UTF-8 in a BLOB (schema._V6), read and decoded PIECE bytes at a time into a
    string that grows in place (decision 33): ``CAST(... AS TEXT)`` held the blob, then the text, in
    SQLite beside the string. ``text += piece`` on a local holding the only reference is CPython's
    in-place append (decision 27: ``while True``, whose loop warms up)."""
    import codecs  # long inputs only

    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    text = ""
    with db.blobopen(table, column, rowid, readonly=True) as blob:
        while True:
            chunk = blob.read(PIECE)
            text += decoder.decode(chunk, not chunk)
            if not chunk:
                return text


def _from_stdin(stdin: str, end: int | None, rest: str) -> str:
    """A stage input recorded as the run's piped input (``end`` None), or its first ``end`` characters then
    ``rest`` (decision 31): built at once, ``stdin[:end] + rest`` would copy the start twice."""
    if end is None:
        return stdin
    return "%.*s%s" % (end, stdin, rest)  # noqa: UP031 (%.*s writes the first end characters, no slice)


def _insert_text(
    db: sqlite3.Connection, table: str, column: str, sql: str, params: dict[str, Any], text: str | Joined
) -> None:
    """Run ``sql``, an INSERT of one row whose ``column`` is the parameter ``:text``.

    A text longer than LONG characters is not bound (SQLite would copy it, then copy it again
    into the row: with 20 MB piped in, 40 MB at once beside the string): the row gets a
    zeroblob of its UTF-8 length, which SQLite writes without holding it, and the text is
    written into it in pieces through SQLite's incremental blob I/O (decision 27). Read it
    back with ``CAST(column AS TEXT)``.
    """
    if len(text) <= LONG:
        db.execute(sql, {**params, "text": str(text)})
        return
    pieces = text.pieces if isinstance(text, Joined) else functools.partial(_pieces, text)
    size = len(text) if text.isascii() else sum(len(piece.encode()) for piece in pieces(PIECE))
    cursor = db.execute(sql.replace(":text", "zeroblob(:size)"), {**params, "size": size})
    if cursor.rowcount != 1 or cursor.lastrowid is None:
        return  # nothing inserted (its run was deleted meanwhile)
    with db.blobopen(table, column, cursor.lastrowid) as blob:
        for piece in pieces(PIECE):
            blob.write(piece.encode())


def _pieces(text: str, size: int) -> Iterator[str]:
    return (text[start : start + size] for start in range(0, len(text), size))


def _append_chunk(db: sqlite3.Connection, run_id: str, index: int, text: str) -> None:
    db.execute(
        "INSERT INTO chunks (run, idx, seq, text) SELECT number, ?, "
        "(SELECT coalesce(max(seq), -1) + 1 FROM chunks WHERE run = number AND idx = ?), ? "
        "FROM runs WHERE id = ?",
        (index, index, text, run_id),
    )


def _checkpoint(db: sqlite3.Connection) -> None:
    """Copy what the WAL holds into the database, if nobody is in the way (a first run begins: beside its stream).

    The first write after a complete checkpoint starts the WAL again from
    its beginning, so after each ``aish -c`` it holds that run. Later runs of
    the same instance (the shell's, a program writing many runs) leave it to
    SQLite's automatic checkpoint at 1,000 pages: two ``fdatasync`` calls per
    run made writing 100,000 runs 3 times slower.
    """
    with contextlib.suppress(sqlite3.OperationalError):  # busy: another process checkpoints, or will
        db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _sync(wal: str) -> None:
    """Flush the WAL to the disk: its transactions survive a power cut, as a checkpoint would have made sure.

    A descriptor of the WAL file may be opened and closed: SQLite locks the
    database and shared-memory files, never the WAL.
    """
    try:
        fd = os.open(wal, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


LINGER = 4
"""Databases whose last connection a process keeps open (see ``_linger``)."""
_lingering: dict[str, sqlite3.Connection] = {}
_lingering_lock = threading.Lock()


def _linger(path: str, conn: sqlite3.Connection) -> None:
    """Keep ``conn`` to the database ``path`` open until the process ends, closing the one kept before.

    SQLite's last connection to a database to close checkpoints the WAL into
    it and deletes the WAL and shared-memory files: at the end of every
    ``aish -c``, a copy of the run's pages, two ``fdatasync`` calls and two
    unlinks, and the next process then created the WAL again and synced it:
    2-6 ms that the exit waited for. Kept open, the connection is never
    closed: ``aish.cli.run`` ends the process with ``os._exit`` (an
    interpreter that exits normally closes it then, checkpointing). The
    records are already on the disk (committed, and the WAL synced by
    ``close``); the next run checkpoints them as it begins, beside its
    stream. One connection per database is kept: closing the one kept before
    while this one is open is no last close, so it does not checkpoint
    either. Past ``LINGER`` databases (a test suite's), the oldest is closed.
    """
    closing = []
    with _lingering_lock:
        if (previous := _lingering.pop(path, None)) is not None:
            closing.append(previous)
        _lingering[path] = conn
        while len(_lingering) > LINGER:
            closing.append(_lingering.pop(next(iter(_lingering))))
    for old in closing:
        old.close()


INDEX_BATCH = 500
"""Runs indexed per transaction: a long catch-up commits as it goes, so the WAL stays small."""


def _index_finished(db: sqlite3.Connection) -> int:
    """Add up to INDEX_BATCH runs that ended since to the full-text index (inside a transaction).

    Called before a search, never while recording: a run's stream costs only
    the writes of its facts, and the index (derived from them) is brought up
    to date when somebody searches. Runs not indexed yet (running, or cut short
    by a crash) are searched row by row. Returns how many runs it indexed.
    """
    from aish import composed  # searching only

    sql = "SELECT number, line FROM runs WHERE indexed = 0 AND status != 'running' ORDER BY number LIMIT ?"
    pending = list(db.execute(sql, (INDEX_BATCH,)))
    for number, line in pending:
        texts = dict(db.execute("SELECT idx, text FROM stages WHERE run = ? ORDER BY idx", (number,)))
        for idx, text in db.execute("SELECT idx, text FROM chunks WHERE run = ? ORDER BY idx, seq", (number,)):
            if idx in texts:  # streamed text (see end_stage) follows what the stage row holds
                texts[idx] += text
        db.execute("DELETE FROM runs_fts WHERE rowid = ?", (number,))
        answers = composed("\n".join(texts.values()))  # as search terms are (aish.search_terms)
        db.execute("INSERT INTO runs_fts (rowid, line, answers) VALUES (?, ?, ?)", (number, composed(line), answers))
        db.execute("UPDATE runs SET indexed = 1 WHERE number = ?", (number,))
    return len(pending)


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _fts_query(terms: Sequence[str]) -> tuple[str, list[str]]:
    """WHERE clause and parameters: quoted trigram phrases for terms of 3+ characters, LIKE for shorter."""
    where, params = [], []
    long = [t for t in terms if len(t) >= 3]
    if long:
        where.append("runs_fts MATCH ?")
        params.append(" AND ".join('"' + t.replace('"', '""') + '"' for t in long))
    for term in (t for t in terms if len(t) < 3):
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("(line LIKE ? ESCAPE '\\' OR answers LIKE ? ESCAPE '\\')")
        params += [pattern, pattern]
    return " AND ".join(where), params


def _limit(limit: int | None) -> int:
    return -1 if limit is None else max(0, limit)


def _reason(exc: BaseException, directory: str | None = None) -> str:
    """What went wrong, as what it was: SQLite's "disk I/O error" on a full disk says so."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    reason = str(exc)
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_IOERR", "SQLITE_FULL")):
        if directory is not None and _full(directory):
            return f"no space left on the device ({reason})"
        if name != "SQLITE_IOERR" and name.lower() not in reason.lower():
            reason = f"{reason} ({name})"
    return reason


def _full(directory: str) -> bool:
    try:
        stats = os.statvfs(directory)
    except (OSError, AttributeError):
        return False
    return stats.f_bavail == 0 or stats.f_favail == 0
