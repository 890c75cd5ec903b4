"""Ctrl-C stops a whole ``aish --test`` run (and a pytest run of transcripts); SIGTERM removes the sandbox.

Real processes: ``python -m aish --test`` (or pytest) on transcripts whose agent streams slowly
from a reference server in this process, signalled once the agent has been asked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aish_refserver import RefServer

STARTED: list[subprocess.Popen[str]] = []
SLOW = "aish> slow hi\nAthena (offline demo): /.*/\naish> echo after\nafter\n"


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[tuple[RefServer, Path]]:
    """Two transcripts (first, second) of an agent that takes minutes to answer; TMPDIR for the sandboxes."""
    with RefServer(pace=5.0) as server:
        for name in ("first", "second"):
            (tmp_path / f"{name}.transcript").write_text(SLOW)
            agent = '[agents.slow]\ntransport = "sse"\ncodec = "openai-chat"\nmodel = "athena"\n'
            (tmp_path / f"{name}.toml").write_text(f'{agent}url = "{server.base_url}"\n')
        (tmp_path / "tmp").mkdir()
        try:
            yield server, tmp_path
        finally:
            for proc in STARTED:  # one still running has failed its test: it must not outlive it
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
            STARTED.clear()


def start(args: list[str], cwd: Path, server: RefServer) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(cwd / "tmp")}
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    STARTED.append(proc)
    deadline = time.monotonic() + 60
    while not len(server.requests) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # until the slow agent is streaming its answer
    assert len(server.requests) == 1, proc.communicate(timeout=30)
    return proc


def test_one_ctrl_c_stops_the_whole_run(slow: tuple[RefServer, Path]) -> None:
    """It stopped only the command: the file failed, the next one ran, then 'transcripts: 0 passed, 2 failed'."""
    server, cwd = slow
    proc = start([sys.executable, "-m", "aish", "--test", "first.transcript", "second.transcript"], cwd, server)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGINT, (out, err)  # as aish -c after Ctrl-C: a calling script stops too
    assert out == ""
    assert err == "aish: --test interrupted at first.transcript:1 (0 passed, 0 failed, 2 not run)\n"
    assert len(server.requests) == 1  # the second file never started
    assert list((cwd / "tmp").iterdir()) == []  # the sandbox is removed


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_or_sighup_removes_the_sandbox_and_ends_by_it(slow: tuple[RefServer, Path], signum: int) -> None:
    """``timeout 20 aish --test ...`` left /tmp/aish-transcript-XXXX/{work,xdg_*} behind; so did
    closing the terminal (SIGHUP)."""
    server, cwd = slow
    proc = start([sys.executable, "-m", "aish", "--test", "first.transcript"], cwd, server)
    assert [p.name.startswith("aish-transcript-") for p in (cwd / "tmp").iterdir()] == [True]
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signum, (out, err)
    assert list((cwd / "tmp").iterdir()) == []


def test_ctrl_c_in_a_transcript_stops_pytest(slow: tuple[RefServer, Path]) -> None:
    """In pytest, the transcript failed and the next one ran: the KeyboardInterrupt now reaches pytest."""
    server, cwd = slow
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--aish-transcripts", "-q", "--rootdir", "."]
    proc = start([*args, "first.transcript", "second.transcript"], cwd, server)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, (out, err)
    assert "RunInterrupted: interrupted at first.transcript:1 !" in out, out  # RunInterrupted is a KeyboardInterrupt
    assert len(server.requests) == 1
    assert list((cwd / "tmp").iterdir()) == []
