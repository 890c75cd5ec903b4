"""The jsonl backend's search cache: a search always answers what folding the whole file would.

Every check compares ``search`` with a brute-force fold of the file and
:func:`aish.run_matches` (:func:`brute`), on real files: random stores grown,
cut, cleared, replaced and torn between searches, and processes searching
while another writes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aish import RunRecord, StageRecord, run_matches, search_terms
from aish.contract_tests.history import assert_brief
from aish.contract_tests.processes import record_run
from aish_history_jsonl import grams
from aish_history_jsonl import lines as lines_module
from aish_history_jsonl import search as search_module
from aish_history_jsonl.cache import State, cache_path
from aish_history_jsonl.records import Fold, dumps, parse
from aish_history_jsonl.store import JsonlHistory


def brute(path: Path, text: str, limit: int = 20) -> list[RunRecord]:
    """What a search must return: fold the whole file, keep the newest ``limit`` matches."""
    terms = search_terms(text)
    data = path.read_bytes() if path.exists() else b""
    runs = Fold().add_lines(data.split(b"\n")).result()
    return [r for r in runs if terms and run_matches(r, terms)][-limit:] if limit > 0 else []


def agrees(path: Path, text: str, limit: int = 20) -> list[RunRecord]:
    """Search with a fresh backend (as another process would), check it against :func:`brute`;
    and the brief search and listing (no inputs read) against the same, without inputs."""
    backend = JsonlHistory(path)
    try:
        found = backend.search(text, limit)
        brief, listed, brief_listed = backend.brief(limit, text), backend.runs(limit), backend.brief(limit)
    finally:
        backend.close()
    assert found == brute(path, text, limit), text
    assert_brief(brief, found)
    data = path.read_bytes() if path.exists() else b""
    assert listed == Fold().add_lines(data.split(b"\n")).result()[-limit:]
    assert_brief(brief_listed, listed)
    return found


def state_of(path: Path) -> State | None:
    data = cache_path(path).read_bytes()
    begin = data.rfind(b"\n", 0, len(data) - 1) + 1
    return State.loads(data[begin:-1], begin)


# ------------------------------------------------------------ random stores

WORDS = [
    "owl",
    "OWL",
    "Straße",
    "STRASSE",
    "strasse",
    "İstanbul",
    "i̇",
    "\u0131",  # dotless i
    "a|b",
    "-x",
    'say "hi"',
    "it's",
    "line\nbreak",
    "日本語",
    "🦉",
    "x",
    "Été",
    "\\",
    "\udc80",
]
QUERIES = ["ss", "ß", "i", "İ", '"line\nbreak"', '"e\nb"', "a|b -x", '"', "OWL strasse", '"owl x"', "\x00", "é"]
words = st.sampled_from(WORDS)
texts = st.lists(words, max_size=4).flatmap(lambda ws: st.sampled_from([" ", "\n", ""]).map(lambda sep: sep.join(ws)))
queries = st.lists(st.one_of(words, words.map(lambda w: f'"{w}"'), st.sampled_from(QUERIES)), min_size=1, max_size=3)
pick = st.integers(0, 7)
operations = st.one_of(
    st.tuples(st.just("begin"), texts),
    st.tuples(st.just("stage"), pick),
    st.tuples(st.just("append"), pick, texts),
    st.tuples(st.just("end_stage"), pick, st.none() | texts),
    st.tuples(st.just("end"), pick),
    st.tuples(st.just("rm"), st.integers(1, 12)),
    st.tuples(st.just("search"), queries.map(" ".join), st.integers(1, 5)),
    st.tuples(st.sampled_from(["clear", "torn", "whole", "cut", "replace", "junk"]), pick),
)


class Store:
    """Applies random operations: writes through the API, damage straight to the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.backend = JsonlHistory(path)
        self.open: list[tuple[str, dict[int, str]]] = []
        """Runs begun and not ended: (id, {stage index: text appended, for stages not ended})."""
        self.stages: dict[str, int] = {}

    def apply(self, op: tuple[Any, ...]) -> None:
        name, *args = op
        getattr(self, name)(*args)

    def begin(self, line: str) -> None:
        stdin = f'{line} "piped" \\' * 3 if line else None  # quotes and backslashes to skip over
        run = RunRecord(id=uuid.uuid4().hex, line=line, started=time.time(), pid=os.getpid(), stdin=stdin)
        self.backend.begin_run(run)
        self.open.append((run.id, {}))
        self.stages[run.id] = 0

    def _run(self, k: int) -> tuple[str, dict[int, str]] | None:
        return self.open[k % len(self.open)] if self.open else None

    def stage(self, k: int) -> None:
        if (run := self._run(k)) is not None:
            index = self.stages[run[0]]
            self.stages[run[0]] += 1
            self.backend.begin_stage(run[0], StageRecord(index, "oracle", input=f'in "{k}" \\\\"' + "\\" * k))
            run[1][index] = ""

    def append(self, k: int, text: str) -> None:
        if (run := self._run(k)) is not None and run[1] and text:
            index = min(run[1])
            self.backend.append_text(run[0], index, text)
            run[1][index] += text

    def end_stage(self, k: int, final: str | None) -> None:
        if (run := self._run(k)) is not None and run[1]:
            index = min(run[1])
            text = run[1].pop(index) if final is None else final  # another text: stored whole
            self.backend.end_stage(run[0], StageRecord(index, "oracle", text=text, status="complete"))

    def end(self, k: int) -> None:
        if (run := self._run(k)) is not None:
            while run[1]:
                self.end_stage(k, None)
            self.backend.end_run(run[0], "complete", time.time())
            self.open.remove(run)

    def whole_run(self, line: str, text: str) -> None:
        """A run begun, answered and ended at once (most random runs never end, and only runs
        that ended are in the cache's entries)."""
        self.begin(line)
        k = len(self.open) - 1
        self.stage(k)
        self.append(k, text)
        self.end(k)

    def rm(self, number: int) -> None:
        self.backend.delete(number)

    def search(self, text: str, limit: int) -> None:
        agrees(self.path, text, limit)
        self.get()

    def get(self) -> None:
        """``get`` of this long-lived backend (its index follows the file) and of a fresh one: what a fold gives."""
        data = self.path.read_bytes() if self.path.exists() else b""
        runs = {r.number: r for r in Fold().add_lines(data.split(b"\n")).result()}
        fresh = JsonlHistory(self.path)
        try:
            for number in range(1, max(runs, default=0) + 2):
                assert self.backend.get(number) == runs.get(number) == fresh.get(number), number
        finally:
            fresh.close()

    def clear(self, _k: int) -> None:
        self.backend.clear()
        assert not cache_path(self.path).exists()

    def torn(self, k: int) -> None:
        """A writer killed mid-record: the next write starts a fresh line."""
        run = self._run(k)
        record = {"op": "text", "id": run[0] if run else "gone", "i": 0, "o": 0, "t": "torn owl"}
        with self.path.open("ab") as fh:
            fh.write(dumps(record)[: 10 + k * 3])

    def whole(self, k: int) -> None:
        """A record whose newline is not written yet: a fold counts it, and so must a search."""
        run = self._run(k)
        record: dict[str, Any] = {"op": "rm", "n": k}
        if run is not None and run[1] and k % 2:
            record = {"op": "text", "id": run[0], "i": min(run[1]), "o": 0, "t": "whole OWL"}
        with self.path.open("ab") as fh:
            fh.write(dumps(record)[:-1])

    def cut(self, k: int) -> None:
        """The file truncated in place at a line boundary (same inode)."""
        data = self.path.read_bytes() if self.path.exists() else b""
        ends = [i + 1 for i, byte in enumerate(data) if byte == 0x0A]
        if ends:
            os.truncate(self.path, 0 if k == 0 else ends[k % len(ends)] if k % 3 else ends[len(ends) // 2])

    def replace(self, k: int) -> None:
        """The file replaced by an edited copy (one line dropped), as an editor or ``jq`` would."""
        data = self.path.read_bytes() if self.path.exists() else b""
        lines = data.split(b"\n")
        if len(lines) > 1:
            del lines[k % (len(lines) - 1)]
        Path(f"{self.path}.new").write_bytes(b"\n".join(lines))
        os.replace(f"{self.path}.new", self.path)
        self.backend.close()
        self.backend = JsonlHistory(self.path)

    def junk(self, k: int) -> None:
        """What an update killed part-way leaves: the cache cut anywhere, or entries after a cut state line."""
        cache = cache_path(self.path)
        if cache.exists() and (data := cache.read_bytes()):
            body = data.rfind(b"\n", 0, len(data) - 1) + 1
            at = k * 7919 % len(data)
            damaged = [data[:at], data[:body] + b"12 34 5", data[: body + 5 + k] + b"x" + data[body + 6 + k :]]
            cache.write_bytes(damaged[k % 3])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, max_size=60), queries.map(" ".join))
