"""The journal of one-shot processes (aish.history.journal): written as calls are made, applied by readers.

Every test applies journals to the real built-in backends (SQLite and JSONL
files in the test's directory). Locks are real ``flock`` locks: a writer and
a reader in one process hold separate open files, which lock each other out
as two processes do.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import stat
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aish import AgentConfig, App, HistoryBackend, HistoryError, Joined, RunRecord, StageRecord
from aish.history import journal as journal_module
from aish.history.journal import Journal, fold, journal_dir
from aish.history.recorder import Recorder
from aish.history.store import backend_name, backend_options, make_recorder, opened
from aish.joined import rstripped
from aish_history_jsonl.store import JsonlHistory
from aish_history_sqlite.store import SqliteHistory

BACKENDS: dict[str, Callable[[Path], HistoryBackend]] = {
    "sqlite": lambda d: SqliteHistory(d / "history.sqlite3"),
    "jsonl": lambda d: JsonlHistory(d / "history.jsonl"),
}
AGENT = AgentConfig(name="athena", transport="sse", url="http://127.0.0.1:9/v1", codec="openai-chat", model="m")


@pytest.fixture(params=sorted(BACKENDS))
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], HistoryBackend]:
    return lambda: BACKENDS[request.param](tmp_path)


def record(sink: Any, line: str, texts: list[str], *, stdin: str | None = None, end: bool = True) -> RunRecord:
    """The calls a recorder makes for a run of one stage per text (each streamed in two appends)."""
    run = RunRecord(id=uuid.uuid4().hex, line=line, started=time.time(), pid=os.getpid(), stdin=stdin)
    calls = _calls(sink)
    calls("begin_run", run)
    for index, text in enumerate(texts):
        stage = StageRecord(index, "athena", "sse", "openai-chat", input=stdin if stdin is not None else f"in {index}")
        stage.meta = {"position": index}
        calls("begin_stage", run.id, stage.replace(meta=dict(stage.meta)))
        calls("append_text", run.id, index, text[: len(text) // 2])
        calls("append_text", run.id, index, text[len(text) // 2 :])
        if end:
            calls("end_stage", run.id, stage.replace(text=text, status="complete", meta={"tokens_out": 3}))
    if end:
        calls("end_run", run.id, "complete", time.time())
    return run


def _calls(sink: Any) -> Callable[..., None]:
    if isinstance(sink, Journal):
        return sink.submit
    return lambda method, *args: getattr(sink, method)(*args)


def stored(backend: HistoryBackend) -> list[tuple[Any, ...]]:
    """What a reader sees of every run (ids and times aside: they are the journal's own)."""
    return [
        (
            run.number,
            run.line,
            run.status,
            run.stdin,
            [(s.index, s.input, s.text, s.status, s.meta) for s in run.stages],
        )
        for run in backend.runs(None)
    ]


def test_a_journal_applied_gives_the_store_the_runs_recording_into_it_gives(
    open_store: Callable[[], HistoryBackend], tmp_path: Path
) -> None:
    piped = "the start of the piped input\n" + "line\n" * 20_000  # long: written once, the stage refers to it
    journal = Journal(str(tmp_path / "journal"))
    record(journal, "athena one", ["first answer"])
    record(journal, "athena two | apollo", ["a", "two stages"], stdin=piped)
    record(journal, "athena cut short", ["partial"], end=False)
    journal.close()
    (written,) = (tmp_path / "journal").glob("*.journal")
    assert written.read_bytes().count(b"the start of the piped input") == 1
    backend = open_store()
    assert fold(str(tmp_path / "journal"), backend) == 1
    assert list((tmp_path / "journal").glob("*.journal")) == []
    folded = stored(backend)
    backend.clear()
    record(backend, "athena one", ["first answer"])
    record(backend, "athena two | apollo", ["a", "two stages"], stdin=piped)
    record(backend, "athena cut short", ["partial"], end=False)
    assert folded == stored(backend)
    assert folded[1][4][1][1] == piped and folded[2][2] == "running"
    backend.close()


def test_a_stage_input_of_the_piped_input_then_words_is_written_once_and_applied_by_reference(
    open_store: Callable[[], HistoryBackend], tmp_path: Path
) -> None:
    """``aish athena summarize < input``: the stage's input is a Joined of the piped input and the
    words (decision 31); the journal refers to the run's piped input for it, at its begin and its
    end, and applying it gives the store a Joined again, which it stores by reference too."""
    piped = "the start of the piped input\n" + "line\n" * 20_000 + "\n"
    joined = Joined(rstripped(piped), "\n\n", "summarize")
    journal = Journal(str(tmp_path / "journal"))
    run = RunRecord(id=uuid.uuid4().hex, line="athena summarize", started=time.time(), stdin=piped)
    journal.submit("begin_run", run)
    journal.submit("begin_stage", run.id, StageRecord(0, "athena", input=joined))
    journal.submit("end_stage", run.id, StageRecord(0, "athena", input=joined, text="short", status="complete"))
    journal.submit("end_run", run.id, "complete", time.time())
    journal.close()
    (written,) = (tmp_path / "journal").glob("*.journal")
    assert written.read_bytes().count(b"the start of the piped input") == 1
    backend = open_store()
    given: list[Any] = []
    begin_stage = backend.begin_stage

    def noting(run_id: str, stage: StageRecord) -> None:
        given.append(stage.input)
        begin_stage(run_id, stage)

    backend.begin_stage = noting  # type: ignore[method-assign]
    assert fold(str(tmp_path / "journal"), backend) == 1
    assert isinstance(given[0], Joined) and given[0].after(piped) == (len(piped.rstrip()), "\n\nsummarize")
    got = backend.get(1)
    assert got is not None and got.stdin == piped
    assert [(s.input, s.text) for s in got.stages] == [(piped.rstrip() + "\n\nsummarize", "short")]
    backend.close()
    if isinstance(backend, JsonlHistory):
        assert backend.path.read_bytes().count(b"the start of the piped input") == 1


def test_a_journal_still_being_written_waits_for_its_process(
    open_store: Callable[[], HistoryBackend], tmp_path: Path
) -> None:
    directory = str(tmp_path / "journal")
    live = Journal(directory)
    record(live, "athena streaming", ["so far"], end=False)
    backend = open_store()
    assert fold(directory, backend) == 0 and backend.runs() == []
    live.submit("end_run", live_run_id(directory), "complete", time.time())
    live.close()  # its process ends: the lock goes with the file's descriptor
    assert fold(directory, backend) == 1
    assert [(r.line, r.status) for r in backend.runs()] == [("athena streaming", "complete")]
    backend.close()


def live_run_id(directory: str) -> str:
    (path,) = Path(directory).glob("*.journal")
    return str(path.read_text().split('"id":"')[1].split('"')[0])


def test_a_torn_last_line_is_skipped_and_the_rest_applied(
    open_store: Callable[[], HistoryBackend], tmp_path: Path
) -> None:
    directory = tmp_path / "journal"
    journal = Journal(str(directory))
    record(journal, "athena killed", ["said this much"], end=False)
    journal.close()
    (path,) = directory.glob("*.journal")
    with path.open("ab") as file:
        file.write(b'{"call":"append_text","id":"x","i":0,"text":"never fini')  # kill -9 inside a write
    backend = open_store()
    assert fold(str(directory), backend) == 1
    (run,) = backend.runs()
    assert (run.line, run.stages[0].text) == ("athena killed", "said this much")
    backend.close()


def test_sync_closes_the_journal_so_a_read_in_the_same_process_sees_it(
    open_store: Callable[[], HistoryBackend], tmp_path: Path
) -> None:
    """``aish -c 'athena hi; history'``: the second line reads what the first recorded."""
    directory = str(tmp_path / "journal")
    journal = Journal(directory)
    run = record(journal, "athena hi", ["hello"], end=False)
    assert journal.sync() is True
    backend = open_store()
    assert fold(directory, backend) == 1
    journal.submit("end_run", run.id, "complete", time.time())  # goes to a second journal
    journal.close()
    assert fold(directory, backend) == 1
    assert [(r.line, r.status) for r in backend.runs()] == [("athena hi", "complete")]
    backend.close()


class Failing:
    """A backend whose store fails at the ``fail_at``-th call, then works (a disk that had space again)."""

    def __init__(self, inner: HistoryBackend, fail_at: int) -> None:
        self.inner, self.calls, self.fail_at = inner, 0, fail_at

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if name not in ("begin_run", "begin_stage", "append_text", "end_stage", "end_run"):
            return method

        def call(*args: Any) -> Any:
            self.calls += 1
            if self.calls == self.fail_at:
                raise HistoryError("no space left on the device")
            return method(*args)

        return call


def test_a_failed_fold_keeps_exactly_the_calls_not_applied(
    open_store: Callable[[], HistoryBackend], tmp_path: Path
) -> None:
    directory = str(tmp_path / "journal")
    journal = Journal(directory)
    record(journal, "athena one", ["first"])
    record(journal, "athena two", ["second"])
    journal.close()
    backend = open_store()
    with pytest.raises(HistoryError, match=r"cannot apply .*\.journal: no space left on the device$"):
        fold(directory, Failing(backend, fail_at=8))  # the 2nd run's begin_stage
    assert [(r.line, r.status, len(r.stages)) for r in backend.runs()] == [
        ("athena one", "complete", 1),
        ("athena two", "running", 0),
    ]
    assert fold(directory, backend) == 1
    assert [(r.line, r.status, r.stages[0].text) for r in backend.runs()] == [
        ("athena one", "complete", "first"),
        ("athena two", "complete", "second"),
    ]
    backend.close()


def test_readers_folding_at_once_apply_each_journal_once(tmp_path: Path) -> None:
    directory = str(tmp_path / "journal")
    for n in range(20):
        journal = Journal(directory)
        record(journal, f"athena {n}", [f"answer {n}"])
        journal.close()
    store = tmp_path / "history.sqlite3"
    counts: list[int] = []

    def reader() -> None:
        backend = SqliteHistory(store, timeout=30)
        try:
            counts.append(fold(directory, backend))
        finally:
            backend.close()

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(counts) == 20
    backend = SqliteHistory(store)
    assert sorted(r.line for r in backend.runs(None)) == sorted(f"athena {n}" for n in range(20))
    backend.close()


def test_a_one_shot_process_that_finds_no_spare_folds_a_long_backlog_at_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "FOLD_AT", 3)
    monkeypatch.setattr(journal_module, "SPARES", 2)
    directory = str(tmp_path / "journal")
    folds: list[int] = []
    for n in range(7):
        journal = Journal(directory, fold_all=lambda: folds.append(len(glob_journals(directory))))
        record(journal, f"athena {n}", ["x"])
        journal.close()
    # the 1st, 4th and 7th processes made their journals (no spare left) and counted: 1, 4, then 7 waiting
    assert folds == [4, 7]
    warnings: list[str] = []

    def broken() -> None:
        raise HistoryError("database is locked")

    journal = Journal(directory, fold_all=broken, warn=warnings.append)  # the spares taken: makes its own
    for n in range(3):
        record(journal, f"athena {n}", ["x"])
        journal.sync()
    journal.close()
    assert warnings == [f"database is locked; the journals in {directory} are kept"]


