"""Tables and two columns on a terminal: the last column wraps within the width, counted in cells."""

from __future__ import annotations

import io
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from aish import cells, layout


@pytest.fixture
def forty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "columns", lambda out: 40)


def test_a_wide_description_wraps_within_the_terminal(forty: None) -> None:
    """Found by a tour at 70 columns: ``help`` listed an agent whose description is Japanese on
    one row twice the terminal's width (wrapped by characters, and never: it has no spaces)."""
    text = "日本語で答えるエージェントです。長い説明文がここに入ります。"
    out = io.StringIO()
    layout.two_columns({"jp": text, "athena": "knowledge and wisdom"}, out)
    lines = out.getvalue().splitlines()
    assert all(cells(line) < 40 for line in lines), lines
    assert lines[0].startswith("  jp      日本語")
    jp = [line for line in lines if not line.lstrip().startswith(("jp", "athena"))]
    assert all(line.startswith(" " * 10) for line in jp)
    assert "".join(line.strip().removeprefix("jp").strip() for line in lines[: len(jp) + 1]) == text


def test_columns_line_up_whatever_the_width_of_their_characters(forty: None) -> None:
    out = io.StringIO()
    layout.table([["名前", "x"], ["ab", "y"], ["日本語の", "z"]], out)
    lines = out.getvalue().splitlines()
    assert [cells(line.rsplit(" ", 1)[0]) for line in lines] == [9, 9, 9], lines


def test_clip_cuts_at_terminal_cells() -> None:
    assert layout.clip("short", 10) == "short"
    assert layout.clip("a longer text", 10) == "a longe..."
    assert layout.clip("日本語のテキスト", 10) == "日本語..."
    assert layout.clip("e\u0301" * 12, 10) == "e\u0301" * 7 + "..."