def test_search_answers_what_a_fold_of_the_whole_file_does(ops: list[tuple[Any, ...]], last: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "h.jsonl")
        try:
            for op in ops:
                store.apply(op)
            for text in (last, "owl", "x", "ss"):
                agrees(store.path, text, 3)
                agrees(store.path, text, 100)
            store.get()
        finally:
            store.backend.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, max_size=60), queries.map(" ".join))
def test_a_scan_in_tiny_windows_answers_the_same(ops: list[tuple[Any, ...]], last: str) -> None:
    """The cache is read a piece of whole lines at a time: lines at a piece's edge, and lines
    longer than a piece (most of them, at 64 bytes), are still found."""
    window = search_module.WINDOW
    search_module.WINDOW = 64
    try:
        test_search_answers_what_a_fold_of_the_whole_file_does.hypothesis.inner_test(ops, last)  # type: ignore[attr-defined]
    finally:
        search_module.WINDOW = window


whole_runs = st.tuples(st.just("whole_run"), texts, texts)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(whole_runs, whole_runs, operations), min_size=8, max_size=60),
    queries.map(" ".join),
    st.integers(1, 300),
)
def test_blocks_turned_away_by_their_filters_hold_no_match(ops: list[tuple[Any, ...]], last: str, block: int) -> None:
    """With blocks of a few entries (one, at 1 byte) a search skips most of them on their
    trigram filters: it still finds every match, and stops at the right block."""
    size = grams.BLOCK
    grams.BLOCK = block
    try:
        test_search_answers_what_a_fold_of_the_whole_file_does.hypothesis.inner_test(ops, last)  # type: ignore[attr-defined]
    finally:
        grams.BLOCK = size


