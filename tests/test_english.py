"""Ordinary English reaches an agent literally (issue 11, item 3): every row of the table,
with ``aish -c`` and typed into the shell, each in a real terminal (a pty), against the reference server."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest

from aish.testing import Outcome
from aish_refserver import RefServer

PROMPT = "aish>"
FILE_NOTE = "[Output written to notes; to send '>' to the agent, quote it]"

SENT_LITERALLY = [
    ("athena what's a monad?", "what's a monad?"),
    ("athena don't panic, it's fine", "don't panic, it's fine"),
    ("athena summarize (briefly) this", "summarize (briefly) this"),
    ("athena compare a & b", "compare a & b"),
    ("athena 'single' \"double\"", "single double"),
    ("athena list: a) cats b) dogs", "list: a) cats b) dogs"),
    ("athena is AT&T or R&D bigger (by revenue)?", "is AT&T or R&D bigger (by revenue)?"),
    ("athena the users' files", "the users' files"),
]
"""(typed line, what the agent receives)."""

AS_TODAY = [
    ('echo "q" | (apollo & athena) | hermes', ["apollo", "athena", "hermes"]),
    ("echo hi | apollo & athena", ["apollo", "athena"]),
]
"""Operators where they are clearly meant: (line, the models asked, in order of asking)."""


def _env(refserver: RefServer) -> dict[str, str]:
    return {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}


def aish_c(refserver: RefServer, line: str, cwd: Path) -> tuple[int, str]:
    """``aish -c LINE`` on a terminal: its exit status and what the terminal showed."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "aish", "-c", line],
        env=_env(refserver),
        cwd=str(cwd),
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 200),
    )
    child.expect(pexpect.EOF)
    shown = str(child.before)
    child.close()
    return int(child.exitstatus or 0), shown


@pytest.fixture
def shell(refserver: RefServer, tmp_path: Path) -> Iterator[pexpect.spawn]:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "aish"],
        env=_env(refserver),
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 200),
    )
    child.expect_exact(PROMPT)
    try:
        yield child
    finally:
        child.close(force=True)


def typed(shell: pexpect.spawn, line: str) -> str:
    """Type ``line`` at the prompt; what the terminal showed until it finished (a marker line after it)."""
    typed.count += 1  # type: ignore[attr-defined]
    marker = f"done-{typed.count}"  # type: ignore[attr-defined]
    shell.sendline(line)
    shell.sendline(f"echo {marker}")
    shell.expect(rf"(?<!echo ){marker}\r\n")  # echo's output, not the typed line
    return str(shell.before)


typed.count = 0  # type: ignore[attr-defined]


def contents(refserver: RefServer) -> list[str]:
    return [r.body["messages"][-1]["content"] for r in refserver.requests if r.body]


@pytest.mark.parametrize(("line", "received"), SENT_LITERALLY)
def test_with_aish_c(refserver: RefServer, tmp_path: Path, line: str, received: str) -> None:
    status, shown = aish_c(refserver, line, tmp_path)
    assert status == 0, shown
    assert contents(refserver) == [received]
    assert "aish:" not in shown
    assert list(tmp_path.iterdir()) == []


def test_in_the_shell(shell: pexpect.spawn, refserver: RefServer, tmp_path: Path) -> None:
    for line, received in SENT_LITERALLY:
        before = len(refserver.requests)
        shown = typed(shell, line)
        assert "....>" not in shown and "aish:" not in shown, (line, shown)
        assert contents(refserver)[before:] == [received], line
    assert list(tmp_path.iterdir()) == []


def test_a_redirect_is_never_silent_with_aish_c(refserver: RefServer, tmp_path: Path) -> None:
    status, shown = aish_c(refserver, "athena compare them > notes", tmp_path)
    assert status == 0
    assert FILE_NOTE in shown
    answer = (tmp_path / "notes").read_text(encoding="utf-8")
    assert answer.startswith("Athena (offline demo):") and answer not in shown  # the answer went to the file
    assert contents(refserver) == ["compare them"]
    status, shown = aish_c(refserver, "athena is 3 > 2?", tmp_path)  # no one names a file '2?' (decision 86)
    assert status == 2 and "would write the answer to a file named '2?'" in shown
    assert not (tmp_path / "2?").exists() and len(contents(refserver)) == 1


