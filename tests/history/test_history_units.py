"""The pieces of aish.history on their own: search terms, replay lines, settling, the writer, the recorder."""

from __future__ import annotations

import functools
import io
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from terminal import eventually

from aish import AgentConfig, HistoryError, RunRecord, StageRecord, ToolCall, brief_of, search_terms
from aish.contract_tests.history import assert_brief, record_inputs
from aish.history.brief import BRIEF_TEXT, brief_runs
from aish.history.recorder import Recorder
from aish.history.show import write_answer, write_export, write_list, write_run
from aish.history.store import command_line, replay_request, settle, text_line
from aish.history.writer import Writer
from aish.lang import Command, parse
from aish.scrub import Scrubber
from aish.stream import StageResult
from aish_history_jsonl.store import JsonlHistory
from aish_history_sqlite.store import SqliteHistory

AGENT = AgentConfig(name="athena", transport="sse", url="http://127.0.0.1:9/v1", codec="openai-chat", model="m")


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("owls  night", ["owls", "night"]),
        ('"hunt at night" owls', ["hunt at night", "owls"]),
        ('a|b -x "unclosed', ["a|b", "-x", '"unclosed']),
        ('""', ['""']),
        ("   ", []),
    ],
)
def test_search_terms(text: str, terms: list[str]) -> None:
    assert search_terms(text) == terms


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")), max_size=5))
def test_a_recorded_command_line_parses_back_into_the_same_words(words: list[str]) -> None:
    (_joiner, pipeline), *rest = parse(command_line(["athena", *words])).items
    (stage,) = pipeline.stages
    assert not rest and isinstance(stage, Command) and stage.name == "athena"
    assert [w.value for w in stage.args] == words


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")), max_size=5))
def test_an_agents_recorded_text_parses_back_into_the_same_text(words: list[str]) -> None:
    (_joiner, pipeline), *rest = parse(f"athena {text_line(words)}").items
    (stage,) = pipeline.stages
    assert not rest and isinstance(stage, Command) and stage.name == "athena" and not stage.controls.words
    assert pipeline.stdin is None and pipeline.stdout is None
    assert stage.text == " ".join(words)


@pytest.mark.parametrize(
    ("words", "line"),
    [
        (["what's", "a", "monad?"], "what's a monad?"),
        (["what's a monad? 50% off!"], "what's a monad? 50% off!"),  # a chat's turn: one word
        (["$HOME", "~/x", "*.py"], "$HOME ~/x *.py"),  # an agent's words are never expanded
        (["a|b", "it's"], "'a|b' 'it'\\''s'"),
        (["odd & strange"], "'odd & strange'"),
        (["a  b"], "'a  b'"),
        (["two\nlines"], "'two\nlines'"),
        (["it's", "5", ">", "3"], "'it'\\''s' 5 '>' 3"),
        (["-x", "marks"], "'-x' marks"),
        (["say", '"hi"'], "say '\"hi\"'"),
    ],
)
def test_an_agents_text_is_recorded_as_typed_when_it_reads_back_so(words: list[str], line: str) -> None:
    assert text_line(words) == line


@pytest.mark.parametrize(
    ("line", "number"),
    [
        ("!3", 3),
        ("  !12 ", 12),
        ("!!", -1),
        ("!-1", -1),
        ("!-3", -3),
        ("!0", 0),
        ("echo !3", None),
        ("", None),
        ("!ls -l", None),
        ("!", None),
    ],
)
def test_replay_requests(line: str, number: int | None) -> None:
    assert replay_request(line) == number  # other ! lines are shell escapes, not replays