text_bytes = st.text(st.characters(codec="utf-8", exclude_characters="\n"), max_size=80).map(
    lambda t: t.lower().encode("utf-8", "surrogatepass")
)


@settings(max_examples=500, deadline=None)
@given(st.lists(text_bytes, min_size=1, max_size=6), st.data())
def test_a_filter_admits_every_term_that_occurs_in_its_block(texts: list[bytes], data: st.DataObject) -> None:
    """A Bloom filter may let a block through in vain, never turn away one that holds a term:
    any piece of the block's bytes, white space and all, is admitted."""
    block = b"\n".join(texts)
    start = data.draw(st.integers(0, len(block)))
    term = block[start : data.draw(st.integers(start, len(block)))]
    assert grams.admits(grams.line(block), grams.slots([term])), (block, term)


def test_a_filter_turns_away_what_is_not_there() -> None:
    line = grams.line(b"12 0 90 12 athena owls\x00owls hunt at night\n")
    assert grams.admits(line, grams.slots([b"owls hunt", b"nig"]))
    assert not grams.admits(line, grams.slots([b"zephyrine"]))
    assert not grams.admits(line, grams.slots([b"owls", b"qqx"]))
    assert grams.admits(line, grams.slots([b"qq", b"o w"]))  # under three bytes between blanks: nothing to test
    assert len(line) == grams.LINE and line.startswith(grams.MARK) and line.count(b"\n") == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, max_size=60), queries.map(" ".join), st.integers(1, 24))
@example([("begin", ""), ("torn", 0), ("whole", 2), ("begin", "owl")], "owl", 1)  # found by a fresh clone's run
def test_the_file_read_in_tiny_pieces_answers_the_same(ops: list[tuple[Any, ...]], last: str, piece: int) -> None:
    """The JSONL file is read a piece at a time, and a line longer than a piece (most of them
    here) is not read but skimmed: a brief read skips the string of its input, whatever
    quotes and backslashes it holds and wherever the pieces cut it."""
    size = lines_module.PIECE
    lines_module.PIECE = piece
    try:
        test_search_answers_what_a_fold_of_the_whole_file_does.hypothesis.inner_test(ops, last)  # type: ignore[attr-defined]
    finally:
        lines_module.PIECE = size


