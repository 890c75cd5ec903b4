"""``aish history ...`` and recording, as a user meets them: real aish processes, a real server."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aish.history.files import data_dir
from aish.testing import line_ended, run_aish
from aish_refserver import RefServer


@pytest.fixture
def slow_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[RefServer]:
    """A reference server streaming a token every 50 ms (64 tokens: about 3 s), used by the demo agents."""
    server = RefServer(pace=0.05).start()
    monkeypatch.setenv("AISH_DEMO_URL", server.base_url)
    try:
        yield server
    finally:
        server.stop()


def start_aish(line: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "aish", "-c", line], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
    )


def read_some(proc: subprocess.Popen[bytes], at_least: int) -> bytes:
    """Read the answer as it streams until ``at_least`` bytes arrived."""
    assert proc.stdout is not None
    got = b""
    while len(got) < at_least:
        piece = os.read(proc.stdout.fileno(), 4096)
        assert piece, f"aish ended early after {got!r}"
        got += piece
    return got


def test_runs_are_listed_shown_searched_and_exported(history_backend: str, demo_url: str) -> None:
    assert run_aish("-c", 'echo "owls" | athena').returncode == 0
    assert run_aish("apollo", "a|b", "it's").returncode == 0
    assert run_aish("-c", "echo done").returncode == 0
    listing = run_aish("history")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row.pop(1)) for row in rows), lines
    assert rows == [
        ["1", "complete", 'echo "owls" | athena'],
        ["2", "complete", "apollo 'a|b' 'it'\\''s'"],
        ["3", "complete", "echo done"],
    ]
    assert run_aish("history", "1").stdout.splitlines() == lines[-1:]
    shown = run_aish("history", "show", "2").stdout
    assert shown.startswith("run 2  ") and "$ apollo 'a|b' 'it'\\''s'\n" in shown
    assert "-- stage 1: apollo  sse/openai-chat  complete\n" in shown
    assert "-- input\na|b it's\n-- answer\nApollo (offline demo)" in shown
    assert [line.split()[0] for line in run_aish("history", "search", "a|b").stdout.splitlines()] == ["2"]
    assert [line.split()[0] for line in run_aish("history", "search", "OWLS").stdout.splitlines()] == ["1"]
    exported = json.loads(run_aish("history", "export", "--json").stdout)
    assert [(r["number"], r["line"], len(r["stages"])) for r in exported] == [
        (1, 'echo "owls" | athena', 1),
        (2, "apollo 'a|b' 'it'\\''s'", 1),
        (3, "echo done", 0),
    ]
    jsonl = [json.loads(line) for line in run_aish("history", "export", "--jsonl").stdout.splitlines()]
    assert jsonl == exported


def test_an_agents_text_is_listed_as_typed_and_replays_the_same(history_backend: str, demo_url: str) -> None:
    """``aish athena what's a monad?`` is listed so, not as ``athena 'what'\\''s' a 'monad?'``."""
    assert run_aish("athena", "what's", "a", "monad?").returncode == 0
    assert run_aish("history").stdout.rstrip().endswith("  athena what's a monad?")
    assert run_aish("-c", "!1").returncode == 0
    for number in ("1", "2"):
        assert "-- input\nwhat's a monad?\n" in run_aish("history", "show", number).stdout


def test_the_shell_commands_work_after_dash_c_and_are_not_recorded(history_backend: str, demo_url: str) -> None:
    assert run_aish("-c", "athena 'a|b' owls").returncode == 0
    assert run_aish("-c", "echo done").returncode == 0
    listing = run_aish("-c", "history")
    assert listing.returncode == 0 and listing.stdout == run_aish("history").stdout
    assert [line.split()[0] for line in listing.stdout.splitlines()] == ["1", "2"]  # `history` itself not recorded
    found = run_aish("-c", "history search a|b")  # the text after `search` as typed, as in the shell
    assert [line.split()[0] for line in found.stdout.splitlines()] == ["1"], found.stderr
    assert run_aish("-c", 'history search "b owl').stdout == ""  # an unbalanced quote is literal text
    assert run_aish("-c", "history show 2").stdout.startswith("run 2  ")
    assert "athena" in run_aish("-c", "agents").stdout
    misuse = run_aish("-c", "agents everything")
    assert (misuse.returncode, misuse.stderr) == (
        2,
        "aish: agents: unknown subcommand 'everything' (usage: agents [add NAME URL "
        "[-m MODEL] [--codec CODEC] [--key-env VAR] [-d DESCRIPTION] | remove NAME | edit])\n",
    )
    refused = run_aish("-c", "history clear")  # no terminal to ask on
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert run_aish("-c", "history clear --yes").stdout == "history cleared\n"
    assert run_aish("-c", "history").stdout == ""


def test_a_history_line_may_end_with_a_redirect(history_backend: str, demo_url: str, tmp_path: Path) -> None:
    """'history export > runs.json' said 'the only options are --json and --jsonl'."""
    assert run_aish("-c", "athena 'a > b' owls").returncode == 0
    exported = run_aish("-c", f"history export > {tmp_path}/runs.json")
    assert exported.returncode == 0 and exported.stdout == "", exported.stderr
    assert [run["line"] for run in json.loads((tmp_path / "runs.json").read_text())] == ["athena 'a > b' owls"]
    assert run_aish("-c", f"history 5 >> {tmp_path}/list.txt").returncode == 0
    assert (tmp_path / "list.txt").read_text().split()[0] == "1"
    phrase = run_aish("-c", 'history search "a > b"')  # quoted, or glued (a>b): text to look for
    assert phrase.stdout.split()[0] == "1" and run_aish("-c", "history search a>b").stdout == ""


def test_a_script_can_use_the_shell_commands(history_backend: str, demo_url: str) -> None:
    assert run_aish("-c", "echo earlier").returncode == 0
    result = run_aish(input="athena owls\nhistory\nagents\n")  # a script on stdin, as from a pipe
    assert result.returncode == 0, result.stderr
    assert "Athena (offline demo)" in result.stdout and "\nNAME " in result.stdout
    assert re.search(r"\b1  \S+ \S+  complete     echo earlier\n", result.stdout), result.stdout
    bogus = run_aish(input="history bogus\n")
    assert bogus.stderr == "aish: <stdin>:1: history: unknown subcommand 'bogus' (see 'history help')\n"


WRITE_ONE_RUN = """
import os
import sys
from aish.contract_tests.processes import record_run
from aish_history_sqlite import make_backend
backend = make_backend({"path": sys.argv[1], "data_dir": None})
record_run(backend, sys.argv[2], ["an answer"])
backend.close()
os._exit(0)  # as aish ends: the connection is never closed (aish_history_sqlite.store._linger)
"""


def test_the_sqlite_wal_holds_about_one_run_each_writer_checkpoints_the_one_before(tmp_path: Path) -> None:
    """A process that closes the store leaves its run in the WAL (no checkpoint at exit); the next one
    copies it into the database as it begins, so the WAL does not grow from one process to the next."""
    store = tmp_path / "history.sqlite3"
    words = ["one", "two", "three", "four"]
    wal_sizes = []
    for done, word in enumerate(words):
        subprocess.run([sys.executable, "-c", WRITE_ONE_RUN, str(store), f"athena {word}"], check=True, timeout=60)
        wal_sizes.append(Path(f"{store}-wal").stat().st_size)
        copy = tmp_path / f"after-{word}.sqlite3"  # the database file alone, without its WAL
        copy.write_bytes(store.read_bytes())
        with sqlite3.connect(copy) as db:
            in_database = [line for (line,) in db.execute("SELECT line FROM runs ORDER BY number")] if done else []
        db.close()
        assert in_database == [f"athena {w}" for w in words[:done]]
    assert max(wal_sizes[2:]) <= max(wal_sizes[:2]), wal_sizes


def test_one_shot_runs_go_to_a_journal_the_next_reader_applies(history_backend: str, demo_url: str) -> None:
    """``aish -c`` never opens the store (decision 30): its runs wait in a journal until a reader applies them."""
    journals = data_dir() / f"journal-{history_backend}"
    for word in ("one", "two"):
        assert run_aish("-c", f"athena {word}").returncode == 0
    assert len(list(journals.glob("*.journal"))) == 2
    assert not list(data_dir().glob("history.*")), "a one-shot run opened the store"
    listing = run_aish("history").stdout
    assert [line.split()[-1] for line in listing.splitlines()] == ["one", "two"], listing
    assert list(journals.glob("*.journal")) == []
    assert [line.split()[-1] for line in run_aish("history").stdout.splitlines()] == ["one", "two"]


def test_one_shot_processes_started_at_once_each_record_their_run_once(history_backend: str) -> None:
    """Eight ``aish -c`` at once, with spare journals left by a first (decision 105): each takes its own."""
    assert run_aish("-c", "echo first").returncode == 0
    procs = [
        subprocess.Popen([sys.executable, "-m", "aish", "-c", f"echo run {n}"], stdout=subprocess.DEVNULL)
        for n in range(8)
    ]
    assert [proc.wait(60) for proc in procs] == [0] * 8
    listing = run_aish("history").stdout.splitlines()
    lines = sorted(line.split("complete", 1)[1].strip() for line in listing)
    assert lines == ["echo first", *(f"echo run {n}" for n in range(8))], listing
    journals = data_dir() / f"journal-{history_backend}"
    assert not list(journals.glob("*.journal")) and not list(journals.glob(".*")), "a journal left, or a hidden file"


def test_a_one_shot_line_reads_back_what_it_recorded_before(history_backend: str, demo_url: str) -> None:
    """The line's own journal is applied before ``history`` reads (the line is still running then)."""
    result = run_aish("-c", "athena owls; history")
    assert result.returncode == 0, result.stderr
    assert re.search(r"\s+1  \S+ \S+  running      athena owls; history\n$", result.stdout), result.stdout
    assert re.search(r"\s+1  \S+ \S+  complete     athena owls; history\n$", run_aish("history").stdout)