def glob_journals(directory: str) -> list[str]:
    return [name for name in os.listdir(directory) if name.endswith(".journal")]


def test_a_process_takes_a_spare_left_by_one_that_made_its_journal(
    open_store: Callable[[], HistoryBackend], tmp_path: Path
) -> None:
    directory = tmp_path / "journal"
    Journal(str(directory)).close()
    assert not directory.exists(), "a process that recorded nothing touched the directory"
    first = Journal(str(directory))
    record(first, "athena one", ["first"])
    first.close()
    spares = sorted(p.name for p in directory.glob("spare-*"))
    assert spares == [f"spare-{n:02d}" for n in range(journal_module.SPARES)]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 and p.stat().st_size == 0 for p in directory.glob("spare-*"))
    inode = (directory / "spare-00").stat().st_ino
    second = Journal(str(directory))
    record(second, "athena two", ["second"])
    second.close()
    assert sorted(p.name for p in directory.glob("spare-*")) == spares[1:], "the lowest was taken, none made"
    taken = [p for p in directory.glob("*.journal") if p.stat().st_ino == inode]
    assert len(taken) == 1 and taken[0].name.split("-")[0].isdigit(), "named as a journal is, by its time"
    backend = open_store()
    assert fold(str(directory), backend) == 2
    assert [(run.line, run.stages[0].text) for run in backend.runs(None)] == [
        ("athena one", "first"),
        ("athena two", "second"),
    ]
    backend.close()