@pytest.mark.parametrize("line", ["!3 more", "!!x", "!3x", "!! 2", "!-2 x", "!-0"])
def test_broken_replays_are_refused(line: str) -> None:
    from aish.errors import UsageError

    with pytest.raises(UsageError):
        replay_request(line)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_running_run_of_a_dead_process_reads_back_interrupted() -> None:
    stages = [StageRecord(0, "athena", text="half", status="running"), StageRecord(1, "apollo", status="running")]
    run = settle(RunRecord(id="x", line="l", started=0, pid=dead_pid(), stages=stages))
    assert run.status == "interrupted"
    assert [(s.status, s.error) for s in run.stages] == [
        ("partial", "interrupted: the aish process ended before this stage did"),
        ("error", "interrupted: the aish process ended before this stage did"),
    ]
    alive = settle(RunRecord(id="y", line="l", started=0, pid=os.getpid(), stages=[StageRecord(0, "a")]))
    assert alive.status == "running" and alive.stages[0].status == "running"


def test_the_writer_merges_appends_and_stops_at_the_first_failure(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    writer = Writer(lambda: JsonlHistory(path))
    run = RunRecord(id=uuid.uuid4().hex, line="x", started=time.time())
    writer.submit("begin_run", run)
    writer.submit("begin_stage", run.id, StageRecord(0, "athena"))
    for piece in "abcdefghij":
        writer.submit("append_text", run.id, 0, piece)
    assert writer.close(10) and writer.failure is None
    stored = JsonlHistory(path).get(1)
    assert stored is not None and stored.stages[0].text == "abcdefghij"
    assert path.read_text().count('"op":"text"') < 10  # merged while the thread was busy
    failing = Writer(lambda: JsonlHistory("/dev/full"))
    failing.submit("begin_run", RunRecord(id="y", line="y", started=0))
    assert failing.sync(10) and isinstance(failing.failure, HistoryError)
    failing.submit("end_run", "y", "complete", 0.0)  # dropped
    assert failing.close(10)


def test_a_call_made_later_is_made_in_its_place_and_a_failing_one_stops_recording(tmp_path: Path) -> None:
    writer = Writer(lambda: JsonlHistory(tmp_path / "h.jsonl"))
    made: list[str] = []
    run = RunRecord(id=uuid.uuid4().hex, line="x", started=time.time())
    writer.submit_later("begin_run", lambda: (made.append(threading.current_thread().name), run)[1:])
    writer.submit("begin_stage", run.id, StageRecord(0, "athena"))
    writer.submit_later("end_stage", lambda: (run.id, StageRecord(0, "athena", text="done", status="complete")))
    writer.submit_later("end_run", lambda: (run.id, 1 / 0, 0.0))  # a bug in making a record: reported
    assert writer.close(10) and made == ["aish-history"] and isinstance(writer.failure, ZeroDivisionError)
    (stored,) = JsonlHistory(tmp_path / "h.jsonl").runs()
    assert stored.stages[0].text == "done"


def test_the_writer_batches_after_its_first_call_and_goes_at_once_when_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    applied: list[str] = []

    class Counting(JsonlHistory):
        def begin_run(self, run: RunRecord) -> None:
            applied.append(run.line)
            super().begin_run(run)

    writer = Writer(lambda: Counting(path), linger=60.0, poll=60.0)
    writer.submit("begin_run", RunRecord(id=uuid.uuid4().hex, line="first", started=time.time()))
    deadline = time.monotonic() + 10
    while not applied and time.monotonic() < deadline:  # the first batch opens the store at once
        time.sleep(0.01)
    assert applied == ["first"]
    for line in ("second", "third"):
        writer.submit("begin_run", RunRecord(id=uuid.uuid4().hex, line=line, started=time.time()))
    time.sleep(0.2)
    assert applied == ["first"]  # a run's start waits for more calls, up to the next look (60 s here)
    started = time.monotonic()
    assert writer.sync(10)  # somebody waits: the batch goes now
    assert time.monotonic() - started < 30 and applied == ["first", "second", "third"]
    writer.submit("begin_run", RunRecord(id=uuid.uuid4().hex, line="fourth", started=time.time()))
    assert writer.close(10) and applied[-1] == "fourth"  # so does close
    assert [r.line for r in JsonlHistory(path).runs()] == ["first", "second", "third", "fourth"]


def test_calls_submitted_while_the_writer_lingers_do_not_wake_it(tmp_path: Path) -> None:
    """Each wake-up of the writer thread takes the GIL from the thread reading a stream."""
    wakes: list[None] = []

    class Counting(threading.Condition):
        def wait(self, timeout: float | None = None) -> bool:
            woke = super().wait(timeout)
            if threading.current_thread().name == "aish-history":
                wakes.append(None)
            return woke

    writer = Writer(lambda: JsonlHistory(tmp_path / "h.jsonl"), linger=60.0, poll=60.0)
    writer._cond = Counting()
    run = RunRecord(id=uuid.uuid4().hex, line="x", started=time.time())
    writer.submit("begin_run", run)
    assert writer.sync(10)  # the store is open, the thread waits for calls
    writer.submit("begin_stage", run.id, StageRecord(0, "athena"))
    writer.submit("append_text", run.id, 0, "_")  # wakes it: it lingers now
    time.sleep(0.2)
    before = len(wakes)
    for piece in "abcdefghijklmnopqrst":  # spread out, as a stream's are
        writer.submit("append_text", run.id, 0, piece)
        time.sleep(0.005)
    writer.submit("end_stage", run.id, StageRecord(0, "athena", status="complete", text="_abcdefghijklmnopqrst"))
    time.sleep(0.2)
    assert len(wakes) - before <= 1  # 21 calls, no wake-up (one spurious allowed)
    assert writer.close(10) and writer.failure is None
    (stored,) = JsonlHistory(tmp_path / "h.jsonl").runs()
    assert stored.stages[0].text == "_abcdefghijklmnopqrst"


@pytest.mark.parametrize("warm", [True, False])
def test_a_runs_start_is_stored_at_the_writers_next_look_or_at_once_when_it_sleeps(tmp_path: Path, warm: bool) -> None:
    """Decision 103: a wake-up at a run's start took the GIL from the run starting; the thread looks
    every ``poll`` seconds for ``warm`` seconds after a batch instead, and sleeps after that."""
    path = tmp_path / "h.jsonl"
    wakes: list[None] = []

    class Counting(threading.Condition):
        def notify_all(self) -> None:
            if threading.current_thread().name != "aish-history":
                wakes.append(None)
            super().notify_all()

    # warm: the thread looks every 0.3 s; cold: it sleeps 0.05 s after a batch (and would look after 60 s)
    writer = Writer(lambda: JsonlHistory(path), linger=0.0, poll=0.3 if warm else 60.0, warm=60.0 if warm else 0.05)
    writer._cond = Counting()
    writer.submit("begin_run", RunRecord(id=uuid.uuid4().hex, line="first", started=time.time()))
    assert writer.sync(10)
    time.sleep(0.5)  # cold: ten times warm, the thread sleeps now
    wakes.clear()
    writer.submit("begin_run", RunRecord(id=uuid.uuid4().hex, line="second", started=time.time()))
    assert eventually(lambda: len(JsonlHistory(path).runs()) == 2, 10)  # found by a look, or woken
    assert bool(wakes) is not warm
    wakes.clear()
    writer.submit("end_run", JsonlHistory(path).runs()[-1].id, "complete", time.time())
    assert wakes  # a run's end wakes it, warm or not
    assert writer.close(10) and writer.failure is None
    assert [r.status for r in JsonlHistory(path).runs()] == ["running", "complete"]


def test_stage_text_is_written_every_interval_and_on_end(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    for interval, written in ((0.0, True), (60.0, False)):
        path.unlink(missing_ok=True)
        recorder = Recorder(lambda: JsonlHistory(path), io.StringIO(), interval=interval)
        run = recorder.begin("athena hi")
        stage = run.stage(AGENT, "hi")
        parts: list[str] = []
        flushed: list[None] = []
        flush = stage.watch(parts, functools.partial(flushed.append, None))
        for piece in ("one ", "two ", "three"):
            parts.append(piece)
            flush()
        recorder.sync()
        ops = [json.loads(line)["op"] for line in path.read_text().splitlines()]
        assert ("text" in ops) is written and len(flushed) == 3
        run.end(130)  # the stream never finished: Ctrl-C
        recorder.close()
        (stored,) = JsonlHistory(path).runs()
        assert (stored.status, stored.stages[0].status, stored.stages[0].text) == (
            "cancelled",
            "cancelled",
            "one two three",
        )


def test_records_are_made_on_the_writers_thread_with_the_secrets_the_run_began_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's thread hands over what a record is made of: its scrubbing, cleaning and metadata
    happen on the writer's thread, after the run; the secrets are read as the run begins."""
    scrubbed_on: list[str] = []

    scrub = Scrubber.__call__

    def watched(self: Scrubber, text: str) -> str:
        scrubbed_on.append(threading.current_thread().name)
        return scrub(self, text)

    monkeypatch.setattr(Scrubber, "__call__", watched)
    path = tmp_path / "h.jsonl"
    keys = ["sk-LINEKEY-0123456789"]
    recorder = Recorder(lambda: JsonlHistory(path), io.StringIO(), interval=60.0, secrets=lambda: list(keys))
    run = recorder.begin("athena sk-LINEKEY-0123456789")
    keys.clear()  # the key is gone from the configuration before the writer makes the record
    stage = run.stage(AGENT, "say sk-LINEKEY-0123456789")
    result = StageResult("athena", "the key is sk-LINEKEY-0123456789", meta={"retries": 1})
    stage.finish(result)
    result.meta["retries"] = 5  # the run goes on with its result: the record keeps the stage's end
    result.tool_calls.append(ToolCall("late", "{}"))
    run.end(0)
    recorder.close()
    assert scrubbed_on and set(scrubbed_on) == {"aish-history"}  # nothing scrubbed on the run's thread
    (stored,) = JsonlHistory(path).runs()
    assert stored.line == "athena ***" and stored.stages[0].input == "say ***"
    assert stored.stages[0].text == "the key is ***" and stored.stages[0].meta["reconnects"] == 1
    assert "tool_calls" not in stored.stages[0].meta
    assert "LINEKEY" not in path.read_text()


def test_show_writes_the_list_and_a_whole_run() -> None:
    stage = StageRecord(0, "athena", "sse", "openai-chat", "q\n", "A.", "partial", "athena: dropped", {})
    stage.meta = {"first_token": 0.05, "duration": 1.5, "tokens_in": 3, "tokens_out": 9, "model": "m", "reconnects": 2}
    started = time.mktime((2026, 1, 2, 3, 4, 5, 0, 0, -1))
    run = RunRecord(id="x", line="echo q |\n athena", started=started, number=7, status="error", ended=started + 2)
    run.replay_of, run.stages = 3, [stage]
    out = io.StringIO()
    write_list([run], out)
    assert out.getvalue() == "    7  2026-01-02 03:04  error        echo q | ...  (replay of 3)\n"
    out = io.StringIO()
    write_run(run, out)
    assert out.getvalue() == (
        "run 7  2026-01-02 03:04:05  error  2.00s  replay of 3\n"
        "$ echo q |\n athena\n"
        "\n-- stage 1: athena  sse/openai-chat  partial\n"
        "   first token 0.05s  duration 1.50s  tokens 3 in, 9 out  model m  reconnects 2\n"
        "-- input\nq\n-- answer\nA.\n-- error\nathena: dropped\n"
    )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_show_on_a_terminal_breaks_lines_between_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found on a tour: ``history show`` at 100 columns cut the answer's words (``useful p`` / ``arallels``)."""
    monkeypatch.setenv("COLUMNS", "40")  # what terminal_size gives a stream without a terminal behind it
    monkeypatch.setenv("TERM", "xterm")
    answer = "History offers useful parallels, even if no precedent fits exactly, said the owl."
    stage = StageRecord(0, "athena", "sse", "openai-chat", "tell me about owls", answer, "complete", None, {})
    stage.meta = {"first_token": 0.05, "duration": 1.5, "tokens_in": 3, "tokens_out": 9, "conversation": "e3b7bb58915b"}
    run = RunRecord(id="x", line="athena tell me about owls", started=0.0, number=7, status="complete")
    run.stages = [stage]
    out = Terminal()
    write_run(run, out)
    shown = out.getvalue().split("-- answer\n")[1].splitlines()
    assert all(len(row) <= 40 for row in shown) and len(shown) >= 2
    assert " ".join(shown) == answer  # broken between words only
    facts = [row for row in out.getvalue().splitlines() if row.startswith("   ")]
    assert facts == ["   first token 0.05s  duration 1.50s", "   tokens 3 in, 9 out", "   conversation e3b7bb58915b"]
    out = Terminal()
    write_answer(run, out)
    assert " ".join(out.getvalue().splitlines()) == answer and max(map(len, out.getvalue().splitlines())) <= 40
    piped = io.StringIO()
    write_answer(run, piped)
    assert piped.getvalue() == answer + "\n"  # exactly, its line ended, off a terminal


def test_the_list_on_a_terminal_goes_on_under_a_long_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found on a tour: ``history`` at 80 columns cut a long line mid-word (``& h`` / ``ermes``)."""
    monkeypatch.setenv("COLUMNS", "60")
    line = "echo write a long story | story[-o max_tokens 1500] & athena & hermes"
    run = RunRecord(id="x", line=line, started=0.0, number=18, status="cancelled")
    out = Terminal()
    write_list([run], out)
    rows = out.getvalue().splitlines()
    assert all(len(row) < 60 for row in rows) and len(rows) == 4
    assert all(row.startswith(" " * 38) and row[38] != " " for row in rows[1:])  # under the line's column
    assert " ".join(row[38:] for row in rows) == line
    piped = io.StringIO()
    write_list([run], piped)
    assert piped.getvalue().endswith(f"cancelled    {line}\n") and piped.getvalue().count("\n") == 1


def test_a_script_is_listed_by_its_first_line_of_code() -> None:
    run = RunRecord(id="x", line="# a script\n\necho one\nathena two\n", started=0.0, number=2, status="complete")
    out = io.StringIO()
    write_list([run], out)
    assert out.getvalue().endswith("  complete     echo one ...\n")


def test_show_of_a_line_that_failed_before_any_agent_says_how_to_see_why() -> None:
    """No run-level error is recorded (a line that did not parse, an unknown agent): show said nothing."""
    run = RunRecord(id="x", line="nosuch hi", started=0.0, number=4, status="error", ended=0.01)
    out = io.StringIO()
    write_run(run, out)
    assert out.getvalue().endswith("\n(no agent stage was recorded; '!4' runs the line again and shows what failed)\n")
    run.status = "complete"
    out = io.StringIO()
    write_run(run, out)
    assert "no agent stage" not in out.getvalue()


@given(st.lists(st.sampled_from(["sk-", "SECRET", "42", " ", "sk-SECRET42", "x"]), max_size=12), st.data())
def test_no_write_ever_holds_a_piece_of_a_secret(pieces: list[str], data: st.DataObject) -> None:
    secret = "sk-SECRET42"
    writes: list[tuple[str, tuple[object, ...]]] = []
    recorder = Recorder(lambda: JsonlHistory("/dev/null"), io.StringIO(), interval=0.0, secrets=lambda: [secret])
    recorder.submit = lambda method, *args: writes.append((method, args))  # type: ignore[method-assign]
    stage = recorder.begin("athena hi").stage(AGENT, "hi")
    parts: list[str] = []
    flush = stage.watch(parts, lambda: None)
    for piece in pieces:
        parts.extend(data.draw(st.lists(st.just(piece), min_size=1, max_size=2)))
        flush()
    streamed = "".join(str(args[2]) for method, args in writes if method == "append_text")
    whole = Scrubber([secret])("".join(parts))  # the whole text scrubbed at once (masked forms too)
    # Each write scrubbed alone adds up to the scrubbed whole: no secret was split between two writes
    assert whole.startswith(streamed)


def test_a_secret_split_between_deltas_is_never_written_in_pieces() -> None:
    writes: list[str] = []
    recorder = Recorder(
        lambda: JsonlHistory("/dev/null"), io.StringIO(), interval=0.0, secrets=lambda: ["sk-SECRET4242"]
    )
    recorder.submit = lambda method, *args: writes.append(str(args[2])) if method == "append_text" else None  # type: ignore[method-assign]
    stage = recorder.begin("athena hi").stage(AGENT, "hi")
    parts: list[str] = []
    flush = stage.watch(parts, lambda: None)
    for piece in ("the key is sk-", "SECR", "ET4242 and more text after it", " and the end"):
        parts.append(piece)
        flush()
    # only what may be the key is held back: the rest is written at once (it trailed by the key's length)
    assert writes == ["the key is ", "*** and more text after it", " and the end"]
    assert not any(piece in write for write in writes for piece in ("sk-", "SECR", "ET42"))


class _OnlyRequired:
    """A backend with the required reads only (no ``brief``), as a third-party one may be."""

    def __init__(self, inner: SqliteHistory) -> None:
        self.runs = inner.runs
        self.search = inner.search


def test_a_backend_without_brief_is_listed_from_its_whole_runs(tmp_path: Path) -> None:
    inner = SqliteHistory(tmp_path / "h.sqlite3")
    try:
        record_inputs(inner)
        plain = _OnlyRequired(inner)
        assert not hasattr(plain, "brief")
        for limit in (None, 20, 2, 0):
            assert_brief(brief_runs(plain, limit), inner.runs(limit))  # type: ignore[arg-type]
            assert brief_runs(plain, limit) == inner.brief(limit)  # type: ignore[arg-type]
        for text in ("owl", "unadorned", "nothing like it"):
            assert_brief(brief_runs(plain, 20, text), inner.search(text))  # type: ignore[arg-type]
        assert brief_runs(plain, None, "owl") == brief_runs(inner, None, "owl")  # type: ignore[arg-type]
    finally:
        inner.close()


def test_a_brief_run_whose_process_died_settles_as_a_whole_one_does(tmp_path: Path) -> None:
    """settle() marks a dead run's running stages partial when they had text: a brief run has enough of it."""
    inner = SqliteHistory(tmp_path / "h.sqlite3")
    try:
        run = RunRecord(id=uuid.uuid4().hex, line="oracle x", started=time.time(), pid=dead_pid(), stdin="in" * 40000)
        inner.begin_run(run)
        inner.begin_stage(run.id, StageRecord(0, "oracle", input=run.stdin or ""))
        inner.begin_stage(run.id, StageRecord(1, "seer"))
        inner.append_text(run.id, 0, " " * 1000 + "late")
        whole, brief = settle(inner.runs()[0]), settle(inner.brief()[0])
        assert [(s.status, s.error) for s in brief.stages] == [(s.status, s.error) for s in whole.stages]
        assert [s.status for s in brief.stages] == ["partial", "error"] and brief.status == "interrupted"
        assert brief_of(whole).stages[0].text == " " * BRIEF_TEXT
    finally:
        inner.close()


@pytest.mark.parametrize("jsonl", [False, True])
def test_export_writes_run_by_run_what_json_dumps_of_them_all_gives(jsonl: bool) -> None:
    long = 'a "long" \\ input\n' * 9000 + "\udc80 é 🦉"
    runs = [
        RunRecord("a" * 32, 'l\u2028ine "q"', 1.5, 1, stdin=long, stages=[StageRecord(0, "a", input=long, text="t")]),
        RunRecord("b" * 32, "two", 2.0, 2, stages=[StageRecord(0, "b", meta={"k": [1, {"a": None}]})]),
    ]
    for chosen in (runs, runs[:1], []):
        out = io.StringIO()
        write_export(iter(chosen), out, jsonl)
        dicts = [run.to_dict() for run in chosen]
        if jsonl:
            assert out.getvalue() == "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in dicts)
        else:
            assert out.getvalue() == json.dumps(dicts, ensure_ascii=False, indent=2) + "\n"
