"""What each built-in backend promises beyond the contract: file format, torn lines, WAL, schema, locks."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from aish import HistoryError, Joined, RunRecord, StageRecord
from aish.contract_tests.processes import record_run
from aish.joined import rstripped
from aish_history_jsonl.store import JsonlHistory
from aish_history_sqlite.schema import CONVERSATION, MIGRATIONS, VERSION
from aish_history_sqlite.store import LINGER, SqliteHistory

# -------------------------------------------------------------------- jsonl


def test_jsonl_is_one_complete_json_record_per_line(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    record_run(backend, 'echo "x\ny" | athena', ["line one\nline two", "ünïcode 🦉"])
    backend.close()
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]
    assert [r["op"] for r in records] == [
        "run",
        "stage",
        "text",
        "text",
        "done",
        "stage",
        "text",
        "text",
        "done",
        "end",
    ]
    assert records[0]["n"] == 1 and records[0]["line"] == 'echo "x\ny" | athena'


def test_jsonl_skips_a_torn_last_line_and_writes_on_a_fresh_one(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    record_run(backend, "first", ["one"])
    with path.open("ab") as fh:
        fh.write(b'{"op":"run","n":2,"id":"torn","line":"half a reco')  # a writer killed mid-write
    assert [r.line for r in JsonlHistory(path).runs()] == ["first"]
    second = record_run(backend, "second", ["two"])
    assert second.number == 2  # the torn record never counted
    assert [(r.number, r.line) for r in JsonlHistory(path).runs()] == [(1, "first"), (2, "second")]
    torn, *rest = [line for line in path.read_bytes().split(b"\n") if b"torn" in line or b"second" in line]
    assert torn.endswith(b"half a reco") and json.loads(rest[0])["line"] == "second"


def test_jsonl_reads_recent_runs_from_the_tail_of_a_big_file(tmp_path: Path) -> None:
    backend = JsonlHistory(tmp_path / "h.jsonl")
    for i in range(40):
        record_run(backend, f"run {i}", [f"{i} " * 5000])  # about 400 KB in all: more than one tail window
    assert [r.number for r in backend.runs(3)] == [38, 39, 40]
    assert backend.runs(3)[0].stages[0].text == "37 " * 5000
    assert len(backend.runs(None)) == 40
    assert [r.number for r in backend.search("12", limit=2)] == [13]
    assert [r.line for r in backend.search('"run 39"')] == ["run 39"]  # a phrase is one term


def test_jsonl_long_and_non_ascii_terms_take_the_full_path(tmp_path: Path) -> None:
    backend = JsonlHistory(tmp_path / "h.jsonl")
    word = "x" * 100
    record_run(backend, "long", [f"a {word} b"])
    record_run(backend, "accents", ["ÉTÉ"])
    assert [r.line for r in backend.search(word)] == ["long"]
    assert [r.line for r in backend.search("été")] == ["accents"]


def test_jsonl_reports_a_full_disk(tmp_path: Path) -> None:
    backend = JsonlHistory("/dev/full")
    run = RunRecord(id=uuid.uuid4().hex, line="x", started=time.time())
    with pytest.raises(HistoryError, match=r"cannot write /dev/full: No space left on device"):
        backend.begin_run(run)


def test_jsonl_reports_a_file_it_cannot_create(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    backend = JsonlHistory(tmp_path / "a-file" / "h.jsonl")
    with pytest.raises(HistoryError, match=r"cannot open .*/a-file/h.jsonl: "):
        backend.begin_run(RunRecord(id=uuid.uuid4().hex, line="x", started=time.time()))


# ------------------------------------------------------------------- sqlite


def test_sqlite_a_search_indexes_a_long_backlog_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("aish_history_sqlite.store.INDEX_BATCH", 3)
    path = tmp_path / "h.sqlite3"
    backend = SqliteHistory(path)
    for i in range(7):
        record_run(backend, f"line {i}", [f"answer {i}"])
    assert [r.line for r in backend.search("answer")] == [f"line {i}" for i in range(7)]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM runs_fts").fetchone()[0] == 7
        assert db.execute("SELECT count(*) FROM runs WHERE indexed = 0").fetchone()[0] == 0
    db.close()
    backend.close()


def test_sqlite_uses_wal_and_a_versioned_schema(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    backend = SqliteHistory(path)
    record_run(backend, "x", ["y"])
    for suffix in ("", "-wal", "-shm"):  # while open, the WAL files exist: private too
        mode = stat.S_IMODE(Path(f"{path}{suffix}").stat().st_mode)
        assert mode == 0o600, (suffix, oct(mode))
    backend.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION == 8
        tokenizer = db.execute("SELECT sql FROM sqlite_master WHERE name = 'runs_fts'").fetchone()[0]
        assert "trigram" in tokenizer


def test_sqlite_upgrades_a_version_1_database_keeping_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path, isolation_level=None) as db:  # what aish 0.1 created
        for statement in MIGRATIONS[1]:
            db.execute(statement)
        db.execute("INSERT INTO runs (id, line, started, status) VALUES ('a', 'athena old', 1.0, 'complete')")
        db.execute("PRAGMA user_version = 1")
    db.close()
    backend = SqliteHistory(path)
    old = backend.get(1)
    assert old is not None and (old.line, old.stdin) == ("athena old", None)
    run = RunRecord(id=uuid.uuid4().hex, line="athena", started=time.time(), stdin="piped\ntext")
    backend.begin_run(run)
    got = backend.get(2)
    assert got is not None and got.stdin == "piped\ntext"
    backend.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
        indexes = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "stages_conversation" in indexes
    db.close()


def test_sqlite_finds_a_conversation_through_its_index(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    backend = SqliteHistory(path)
    record_run(backend, "x", ["y"])
    backend.close()
    with sqlite3.connect(path) as db:
        plan = db.execute(
            f"EXPLAIN QUERY PLAN SELECT run FROM stages WHERE {CONVERSATION} = ? AND {CONVERSATION} IS NOT NULL",
            ("c1",),
        ).fetchall()
    db.close()
    assert any("stages_conversation" in str(row) for row in plan), plan


def test_sqlite_upgrades_a_version_2_database_moving_piped_and_stage_input_out_of_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path, isolation_level=None) as db:  # what aish wrote before decision 18
        for statement in (*MIGRATIONS[1], *MIGRATIONS[2]):
            db.execute(statement)
        db.execute("INSERT INTO runs (id, line, started, status, stdin) VALUES ('a', 'athena', 1.0, 'complete', 'in')")
        db.execute(
            "INSERT INTO stages (run, idx, agent, input, text, status) VALUES (1, 0, 'athena', 'in', 'out', 'ok')"
        )
        db.execute("PRAGMA user_version = 2")
    db.close()
    backend = SqliteHistory(path)
    old = backend.get(1)
    assert old is not None and old.stdin == "in" and [(s.input, s.text) for s in old.stages] == [("in", "out")]
    assert backend.delete(1) and backend.get(1) is None
    backend.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM inputs").fetchone()[0] == 0  # deleted with their run
        assert db.execute("SELECT count(*) FROM stage_inputs").fetchone()[0] == 0
    db.close()


def test_sqlite_writes_piped_and_stage_input_once(tmp_path: Path) -> None:
    """SQLite rewrites a whole row on UPDATE: a long input kept in the run's or stage's row was
    rewritten at the stage's end, the run's end and its indexing (the next process's). A stage
    whose input is the run's piped input refers to it (decision 27); another long input is kept
    in stage_inputs, as UTF-8 in a BLOB."""
    path = tmp_path / "h.sqlite3"
    backend = SqliteHistory(path)
    big = "piped text " * 20_000
    other = big + "\n\nsummarize"
    run = RunRecord(id=uuid.uuid4().hex, line="athena", started=time.time(), stdin=big)
    backend.begin_run(run)
    for index, text in enumerate((big, other)):
        backend.begin_stage(run.id, StageRecord(index, "athena", "sse", "openai-chat", input=text))
        backend.append_text(run.id, index, "an answer")
        backend.end_stage(
            run.id,
            StageRecord(index, "athena", "sse", "openai-chat", input=text, text="an answer", status="complete"),
        )
    backend.end_run(run.id, "complete", time.time())
    backend.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT max(length(coalesce(stdin, ''))) FROM runs").fetchone()[0] == 0
        assert db.execute("SELECT max(length(input)) FROM stages").fetchone()[0] == 0
        assert db.execute("SELECT CAST(stdin AS TEXT), typeof(stdin) FROM inputs").fetchone() == (big, "blob")
        assert db.execute("SELECT idx, CAST(input AS TEXT) FROM stage_inputs").fetchall() == [(1, other)]
        assert db.execute("SELECT idx, input_is_stdin FROM stages ORDER BY idx").fetchall() == [(0, 1), (1, 0)]
    db.close()
    again = SqliteHistory(path)
    got = again.get(1)
    assert got is not None and got.stdin == big
    assert [(s.input, s.text) for s in got.stages] == [(big, "an answer"), (other, "an answer")]
    again.close()


def test_jsonl_writes_a_stage_input_that_is_the_piped_input_once(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    big = "piped text " * 20_000
    run = RunRecord(id=uuid.uuid4().hex, line="athena", started=time.time(), stdin=big)
    backend.begin_run(run)
    backend.begin_stage(run.id, StageRecord(0, "athena", "sse", "openai-chat", input=big))
    backend.end_run(run.id, "complete", time.time())
    run2 = RunRecord(id=uuid.uuid4().hex, line="athena x", started=time.time(), stdin=big)
    backend.begin_run(run2)  # a short stage input, or another run's: written as it is
    backend.begin_stage(run2.id, StageRecord(0, "athena", "sse", "openai-chat", input="x"))
    backend.end_run(run2.id, "complete", time.time())
    backend.close()
    assert path.read_text(encoding="utf-8").count(big) == 2  # each run's stdin, no stage's input
    got = [JsonlHistory(path).get(n) for n in (1, 2)]
    assert [(r.stdin, [s.input for s in r.stages]) for r in got if r is not None] == [(big, [big]), (big, ["x"])]


def test_a_stage_input_of_the_piped_input_then_words_refers_to_it(tmp_path: Path) -> None:
    """``aish athena summarize < input``: the stage's input, recorded as a Joined of the piped
    input (its trailing white space cut) and the words, is stored as the number of characters
    of the piped input it keeps and the words (decision 31), in both backends."""
    big = "piped text " * 20_000 + "\n\n"
    joined = Joined(rstripped(big), "\n\n", "summarize")
    other = Joined(rstripped(big.upper()), "\n\n", "summarize")  # long, not the run's: stored whole
    for backend in (SqliteHistory(tmp_path / "h.sqlite3"), JsonlHistory(tmp_path / "h.jsonl")):
        run = RunRecord(id=uuid.uuid4().hex, line="athena summarize", started=time.time(), stdin=big)
        backend.begin_run(run)
        for index, text in enumerate((joined, other)):
            backend.begin_stage(run.id, StageRecord(index, "athena", "sse", "openai-chat", input=text))
            backend.end_stage(run.id, StageRecord(index, "athena", "sse", "openai-chat", input=text, status="complete"))
        backend.end_run(run.id, "complete", time.time())
        backend.close()
        got = type(backend)(backend.path).get(1)  # read back by another instance
        assert got is not None and got.stdin == big
        assert [s.input for s in got.stages] == [big.rstrip() + "\n\nsummarize", big.upper().rstrip() + "\n\nsummarize"]
    with sqlite3.connect(tmp_path / "h.sqlite3") as db:
        rows = db.execute("SELECT idx, input_is_stdin, input_stdin_end, input FROM stages ORDER BY idx").fetchall()
        assert rows == [(0, 1, len(big.rstrip()), "\n\nsummarize"), (1, 0, None, "")]
        assert db.execute("SELECT idx FROM stage_inputs").fetchall() == [(1,)]
    db.close()
    lines = (tmp_path / "h.jsonl").read_text(encoding="utf-8").splitlines()
    assert sum(big.rstrip() in line for line in lines) == 1  # the run's stdin only
    stage = json.loads(next(line for line in lines if '"op":"stage"' in line))
    assert (stage["input_from"], stage["input_end"], stage["input"]) == ("stdin", len(big.rstrip()), "\n\nsummarize")


def test_sqlite_a_second_store_in_the_process_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    """The shell's recorder stays open while `history` opens the store again in the same process."""
    path = tmp_path / "h.sqlite3"
    recording = SqliteHistory(path)
    run = RunRecord(id=uuid.uuid4().hex, line="athena", started=time.time())
    recording.begin_run(run)
    reader = SqliteHistory(path)
    assert [r.line for r in reader.runs()] == ["athena"]
    reader.close()
    other = f"import sqlite3; sqlite3.connect({str(path)!r}).execute('SELECT count(*) FROM runs').fetchone()"
    subprocess.run([sys.executable, "-c", other], check=True, timeout=30)  # closes: last connection?
    assert Path(f"{path}-wal").exists()  # no: the recorder's connection is still open, its WAL stays
    recording.end_run(run.id, "complete", time.time())
    recording.close()


def test_sqlite_close_leaves_the_wal_to_the_next_run_and_the_records_on_disk(tmp_path: Path) -> None:
    """Closing syncs the WAL and keeps the connection (no checkpoint at exit); the next run begins by checkpointing."""
    path = tmp_path / "h.sqlite3"
    first = SqliteHistory(path)
    record_run(first, "one", ["an answer"])
    first.close()
    reader = SqliteHistory(path)  # the same process opens and closes the store again: still no last close
    assert [r.line for r in reader.runs()] == ["one"]
    reader.close()
    assert Path(f"{path}-wal").stat().st_size > 0
    alone = tmp_path / "alone.sqlite3"  # the database file without its WAL: the run is not in it yet
    alone.write_bytes(path.read_bytes())
    with sqlite3.connect(alone) as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
    db.close()
    other = f"import sqlite3; print(sqlite3.connect({str(path)!r}).execute('SELECT line FROM runs').fetchall())"
    seen = subprocess.run([sys.executable, "-c", other], capture_output=True, text=True, check=True, timeout=30)
    assert seen.stdout == "[('one',)]\n"  # another process reads it from the WAL
    second = SqliteHistory(path)
    record_run(second, "two", ["another"])  # begins with a checkpoint: run one is now in the database file
    second.close()
    alone.write_bytes(path.read_bytes())
    with sqlite3.connect(alone) as db:
        assert [line for (line,) in db.execute("SELECT line FROM runs")] == ["one"]
    db.close()


def test_sqlite_keeps_the_last_connection_of_a_few_databases_only(tmp_path: Path) -> None:
    paths = [tmp_path / f"h{i}.sqlite3" for i in range(LINGER + 1)]
    for path in paths:
        backend = SqliteHistory(path)
        record_run(backend, path.name, ["x"])
        backend.close()
    assert not Path(f"{paths[0]}-wal").exists()  # closed for good: the last close checkpointed and removed it
    assert all(Path(f"{path}-wal").exists() for path in paths[1:])
    with sqlite3.connect(paths[0]) as db:
        assert db.execute("SELECT line FROM runs").fetchall() == [("h0.sqlite3",)]
    db.close()


def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(HistoryError, match=rf"schema version 99; this aish knows up to {VERSION}"):
        SqliteHistory(path).runs()


def test_sqlite_reports_a_locked_database_after_its_timeout(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    SqliteHistory(path).runs()  # create it
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        backend = SqliteHistory(path, timeout=0.2)
        started = time.monotonic()
        with pytest.raises(HistoryError, match="database is locked"):
            record_run(backend, "x", ["y"])
        assert time.monotonic() - started < 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [r.line for r in SqliteHistory(path).runs()] == []


def test_sqlite_writes_streamed_text_once_and_indexes_when_a_search_starts(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    backend = SqliteHistory(path)
    run = RunRecord(id=uuid.uuid4().hex, line="athena", started=time.time())
    backend.begin_run(run)
    backend.begin_stage(run.id, StageRecord(0, "athena"))
    backend.append_text(run.id, 0, "quant")
    backend.append_text(run.id, 0, "um")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM runs_fts").fetchone()[0] == 0
        assert db.execute("SELECT text FROM chunks ORDER BY seq").fetchall() == [("quant",), ("um",)]
    assert [r.number for r in backend.search("uantu")] == [1]  # found while it streams, unindexed
    backend.end_stage(run.id, StageRecord(0, "athena", text="quantum leap", status="complete"))
    backend.end_run(run.id, "complete", time.time())
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM runs_fts").fetchone()[0] == 0  # the end stays cheap
        chunks = db.execute("SELECT text FROM chunks ORDER BY seq").fetchall()
        assert chunks == [("quant",), ("um",), (" leap",)]  # streamed text is not written twice
        assert db.execute("SELECT text FROM stages").fetchall() == [("",)]
    record_run(backend, "next", ["run"])  # recording never indexes
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM runs_fts").fetchone()[0] == 0
    assert [r.number for r in backend.search("uantum lea")] == [1]
    with sqlite3.connect(path) as db:  # the search indexed every finished run
        assert db.execute("SELECT rowid, answers FROM runs_fts").fetchall() == [(1, "quantum leap"), (2, "run")]
    got = backend.get(1)
    assert got is not None and got.stages[0].text == "quantum leap"
    other = RunRecord(id=uuid.uuid4().hex, line="x", started=time.time())
    backend.begin_run(other)
    backend.begin_stage(other.id, StageRecord(0, "athena"))
    backend.append_text(other.id, 0, "draft with a k3y")
    backend.end_stage(other.id, StageRecord(0, "athena", text="draft with a ***", status="complete"))
    with sqlite3.connect(path) as db:  # the final text differs from what streamed: stored whole, chunks gone
        assert db.execute("SELECT text FROM stages WHERE run = 3").fetchall() == [("draft with a ***",)]
        assert db.execute("SELECT count(*) FROM chunks WHERE run = 3").fetchone()[0] == 0