def test_a_spare_another_process_is_taking_is_left_to_it(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    directory.mkdir()
    assert journal_module.make_spares(str(directory)) == journal_module.SPARES
    with open(directory / "spare-00", "rb") as held:  # another process: locked, not yet renamed
        fcntl.flock(held, fcntl.LOCK_EX)
        journal = Journal(str(directory))
        record(journal, "athena mine", ["x"])
        journal.close()
    assert (directory / "spare-00").stat().st_size == 0
    assert not (directory / "spare-01").exists()
    (mine,) = directory.glob("*.journal")
    assert b"athena mine" in mine.read_bytes()


def test_a_spare_that_is_not_empty_is_not_taken(tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    directory.mkdir()
    journal_module.make_spares(str(directory))
    (directory / "spare-00").write_bytes(b"not a journal line, no line end")
    journal = Journal(str(directory))
    record(journal, "athena mine", ["x"])
    journal.close()
    assert (directory / "spare-00").read_bytes() == b"not a journal line, no line end"
    (mine,) = directory.glob("*.journal")
    assert mine.read_bytes().startswith(b'{"call":"begin_run"')


def test_a_spare_taken_between_its_opening_and_its_lock_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process took spare-00 (named it its journal, ended) and another made spare-00 anew,
    between this one's ``open`` and its lock: no real process can be stopped there on cue."""
    directory = tmp_path / "journal"
    directory.mkdir()
    journal_module.make_spares(str(directory))
    real_flock = fcntl.flock

    def flock(fd: int, operation: int) -> None:
        if not (directory / "theirs.journal").exists():
            os.rename(directory / "spare-00", directory / "theirs.journal")
            journal_module.make_spares(str(directory))
        real_flock(fd, operation)

    monkeypatch.setattr(journal_module.fcntl, "flock", flock)
    journal = Journal(str(directory))
    record(journal, "athena mine", ["x"])
    journal.close()
    assert (directory / "theirs.journal").stat().st_size == 0, "written into another process's journal"
    assert (directory / "spare-00").stat().st_size == 0 and not (directory / "spare-01").exists()
    (mine,) = (p for p in directory.glob("*.journal") if p.name != "theirs.journal")
    assert b"athena mine" in mine.read_bytes()


def test_journals_are_their_owners_only_and_hold_no_secret(tmp_path: Path) -> None:
    directory = tmp_path / "data" / "journal-sqlite"
    recorder = Recorder(
        None, io.StringIO(), interval=0.0, secrets=lambda: ["sk-SECRET42"], sink=Journal(str(directory))
    )
    run = recorder.begin("athena use sk-SECRET42")
    run.stage(AGENT, "my key is sk-SECRET42")
    run.end(0)
    recorder.close()
    (path,) = directory.glob("*.journal")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.parent.stat().st_mode) == 0o700
    assert b"sk-SECRET42" not in path.read_bytes() and b"***" in path.read_bytes()


def test_a_journal_that_cannot_be_written_is_one_line_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    err = io.StringIO()
    recorder = Recorder(None, err, sink=Journal(str(blocker / "journal")))
    recorder.begin("athena hi")
    recorder.close()
    assert err.getvalue() == (
        f"aish: history: cannot write {blocker / 'journal'}: Not a directory; runs are not being recorded\n"
    )


def test_where_journals_wait() -> None:
    assert journal_dir("sqlite", {"path": None, "data_dir": "/d/aish"}) == "/d/aish/journal-sqlite"
    assert journal_dir("jsonl", {"path": "/x/h.jsonl", "data_dir": "/d/aish"}) == "/x/h.jsonl.journal"


def test_the_shell_applies_waiting_journals_before_its_first_run(history_app: App) -> None:
    """Runs keep the order they were made in: the one-shot run before the shell's."""
    one_shot = make_recorder(history_app, io.StringIO(), one_shot=True)
    assert one_shot is not None
    one_shot.begin("athena earlier").end(0)
    one_shot.close()
    directory = Path(journal_dir(str(backend_name(history_app)), backend_options(history_app)))
    assert len(list(directory.glob("*.journal"))) == 1
    shell = make_recorder(history_app, io.StringIO())
    assert shell is not None
    shell.begin("athena later").end(0)
    shell.close()
    assert list(directory.glob("*.journal")) == []
    with opened(history_app) as backend:
        assert [(run.number, run.line, run.status) for run in backend.runs()] == [
            (1, "athena earlier", "complete"),
            (2, "athena later", "complete"),
        ]


def test_the_shell_applies_journals_that_ended_before_each_of_its_runs(history_app: App) -> None:
    """'aish -c' in another terminal between two lines of the shell is numbered between them
    (it was numbered after both, when a later reader applied it)."""
    shell = make_recorder(history_app, io.StringIO())
    assert shell is not None
    lines = ["shell a", "one-shot b", "shell c", "one-shot d", "shell e"]
    for line in lines:
        if line.startswith("shell"):
            shell.begin(line).end(0)
            shell.sync()
        else:
            one_shot = make_recorder(history_app, io.StringIO(), one_shot=True)
            assert one_shot is not None
            one_shot.begin(line).end(0)
            one_shot.close()
    shell.close()
    with opened(history_app) as backend:
        assert [(run.number, run.line) for run in backend.runs()] == list(enumerate(lines, 1))


def test_parallel_stages_writing_at_once_leave_every_call_whole(tmp_path: Path) -> None:
    """``apollo & athena``: each stage records from a thread of its own; a long text is several writes."""
    directory = str(tmp_path / "journal")
    journal = Journal(directory)
    run = RunRecord(id=uuid.uuid4().hex, line="apollo & athena", started=time.time(), pid=os.getpid())
    journal.submit("begin_run", run)
    texts = {index: chr(ord("a") + index) * 200_000 for index in range(8)}  # > jsonbody.LONG: written in pieces

    def stage(index: int) -> None:
        journal.submit("begin_stage", run.id, StageRecord(index, "athena", "sse", "openai-chat", "hi"))
        for _ in range(5):
            journal.submit("append_text", run.id, index, texts[index])
        done = StageRecord(index, "athena", "sse", "openai-chat", "hi", texts[index] * 5, "complete")
        journal.submit("end_stage", run.id, done)

    def call_text(call: dict[str, Any]) -> str:
        return texts[call["stage"]["index"]] * 5

    threads = [threading.Thread(target=stage, args=(index,)) for index in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    journal.submit("end_run", run.id, "complete", time.time())
    journal.close()
    (path,) = Path(directory).glob("*.journal")
    data, pos, calls = path.read_bytes(), 0, 0
    while pos < len(data):  # every line is one whole call, and a long answer follows its line as it is
        end = data.index(b"\n", pos)
        call = json.loads(data[pos:end])
        pos, calls = end + 1, calls + 1
        size = call.get("stage", {}).get("text_bytes")
        if size is not None:
            assert data[pos : pos + size] == call_text(call).encode() and data[pos + size] == ord("\n")
            pos += size + 1
    assert calls == 1 + len(texts) * 7 + 1
    backend = JsonlHistory(tmp_path / "history.jsonl")
    assert fold(directory, backend) == 1
    (stored_run,) = backend.runs()
    assert {s.index: s.text for s in stored_run.stages} == {index: text * 5 for index, text in texts.items()}
    backend.close()


def test_a_long_piped_input_is_written_as_it_is_and_read_back_exactly(
    open_store: Callable[[], HistoryBackend], tmp_path: Path
) -> None:
    """After its run's line, as UTF-8: a line in it that looks like a call is text, and a cut is a torn run."""
    piped = '{"call":"end_run","id":"x","status":"error","ended":1}\n' + "héllo wörld ✓ 🦉\n" * 50_000
    directory = tmp_path / "journal"
    journal = Journal(str(directory))
    record(journal, "athena", ["fine"], stdin=piped)
    journal.close()
    backend = open_store()
    assert fold(str(directory), backend) == 1
    (run,) = backend.runs(None)
    whole = backend.get(run.number)
    assert whole is not None and whole.stdin == piped and whole.stages[0].input == piped
    assert whole.status == "complete"
    journal = Journal(str(directory))
    record(journal, "athena cut", ["x"], stdin=piped)
    journal.close()
    (path,) = directory.glob("*.journal")
    data = path.read_bytes()
    path.write_bytes(data[: data.index("🦉".encode()) + 1000])  # killed in the middle of the input
    assert fold(str(directory), backend) == 1
    assert [r.line for r in backend.runs(None)] == ["athena"]
    backend.close()


@pytest.mark.parametrize("lines", [2_000, 70_000])  # 36,000 characters, written whole; 1.3 million, in pieces
def test_a_long_answer_is_written_as_it_is_and_read_back_exactly(
    open_store: Callable[[], HistoryBackend], tmp_path: Path, lines: int
) -> None:
    """Not escaped as a JSON string (decision 34): a line in it that looks like a call is text, and a cut
    leaves the run as a reader finds a run whose process was killed while it streamed."""
    answer = '{"call":"end_run","id":"x","status":"error","ended":1}\n' + "héllo wörld ✓ 🦉\n" * lines
    assert len(answer) > journal_module.RAW_TEXT
    directory = tmp_path / "journal"
    journal = Journal(str(directory))
    record(journal, "athena long", [answer, "short"])
    journal.close()
    (path,) = directory.glob("*.journal")
    assert b'"text_bytes":' in path.read_bytes() and b'"text":"short"' in path.read_bytes()
    backend = open_store()
    assert fold(str(directory), backend) == 1
    (run,) = backend.runs(None)
    whole = backend.get(run.number)
    assert whole is not None and whole.status == "complete"
    assert [s.text for s in whole.stages] == [answer, "short"]
    journal = Journal(str(directory))
    record(journal, "athena cut", [answer])
    journal.close()
    (path,) = directory.glob("*.journal")
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex("🦉".encode()) - 100])  # killed in the middle of the answer
    assert fold(str(directory), backend) == 1
    cut = backend.get(2)
    assert cut is not None and cut.line == "athena cut" and cut.stages[0].status == "running"
    assert cut.stages[0].text == answer  # its two appends: what streamed is kept
    backend.close()