def test_a_redirect_is_never_silent_in_the_shell(shell: pexpect.spawn, refserver: RefServer, tmp_path: Path) -> None:
    assert FILE_NOTE in typed(shell, "athena compare them > notes")
    assert (tmp_path / "notes").read_text(encoding="utf-8").startswith("Athena (offline demo):")
    shown = typed(shell, "athena hi > answer.md")
    assert "[Output written to answer.md]" in shown and "quote it" not in shown
    assert "[Output appended to answer.md]" in typed(shell, "athena more >> answer.md")
    assert (tmp_path / "answer.md").read_text(encoding="utf-8").count("Athena (offline demo):") == 2


def test_a_file_that_is_not_there_after_less_than_says_how_to_quote(refserver: RefServer, tmp_path: Path) -> None:
    status, shown = aish_c(refserver, "athena is 2 < 3", tmp_path)
    assert status == 2
    assert "aish: <: 3: no such file; to send '<' to the agent, quote it" in shown
    assert len(refserver.requests) == 0


@pytest.mark.parametrize(("line", "models"), AS_TODAY)
def test_operators_work_as_before_with_aish_c(
    refserver: RefServer, tmp_path: Path, line: str, models: list[str]
) -> None:
    status, shown = aish_c(refserver, line, tmp_path)
    assert status == 0, shown
    assert sorted(r.body["model"] for r in refserver.requests if r.body) == sorted(models)
    assert all(c == "q\n" or c == "hi\n" for c in contents(refserver)[:2])
    if "hermes" in models:
        last = next(r.body for r in refserver.requests if r.body and r.body["model"] == "hermes")
        assert "[apollo]" in last["messages"][-1]["content"] and "[athena]" in last["messages"][-1]["content"]


def test_operators_work_as_before_in_the_shell(shell: pexpect.spawn, refserver: RefServer) -> None:
    for line, models in AS_TODAY:
        before = len(refserver.requests)
        shown = typed(shell, line)
        assert "aish:" not in shown, shown
        asked = [r.body["model"] for r in refserver.requests[before:] if r.body]
        assert sorted(asked) == sorted(models), line


def test_per_stage_options_in_the_shell_and_an_unclosed_bracket_continues(
    shell: pexpect.spawn, refserver: RefServer
) -> None:
    shell.sendline("athena[-m echo")
    shell.expect_exact("....>")
    shown = typed(shell, "  -s terse] it's (really) AT&T & co")
    assert "it's (really) AT&T & co" in shown
    (body,) = [r.body for r in refserver.requests if r.body]
    assert body["model"] == "echo" and body["messages"][0] == {"role": "system", "content": "terse"}


def test_a_redirect_says_what_reached_the_file(refserver: RefServer, tmp_path: Path) -> None:
    """A run stopped before its last stage wrote anything said '[Output written to FILE]' of an empty file."""
    status, shown = aish_c(refserver, "athena hi | zeus > answer.md", tmp_path)
    assert status != 0 and "unknown agent 'zeus'" in shown  # found before anything ran: no file at all
    (tmp_path / "old.md").write_text("kept\n", encoding="utf-8")
    status, shown = aish_c(refserver, "athena[-o aish_fault '{\"status\": 400}'] hi | hermes >> old.md", tmp_path)
    assert status != 0 and "[Nothing written to old.md]" in shown and "Output" not in shown
    assert (tmp_path / "old.md").read_text(encoding="utf-8") == "kept\n"
    status, shown = aish_c(refserver, "athena hi | hermes > new.md", tmp_path)
    assert status == 0 and "[Output written to new.md]" in shown
    status, shown = aish_c(refserver, "athena[-o aish_finish length] hi > cut.md", tmp_path)
    assert status == 0 and "[Output written to cut.md; athena: cut at max_tokens]" in shown  # as the screen says


def test_words_after_the_last_agent_of_a_group_are_its_alone_and_the_error_says_so(
    run_line: Callable[..., Outcome],
) -> None:
    result = run_line("apollo & athena what is up")
    assert result.status == 2
    assert result.err == (
        "aish: apollo: nothing to send (give text, or pipe input into it); the words after athena are athena's "
        "alone: to ask every agent, pipe them in (echo 'what is up' | apollo & athena)\n"
    )
