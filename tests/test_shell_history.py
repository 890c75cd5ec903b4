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