def test_history_is_listed_when_a_journal_cannot_be_applied(tmp_path: Path) -> None:
    """A journal the store refuses (a full disk, a damaged file) is kept, said in one line, and
    what the store holds is still listed: ``aish history`` used to print nothing and fail."""
    from aish.testing import run_aish

    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "AISH_DEMO_URL": ""}
    assert run_aish("-c", "echo kept", env=env).returncode == 0
    assert "echo kept" in run_aish("history", env=env).stdout  # applied and stored
    journals = tmp_path / "data" / "aish" / "journal-sqlite"
    bad = journals / "0000-damaged.journal"
    bad.write_text('{"call": "begin_run", "run": {"no such field": 1}}\n', encoding="utf-8")
    listed = run_aish("history", env=env)
    assert listed.returncode == 0
    assert "echo kept" in listed.stdout
    assert listed.stderr.startswith(f"aish: history: cannot apply {bad}:")
    assert listed.stderr.endswith("; it is kept, to be added later\n") and listed.stderr.count("\n") == 1
    assert bad.exists()


def test_a_write_of_several_pieces_is_whole_and_in_order_when_the_system_takes_less(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ``writev`` for a call, its answer and its line end; a system that writes less than asked
    (a signal, a full disk about to fail) gets the rest in further calls."""
    writev = os.writev
    calls: list[int] = []

    def short_writev(fd: int, buffers: list[memoryview]) -> int:
        taken, room = [], 7_000
        for buffer in buffers:
            taken.append(buffer[:room])
            room -= len(taken[-1])
        calls.append(writev(fd, taken))
        return calls[-1]

    monkeypatch.setattr(journal_module.os, "writev", short_writev)
    pieces = [b"a" * 3, b"b" * 10_000, b"", b"c", b"d" * 15_000]
    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT)
    try:
        journal_module._write_all(fd, *pieces)
    finally:
        os.close(fd)
    assert (tmp_path / "out").read_bytes() == b"".join(pieces) and calls == [7_000, 7_000, 7_000, 4_004]
