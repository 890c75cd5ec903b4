"""The history backend contract suite: every :class:`aish.HistoryBackend` must pass it.

Subclass it in your plugin's tests, naming your factory by import path::

    from aish.contract_tests.history import HistoryBackendContract

    class TestMyBackend(HistoryBackendContract):
        factory = "aish_mybackend:make_backend"

Override the ``options`` fixture if your factory needs more than ``path``
and ``data_dir``. The concurrency and crash tests start real processes.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from aish.contract_tests import undefined
from aish.contract_tests.processes import DELTA, endless_writer, load_factory, record_run, run_processes, writer
from aish.contracts import HistoryBackend, RunRecord, StageRecord
from aish.joined import Joined, rstripped

HOSTILE = [
    ("a|b", "x a|b y"),
    ("-x", "flag -x set"),
    ('"quoted"', 'say "quoted" twice'),
    ("it's", "it's here"),
    ('"', 'a lone " quote'),
    ("NEAR(a", "call NEAR(a b)"),
    ("AND", "this AND that"),
    ("col:umn", "a col:umn here"),
    ("*", "star * here"),
    ("^start", "the ^start here"),
    ("100%", "full 100% done"),
    ("a_b", "snake a_b case"),
    ("back\\slash", "a back\\slash path"),
    ("café", "un café noir"),
    ("日本語", "これは日本語です"),
    ("🦉", "owl 🦉 emoji"),
    ("x", "x"),
    ("''", "empty '' quotes"),
]
"""(search text, an answer it must find); no other stored answer contains the text."""
LONG_INPUT = 300_000
"""Characters of the long inputs the brief tests store (past what backends write in pieces)."""


def assert_brief(brief: list[RunRecord], runs: list[RunRecord]) -> None:
    """``brief`` is ``runs`` without inputs: the same runs, each ``stdin`` None, each stage's
    ``input`` empty and its ``text`` a prefix of the answer, empty only when the answer is."""
    assert [r.number for r in brief] == [r.number for r in runs]
    for short, run in zip(brief, runs, strict=True):
        assert short.stdin is None, f"run {run.number}: stdin read"
        fields = ("id", "line", "started", "number", "status", "ended", "replay_of", "pid")
        assert [getattr(short, f) for f in fields] == [getattr(run, f) for f in fields]
        assert len(short.stages) == len(run.stages), f"run {run.number}"
        for got, full in zip(short.stages, run.stages, strict=True):
            assert got.input == "", f"run {run.number}, stage {full.index}: input read"
            assert full.text.startswith(got.text) and bool(got.text) == bool(full.text)
            same = ("index", "agent", "transport", "codec", "status", "error", "meta")
            assert [getattr(got, f) for f in same] == [getattr(full, f) for f in same]


def record_inputs(backend: HistoryBackend) -> None:
    """Runs with long and short inputs, long answers, a deleted run and a run still streaming."""
    long_in = ('piped "input" \\ with \\\\" quotes, 🦉 and\nlines\\' * 1000)[: LONG_INPUT - 1] + "\\"
    run = RunRecord(id=uuid.uuid4().hex, line="oracle < big", started=1.5, pid=4242, stdin=long_in)
    backend.begin_run(run)
    backend.begin_stage(run.id, StageRecord(0, "oracle", "carrier", "dialect", input=long_in))
    answer = "an owl answer " * 40
    backend.append_text(run.id, 0, answer[:100])
    backend.end_stage(run.id, StageRecord(0, "oracle", "carrier", "dialect", long_in, answer, "complete"))
    backend.end_run(run.id, "complete", 2.5)
    run = RunRecord(id=uuid.uuid4().hex, line="oracle x | seer", started=3.0, stdin="short\n")
    backend.begin_run(run)
    meta = {"conversation": "c0ffee", "model": "m"}
    backend.begin_stage(run.id, StageRecord(0, "oracle", input="short\n", meta=meta))
    backend.end_stage(run.id, StageRecord(0, "oracle", input="short\n", text="", status="empty", meta=meta))
    backend.begin_stage(run.id, StageRecord(1, "seer", input=long_in[::-1] + "\u2028", meta={"position": 1}))
    backend.end_stage(run.id, StageRecord(1, "seer", input=long_in[::-1], text="owl", status="error", error="x"))
    backend.end_run(run.id, "error", 4.0)
    record_run(backend, "removed owl", ["owl"])
    backend.delete(3)
    run = RunRecord(id=uuid.uuid4().hex, line="oracle still", started=5.0, pid=os.getpid(), stdin=long_in)
    backend.begin_run(run)
    backend.begin_stage(run.id, StageRecord(0, "oracle", input=long_in))
    backend.begin_stage(run.id, StageRecord(1, "seer", input="y"))
    backend.append_text(run.id, 0, "streaming owl ")
    backend.append_text(run.id, 0, "text " * 100)
    record_run(backend, "oracle last", ["unadorned"])


class HistoryBackendContract:
    """The tests. Set :attr:`factory`; ``pytest`` collects the subclass."""

    factory: ClassVar[str] = ""
    """``"package.module:callable"``: the factory your plugin registers."""

    @pytest.fixture
    def options(self, tmp_path: Path) -> dict[str, Any]:
        return {"path": None, "data_dir": str(tmp_path / "data")}

    @pytest.fixture
    def backend(self, options: dict[str, Any]) -> Iterator[HistoryBackend]:
        backend = self.open(options)
        yield backend
        backend.close()

    def open(self, options: dict[str, Any]) -> HistoryBackend:
        if ":" not in self.factory:
            raise undefined(self, "factory", '"package.module:callable", the factory your plugin registers')
        return load_factory(self.factory)(options)

    # ------------------------------------------------------------ round trip
    def test_an_empty_store_has_no_runs(self, backend: HistoryBackend) -> None:
        assert backend.runs() == []
        assert backend.get(1) is None
        assert backend.search("anything") == []
        assert backend.delete(1) is False

    def test_a_run_reads_back_as_it_was_recorded(self, backend: HistoryBackend) -> None:
        run = RunRecord(id=uuid.uuid4().hex, line='echo "q" |\n  oracle', started=1700000000.25, pid=4242)
        run.replay_of = 7
        backend.begin_run(run)
        assert run.number == 1
        meta = {"position": 1, "first_token": 0.05, "tokens_in": None, "model": "m", "reconnects": 0}
        backend.begin_stage(run.id, StageRecord(0, "oracle", "carrier", "dialect", input="q\n", meta=meta))
        backend.append_text(run.id, 0, "Hello, ")
        backend.append_text(run.id, 0, "wörld 🦉\n")
        final = StageRecord(0, "oracle", "carrier", "dialect", "q\n", "Hello, wörld 🦉\n", "complete", None, meta)
        final.meta = {**meta, "duration": 1.5, "finish_reason": "stop"}
        backend.end_stage(run.id, final)
        backend.end_run(run.id, "complete", 1700000002.5)
        got = backend.get(1)
        assert got is not None
        assert (got.id, got.line, got.number, got.status) == (run.id, run.line, 1, "complete")
        assert (got.started, got.ended, got.replay_of, got.pid) == (1700000000.25, 1700000002.5, 7, 4242)
        assert got.stages == [final]
        assert got.stdin is None
        assert backend.runs() == [got]

    def test_the_piped_input_of_a_run_is_kept_for_replay(self, backend: HistoryBackend) -> None:
        piped = 'line one\n"quoted" \\ tab\t 🦉\n'
        for stdin in (piped, "", None):
            backend.begin_run(RunRecord(id=uuid.uuid4().hex, line="oracle", started=1.0, stdin=stdin))
        assert [r.stdin for r in backend.runs()] == [piped, "", None]
        got = backend.get(1)
        assert got is not None and got.stdin == piped

    @pytest.mark.parametrize("size", [40, 70_000])
    def test_a_stage_input_in_pieces_reads_back_as_its_text(self, backend: HistoryBackend, size: int) -> None:
        """A long piped input then the stage's words is recorded as an :class:`aish.Joined` (decision 31)."""
        piped = ("piped 🦉 " * size)[:size] + "\n\n"
        for stdin in (piped, piped.upper()):  # the run's own piped input (stored once, or not), or not
            run = RunRecord(id=uuid.uuid4().hex, line="oracle sum", started=time.time(), stdin=piped)
            backend.begin_run(run)
            joined = Joined(rstripped(stdin), "\n\n", "summarize")
            backend.begin_stage(run.id, StageRecord(0, "oracle", input=joined))
            backend.append_text(run.id, 0, "short")
            backend.end_stage(run.id, StageRecord(0, "oracle", input=joined, text="short", status="complete"))
            backend.end_run(run.id, "complete", time.time())
            got = backend.get(run.number)
            assert got is not None and got.stdin == piped
            assert [(s.input, s.text) for s in got.stages] == [(stdin.rstrip() + "\n\nsummarize", "short")]

    def test_streamed_text_is_readable_while_the_stage_runs(
        self, backend: HistoryBackend, options: dict[str, Any]
    ) -> None:
        run = RunRecord(id=uuid.uuid4().hex, line="oracle hi", started=time.time(), pid=os.getpid())
        backend.begin_run(run)
        backend.begin_stage(run.id, StageRecord(0, "oracle"))
        backend.append_text(run.id, 0, "partial ")
        backend.append_text(run.id, 0, "answer")
        other = self.open(options)  # as another process would see it
        try:
            got = other.get(run.number)
        finally:
            other.close()
        assert got is not None and got.status == "running"
        assert [(s.status, s.text) for s in got.stages] == [("running", "partial answer")]

    @pytest.mark.parametrize("status", ["complete", "empty", "partial", "error", "cancelled"])
    def test_stage_status_and_error_are_kept(self, backend: HistoryBackend, status: str) -> None:
        run = RunRecord(id=uuid.uuid4().hex, line="oracle x", started=time.time())
        backend.begin_run(run)
        backend.begin_stage(run.id, StageRecord(0, "oracle"))
        backend.append_text(run.id, 0, "some")
        error = None if status in ("complete", "empty") else f"oracle: {status} (partial answer kept)"
        backend.end_stage(run.id, StageRecord(0, "oracle", text="some text", status=status, error=error))
        run_status = {"complete": "complete", "empty": "complete", "cancelled": "cancelled"}.get(status, "error")
        backend.end_run(run.id, run_status, time.time())
        got = backend.get(run.number)
        assert got is not None and got.status == run_status
        assert [(s.status, s.error, s.text) for s in got.stages] == [(status, error, "some text")]

    def test_final_text_wins_over_what_was_appended(self, backend: HistoryBackend) -> None:
        run = RunRecord(id=uuid.uuid4().hex, line="oracle x", started=time.time())
        backend.begin_run(run)
        backend.begin_stage(run.id, StageRecord(0, "oracle"))
        backend.end_stage(run.id, StageRecord(0, "oracle", text="never appended", status="complete"))
        backend.end_run(run.id, "complete", time.time())
        got = backend.get(run.number)
        assert got is not None and got.stages[0].text == "never appended"
        assert [r.number for r in backend.search("appended")] == [run.number]

    def test_stages_of_the_same_agent_stay_apart_even_interleaved(self, backend: HistoryBackend) -> None:
        run = RunRecord(id=uuid.uuid4().hex, line="oracle a & oracle b", started=time.time())
        backend.begin_run(run)
        backend.begin_stage(run.id, StageRecord(0, "oracle", input="a"))
        backend.begin_stage(run.id, StageRecord(1, "oracle", input="b"))
        for i in range(5):
            backend.append_text(run.id, 1, f"B{i}")
            backend.append_text(run.id, 0, f"A{i}")
        backend.end_stage(run.id, StageRecord(1, "oracle", "", "", "b", "B0B1B2B3B4", "complete"))
        backend.end_stage(run.id, StageRecord(0, "oracle", "", "", "a", "A0A1A2A3A4", "partial", "dropped"))
        backend.end_run(run.id, "error", time.time())
        got = backend.get(run.number)
        assert got is not None
        assert [(s.index, s.input, s.text, s.status) for s in got.stages] == [
            (0, "a", "A0A1A2A3A4", "partial"),
            (1, "b", "B0B1B2B3B4", "complete"),
        ]

    # ------------------------------------------------------ order and numbers
    def test_runs_are_numbered_in_order_and_listed_oldest_first(self, backend: HistoryBackend) -> None:
        recorded = [record_run(backend, f"line {i}", [f"answer {i}"]) for i in range(5)]
        assert [r.number for r in recorded] == [1, 2, 3, 4, 5]
        assert [r.line for r in backend.runs()] == [f"line {i}" for i in range(5)]
        assert [r.number for r in backend.runs(2)] == [4, 5]
        assert backend.runs(0) == []
        assert len(backend.runs(None)) == 5

    def test_rm_removes_one_run_and_numbers_are_not_reused(self, backend: HistoryBackend) -> None:
        for i in range(3):
            record_run(backend, f"line {i}", [f"answer {i}"])
        assert backend.delete(2) is True
        assert backend.delete(2) is False
        assert backend.get(2) is None
        assert [r.number for r in backend.runs()] == [1, 3]
        assert backend.search("answer") == backend.runs()
        assert record_run(backend, "next", ["x"]).number == 4

    def test_clear_removes_everything_and_numbering_restarts(self, backend: HistoryBackend) -> None:
        for i in range(3):
            record_run(backend, f"line {i}", [f"answer {i}"])
        backend.clear()
        assert backend.runs() == [] and backend.search("answer") == [] and backend.get(1) is None
        assert record_run(backend, "again", ["x"]).number == 1

    def test_writes_for_a_removed_run_are_ignored(self, backend: HistoryBackend) -> None:
        run = RunRecord(id=uuid.uuid4().hex, line="oracle x", started=time.time())
        backend.begin_run(run)
        backend.delete(run.number)
        backend.begin_stage(run.id, StageRecord(0, "oracle"))
        backend.append_text(run.id, 0, "late")
        backend.end_stage(run.id, StageRecord(0, "oracle", text="late", status="complete"))
        backend.end_run(run.id, "complete", time.time())
        assert backend.runs() == [] and backend.search("late") == []

    # ----------------------------------------------------------------- search
    def test_search_finds_lines_and_answers_ignoring_case(self, backend: HistoryBackend) -> None:
        record_run(backend, "oracle owls", ["Owls hunt at NIGHT"])
        record_run(backend, "seer weather", ["rain tomorrow"])
        record_run(backend, "courier post", ["letters", "parcels and OWLS"])
        assert [r.line for r in backend.search("owls")] == ["oracle owls", "courier post"]
        assert [r.line for r in backend.search("night OWLS")] == ["oracle owls"]  # every word, anywhere
        assert [r.line for r in backend.search("weather tomorrow")] == ["seer weather"]
        assert [r.line for r in backend.search('"hunt at night"')] == ["oracle owls"]  # a phrase
        assert [r.line for r in backend.search("IGH")] == ["oracle owls"]  # inside a word
        assert [r.line for r in backend.search("wl")] == ["oracle owls", "courier post"]
        assert backend.search("hunt tomorrow") == []
        assert backend.search("") == [] and backend.search("   ") == []

    def test_search_finds_an_accent_however_it_is_encoded(self, backend: HistoryBackend) -> None:
        """``é`` typed (one code point, NFC) finds ``e`` + a combining accent (NFD, as macOS file
        names and some models write it), and the other way round."""
        decomposed = record_run(backend, "oracle menu", ["cafe\u0301 au lait, cre\u0300me bru\u0302le\u0301e"])
        composed = record_run(backend, "oracle caf\u00e9", ["cr\u00e8me"])
        assert [r.number for r in backend.search("caf\u00e9")] == [decomposed.number, composed.number]
        assert [r.number for r in backend.search("cafe\u0301")] == [decomposed.number, composed.number]
        assert [r.number for r in backend.search("CR\u00c8ME")] == [decomposed.number, composed.number]
        assert [r.number for r in backend.search("br\u00fbl\u00e9e")] == [decomposed.number]
        assert backend.search("cafe au") == []  # the accent is a letter, not nothing

    @pytest.mark.parametrize(("query", "answer"), HOSTILE, ids=[q for q, _a in HOSTILE])
    def test_search_takes_any_text_literally(self, backend: HistoryBackend, query: str, answer: str) -> None:
        record_run(backend, "decoy one", ["plain words only"])
        target = record_run(backend, "oracle", [answer])
        record_run(backend, "decoy two", ["nothing special here"])
        assert [r.number for r in backend.search(query)] == [target.number]

    def test_search_returns_the_newest_matches_oldest_first(self, backend: HistoryBackend) -> None:
        for i in range(30):
            record_run(backend, f"run {i}", ["needle" if i % 2 else "hay"])
        found = backend.search("needle", limit=5)
        assert [r.number for r in found] == [22, 24, 26, 28, 30]
        assert [s.text for s in found[0].stages] == ["needle"]

    def test_search_finds_text_of_a_run_still_streaming(self, backend: HistoryBackend) -> None:
        run = RunRecord(id=uuid.uuid4().hex, line="oracle x", started=time.time(), pid=os.getpid())
        backend.begin_run(run)
        backend.begin_stage(run.id, StageRecord(0, "oracle"))
        for piece in ("the quick br", "own fox jum", "ps"):
            backend.append_text(run.id, 0, piece)
        assert [r.number for r in backend.search("brown jumps")] == [run.number]

    # ---------------------------------------------------------- conversations
    def _turn(
        self, backend: HistoryBackend, agent: str, prompt: str, answer: str, cid: str | None, replaces: str = ""
    ) -> RunRecord:
        """A run of one stage that is a turn of conversation ``cid`` (``meta["conversation"]``)."""
        run = RunRecord(id=uuid.uuid4().hex, line=f"{agent} {prompt}", started=time.time())
        backend.begin_run(run)
        meta: dict[str, Any] = {"position": 0} if cid is None else {"position": 0, "conversation": cid}
        if replaces:
            meta["replaces"] = replaces
        backend.begin_stage(run.id, StageRecord(0, agent, input=prompt, meta=dict(meta)))
        backend.append_text(run.id, 0, answer)
        backend.end_stage(run.id, StageRecord(0, agent, input=prompt, text=answer, status="complete", meta=meta))
        backend.end_run(run.id, "complete", time.time())
        return run

    def test_a_stage_keeps_the_conversation_it_belongs_to(self, backend: HistoryBackend) -> None:
        self._turn(backend, "oracle", "first", "one", "c0ffee0001")
        got = backend.get(1)
        assert got is not None and got.stages[0].meta["conversation"] == "c0ffee0001"

    def test_a_conversation_reads_back_in_order_whatever_else_ran_between(self, backend: HistoryBackend) -> None:
        from aish.history.conversations import load, summaries

        self._turn(backend, "oracle", "first", "one", "c1")
        self._turn(backend, "seer", "other", "x", "c2")
        self._turn(backend, "oracle", "one-shot", "y", None)
        self._turn(backend, "oracle", "second", "two", "c1")
        removed = self._turn(backend, "oracle", "removed", "gone", "c1")
        backend.delete(removed.number)
        conversation = load(backend, "c1")
        assert conversation is not None and conversation.agent == "oracle"
        assert [(t.prompt, t.answer) for t in conversation.turns] == [("first", "one"), ("second", "two")]
        assert load(backend, "c3") is None
        assert [(s.id, s.agent, s.turns, s.first_prompt) for s in summaries(backend)] == [
            ("c2", "seer", 1, "other"),
            ("c1", "oracle", 2, "first"),
        ]

    def test_an_answer_asked_again_replaces_the_turn_it_names(self, backend: HistoryBackend) -> None:
        """``/retry``: the new stage's ``meta["replaces"]`` names the run of the turn it replaces.
        History keeps both; the conversation read back has the new answer only (none without text)."""
        from aish.history.conversations import load, summaries

        self._turn(backend, "oracle", "first", "one", "c1")
        second = self._turn(backend, "oracle", "second", "two", "c1")
        again = self._turn(backend, "oracle", "second", "two again", "c1", replaces=second.id)
        self._turn(backend, "oracle", "second", "", "c1", replaces=again.id)  # failed: no text, no turn
        self._turn(backend, "oracle", "third", "three", "c1")
        got = backend.get(again.number)
        assert got is not None and got.stages[0].meta["replaces"] == second.id
        conversation = load(backend, "c1")
        assert conversation is not None
        assert [(t.prompt, t.answer) for t in conversation.turns] == [
            ("first", "one"),
            ("second", "two again"),
            ("third", "three"),
        ]
        assert [s.turns for s in summaries(backend)] == [3]
        assert len(backend.runs(None)) == 5

    def test_the_optional_conversation_query_finds_exactly_its_runs(self, backend: HistoryBackend) -> None:
        finder = getattr(backend, "conversation", None)
        if finder is None:
            pytest.skip("this backend has no conversation() query: aish reads every run instead")
        first = self._turn(backend, "oracle", 'say "conversation":"c1"', "one", "c10")
        self._turn(backend, "oracle", "decoy", "x", "c1-other")
        third = self._turn(backend, "oracle", "again", "two", "c10")
        assert [r.number for r in finder("c10")] == [first.number, third.number]
        assert [s.text for s in finder("c10")[1].stages] == ["two"]
        assert finder("c1") == [] and finder("") == []

    # ------------------------------------------------------------ brief runs
    def test_the_optional_brief_query_is_runs_without_their_inputs(self, backend: HistoryBackend) -> None:
        query = getattr(backend, "brief", None)
        if query is None:
            pytest.skip("this backend has no brief() query: aish reads whole runs instead")
        record_inputs(backend)
        assert [r.number for r in backend.runs(None)] == [1, 2, 4, 5]
        for limit in (None, 20, 3, 1, 0):
            assert_brief(query(limit, None), backend.runs(limit))
        assert_brief(query(), backend.runs())
        for text in ("owl", "OWL streaming", "unadorned", "nothing like it", "", "\\ with"):
            assert_brief(query(20, text), backend.search(text))
        assert_brief(query(1, "owl"), backend.search("owl", 1))
        assert_brief(query(None, "owl"), backend.search("owl", 1000))

    # ------------------------------------------------------- processes, files
    def test_concurrent_writers_lose_and_mix_nothing(self, options: dict[str, Any]) -> None:
        workers, runs, pieces = 4, 15, 8
        run_processes(writer, [(self.factory, options, w, runs, pieces) for w in range(workers)])
        backend = self.open(options)
        try:
            found = backend.runs(None)
        finally:
            backend.close()
        assert sorted(r.number for r in found) == list(range(1, workers * runs + 1))
        assert sorted(r.line for r in found) == sorted(f"w{w}-r{n}" for w in range(workers) for n in range(runs))
        text = "".join(DELTA.format(p) for p in range(pieces))
        assert all([(s.text, s.status) for s in r.stages] == [(text, "complete")] for r in found)
        for w in range(workers):  # each process's runs are numbered in the order it made them
            mine = [r.number for r in found if r.line.startswith(f"w{w}-")]
            assert mine == sorted(mine)

    def test_a_writer_killed_mid_stream_leaves_a_readable_store(self, options: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        proc = context.Process(target=endless_writer, args=(self.factory, options, ready, 200))
        proc.start()
        try:
            assert ready.wait(60), "the writer never got going"
            time.sleep(0.05)
            assert proc.pid is not None
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.join(30)
        backend = self.open(options)
        try:
            (run,) = backend.runs()
            assert run.status == "running" and run.line == "endless"
            text = run.stages[0].text
            assert re.fullmatch(r"(<\d{6}>)+", text), text[-200:]
            pieces = re.findall(r"<(\d{6})>", text)
            assert [int(p) for p in pieces] == list(range(len(pieces))) and len(pieces) >= 200
            assert record_run(backend, "after the crash", ["fine"]).number == 2
            assert [r.line for r in backend.search("fine")] == ["after the crash"]
        finally:
            backend.close()

    def test_files_are_readable_by_their_owner_only(self, backend: HistoryBackend, options: dict[str, Any]) -> None:
        record_run(backend, "oracle secret plans", ["classified"])
        backend.runs()
        root = Path(options["data_dir"])
        files = [p for p in root.rglob("*") if p.is_file()]
        assert files, f"nothing was written under {root}"
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path} is {oct(path.stat().st_mode)}"
        assert stat.S_IMODE(root.stat().st_mode) & 0o077 == 0

    def test_the_path_option_chooses_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / "elsewhere" / "my-history"
        backend = self.open({"path": str(path), "data_dir": str(tmp_path / "unused")})
        try:
            record_run(backend, "oracle x", ["y"])
        finally:
            backend.close()
        assert path.exists() and not (tmp_path / "unused").exists()
        reopened = self.open({"path": str(path), "data_dir": str(tmp_path / "unused")})
        try:
            assert [r.line for r in reopened.runs()] == ["oracle x"]
        finally:
            reopened.close()

    def test_close_is_idempotent(self, backend: HistoryBackend) -> None:
        record_run(backend, "oracle x", ["y"])
        backend.close()
        backend.close()