def test_a_search_reads_the_cache_in_pieces_whatever_its_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a search holds in memory does not grow with the history: no read is bigger than the
    sample or a filter line; and blocks whose filter turns the terms away are not read."""
    monkeypatch.setattr(grams, "BLOCK", 16384)
    backend = JsonlHistory(tmp_path / "h.jsonl")
    for i in range(1500):
        record_run(backend, f"athena question {i}", [f"answer {i} " + "words of an answer " * 5])
    record_run(backend, "athena owls", ["zephyrine"])
    for i in range(1500):
        record_run(backend, f"athena question {i}", [f"answer {i}"])
    assert [r.line for r in backend.search("zephyrine")] == ["athena owls"]  # builds the cache
    size = cache_path(tmp_path / "h.jsonl").stat().st_size
    state = state_of(tmp_path / "h.jsonl")
    assert state is not None
    blocks, entries = state.blocks, state.body - len(state.blocks) * grams.LINE
    filters = {at for at, _last in blocks}
    reads: dict[str, list[int]] = {}  # bytes read per query, but filter lines
    filtered: dict[str, int] = {}  # filter lines read per query
    pread = os.pread

    def counting(fd: int, n: int, offset: int) -> bytes:
        if offset in filters and n == grams.LINE:
            filtered[query] += 1
        else:
            reads[query].append(n)
        return pread(fd, n, offset)

    monkeypatch.setattr(search_module, "WINDOW", 4096)
    monkeypatch.setattr(search_module, "SAMPLE", 8192)
    monkeypatch.setattr(search_module.os, "pread", counting)
    for query, expected in [("zephyrine", ["athena owls"]), ("qqxyzzyqq", []), ("qq", [])]:
        reads[query], filtered[query] = [], 0
        assert [r.line for r in backend.search(query)] == expected
    assert size > 30 * 8192 and len(blocks) > 10, (size, blocks)
    assert max(max(n) for n in reads.values()) <= 8192
    assert sum(reads["qq"]) >= entries and filtered["qq"] == 0  # two letters: no trigram to filter with
    assert sum(reads["qqxyzzyqq"]) < entries / 4 and filtered["qqxyzzyqq"] == len(blocks)  # all turned away
    assert sum(reads["zephyrine"]) < entries / 4  # all but the block that holds it
    backend.close()


def reference_parse(line: bytes) -> dict[str, Any] | None:
    """What ``records.parse`` did before it skipped ``json.loads``' overhead."""
    if not line.startswith(b'{"op":'):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


@settings(max_examples=300)
@given(
    st.one_of(
        st.dictionaries(st.text(max_size=3), st.text() | st.integers() | st.none(), max_size=3).map(
            lambda d: dumps({"op": "text", **d})[:-1]
        ),
        st.binary(max_size=30).map(lambda b: b'{"op":' + b),
    ),
    st.sampled_from([b"", b" ", b"\r", b" \t", b"x", b"}", b" 1", b"\xff", b"\xed\xb2\x80", b"\x00"]),
)
def test_parse_accepts_exactly_what_json_loads_does(line: bytes, suffix: bytes) -> None:
    assert parse(line + suffix) == reference_parse(line + suffix)


# ------------------------------------------------------------ the cache file


