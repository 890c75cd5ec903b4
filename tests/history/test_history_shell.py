"""History in the interactive shell, in a real terminal (a pty driven by pexpect)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from aish.testing import run_aish
from aish_refserver import RefServer

PROMPT = "aish>"


@pytest.fixture
def shell(history_backend: str, refserver: RefServer) -> Iterator[pexpect.spawn]:
    env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "aish"], env=env, encoding="utf-8", timeout=20, dimensions=(50, 200))
    child.expect_exact(PROMPT)
    try:
        yield child
    finally:
        child.close(force=True)


def test_history_lists_shows_and_searches_any_text(shell: pexpect.spawn) -> None:
    shell.sendline("history")
    shell.expect_exact("no runs recorded yet\r\n")  # on a terminal an empty answer says so
    shell.sendline('echo "a|b" | athena')
    shell.expect(r"\[athena: Complete - ")
    shell.expect_exact(PROMPT)
    shell.sendline("echo plain")
    shell.expect_exact(PROMPT)
    shell.sendline("history")
    shell.expect(r"1  \S+ \S+  complete     echo \"a\|b\" \| athena\r\n")
    shell.expect(r"2  \S+ \S+  complete     echo plain\r\n")
    shell.expect_exact(PROMPT)
    shell.sendline("history search a|b")  # cmd2's parser would have cut this at the '|'
    shell.expect(r"1  \S+ \S+  complete     echo \"a\|b\" \| athena\r\n")
    shell.expect_exact(PROMPT)
    assert "echo plain" not in shell.before
    shell.sendline("history search zzzz")
    shell.expect_exact("no runs match 'zzzz'\r\n")
    shell.sendline("history show 1")
    shell.expect_exact("-- stage 1: athena  sse/openai-chat  complete")
    shell.expect_exact("-- answer\r\nAthena (offline demo)")
    shell.expect_exact(PROMPT)


def test_bang_replays_and_refuses_broken_replays(shell: pexpect.spawn, refserver: RefServer) -> None:
    shell.sendline("athena owls")
    shell.expect(r"\[athena: Complete - ")
    shell.expect_exact(PROMPT)
    shell.sendline("!1")
    shell.expect_exact("athena owls\r\n")  # the replayed line is shown first, as in bash
    shell.expect(r"\[athena: Complete - ")
    shell.expect_exact(PROMPT)
    shell.sendline("!!")
    shell.expect_exact("athena owls\r\n")
    shell.expect(r"\[athena: Complete - ")
    shell.expect_exact(PROMPT)
    shell.sendline("!1 more")
    shell.expect_exact("aish: !1: !N replays run N, !-N the Nth last run and !! the last run, with nothing after them")
    shell.expect_exact(PROMPT)
    shell.sendline("history")
    shell.expect(r"2  \S+ \S+  complete     athena owls  \(replay of 1\)\r\n")
    shell.expect(r"3  \S+ \S+  complete     athena owls  \(replay of 2\)\r\n")
    shell.expect_exact(PROMPT)
    assert len(refserver.requests) == 3


def test_a_run_whose_input_was_piped_into_aish_replays_with_it(shell: pexpect.spawn, refserver: RefServer) -> None:
    env = {"AISH_DEMO_URL": refserver.base_url}
    assert run_aish("athena", "sum up", input="piped notes\n", env=env).returncode == 0  # run 1: another process
    shell.sendline("!1")
    shell.expect_exact("athena sum up\r\n")
    shell.expect(r"\[athena: Complete - ")
    shell.expect_exact(PROMPT)
    sent = [r.body["messages"][-1]["content"] for r in refserver.requests if r.body is not None]
    assert sent == ["piped notes\n\nsum up"] * 2


def test_clear_asks_first_and_input_recall_is_kept_apart(shell: pexpect.spawn, tmp_path: Path) -> None:
    shell.sendline("echo keep me")
    shell.expect_exact(PROMPT)
    shell.sendline("history clear")
    shell.expect_exact("Remove every run from history? [y/N]")
    shell.sendline("n")
    shell.expect_exact("history left as it was")
    shell.expect_exact(PROMPT)
    shell.sendline("history")
    shell.expect(r"1  \S+ \S+  complete     echo keep me")
    shell.expect_exact(PROMPT)
    shell.sendline("history clear")
    shell.expect_exact("[y/N]")
    shell.sendline("y")
    shell.expect_exact("history cleared")
    shell.expect_exact(PROMPT)
    shell.send("\x1b[A")  # arrow-up still recalls lines: input recall is kept apart
    shell.expect(r"history\S* \S*clear")
    shell.sendintr()  # abandon the recalled line
    shell.expect_exact(PROMPT)
    shell.sendline("echo again")
    shell.expect_exact(PROMPT)
    shell.sendline("history")
    shell.expect(r"1  \S+ \S+  complete     echo again\r\n")  # numbering restarted after clear
    shell.expect_exact(PROMPT)
    shell.sendline("quit")
    shell.expect(pexpect.EOF)
    typed = (Path(os.environ["XDG_STATE_HOME"]) / "aish" / "input_history").read_text(encoding="utf-8")
    assert "+echo keep me\n" in typed and "+history clear\n" in typed