def test_rm_and_clear(history_backend: str) -> None:
    for word in ("one", "two", "three"):
        run_aish("-c", f"echo {word}")
    removed = run_aish("history", "rm", "2")
    assert (removed.returncode, removed.stdout) == (0, "removed run 2\n")
    assert [line.split()[0] for line in run_aish("history").stdout.splitlines()] == ["1", "3"]
    missing = run_aish("history", "rm", "2")
    assert (missing.returncode, missing.stderr) == (2, "aish: history rm: no run 2\n")
    refused = run_aish("history", "clear")  # stdin is not a terminal: nobody to ask
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert len(run_aish("history").stdout.splitlines()) == 2
    cleared = run_aish("history", "clear", "--yes")
    assert (cleared.returncode, cleared.stdout) == (0, "history cleared\n")
    assert run_aish("history").stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "9"], "aish: history show: no run 9\n"),
        (["show", "1", "2"], "aish: history show: give one run number (see 'history')\n"),
        (["rm", "9", "abc"], "aish: history rm: 'abc' is not a run number (see 'history')\n"),
        (["bogus"], "aish: history: unknown subcommand 'bogus' (see 'history help')\n"),
        (["shwo", "3"], "aish: history: unknown subcommand 'shwo', did you mean 'show'? (see 'history help')\n"),
        (["search"], "aish: history search: give the text to look for\n"),
        (["export", "--xml"], "aish: history export: the only options are --json (the default) and --jsonl\n"),
    ],
)
def test_history_misuse_is_one_line_and_exit_2(history_backend: str, args: list[str], message: str) -> None:
    result = run_aish("history", *args)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message)


