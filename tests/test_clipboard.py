"""``copy [N]``: an answer to the clipboard, through real programs, tmux's buffer or OSC 52 on a pty."""

from __future__ import annotations

import base64
import io
import os
import stat
import sys
from pathlib import Path

import pytest
from terminal import Tmux

from aish.clipboard import copy_text, programs
from aish.errors import AishError
from aish.testing import run_aish
from aish_refserver import RefServer


def fake_program(bin_dir: Path, name: str, status: int = 0) -> Path:
    """A clipboard program that keeps what it is given in ``NAME.got`` beside it."""
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    got = bin_dir / f"{name}.got"
    path.write_text(f"#!/bin/sh\ncat > {got}\nexit {status}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return got


def test_the_desktops_programs_are_tried_best_first() -> None:
    everything = {"wl-copy": "/b/wl-copy", "xclip": "/b/xclip", "xsel": "/b/xsel"}.get
    assert programs({"WAYLAND_DISPLAY": "w", "DISPLAY": ":0"}, everything) == [
        ["/b/wl-copy"],
        ["/b/xclip", "-selection", "clipboard"],
        ["/b/xsel", "--clipboard", "--input"],
    ]
    assert programs({"DISPLAY": ":0"}, {"xsel": "/b/xsel"}.get) == [["/b/xsel", "--clipboard", "--input"]]
    assert programs({}, everything) == ([["/b/pbcopy"]] if sys.platform == "darwin" else [])


def test_a_program_takes_the_text_and_a_failing_one_is_passed_over(tmp_path: Path) -> None:
    got_xclip = fake_program(tmp_path / "bin", "xclip", status=1)
    got_xsel = fake_program(tmp_path / "bin", "xsel")
    which = {"xclip": str(tmp_path / "bin" / "xclip"), "xsel": str(tmp_path / "bin" / "xsel")}.get
    how = copy_text("owls é\n", io.StringIO(), {"DISPLAY": ":0"}, which)
    assert how == "xsel" and got_xsel.read_bytes() == "owls é\n".encode() and got_xclip.exists()


def test_on_a_terminal_without_programs_osc_52_carries_it(tmp_path: Path) -> None:
    primary, secondary = os.openpty()
    try:
        with os.fdopen(secondary, "w", encoding="utf-8", closefd=False) as terminal:
            assert copy_text("owls é", terminal, {}, lambda name: None) == "the terminal (OSC 52)"
        written = os.read(primary, 4096)
    finally:
        os.close(primary)
        os.close(secondary)
    assert written == b"\x1b]52;c;" + base64.b64encode("owls é".encode()) + b"\x07"


def test_with_no_clipboard_at_all_the_error_says_what_was_tried(tmp_path: Path) -> None:
    fake_program(tmp_path / "bin", "xclip", status=3)
    which = {"xclip": str(tmp_path / "bin" / "xclip")}.get
    with pytest.raises(AishError) as info:
        copy_text("x", io.StringIO(), {"DISPLAY": ":0"}, which)
    assert str(info.value) == (
        "copy: no clipboard here: not on a terminal, and no clipboard program "
        "(wl-copy, xclip, xsel, pbcopy) for this session (xclip exited with status 3)"
    )


def test_copy_takes_the_answer_history_answer_prints(demo_url: str, tmp_path: Path) -> None:
    got = fake_program(tmp_path / "bin", "xclip")
    env = {"DISPLAY": ":0", "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "TMUX": "", "WAYLAND_DISPLAY": ""}
    asked = run_aish("-c", "athena owls", env=env)
    assert run_aish("-c", "echo later", env=env).returncode == 0
    copied = run_aish("copy", env=env)
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout == f"copied run 1's answer ({len(asked.stdout):,} characters) with xclip\n"
    assert got.read_text() == asked.stdout
    assert run_aish("copy", "2", env=env).stderr == "aish: copy: run 2 has no answer (see 'history show 2')\n"


def test_copy_in_the_shell_under_tmux_fills_tmuxs_buffer(refserver: RefServer) -> None:
    keep = ("PATH", "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "LANG")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(AISH_DEMO_URL=refserver.base_url, PROMPT_TOOLKIT_NO_CPR="1", DISPLAY="", WAYLAND_DISPLAY="")
    with Tmux([sys.executable, "-m", "aish"], env) as term:
        term.wait_for(r"^aish>$")
        term.send_line("athena owls")
        term.wait_for(r"\[athena: Complete - ")
        term.send_line("copy")
        term.wait_for(r"^copied run 1's answer \(\d+ characters\) with tmux$")
        assert term._tmux("show-buffer").startswith("Athena (offline demo): On the subject of owls")