def test_the_cache_is_private_beside_the_file_and_grows_by_appends(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    for i in range(30):
        record_run(backend, f"run {i}", [f"owl {i}" if i % 3 else "bat"])
    assert [r.number for r in agrees(path, "owl", 5)] == [24, 26, 27, 29, 30]
    cache = cache_path(path)
    assert cache == tmp_path / "h.jsonl.search" and stat.S_IMODE(cache.stat().st_mode) == 0o600
    before = cache.read_bytes()
    state = state_of(path)
    assert state is not None and state.pos == path.stat().st_size and state.last == 30 and not state.pending
    assert before[: state.body].count(b"\n") == 30 and b"run 7\x00owl 7" in before
    for i in range(30, 35):
        record_run(backend, f"run {i}", [f"owl {i}"])
    assert [r.number for r in agrees(path, "owl", 5)] == [31, 32, 33, 34, 35]
    after = cache.read_bytes()
    assert after[: state.body] == before[: state.body]  # only the new runs were read and appended
    backend.close()


def test_a_run_still_running_is_found_and_its_entry_written_when_it_ends(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    record_run(backend, "first", ["quantum"])
    run = RunRecord(id=uuid.uuid4().hex, line="long one", started=time.time(), pid=os.getpid())
    backend.begin_run(run)
    backend.begin_stage(run.id, StageRecord(0, "oracle"))
    backend.append_text(run.id, 0, "quant")
    assert [r.number for r in agrees(path, "quant")] == [1, 2]
    state = state_of(path)
    assert state is not None and list(state.pending) == [run.id]
    for i in range(30):  # newer runs end first: the long run's entry comes after theirs
        record_run(backend, f"later {i}", ["quantum"])
    backend.append_text(run.id, 0, "um leap")
    assert [r.number for r in agrees(path, "leap")] == [2]
    backend.end_stage(run.id, StageRecord(0, "oracle", text="quantum leap", status="complete"))
    backend.end_run(run.id, "complete", time.time())
    for limit in (1, 5, 30, 31, 32, 40):
        agrees(path, "quantum", limit)
    assert [r.number for r in agrees(path, "leap")] == [2]
    state = state_of(path)
    assert state is not None and not state.pending and state.last == 32
    backend.close()


def test_deleted_runs_are_not_found_whether_cached_running_or_unread(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    for i in range(5):
        record_run(backend, f"run {i}", ["owl"])
    agrees(path, "owl")
    running = RunRecord(id=uuid.uuid4().hex, line="owl running", started=time.time(), pid=os.getpid())
    backend.begin_run(running)
    agrees(path, "owl")
    assert backend.delete(2) and backend.delete(running.number)
    assert [r.number for r in agrees(path, "owl")] == [1, 3, 4, 5]
    with path.open("ab") as fh:
        fh.write(b'{"op":"rm","n":4}')  # not ended by a newline yet: still a record to a fold
    assert [r.number for r in agrees(path, "owl")] == [1, 3, 5]
    backend.end_run(running.id, "complete", time.time())
    assert [r.number for r in agrees(path, "owl")] == [1, 3, 5]
    state = state_of(path)
    assert state is not None and state.deleted == {2, 4, 6} and not state.pending
    backend.close()


def test_clear_deletes_the_cache_and_a_file_cleared_behind_its_back_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    for i in range(10):
        record_run(backend, f"old {i}", ["owl"])
    agrees(path, "owl")
    backend.clear()
    assert not cache_path(path).exists()
    assert agrees(path, "owl") == []
    for i in range(10):
        record_run(backend, f"old {i}", ["owl"])
    agrees(path, "owl")
    os.truncate(path, 0)  # emptied by something else: the cache stays, describing the old file
    for i in range(12):  # grown past where the cache had read, in place (same inode)
        record_run(backend, f"new {i}", ["owl" if i % 2 else "bat"])
    assert [r.line for r in agrees(path, "owl")] == [f"new {i}" for i in range(1, 12, 2)]
    backend.close()


def test_a_file_cut_or_replaced_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    for i in range(10):
        record_run(backend, f"run {i}", ["owl"])
    agrees(path, "owl")
    data = path.read_bytes()
    os.truncate(path, data.index(b'{"op":"run","n":6,'))
    assert [r.number for r in agrees(path, "owl")] == [1, 2, 3, 4, 5]
    for i in range(10):
        record_run(backend, f"again {i}", ["owl"])
    agrees(path, "owl")
    edited = path.read_bytes().replace(b'"line":"run 0"', b'"line":"yak 0"')  # the first run
    Path(f"{path}.new").write_bytes(edited)
    os.replace(f"{path}.new", path)  # a new file of the same size, the same bytes at the end
    assert [r.number for r in agrees(path, "yak")] == [1]
    agrees(path, "owl")
    backend.close()


def test_runs_ending_out_of_order_are_all_found(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    early = [RunRecord(id=uuid.uuid4().hex, line=f"early {i}", started=time.time()) for i in range(2)]
    for run in early:
        backend.begin_run(run)
    record_run(backend, "third", ["owl"])
    agrees(path, "owl")
    for run in early:  # entries in the cache: 3, 1, 2
        backend.begin_stage(run.id, StageRecord(0, "oracle"))
        backend.end_stage(run.id, StageRecord(0, "oracle", text="owl", status="complete"))
        backend.end_run(run.id, "complete", time.time())
    for limit in (1, 2, 3):
        agrees(path, "owl", limit)
    assert [r.number for r in agrees(path, "owl", 1)] == [3]
    backend.close()


def test_terms_are_matched_as_run_matches_does(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    answers = ["Straße", "STRASSE", "İstanbul", "istanbul", "a|b and -x", 'say "hi"\nthere', "one\ntwo", "日本語"]
    for answer in answers:
        record_run(backend, "oracle", [answer])
    queries = {
        "straße": [1],
        "strasse": [2],
        "ss": [2],
        "İ": [3],
        "i̇": [3],
        "istanbul": [4],
        "a|b -x": [5],
        '"': [6],
        '"hi"': [6],
        '"e\nt"': [7],
        '"i"\nthere': [6],
        '"one\ntwo"': [7],
        "e\nt": [1, 2, 3, 4, 6, 7],  # two terms
        '"oracle\nsay"': [6],
        "本": [8],
    }
    for query, numbers in queries.items():
        assert [r.number for r in agrees(path, query)] == numbers, query
    backend.close()


# ------------------------------------------------------------ when the cache cannot help


def test_search_works_without_a_cache_it_cannot_create(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    for i in range(5):
        record_run(backend, f"run {i}", ["owl"])
    cache_path(path).mkdir()  # cannot be opened as a file, whoever runs the test
    assert [r.number for r in agrees(path, "owl")] == [1, 2, 3, 4, 5]
    backend.close()


FULL_DISK = """
import json, resource, signal, sys
sys.path.insert(0, sys.argv[2])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), resource.RLIM_INFINITY))
from aish_history_jsonl.store import JsonlHistory
print(json.dumps([r.number for r in JsonlHistory(sys.argv[1]).search("owl", 100)]))
"""


@pytest.mark.parametrize("case", ["no room", "build", "update"])
def test_search_works_when_the_cache_cannot_be_written(tmp_path: Path, case: str) -> None:
    """A file size limit makes writes fail as on a full disk (EFBIG instead of ENOSPC), for real."""
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    for i in range(40):
        record_run(backend, f"run {i}", ["owl" if i % 2 else "bat"])
    room = {"no room": 0, "build": 300}.get(case, 0)
    if case == "update":
        running = RunRecord(id=uuid.uuid4().hex, line="running owl", started=time.time(), pid=os.getpid())
        backend.begin_run(running)
        backend.begin_stage(running.id, StageRecord(0, "oracle"))
        backend.append_text(running.id, 0, "first half")
        agrees(path, "owl")  # a cache that holds the first runs and one still running ...
        old = state_of(path)
        room = cache_path(path).stat().st_size + 50
        backend.append_text(running.id, 0, ", second half")
        for i in range(40):  # ... and has no room for the next ones
            record_run(backend, f"more {i}", ["owl"])
    plugins = str(Path(__file__).resolve().parents[2] / "plugins")
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(path), plugins, str(room)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [r.number for r in brute(path, "owl", 100)]
    if case == "update":
        assert state_of(path) == old  # the failed update put the old state line back
    agrees(path, "owl", 100)  # and the cache is brought up to date (or rebuilt) once it can be written
    backend.close()


def test_an_update_killed_anywhere_leaves_a_cache_that_is_rebuilt_or_still_right(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    for i in range(6):
        record_run(backend, f"run {i}", ["owl"])
    agrees(path, "owl")
    old = cache_path(path).read_bytes()
    for i in range(6):
        record_run(backend, f"more {i}", ["owl" if i % 2 else "bat"])
    agrees(path, "owl")
    new = cache_path(path).read_bytes()
    body = old.rfind(b"\n", 0, len(old) - 1) + 1
    for cut in range(body, len(new)):  # what an update stopped at any byte leaves behind
        cache_path(path).write_bytes(new[:cut])
        agrees(path, "owl")
        agrees(path, "more")
    backend.close()


def test_a_process_killed_while_building_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    for i in range(300):
        record_run(backend, f"run {i}", [f"owl {i} " * 200])
    plugins = str(Path(__file__).resolve().parents[2] / "plugins")
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(path), plugins])
    time.sleep(0.5)
    proc.kill()
    proc.wait()
    assert [r.number for r in agrees(path, "owl 299")] == [300]
    agrees(path, "owl 1")
    backend.close()


KILLED = """
import sys
sys.path.insert(0, sys.argv[2])
from aish_history_jsonl.store import JsonlHistory
while True:
    JsonlHistory(sys.argv[1]).search("owl")
    open(sys.argv[1] + ".search", "w").close()  # and build it again
"""


# ------------------------------------------------------------ processes


def piece(p: int) -> str:
    """A piece the writer streams: big, so that readers often see a record half written."""
    return f"<{p:06d}>" * 1500


def searcher(path: str, start: Any, done: Any, during: Any) -> None:
    """Search while another process writes; each result lies between the file before and after it."""
    file = Path(path)
    backend = JsonlHistory(file)
    start.wait(60)
    count = 0
    while not done.is_set() or count < 3:
        count += 1
        for text in ("w-r", "<000002>", "fin"):
            data = file.read_bytes()
            fold = Fold().add_lines(data.split(b"\n"))
            writing = not done.is_set()
            found = backend.search(text, 10_000)
            after = brute(file, text, 10_000)
            with during.get_lock():
                during.value += writing and not done.is_set()
            numbers = [r.number for r in found]
            assert numbers == sorted(set(numbers))
            before = {r.number for r in fold.result() if run_matches(r, [text])}
            kept = before & {r.number for r in after}
            assert kept <= set(numbers), (text, sorted(kept - set(numbers)))
            assert not set(numbers) & fold.deleted
            for run in found:
                assert run.line == f"w-r{run.number}"
                whole = "".join(piece(p) for p in range(4)) + f"fin{run.number}"
                assert whole.startswith("".join(s.text for s in run.stages))
    backend.close()
    agrees(file, "w-r", 10_000)


def writer(path: str, start: Any, done: Any, runs: int) -> None:
    backend = JsonlHistory(path)
    start.wait(60)
    for n in range(1, runs + 1):  # the only writer: run n is numbered n
        run = RunRecord(id=uuid.uuid4().hex, line=f"w-r{n}", started=time.time(), pid=os.getpid())
        backend.begin_run(run)
        backend.begin_stage(run.id, StageRecord(0, "oracle"))
        for p in range(4):
            backend.append_text(run.id, 0, piece(p))
        text = "".join(piece(p) for p in range(4)) + f"fin{n}"
        backend.end_stage(run.id, StageRecord(0, "oracle", text=text, status="complete"))
        backend.end_run(run.id, "complete", time.time())
        if n % 7 == 0:
            backend.delete(n - 3)
    backend.close()
    done.set()


def test_two_processes_search_while_a_third_writes(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    JsonlHistory(path).clear()  # the file exists, empty
    context = multiprocessing.get_context("spawn")
    start, done, during = context.Barrier(3), context.Event(), context.Value("i", 0)
    procs = [context.Process(target=searcher, args=(str(path), start, done, during)) for _ in range(2)]
    procs.append(context.Process(target=writer, args=(str(path), start, done, 160)))
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    codes = [proc.exitcode for proc in procs]
    for proc in procs:
        if proc.is_alive():
            proc.kill()
            proc.join()
    assert codes == [0, 0, 0]
    assert during.value > 0, "no search ran while the writer wrote"
    found = agrees(path, "w-r", 10_000)
    assert len(found) == 160 - 160 // 7
    assert all(r.stages[0].text.endswith(f"fin{r.number}") for r in found)


def test_get_follows_a_file_cleared_and_written_again_by_another_process(tmp_path: Path) -> None:
    """``get`` learns where runs are once per backend, then reads only what was appended; a file
    cleared behind its back (the same inode, as long or longer again) is learnt afresh."""
    path = tmp_path / "h.jsonl"
    reader, writer = JsonlHistory(path), JsonlHistory(path)
    try:
        for i in range(3):
            record_run(writer, f"old {i}", [f"answer {i}"])
        writer.delete(2)
        assert [r.line if r else None for r in map(reader.get, (1, 2, 3, 4))] == ["old 0", None, "old 2", None]
        writer.clear()
        for i in range(4):
            record_run(writer, f"new {i}", [f"a much longer answer than before, number {i}"])
        assert [r.line if r else None for r in map(reader.get, (1, 2, 3, 4, 5))] == [
            "new 0",
            "new 1",
            "new 2",
            "new 3",
            None,
        ]
        record_run(writer, "appended", ["x"])
        got = reader.get(5)
        assert got is not None and got.line == "appended" and got == writer.get(5)
    finally:
        reader.close()
        writer.close()


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.sampled_from('ab"\\\n\x00\x1f/é\u2028🦉\U0001f600\ud800\udfff'), max_size=80),
    st.booleans(),
    st.integers(1, 40),
)
def test_a_long_input_is_decoded_in_pieces_as_json_decodes_it_whole(text: str, ascii_only: bool, piece: int) -> None:
    """Escapes cut by a piece's edge (a surrogate pair's two halves, runs of backslashes) and UTF-8
    sequences cut by it are decoded whole."""
    data = json.dumps(text, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    fd, name = tempfile.mkstemp()
    size = lines_module.PIECE
    lines_module.PIECE = piece
    try:
        os.write(fd, data)
        assert lines_module.string_end(fd, 1, len(data)) == len(data) - 1
        assert lines_module.decode_string(fd, 1, len(data) - 1) == json.loads(data.decode("utf-8", "surrogatepass"))
    finally:
        lines_module.PIECE = size
        os.close(fd)
        os.unlink(name)


def test_a_conversation_is_found_among_long_inputs_without_reading_the_file_whole(tmp_path: Path) -> None:
    """Its stage records are found a piece at a time, and each run's ``run`` record by its id."""
    backend = JsonlHistory(tmp_path / "h.jsonl")
    try:
        long_in = 'a "long" input \\ ' * 40000  # longer than a piece, quotes and backslashes
        for i in range(6):
            run = RunRecord(id=uuid.uuid4().hex, line=f"oracle {i}", started=time.time(), stdin=long_in)
            backend.begin_run(run)
            meta = {"conversation": "c1" if i % 2 else "c2"}
            backend.begin_stage(run.id, StageRecord(0, "oracle", input=long_in + str(i), meta=meta))
            done = StageRecord(0, "oracle", input=long_in, text=f"answer {i}", status="complete", meta=meta)
            backend.end_stage(run.id, done)
            backend.end_run(run.id, "complete", time.time())
        backend.delete(4)
        found = backend.conversation("c1")
        assert [r.number for r in found] == [2, 6]
        assert found == [backend.get(2), backend.get(6)]
        assert found[0].stdin == long_in and found[0].stages[0].input == long_in + "1"
        assert backend.conversation("c") == [] and backend.conversation("") == []
    finally:
        backend.close()


def test_a_scan_counts_no_rm_record_inside_a_torn_line(tmp_path: Path) -> None:
    """Found by a fresh clone's run of the test above: a killed writer's torn line, then an ``rm``
    record written on after it without a newline, hid run 2 from the scan that searches without
    the cache. A fold sees no record there (the line does not parse), and neither does the scan now."""
    from aish_history_jsonl.read import scan

    path = tmp_path / "h.jsonl"
    backend = JsonlHistory(path)
    try:
        record_run(backend, "athena first", ["one"])
        with path.open("ab") as fh:
            fh.write(b'{"op":"tex' + b'{"op":"rm","n":2}')  # torn, then a whole record on the same line
        record_run(backend, "athena owls", ["they hunt"])
    finally:
        backend.close()
    assert [run.line for run in brute(path, "owls")] == ["athena owls"]
    assert [run.line for run in scan(path, "owls", 20)] == ["athena owls"]
