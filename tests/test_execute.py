"""``AGENT[-e] TEXT``: a shell command asked for and offered to run, never run unseen (decision 94):
on the shell's next line in a real terminal, at a ``run:`` prompt for a one-shot aish, refused
without a terminal."""

from __future__ import annotations

import io
import os
import signal
import sys
from collections.abc import Callable

import pexpect
import pytest
from terminal import dialogue, screen

from aish.agents import AgentConfig
from aish.errors import UsageError
from aish.lang import parse_controls
from aish.offer import shell_line
from aish.pipeline.plan import with_controls
from aish.shell_chat import chat_request, parsed
from aish.testing import Outcome
from aish_refserver import RefServer

Run = Callable[..., Outcome]


def test_e_asks_for_a_command_and_implies_x() -> None:
    controls, used = parse_controls(["-e", "-m", "m"], leading=True)
    assert (controls.execute, controls.extract, controls.model, used) == (True, True, "m", 3)
    agent = AgentConfig("a", "sse", "http://127.0.0.1:1/v1", "openai-chat", options={"system": "be a poet"})
    system = with_controls(agent, controls).options["system"]
    assert "one shell command for /bin/sh" in system and "code block" in system
    own, _ = parse_controls(["-e", "-s", "mine"])
    assert with_controls(agent, own).options["system"] == "mine"  # -s says otherwise


@pytest.mark.parametrize(
    ("command", "line"),
    [
        ("ls -la", "!ls -la"),
        ("cd /tmp\n\nls", "cd /tmp\n\n!ls"),  # aish's own cd: a child shell's would change nothing
        ("find . \\\n  -name x", "!find . \\\n  -name x"),  # a continued line goes on without a '!'
    ],
)
def test_the_shells_next_line(command: str, line: str) -> None:
    assert shell_line(command) == line


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("athena[-e] list files", "athena[-e]: needs a terminal, to show the command before it runs"),
        ("athena[-e] list files | wc -l", "athena[-e]: its command is offered to run, so it ends the line"),
        ("athena[-e] list files > out.sh", "athena[-e]: its command is offered to run, so it ends the line"),
        ("echo x | (athena[-e] & apollo)", "athena[-e]: its command is offered to run, so it ends the line"),
    ],
)
def test_e_is_refused_before_any_request_where_nothing_can_be_offered(
    run_line: Run, refserver: RefServer, line: str, error: str
) -> None:
    result = run_line(line)
    assert result.status == 2 and result.err.startswith(f"aish: {error}"), result.err
    assert len(refserver.requests) == 0


@pytest.mark.parametrize(
    ("answer", "offered"),
    [
        ("```sh\nls -la\n```", "ls -la"),
        ("Here it is:\n\n```sh\nfind . -name '*.py' | wc -l\n```\nIt counts them.", "find . -name '*.py' | wc -l"),
        ("ls -la", "ls -la"),  # the bare command, as small models answer
        ("find . -name '*.txt' -newer ./A.md | xargs wc -l", "find . -name '*.txt' -newer ./A.md | xargs wc -l"),
        ("Athena (offline demo): On the subject of files. The strongest arguments survive.", None),
        ("You could run ls.\nOr ls -la for more.", None),  # more than a line and no code block: text
        ("x" * 201, None),
    ],
)
def test_only_a_code_block_or_one_short_line_is_offered(answer: str, offered: str | None) -> None:
    """A tour: the offline demo's prose answer to athena[-e] went on the next line as a command."""
    from aish.errors import RemoteError
    from aish.offer import offered_command
    from aish.stream import StageResult

    result = StageResult("athena", answer, finish_reason="stop")
    if offered is not None:
        assert offered_command("athena", result) == offered
        return
    with pytest.raises(RemoteError, match=r"athena\[-e\]: the answer is text, not a command"):
        offered_command("athena", result)


def test_a_chat_has_no_next_line_for_e() -> None:
    with pytest.raises(UsageError, match="-e is for one line"):
        parsed(["-e"])
    assert chat_request(["athena"], "athena[-m x]") == ("athena", ["-m", "x"])
    assert chat_request(["athena"], "athena[-e]") is None  # a line, which says it has nothing to send


def spawn(refserver: RefServer, *argv: str) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "AISH_DEMO_URL": refserver.base_url}
    return pexpect.spawn(
        sys.executable, ["-m", "aish", *argv], env=env, encoding="utf-8", timeout=20, dimensions=(30, 150)
    )


def test_the_shell_puts_the_command_on_the_next_line(refserver: RefServer) -> None:
    """The echo model answers with the prompt itself: the command typed is the command offered, and
    only the shell can print what it computes."""
    child = spawn(refserver)
    seen = io.StringIO()
    child.logfile_read = seen
    dialogue(
        child,
        (None, "aish>"),
        ("athena[-m echo -e] echo $((6*7))", "aish> !echo $((6*7))"),
        ("", "42\r\n", "aish>"),  # Enter runs the line as it stands
        ("athena[-m echo -e] echo $((6*8))", "aish> !echo $((6*8))"),
        ("\x03", "aish>"),  # Ctrl-C drops it
        ("echo after", "after\r\n", "aish>"),
        (
            "athena[-m echo -e -o max_tokens 2] echo $((6*9)) now",
            "the answer was cut at max_tokens: its command is not",
        ),
        ("", "aish>"),  # an empty line: nothing was put on it (it would print 54)
        ("!echo $((2+3)) done", "5 done", "aish>"),
    )
    assert "54" not in [line.strip() for line in screen(seen.getvalue())]
    asked = [r for r in refserver.requests if r.method == "POST"]  # -m is checked with GET /models besides
    system = asked[0].body["messages"][0]
    assert system["role"] == "system" and "/bin/sh" in system["content"]
    assert len(asked) == 3


@pytest.mark.parametrize(("typed", "status"), [("", 0), ("\x03", 130)])
def test_a_one_shot_aish_asks_at_a_run_prompt(refserver: RefServer, typed: str, status: int) -> None:
    child = spawn(refserver, "athena", "-m", "echo", "-e", "echo", "from", "the", "prompt")
    try:
        child.expect_exact("run: echo from the prompt")
        child.send(typed or "\r")
        child.expect_exact("from the prompt\r\n" if status == 0 else "aish: not run")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    # 130 is an interrupt: aish ends by SIGINT then, as a program Ctrl-C stopped does (for bash's loops)
    assert (child.exitstatus, child.signalstatus) == ((0, None) if status == 0 else (None, signal.SIGINT))