@pytest.mark.parametrize("after", [False, True], ids=["first run", "spare taken"])
def test_kill_9_mid_stream_leaves_the_partial_answer_marked(
    history_backend: str, slow_server: RefServer, after: bool
) -> None:
    """The first one-shot run makes its journal; later ones take a spare it left (decision 105)."""
    if after:
        assert run_aish("-c", "echo first").returncode == 0
        assert (data_dir() / f"journal-{history_backend}" / "spare-00").exists()
    proc = start_aish("athena tell me everything")
    try:
        before = read_some(proc, 40).decode()
        time.sleep(0.4)  # the recorder writes every 100 ms
        proc.kill()
        assert proc.stdout is not None
        printed = before + proc.stdout.read().decode()
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    number = 2 if after else 1
    if after:
        assert not (data_dir() / f"journal-{history_backend}" / "spare-00").exists()
    listing = run_aish("history").stdout.splitlines()[-1]
    assert re.fullmatch(rf"\s+{number}  \S+ \S+  interrupted  athena tell me everything", listing), listing
    shown = run_aish("history", "show", str(number)).stdout
    assert "-- stage 1: athena  sse/openai-chat  partial\n" in shown
    answer = shown.split("-- answer\n")[1].split("\n-- error\n")[0]
    assert answer.startswith(before) and printed.startswith(answer), (before, answer, printed)
    assert "-- error\ninterrupted: the aish process ended before this stage did\n" in shown