def test_chat_help_wraps_like_help(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a tour at 60 columns: ``/help`` in a chat ran each line past the edge, where the
    terminal broke it mid-word under the command names (``help`` wrapped its own)."""
    from aish.shell_chat import Chat

    monkeypatch.setattr(layout, "columns", lambda out: 60)
    out = io.StringIO()
    Chat("athena", runner=None, out=out).handle("/help")  # type: ignore[arg-type]
    lines = out.getvalue().splitlines()
    assert all(cells(line) < 60 for line in lines), lines
    assert lines[0].startswith("  /exit") and lines[1].startswith(" " * 21)


def test_help_topics_fit_the_terminal_and_cover_the_built_ins(tmp_path: Path) -> None:
    """Found by a tour at 80 columns: ``help history`` ran its usage lines past the edge, broken
    mid-word under the command; ``help echo``, ``help cat`` and ``help exit`` said no such command
    (``cat``: did you mean 'chat'?) though each works; ``help !`` too."""
    from terminal import Tmux

    env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    env.update(LANG="C.UTF-8", TERM="xterm", XDG_CONFIG_HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path))
    env.update(XDG_DATA_HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path))
    aish = shlex.join([sys.executable, "-m", "aish"])
    topics = ("history", "set", "chat", "echo", "cat", "exit", "!")
    script = "; ".join(f"{aish} help {shlex.quote(t)} || echo FAILED {t}" for t in topics) + "; echo DONE"
    with Tmux(["bash", "--norc", "-c", script], env, width=80, height=80, linger=10) as term:
        lines = term.wait_for("^DONE$")
    assert not any(line.startswith(("FAILED", "aish:")) for line in lines), "\n".join(lines)
    assert all(cells(line) < 80 for line in lines), "\n".join(line for line in lines if cells(line) >= 80)
    at = lines.index(next(line for line in lines if line.startswith("       history show")))
    assert lines[at + 1].startswith(" " * 41) and lines[at + 1].strip()  # under its description
    at = lines.index(next(line for line in lines if line.startswith("       history export")))
    assert lines[at + 1].startswith(" " * 41) and lines[at + 1].strip()  # one blank before it: the block's column
    assert any(line.startswith("usage: echo") for line in lines)
    assert any(line.startswith("usage: cat") for line in lines)
    assert any(line.startswith("Leave aish") for line in lines)  # help exit is help quit


def test_the_banners_wrap_at_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_app: Any) -> None:
    """Found by a tour at 80 columns: the shell's banner broke 'hermes' as 'h/ermes' at the edge, a
    chat's banner 'aish>' as 'ais/h>'. Both wrap at words on a terminal (and stay as they are elsewhere).
    A chat's banner names the model it asks, unless that only repeats the agent's name."""
    from terminal import Tmux

    from aish.runner import Runner
    from aish.shell_chat import Chat

    runner = Runner(make_app(), out=io.StringIO(), err=io.StringIO())
    monkeypatch.setattr(layout, "columns", lambda out: 60)
    out = io.StringIO()
    banner = Chat("athena", runner=runner, out=out).banner()
    assert all(cells(line) < 60 for line in banner.splitlines()), banner
    assert " ".join(banner.split()) == (
        "Chatting with athena: every line goes to it as typed (Alt-Enter for a new line, "
        "a pasted block is one message). /new starts over; Ctrl-D or /exit returns to aish>."
    )
    assert Chat("athena", runner, out, ["-m", "echo"]).banner().startswith("Chatting with athena (model echo): ")
    monkeypatch.undo()
    assert len(Chat("athena", runner=runner, out=io.StringIO()).banner().splitlines()) == 1

    env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    env.update(LANG="C.UTF-8", TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", XDG_CONFIG_HOME=str(tmp_path))
    env.update(XDG_STATE_HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path))
    with Tmux([sys.executable, "-m", "aish"], env, width=50) as term:
        lines = term.wait_for("^aish>")
        term.send_line("quit")
    shown = lines[: lines.index("aish>")]
    assert all(cells(line) < 50 for line in shown), shown
    assert " ".join(" ".join(shown).split()) == (
        "aish, the AI shell. Offline demo agents: apollo, athena, hermes. "
        "Try: apollo hello | apollo alone to chat | help | quit"
    )


def test_a_line_being_typed_is_laid_out_again_when_the_window_narrows(tmp_path: Path) -> None:
    """prompt_toolkit polled the terminal's size twice a second besides SIGWINCH, waking an idle
    shell; it is told of a resize by the signal alone now, and lays the line out at the new width."""
    from terminal import Tmux

    env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    env.update(LANG="C.UTF-8", TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", XDG_CONFIG_HOME=str(tmp_path))
    env.update(XDG_STATE_HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path))
    typed = "athena " + " ".join(f"word{n:02d}" for n in range(12))  # 96 cells with the prompt
    with Tmux([sys.executable, "-m", "aish"], env, width=100, linger=5) as term:
        term.wait_for("^aish>")
        term.send_text(typed)
        term.wait_for("word11$")
        term.resize(50, 30)
        shown = "aish> " + typed
        rows = [shown[i : i + 50] for i in range(0, len(shown), 50)]
        term.wait_until(lambda lines: lines[-len(rows) :] == rows, "the line laid out at 50 columns", timeout=5)
        term.send_keys("C-u")
        term.send_line("quit")


def test_cells_never_count_less_than_a_terminal_draws() -> None:
    assert cells("abc") == 3 and cells("日本") == 4 and cells("e\u0301") == 1 and cells("a\tb") == 10
    assert cells("\U0001f44d\U0001f3fd") == 4  # a skin tone: tmux, xterm and VTE draw both parts
    assert cells("\u2764\ufe0f") == 2  # the emoji form of a narrow character: two cells in kitty and iTerm2


def test_conversations_pad_agents_by_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent named 日本 (a quoted TOML key) pushed its row's later columns two cells right."""
    import contextlib
    import time

    from aish import conversation_commands as commands
    from aish.history.conversations import Summary

    now = time.time()
    found = [Summary("a" * 12, "日本", 1, now, now, "first"), Summary("b" * 12, "athena", 2, now, now, "second")]
    monkeypatch.setattr(commands.recorded, "summaries", lambda backend, count: found)
    monkeypatch.setattr(commands, "opened", lambda app: contextlib.nullcontext(None))
    monkeypatch.setattr(layout, "columns", lambda out: 80)
    out = io.StringIO()
    commands.conversations_command(None, None, [], out)  # type: ignore[arg-type]
    rows = out.getvalue().splitlines()
    assert [cells(row[: row.rindex("  ")]) for row in rows] == [56, 56], rows  # the prompts start together


def test_on_a_narrow_terminal_as_many_columns_go_under_the_row_as_it_needs(forty: None) -> None:
    """Found by a docs tour at 60 columns: ``agents`` put the description under each row, and the
    rest was still 62 wide, so the terminal broke it in the middle of the URL."""
    rows = [
        ["NAME", "TRANSPORT", "CODEC", "URL", "DESCRIPTION"],
        ["athena", "sse", "openai-chat", "http://127.0.0.1:18181/v1", "knowledge and wisdom"],
        ["zeus", "websocket", "envelope", "", "thunder"],
    ]
    out = io.StringIO()
    layout.table(rows, out, header=True)
    assert out.getvalue().splitlines() == [
        "NAME    TRANSPORT  CODEC",
        "athena  sse        openai-chat",
        "    http://127.0.0.1:18181/v1",
        "    knowledge and wisdom",
        "zeus    websocket  envelope",
        "    thunder",
    ]
