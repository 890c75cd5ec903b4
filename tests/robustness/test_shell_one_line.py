"""The one-line rule in the interactive shell, in a real terminal (a pty driven by pexpect):
hostile lines and hostile servers give one ``aish: ...`` line, then the prompt again."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest
from servers import json_reply, serving

from aish.lang.parser import MAX_NESTING
from aish_refserver import RefServer

PROMPT = "aish>"
HOSTILE = {"error": {"message": "\x1b]0;PWNED\x07\x1b[2J boom\r\nX-Injected: 1"}}


@pytest.fixture
def shell(refserver: RefServer, write_config: Callable[[str], Path]) -> Iterator[pexpect.spawn]:
    with serving(json_reply(500, HOSTILE)) as hostile:
        config = write_config(
            f'[agents.evil]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{hostile.url}/v1"\nmax_retries = 0\n'
        )
        env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
        child = pexpect.spawn(
            sys.executable,
            ["-m", "aish", "--config", str(config)],
            env=env,
            encoding="utf-8",
            timeout=30,
            dimensions=(50, 250),
        )
        child.expect_exact(PROMPT)
        try:
            yield child
        finally:
            try:
                child.close(force=True)
            except pexpect.ExceptionPexpect:
                child.kill(9)


def error_after(child: pexpect.spawn, line: str) -> str:
    """The one error line the shell prints for ``line``; nothing else but the prompt follows it."""
    child.sendline(line)
    child.expect(r"aish: [^\r\n]*\r?\n")
    shown = str(child.after)
    assert "Traceback" not in str(child.before)
    child.expect_exact(PROMPT)
    assert "aish: " not in str(child.before) and "Traceback" not in str(child.before), child.before
    return shown


def test_hostile_lines_and_servers_give_one_line_each(shell: pexpect.spawn, refserver: RefServer) -> None:
    shown = error_after(shell, "(" * 600 + "athena hi" + ")" * 600)
    assert f"'(' nested more than {MAX_NESTING} deep" in shown
    assert not refserver.requests  # nothing ran

    shown = error_after(shell, "evil hi")
    assert "\x1b" not in shown and "\x07" not in shown
    assert "\\x1b]0;PWNED\\x07\\x1b[2J boom\\x0d\\x0aX-Injected: 1" in shown

    shown = error_after(shell, "echo x > /dev/full" if Path("/dev/full").exists() else "echo x > /")
    assert shown.startswith("aish: > /")

    assert "unknown agent 'nosuch'" in error_after(shell, "nosuch hi")
    shell.sendline("quit")
    shell.expect(pexpect.EOF)
