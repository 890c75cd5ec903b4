"""The lanes renderer on a real terminal (a pty): prefixed lines, then the summary; Ctrl-C keeps partials.

The renderer is live on a terminal (each running lane's line is redrawn in
place), so what the terminal shows is read through :func:`terminal.screen`.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import pexpect
from servers import RawHTTPServer, chunk, script
from terminal import Tmux, screen

from aish.testing import agent_toml
from aish_refserver import RefServer


def spawn(refserver: RefServer, line: str) -> pexpect.spawn:
    env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    return pexpect.spawn(
        sys.executable, ["-m", "aish", "-c", line], env=env, encoding="utf-8", timeout=20, dimensions=(40, 100)
    )


def test_lanes_prefix_each_line_and_end_with_a_summary(refserver: RefServer) -> None:
    refserver.pace = 0.005
    child = spawn(refserver, 'echo "q" | apollo & athena & hermes')
    child.expect(r"\[Complete - 3 AIs responded, \d+\.\ds\]")
    before = child.before
    child.expect(pexpect.EOF)
    summary = child.before
    child.close()
    assert child.exitstatus == 0
    lines = screen(before.replace("\r\n", "\n"))
    assert {line[:9] for line in lines} == {"[apollo] ", "[athena] ", "[hermes] "}
    assert all(len(line) <= 100 for line in lines), "long lines are wrapped to the terminal"
    rows = [row.split() for row in screen(summary.replace("\r\n", "\n")) if row.strip()]
    assert [row[0] for row in rows] == ["apollo", "athena", "hermes"]
    assert all(re.fullmatch(r"\d+\.\ds", row[1]) and row[3] == "tokens" and row[4] == "complete" for row in rows)


def test_a_failing_lane_is_shown_and_the_exit_code_says_so(refserver: RefServer) -> None:
    child = spawn(refserver, "echo q | apollo & zeus-not-there & athena")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3  # unknown agent: checked before anything runs
    assert len(refserver.requests) == 0


def test_ctrl_c_cancels_all_lanes_and_keeps_partials(refserver: RefServer) -> None:
    refserver.pace = 0.05
    child = spawn(refserver, "echo q | apollo & athena & hermes")
    child.expect(r"\[hermes\]")
    child.kill(signal.SIGINT)
    child.expect(r"\[Interrupted - 0 of 3 AIs finished")
    child.expect(pexpect.EOF)
    tail = child.before
    child.close()
    assert child.signalstatus == signal.SIGINT  # ended as Ctrl-C ends a program: a shell shows 130
    assert tail.count("cancelled") == 3


def test_ctrl_c_stops_lanes_busy_with_one_huge_piece(tmp_path: Path) -> None:
    """4 MB in one delta, then nothing: Ctrl-C while the lanes show it ends aish at once. The
    renderer runs in the main thread, which Ctrl-C interrupts (it ran in a lane's thread, and
    the main thread waited for it: the first renderer's quadratic wrapping took minutes)."""
    size = 4_000_000
    sent = threading.Event()
    steps = [chunk(role="assistant"), chunk(("lorem ipsum " * (size // 12))[:size]), sent.set]
    with RawHTTPServer(script(steps, finish="hang")) as server:
        config = tmp_path / "config.toml"
        config.write_text(agent_toml("x", server.url) + agent_toml("y", server.url))
        env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
        child = pexpect.spawn(
            sys.executable,
            ["-m", "aish", "--config", str(config), "-c", "echo q | x & y"],
            env=env,
            timeout=60,
            searchwindowsize=200,
            maxread=1 << 16,
        )
        child.expect(r"\[x\]")  # the first rows are on the screen: the lanes are showing the piece
        assert sent.wait(30)
        child.kill(signal.SIGINT)
        stopped = time.monotonic()
        child.expect(r"\[Interrupted - 0 of 2 AIs finished", timeout=20)
        child.expect(pexpect.EOF, timeout=20)
        child.close()
    assert time.monotonic() - stopped < 20
    assert child.exitstatus == 130 or child.signalstatus == signal.SIGINT


def test_wide_characters_keep_every_row_labelled_in_a_narrow_terminal(refserver: RefServer) -> None:
    """Found by a tour in tmux at 50 columns: a lane of Japanese was wrapped at a count of
    characters, twice the terminal's width, so the terminal broke each row again, unlabelled."""
    words = "日本語のテキストです。これは長い行で、幅の広い文字が 正しい列で折り返されるかを確かめます。 絵文字も👍✅🎉"
    keep = ("PATH", "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(AISH_DEMO_URL=refserver.base_url, PROMPT_TOOLKIT_NO_CPR="1", LANG="C.UTF-8", TERM="xterm")
    line = f"echo {words} {words} | apollo[-m echo] & athena[-m echo]"
    with Tmux([sys.executable, "-m", "aish", "-c", line], env, width=40, linger=10) as term:
        lines = term.wait_for(r"^\[Complete - 2 AIs responded")
    rows = lines[: next(i for i, row in enumerate(lines) if row.startswith("[Complete"))]
    assert all(row.startswith(("[apollo] ", "[athena] ")) for row in rows), "\n".join(lines)
    assert len(rows) > 4
