"""The shell's input history in-process: a chat's messages and aish lines kept apart, across restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aish.shell_history import InputHistory


def loaded(history: InputHistory) -> list[str]:
    """What Up walks through (newest first), as prompt_toolkit's buffer loads it."""

    async def collect() -> list[str]:
        return [item async for item in history.load()]

    return asyncio.run(collect())


def test_a_chats_messages_and_aish_lines_are_offered_apart(tmp_path: Path) -> None:
    chatting = [False]
    history = InputHistory(tmp_path / "input_history", chatting=lambda: chatting[0])
    loaded(history)
    history.append_string("chat athena")
    chatting[0] = True
    history.append_string("who are you really")
    history.append_string("make it shorter")
    chatting[0] = False
    history.append_string("echo done")
    assert loaded(history) == ["echo done", "chat athena"]
    assert history.get_strings() == ["chat athena", "echo done"]  # the grey suggestion's, oldest first
    chatting[0] = True
    assert loaded(history) == ["make it shorter", "who are you really"]

    again = InputHistory(tmp_path / "input_history", chatting=lambda: chatting[0])  # a restart
    assert loaded(again) == ["make it shorter", "who are you really"]
    chatting[0] = False
    assert loaded(again) == ["echo done", "chat athena"]
    again.append_string("echo done")  # a repeat of the last aish line: not kept twice
    chatting[0] = True
    again.append_string("echo done")  # as a message, after other messages: kept
    assert loaded(again) == ["echo done", "make it shorter", "who are you really"]


def test_a_file_written_before_chats_were_marked_reads_as_aish_lines(tmp_path: Path) -> None:
    path = tmp_path / "input_history"
    path.write_text("\n# 2026-11-01T10:00:00\n+athena hi\n\n# 2026-11-01T10:01:00\n+echo a\n+b\n")
    history = InputHistory(path)
    assert loaded(history) == ["echo a\nb", "athena hi"]


def test_forget_drops_the_newest_entry_of_its_kind_that_holds_the_text(tmp_path: Path) -> None:
    """A key typed on a line (``keys set NAME KEY``) leaves neither Up nor the file."""
    chatting = [False]
    path = tmp_path / "input_history"
    history = InputHistory(path, chatting=lambda: chatting[0])
    loaded(history)
    history.append_string("keys set K sk-same")  # an older line that holds it: not the one running
    history.append_string("athena hi")
    chatting[0] = True
    history.append_string("a message")
    chatting[0] = False
    history.append_string("keys set K sk-typed-0123")
    assert not history.forget("sk-elsewhere")  # the newest aish line does not hold it
    assert history.forget("sk-typed")
    assert loaded(history) == ["athena hi", "keys set K sk-same"]
    assert "sk-typed" not in path.read_text()
    restarted = InputHistory(path, chatting=lambda: chatting[0])
    assert loaded(restarted) == ["athena hi", "keys set K sk-same"]
    chatting[0] = True
    assert loaded(restarted) == ["a message"]
    chatting[0] = False
    history.append_string("athena hi")  # the newest aish line is "athena hi" again: a repeat, not kept
    assert loaded(history) == ["athena hi", "keys set K sk-same"]


def test_a_line_that_holds_an_agents_key_is_kept_with_stars_in_its_place(tmp_path: Path) -> None:
    """As the run history keeps it: a key pasted into a line reaches neither Up nor the file."""
    path = tmp_path / "input_history"
    key = "sk-known-0123456789abcdef"
    history = InputHistory(path, secrets=lambda: ["", key])
    loaded(history)
    history.append_string(f"athena is {key} still valid?")
    history.append_string(f"athena is {key.upper()} still valid?")  # the same line once scrubbed: a repeat
    history.append_string("athena hi")
    assert loaded(history) == ["athena hi", "athena is *** still valid?"]
    assert key not in path.read_text() and key.upper() not in path.read_text()


def test_rescrub_takes_a_secret_the_line_itself_brought_out_of_the_newest_entry(tmp_path: Path) -> None:
    """``agents add priv http://bob:PASSWORD@host/v1``: the password is a secret only once the line ran."""
    path = tmp_path / "input_history"
    known: list[str] = []
    history = InputHistory(path, secrets=lambda: known)
    loaded(history)
    history.append_string("athena hi")
    history.rescrub()  # nothing to take out: the file is not rewritten
    line = "agents add priv http://bob:pw-0123456789abc@127.0.0.1:9/v1"
    history.append_string(line)
    assert "pw-0123456789abc" in path.read_text()
    known.append("pw-0123456789abc")
    history.rescrub()
    assert loaded(history) == ["agents add priv http://bob:***@127.0.0.1:9/v1", "athena hi"]
    assert "pw-0123456789abc" not in path.read_text()
    assert loaded(InputHistory(path)) == loaded(history)  # a restart reads the same
