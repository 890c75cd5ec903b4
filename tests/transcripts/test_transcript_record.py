"""``aish --record``: a session (piped or in a real terminal) becomes a transcript that ``--test`` passes."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pexpect

from aish.testing import run_aish
from aish.transcript import read, run_file

SESSION = """\
echo hello
echo "two
lines" | cat
athena what is up
nosuch hi
echo "aish> looks like a prompt" "http://a/b"
agents
echo owls > notes.md
cat notes.md
quit
"""


def test_record_a_piped_session_then_test_it(tmp_path: Path) -> None:
    path = tmp_path / "session.transcript"
    recorded = run_aish("--record", str(path), input=SESSION)
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stdout.startswith("hello\ntwo\nlines\nAthena (offline demo): ")  # shown while recorded
    assert recorded.stderr.endswith(f"aish: recorded 8 commands to {path}\n")
    transcript = read(path)
    assert [e.command for e in transcript.entries] == [
        "echo hello",
        'echo "two\nlines" | cat',
        "athena what is up",
        "nosuch hi",
        'echo "aish> looks like a prompt" "http://a/b"',
        "agents",
        "echo owls > notes.md",
        "cat notes.md",
    ]  # quit ends the session and is not recorded
    text = path.read_text()
    assert "/aish>/ looks like a prompt http:\\/\\/a\\/b\n" in text
    assert "aish: unknown agent 'nosuch' (known: apollo, athena, hermes)\n" in text
    assert "http:\\/\\/127.0.0.1:/\\d+/\\/v1" in text  # the sandbox server's port differs every run
    tested = run_aish("--test", str(path))
    assert tested.returncode == 0, tested.stdout
    assert tested.stdout.endswith("transcripts: 1 passed, 0 failed\n")


def test_a_recording_of_times_and_ids_replays_later(tmp_path: Path) -> None:
    """history, conversations and [stats] print times, durations and ids: they are recorded as
    regexes, or the transcript would fail a minute later."""
    path = tmp_path / "s.transcript"
    session = "athena hi\nhistory\nhistory show 1\nconversations\nset stats on\nhermes yo\n"
    assert run_aish("--record", str(path), input=session).returncode == 0
    text = path.read_text()
    assert re.search(r"\d\d:\d\d|\d\.\d|[0-9a-f]{12}", text) is None, text
    assert "    1  /[-0-9]+ [0-9:]+/  complete     athena hi\n" in text
    assert "conversation /[0-9a-f]{12}/\n" in text
    stats = "[stats] hermes: first token /[0-9.]+/s, total /[0-9.]+/s, 61 tokens, /[0-9.]+/ tokens\\/s, complete\n"
    assert stats in text
    assert run_file(path).passed


def test_a_changed_recording_fails(tmp_path: Path) -> None:
    path = tmp_path / "s.transcript"
    assert run_aish("--record", str(path), input="echo hello\n").returncode == 0
    path.write_text(path.read_text() + "extra\n")
    result = run_file(path)
    assert [m.entry.command for m in result.mismatches] == ["echo hello"]
    assert result.mismatches[0].diff[-1] == "-extra"


def test_record_where_it_cannot_write_is_a_usage_error(tmp_path: Path) -> None:
    result = run_aish("--record", str(tmp_path / "no" / "dir.transcript"), input="echo hi\n")
    assert result.returncode == 2
    assert result.stderr == f"aish: --record {tmp_path / 'no' / 'dir.transcript'}: No such file or directory\n"


def test_record_a_live_session_in_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "live.transcript"
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "aish", "--record", str(path)],
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 200),
    )
    try:
        child.expect_exact("aish>")
        child.sendline('echo "first')
        child.expect_exact("....>")
        child.sendline('second" | athena')
        child.expect_exact("Athena (offline demo)")
        child.expect_exact("aish>")
        child.sendline("zeus hi")
        child.expect_exact("aish: unknown agent 'zeus'")
        child.expect_exact("aish>")
        child.sendeof()
        child.expect_exact("recorded 2 commands")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert [e.command for e in read(path).entries] == ['echo "first\nsecond" | athena', "zeus hi"]
    result = run_file(path)
    assert result.passed, result.report()


def test_a_command_ctrl_c_interrupted_is_not_recorded(tmp_path: Path) -> None:
    """--test cannot press Ctrl-C, so the command would never replay as recorded."""
    path = tmp_path / "cc.transcript"
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "aish", "--record", str(path)], env=env, encoding="utf-8", timeout=20)
    try:
        child.expect_exact("aish>")
        child.sendline("!sleep 30")
        child.expect_exact("!sleep 30")
        time.sleep(0.5)
        child.sendintr()
        child.expect_exact("aish: not recorded: Ctrl-C interrupted it")
        child.expect_exact("aish>")
        child.sendline("agents")  # a shell command after it is recorded
        child.expect_exact("hermes")
        child.expect_exact("aish>")
        child.sendeof()
        child.expect_exact("recorded 1 command to")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert [e.command for e in read(path).entries] == ["agents"]
    assert run_file(path).passed