def test_ctrl_c_mid_stream_records_a_cancelled_stage(history_backend: str, slow_server: RefServer) -> None:
    proc = start_aish("athena tell me everything")
    try:
        printed = read_some(proc, 40)
        proc.send_signal(signal.SIGINT)
        assert proc.stdout is not None
        printed += proc.stdout.read()
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGINT  # a shell shows 130
    exported = json.loads(run_aish("history", "export").stdout)
    assert [(r["status"], r["line"]) for r in exported] == [("cancelled", "athena tell me everything")]
    (stage,) = exported[0]["stages"]
    assert stage["status"] == "cancelled" and stage["error"] == "athena: interrupted"
    assert line_ended(stage["text"]).encode() == printed  # all that arrived, its line ended
    assert 40 <= len(printed) < 400  # not the whole answer


@pytest.mark.parametrize("ended_by", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_or_sighup_mid_stream_records_all_that_arrived_then_ends_by_it(
    history_backend: str, slow_server: RefServer, ended_by: signal.Signals
) -> None:
    """``timeout`` sends SIGTERM, a closed terminal SIGHUP. At their default action aish vanished:
    the run was read back as interrupted, without what arrived since the last write (up to a fifth
    of a second). It is recorded as a Ctrl-C is, whole, and aish still ends by the signal."""
    proc = start_aish("athena tell me everything")
    try:
        printed = read_some(proc, 40)
        proc.send_signal(ended_by)
        assert proc.stdout is not None
        printed += proc.stdout.read()
    finally:
        proc.wait(10)
    assert proc.returncode == -ended_by
    exported = json.loads(run_aish("history", "export").stdout)
    assert [(r["status"], r["line"]) for r in exported] == [("cancelled", "athena tell me everything")]
    (stage,) = exported[0]["stages"]
    assert stage["status"] == "cancelled"
    assert stage["error"] == f"aish was ended by {ended_by.name}" + (
        " (the terminal closed)" if ended_by == signal.SIGHUP else ""
    )
    assert line_ended(stage["text"]).encode() == printed  # all that arrived, its line ended
    assert 40 <= len(printed) < 400  # not the whole answer


def test_the_shell_closed_mid_stream_records_the_answer_and_ends_by_sighup(
    history_backend: str, slow_server: RefServer
) -> None:
    """The terminal window closed while an answer streams: cmd2's own handler exited with status
    129, and the run was recorded as an error."""
    import pexpect

    child = pexpect.spawn(sys.executable, ["-m", "aish"], env=dict(os.environ), dimensions=(30, 120), timeout=20)
    try:
        child.expect_exact("aish> ")
        child.send("athena tell me everything\r")
        child.expect_exact("Athena (offline demo):")
        time.sleep(0.3)
        child.kill(signal.SIGHUP)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.signalstatus == signal.SIGHUP
    exported = json.loads(run_aish("history", "export").stdout)
    assert [(r["status"], r["line"]) for r in exported] == [("cancelled", "athena tell me everything")]
    (stage,) = exported[0]["stages"]
    assert stage["status"] == "cancelled" and stage["text"].startswith("Athena (offline demo):")
    assert stage["error"] == "aish was ended by SIGHUP (the terminal closed)"


def test_bang_n_replays_a_run_and_is_recorded_as_a_replay(
    history_backend: str, demo_url: str, refserver: RefServer
) -> None:
    first = run_aish("-c", "echo q | athena | apollo")
    replayed = run_aish("-c", "!1")
    assert (replayed.returncode, replayed.stdout) == (0, first.stdout)
    assert len(refserver.requests) == 4  # the pipeline really ran again: both stages
    again = run_aish("-c", "!!")
    assert again.stdout == first.stdout
    exported = json.loads(run_aish("history", "export").stdout)
    assert [(r["number"], r["line"], r["replay_of"], len(r["stages"])) for r in exported] == [
        (1, "echo q | athena | apollo", None, 2),
        (2, "echo q | athena | apollo", 1, 2),
        (3, "echo q | athena | apollo", 2, 2),
    ]


def test_bang_minus_n_replays_the_nth_last_run_and_bang_0_is_no_run(history_backend: str, demo_url: str) -> None:
    """Found by a tour: ``!0`` replayed the last run (0 was how ``!!`` was passed on), and ``!-1`` ran
    ``/bin/sh -1`` (\"Illegal option -1\"). ``!-N`` is the Nth last run, as ``history show -N`` and bash."""
    run_aish("-c", "echo one")
    run_aish("-c", "echo two")
    assert run_aish("-c", "!-2").stdout == "one\n"
    assert run_aish("-c", "!-1").stdout == "one\n"  # the replay just made is the last run now
    zero = run_aish("-c", "!0")
    assert (zero.returncode, zero.stdout, zero.stderr) == (2, "", "aish: !0: no such run in history (see 'history')\n")
    far = run_aish("-c", "!-9")
    assert (far.returncode, far.stderr) == (2, "aish: !-9: no such run in history (see 'history')\n")
    exported = json.loads(run_aish("history", "export").stdout)
    assert [(r["line"], r["replay_of"]) for r in exported] == [
        ("echo one", None),
        ("echo two", None),
        ("echo one", 1),
        ("echo one", 3),
    ]


def test_a_replay_sends_the_piped_input_of_the_original_again(
    history_backend: str, demo_url: str, refserver: RefServer
) -> None:
    piped = "first line\nsecond | line\n"
    assert run_aish("athena", "sum up", input=piped).returncode == 0
    assert run_aish("-c", "apollo", input="other input").returncode == 0
    assert run_aish("-c", "!1").returncode == 0  # nothing piped now: the recorded input goes again
    assert run_aish("-c", "!2", input="ignored").returncode == 0  # the recorded input wins
    sent = [r.body["messages"][-1]["content"] for r in refserver.requests if r.body is not None]
    assert sent == [f"{piped.rstrip()}\n\nsum up", "other input", f"{piped.rstrip()}\n\nsum up", "other input"]
    exported = json.loads(run_aish("history", "export").stdout)
    assert [(r["line"], r["stdin"], r["replay_of"]) for r in exported] == [
        ("athena sum up", piped, None),
        ("apollo", "other input", None),
        ("athena sum up", piped, 1),
        ("apollo", "other input", 2),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("!9", "aish: !9: no such run in history (see 'history')\n"),
        ("!1 more", "aish: !1: !N replays run N, !-N the Nth last run and !! the last run, with nothing after them\n"),
        ("!!x", "aish: !!x: !N replays run N, !-N the Nth last run and !! the last run, with nothing after them\n"),
    ],
)
def test_bad_replays_are_usage_errors(history_backend: str, line: str, message: str) -> None:
    run_aish("-c", "echo one")
    result = run_aish("-c", line)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message)


