"""A status line on the terminal while an answer goes to a file (aish/pipeline/progress.py, decision 36):
the line itself with a fake clock, and in a real terminal (a pty) with ``> FILE`` in aish's language and
with standard output redirected by the user's shell, against the reference server."""

from __future__ import annotations

import io
import os
import pty
import sys
from pathlib import Path

import pexpect

from aish.pipeline.progress import ERASE, Progress, stdout_name, wanted
from aish_refserver import RefServer

SLOW = "athena[-o aish_tokens 30 -o aish_pace 0.05] hi"
"""An answer of 1.5 s: long enough for several redraws."""


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_line_is_drawn_at_once_redrawn_at_most_five_times_a_second_and_erased() -> None:
    out, err, clock = io.StringIO(), io.StringIO(), Clock()
    progress = Progress(out, err, "essay.md", clock=clock, width=80)
    assert err.getvalue() == ERASE + "[Writing to essay.md... 0.0s]"
    progress.write("Once upon")
    assert err.getvalue().count("[Writing") == 1  # no time has passed: no redraw
    clock.now += 0.25
    progress.write(" a time")
    assert err.getvalue().endswith(ERASE + "[Writing to essay.md... 16 characters, 0.2s]")
    clock.now += 0.1
    progress.write(", x")
    assert err.getvalue().count("[Writing") == 2  # 0.1 s after the last redraw
    progress.close()
    assert err.getvalue().endswith(ERASE) and out.getvalue() == "Once upon a time, x"
    clock.now += 5
    progress.write("more")
    assert err.getvalue().endswith(ERASE)  # closed: never drawn again


def test_a_message_on_standard_error_erases_the_line_first() -> None:
    out, err, clock = io.StringIO(), io.StringIO(), Clock()
    progress = Progress(out, err, "f.md", clock=clock, width=80)
    progress.err.write("aish: warning: something\n")
    assert err.getvalue() == ERASE + "[Writing to f.md... 0.0s]" + ERASE + "aish: warning: something\n"
    progress.close()
    assert err.getvalue().endswith("something\n")  # nothing left to erase


def test_the_line_fits_the_terminal_and_a_long_name_gives_way_to_the_figures() -> None:
    progress = Progress(io.StringIO(), io.StringIO(), "a/" * 60 + "f.md", clock=Clock(), width=40)
    progress.write("x" * 1234)
    line = progress.line(102.5)
    assert line == "[Writing to ... 1,234 characters, 2.5s]"  # 39 columns: the name gave way
    narrow = Progress(io.StringIO(), io.StringIO(), "out.md", clock=Clock(), width=30)
    narrow.write("x" * 676)
    assert narrow.line(102.5) == "[Writing to ... 676 ch, 2.5s]"  # the figures shorten, never cut
    middle = Progress(io.StringIO(), io.StringIO(), "a/" * 60 + "f.md", clock=Clock(), width=50)
    middle.write("x" * 1234)
    assert middle.line(102.5) == "[Writing to .../a/f.md... 1,234 characters, 2.5s]"  # the name's end, cut to fit
    wide = Progress(io.StringIO(), io.StringIO(), "b/" * 60 + "end.md", clock=Clock(), width=200)
    assert len(wide.line(100.0)) == 60 and wide.line(100.0).endswith("/end.md... 0.0s]")  # never wider than 60
    assert Progress(io.StringIO(), io.StringIO(), "short.md", clock=Clock(), width=200).line(100.0) == (
        "[Writing to short.md... 0.0s]"
    )


def test_only_a_regular_file_with_the_terminal_on_standard_error(tmp_path: Path) -> None:
    parent, child = pty.openpty()
    try:
        with open(child, "w", closefd=False) as terminal, open(tmp_path / "f", "w") as file:
            read, write = os.pipe()
            with open(write, "w") as pipe:
                assert wanted(file, terminal)
                assert not wanted(pipe, terminal)  # a pipe's reader may share the terminal
                assert not wanted(terminal, terminal)
                assert not wanted(file, io.StringIO())
            os.close(read)
            assert stdout_name(file) == os.path.relpath(tmp_path / "f") or stdout_name(file) == str(tmp_path / "f")
    finally:
        os.close(parent)
        os.close(child)


def _spawn(refserver: RefServer, args: list[str], cwd: Path, command: str = sys.executable) -> str:
    env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(command, args, env=env, cwd=str(cwd), encoding="utf-8", timeout=20, dimensions=(40, 200))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return str(child.before)


def test_a_redirect_in_aish_shows_the_line_while_it_writes(refserver: RefServer, tmp_path: Path) -> None:
    shown = _spawn(refserver, ["-m", "aish", "-c", f"{SLOW} > slow.md"], tmp_path)
    assert "[Writing to slow.md... 0.0s]" in shown
    assert " characters, " in shown  # redrawn as the answer came
    tail = shown[shown.rindex("[Writing to slow.md") :]
    assert ERASE + "[Output written to slow.md]" in tail  # erased before the note
    assert (tmp_path / "slow.md").read_text(encoding="utf-8").count(" ") >= 29


def test_standard_output_redirected_by_the_users_shell(refserver: RefServer, tmp_path: Path) -> None:
    line = f"{sys.executable} -m aish -c '{SLOW}' > out.md; {sys.executable} -m aish -c '{SLOW}' | cat > piped.md"
    shown = _spawn(refserver, ["-c", line], tmp_path, command="/bin/sh")
    assert shown.count("[Writing to out.md... ") >= 2 and shown.rstrip().endswith(ERASE)
    assert "piped.md" not in shown  # a pipe: no line
    assert (tmp_path / "out.md").read_text(encoding="utf-8") == (tmp_path / "piped.md").read_text(encoding="utf-8")


def test_a_failed_run_says_the_file_holds_a_partial_answer(refserver: RefServer, tmp_path: Path) -> None:
    env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm"}
    fault = "'{\"drop_after\": 5}'"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "aish", "-c", f"athena[-o aish_fault {fault}] hi > part.md"],
        env=env,
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=20,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus != 0
    assert "[Partial output written to part.md]" in str(child.before)
    assert (tmp_path / "part.md").read_text(encoding="utf-8")


def test_a_programs_error_while_writing_to_a_file_erases_the_line_first(refserver: RefServer, tmp_path: Path) -> None:
    line = f"{SLOW} | sh -c 'cat; echo from-the-program >&2' > both.md"  # aish's > (after !cmd it is sh's)
    shown = _spawn(refserver, ["-m", "aish", "-c", line], tmp_path)
    assert ERASE + "from-the-program" in shown, repr(shown)
