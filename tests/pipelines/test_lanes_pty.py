"""The lanes renderer on a real terminal (a pty): prefixed lines, then the summary; Ctrl-C keeps partials.

The renderer is live on a terminal (each running lane's line is redrawn in
place), so what the terminal shows is read through :func:`terminal.screen`.
"""

from __future__ import annotations

import os
import re
import signal
import sys

import pexpect
from terminal import screen

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
    child.expect(r"\[Interrupted - 0 of 3 AIs responded")
    child.expect(pexpect.EOF)
    tail = child.before
    child.close()
    assert child.signalstatus == signal.SIGINT  # ended as Ctrl-C ends a program: a shell shows 130
    assert tail.count("cancelled") == 3