def test_with_history_off_nothing_is_recorded(write_config: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AISH_CONFIG", str(write_config('[settings]\nhistory = "off"\n')))  # type: ignore[operator]
    assert run_aish("-c", "echo one").returncode == 0
    result = run_aish("history")
    assert result.returncode == 2 and result.stderr.startswith("aish: history is off")
    assert run_aish("-c", "!1").stderr.startswith("aish: history is off")


def test_several_aish_processes_record_at_once(history_backend: str, demo_url: str) -> None:
    procs = [start_aish(f"athena question {i}") for i in range(4)]
    for proc in procs:
        proc.communicate(timeout=60)
        assert proc.returncode == 0
    exported = json.loads(run_aish("history", "export").stdout)
    assert sorted(r["number"] for r in exported) == [1, 2, 3, 4]
    assert sorted(r["line"] for r in exported) == [f"athena question {i}" for i in range(4)]
    assert all(r["status"] == "complete" and r["stages"][0]["text"].startswith("Athena") for r in exported)


def test_a_parallel_run_records_each_stage_and_replays_whole(
    history_backend: str, demo_url: str, refserver: RefServer
) -> None:
    first = run_aish("-c", 'echo "owls" | (apollo & athena) | hermes')
    assert first.returncode == 0, first.stderr
    assert run_aish("-c", "!1").returncode == 0
    assert len(refserver.requests) == 6  # both times: two lanes, then the fan-in
    original, replay = json.loads(run_aish("history", "export").stdout)
    assert replay["replay_of"] == 1 and replay["line"] == original["line"]
    for run in (original, replay):
        stages = sorted(run["stages"], key=lambda s: s["agent"])
        assert [(s["agent"], s["status"]) for s in stages] == [
            ("apollo", "complete"),
            ("athena", "complete"),
            ("hermes", "complete"),
        ]
        assert sorted(s["index"] for s in stages) == [0, 1, 2]  # each its own record
        lanes = {s["agent"]: s["text"] for s in stages}
        assert lanes["apollo"].startswith("Apollo") and lanes["athena"].startswith("Athena")
        assert lanes["hermes"].startswith("Hermes") and run["stages"][-1]["agent"] == "hermes"


def test_show_without_a_number_is_the_last_run(history_backend: str, demo_url: str) -> None:
    """``history show`` (or ``last``, ``-1``) is the last run, ``-N`` the Nth from last, as
    ``llm logs -n 1`` shows the latest; before any run, one line says there is none."""
    empty = run_aish("history", "show")
    assert (empty.returncode, empty.stderr) == (2, "aish: history show: no runs recorded yet\n")
    for word in ("one", "two", "three"):
        assert run_aish("-c", f"echo {word}").returncode == 0
    for args, line in [([], "three"), (["last"], "three"), (["-1"], "three"), (["-2"], "two"), (["-3"], "one")]:
        shown = run_aish("history", "show", *args)
        assert shown.returncode == 0, shown.stderr
        assert f"$ echo {line}" in shown.stdout, (args, shown.stdout)
    assert run_aish("history", "show", "-4").stderr == "aish: history show: no run -4\n"


def test_show_alone_is_the_newest_run_that_asked_an_agent(history_backend: str, demo_url: str) -> None:
    """Found on a tour: after ``athena ...`` then ``clear``, ``history show`` showed ``$ clear``. Alone
    (or ``last``) it is the newest run that asked an agent, as ``history answer`` finds the newest answer;
    ``-1`` is still the last run."""
    assert run_aish("-c", "athena what is a monad").returncode == 0
    assert run_aish("-c", "echo later").returncode == 0
    for args, line in [([], "athena what is a monad"), (["last"], "athena what is a monad"), (["-1"], "echo later")]:
        shown = run_aish("history", "show", *args)
        assert shown.returncode == 0 and f"$ {line}\n" in shown.stdout, (args, shown.stdout, shown.stderr)


def test_no_history_records_nothing_of_that_run(history_backend: str, demo_url: str) -> None:
    """``--no-history``, as llm's ``--no-log``: the run happens, nothing of it is stored."""
    assert run_aish("-c", "athena kept").returncode == 0
    private = run_aish("--no-history", "-c", "athena my pin is 4321")
    assert private.returncode == 0 and "Athena" in private.stdout, private.stderr
    assert run_aish("--no-history", "apollo", "my pin is 4321").returncode == 0
    listing = run_aish("history")
    assert [line.split()[-2:] for line in listing.stdout.splitlines()] == [["athena", "kept"]], listing.stdout
    stored = [p for p in data_dir().rglob("*") if p.is_file()]
    assert stored and not [p for p in stored if b"4321" in p.read_bytes()]


def test_history_answer_prints_an_answer_alone_exactly(history_backend: str, demo_url: str, tmp_path: Path) -> None:
    """``history answer`` (llm's ``logs -r``): the answer's text, byte for byte, to pipe or save."""
    asked = run_aish("-c", "athena owls")
    assert asked.returncode == 0 and asked.stdout
    assert run_aish("-c", "echo not an answer").returncode == 0  # the newest run, without an answer
    assert run_aish("-c", "athena owls | nosuchprogram-xyz").returncode != 0  # failed before athena was asked
    assert run_aish("history", "answer").stdout == asked.stdout
    assert run_aish("history", "answer", "1").stdout == asked.stdout
    assert run_aish("-c", "history answer > saved.md", cwd=tmp_path).returncode == 0
    assert (tmp_path / "saved.md").read_text() == asked.stdout
    missing = run_aish("history", "answer", "3")
    said = "aish: history answer: run 3 has no answer (see 'history show 3')\n"
    assert (missing.returncode, missing.stderr) == (2, said)
    assert run_aish("history", "answer", "99").stderr == "aish: history answer: no run 99\n"


def test_minus_n_on_a_recorded_line_counts_the_runs_before_it(history_backend: str, demo_url: str) -> None:
    """Found on a tour: ``history show -1 | tail -4`` showed itself, ``running``: a line that pipes
    a command on is recorded, and ``-1`` was its own run."""
    assert run_aish("-c", "athena owls").returncode == 0
    assert run_aish("-c", "athena hawks").returncode == 0
    before = run_aish("-c", "history show -2 | head -2")
    assert (before.returncode, before.stdout.splitlines()[1]) == (0, "$ athena owls"), before.stdout
    last = run_aish("-c", "history show -1 | head -2")  # the line before, as bash's !-1
    assert last.stdout.splitlines()[1] == "$ history show -2 | head -2", last.stdout
    far = run_aish("-c", "history show -5 | cat")
    assert far.stderr == "aish: history show: no run -5\n", far.stderr


def test_history_answer_of_a_parallel_group_labels_each_lane(history_backend: str, demo_url: str) -> None:
    group = run_aish("-c", "echo q | apollo & hermes")
    assert group.returncode == 0
    answer = run_aish("history", "answer").stdout
    assert answer.startswith("[apollo]\nApollo (offline demo)") and "\n\n[hermes]\nHermes (offline demo)" in answer
    assert answer == group.stdout  # what the group wrote into a pipe


def test_history_first_in_a_pipeline_feeds_the_rest(history_backend: str, demo_url: str) -> None:
    """Found on a tour: ``history | grep athena`` said a command runs on its own. Only ``history
    search`` takes its line as typed (``raw="search"``); the other lines of ``history`` are
    pipelines like any other."""
    assert run_aish("-c", "athena owls").returncode == 0
    assert run_aish("-c", "history | wc -l").stdout.strip() == "2"  # athena owls, and this line, running
    answer = run_aish("history", "answer").stdout
    assert run_aish("-c", "history answer 1 | head -c 6").stdout == answer[:6]
    refused = run_aish("-c", "history show < x")
    assert (refused.returncode, refused.stderr) == (
        2,
        "aish: history: a command runs on its own or first in a pipeline (no '<' or '|' into it)\n",
    )
    assert run_aish("-c", "history search a|b").returncode == 0  # search's text is taken as typed
    # `` | `` with blanks around it is a pipe (noted at stop 33: it was searched for)
    assert run_aish("-c", "athena hawks").returncode == 0
    found = run_aish("-c", "history search owls | wc -l")
    assert (found.returncode, found.stdout.strip()) == (0, "2")  # athena owls, and this line
    quoted = run_aish("-c", 'history search "owls | wc"')  # quoted: searched for
    assert [line.split()[-5:] for line in quoted.stdout.splitlines()] == [["search", "owls", "|", "wc", "-l"]]
