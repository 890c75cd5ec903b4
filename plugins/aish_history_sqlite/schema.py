"""The database schema, versioned with ``PRAGMA user_version``, and how to reach it."""

from __future__ import annotations

import sqlite3
import time

from aish import HistoryError

VERSION = 8

_V1 = (
    """CREATE TABLE runs (
        number INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        line TEXT NOT NULL,
        started REAL NOT NULL,
        ended REAL,
        status TEXT NOT NULL DEFAULT 'running',
        replay_of INTEGER,
        pid INTEGER NOT NULL DEFAULT 0,
        indexed INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX runs_unindexed ON runs(number) WHERE indexed = 0",
    """CREATE TABLE stages (
        run INTEGER NOT NULL REFERENCES runs(number) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        agent TEXT NOT NULL,
        transport TEXT NOT NULL DEFAULT '',
        codec TEXT NOT NULL DEFAULT '',
        input TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'running',
        error TEXT,
        meta TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (run, idx)
    ) WITHOUT ROWID""",
    # Text streamed into a stage that has not ended: one row per append (appending to stages.text
    # would rewrite the whole row each time). The stage's end moves it into stages.text.
    """CREATE TABLE chunks (
        run INTEGER NOT NULL REFERENCES runs(number) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (run, idx, seq)
    ) WITHOUT ROWID""",
    # Finished runs (rowid = runs.number): the line and the answers, for substring search. A run
    # is added when the next run begins or a search starts; until then (and while it streams, or
    # if a crash cut it short) search reads it row by row.
    "CREATE VIRTUAL TABLE runs_fts USING fts5(line, answers, tokenize = 'trigram')",
)

_V2 = ("ALTER TABLE runs ADD COLUMN stdin TEXT",)  # input piped into aish, sent again by !N

CONVERSATION = "json_extract(meta, '$.conversation')"
"""The conversation a stage is a turn of (``StageRecord.meta["conversation"]``), as the index has it."""

_V3 = (  # finding a conversation's turns (aish --cid, conversations resume) without reading every stage
    f"CREATE INDEX stages_conversation ON stages({CONVERSATION}) WHERE {CONVERSATION} IS NOT NULL",
)

# Piped input and a stage's input live in tables of their own, written once: SQLite rewrites a
# whole row on every UPDATE (a run's end, its indexing; a stage's end), and reading a column
# after a long one walks its overflow pages, so 20 MB piped into a run was read and rewritten
# three times, the last time by the next aish process (decision 18).
_V4 = (
    """CREATE TABLE inputs (
        run INTEGER PRIMARY KEY REFERENCES runs(number) ON DELETE CASCADE,
        stdin TEXT NOT NULL
    )""",
    "INSERT INTO inputs (run, stdin) SELECT number, stdin FROM runs WHERE stdin IS NOT NULL",
    "UPDATE runs SET stdin = NULL WHERE stdin IS NOT NULL",
    """CREATE TABLE stage_inputs (
        run INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        input TEXT NOT NULL,
        PRIMARY KEY (run, idx),
        FOREIGN KEY (run, idx) REFERENCES stages(run, idx) ON DELETE CASCADE
    ) WITHOUT ROWID""",
    "INSERT INTO stage_inputs (run, idx, input) SELECT run, idx, input FROM stages WHERE input != ''",
    "UPDATE stages SET input = '' WHERE input != ''",
)

# A WITHOUT ROWID table keeps each whole row in its key's b-tree, and SQLite reads the whole
# record of every cell it compares keys with: inserting one stage input read a neighbour's
# 20 MB. A rowid table keeps rows out of the key's way (the index holds run, idx, rowid).
_V5 = (
    """CREATE TABLE stage_inputs_v5 (
        run INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        input TEXT NOT NULL,
        FOREIGN KEY (run, idx) REFERENCES stages(run, idx) ON DELETE CASCADE
    )""",
    "INSERT INTO stage_inputs_v5 (run, idx, input) SELECT run, idx, input FROM stage_inputs",
    "DROP TABLE stage_inputs",
    "ALTER TABLE stage_inputs_v5 RENAME TO stage_inputs",
    "CREATE UNIQUE INDEX stage_inputs_key ON stage_inputs(run, idx)",
)

# A long piped or stage input (over store.LONG characters) is stored as its UTF-8 in a BLOB, written
# in pieces through incremental blob I/O, and read with CAST(... AS TEXT): bound as a parameter,
# SQLite copied it twice (the bound value, then the row) beside the string itself (decision 27).
# Nothing to change in the tables; the version tells an older aish, which would read bytes, to stop.
_V6 = ("SELECT 1",)

# A stage whose input is the run's piped input (``aish athena < file``: the same 20 MB) says so
# instead of storing it a second time; it is read back from ``inputs`` (decision 27).
_V7 = ("ALTER TABLE stages ADD COLUMN input_is_stdin INTEGER NOT NULL DEFAULT 0",)

# A stage whose input is the run's piped input, its trailing white space cut, then its own words
# (``aish athena summarize < file``) says how many characters of the piped input begin it; its
# ``input`` column holds what follows (decision 31). NULL: all of the piped input, nothing after.
_V8 = ("ALTER TABLE stages ADD COLUMN input_stdin_end INTEGER",)

MIGRATIONS: dict[int, tuple[str, ...]] = {1: _V1, 2: _V2, 3: _V3, 4: _V4, 5: _V5, 6: _V6, 7: _V7, 8: _V8}
"""Statements that take the schema from version N-1 to N."""


def connect(path: str, timeout: float) -> sqlite3.Connection:
    """Open (creating or upgrading) the database: WAL, a busy timeout, foreign keys.

    While a new file is still in rollback-journal mode, two processes setting
    it up at once can get "database is locked" at once (SQLite refuses to wait
    where waiting could deadlock), so setting up is retried until ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            if conn.execute("PRAGMA user_version").fetchone()[0] != VERSION:
                _migrate(conn, path)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA journal_size_limit = 4194304")  # a checkpointed WAL shrinks back to 4 MiB
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            import random  # a busy store only

            time.sleep(random.uniform(0.005, 0.05))
        except BaseException:
            conn.close()
            raise


def _migrate(conn: sqlite3.Connection, path: str) -> None:
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")  # persistent: set once, when the file is new
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > VERSION:
            raise HistoryError(
                f"{path}: the history database has schema version {version}; "
                f"this aish knows up to {VERSION} (upgrade aish, or choose another history_path)"
            )
        for target in range(version + 1, VERSION + 1):
            for statement in MIGRATIONS[target]:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
