"""The shell's prompt is drawn before cmd2 is imported (decision 43), on a real pty (pexpect).

Each test holds aish's import of cmd2 until the test lets it go (a file appears), so the moment
between the early prompt and the line editor is as long as the test needs, without a clock.
"""

from __future__ import annotations

import io
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest

from aish_refserver import RefServer

PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


class Held:
    """aish on a pty, its import of cmd2 held until :meth:`go` (or failing, with ``fail=True``)."""

    def __init__(self, refserver: RefServer, tmp_path: Path, *args: str, fail: bool = False) -> None:
        self.gate = tmp_path / "go"
        self.stty = tmp_path / "stty"
        hold = textwrap.dedent(
            f"""
            import os, sys, time

            class Hold:
                def find_spec(self, name, path=None, target=None):
                    if name == "cmd2":
                        deadline = time.monotonic() + 30
                        while not os.path.exists({str(self.gate)!r}) and time.monotonic() < deadline:
                            time.sleep(0.01)
                        if {fail!r}:
                            raise ImportError("cmd2 is broken here")
                    return None

            sys.meta_path.insert(0, Hold())
            import aish.cli
            sys.argv = ["aish", *{list(args)!r}]
            aish.cli.run()
            """
        )
        script = tmp_path / "held.sh"
        script.write_text(  # the terminal's modes before and after, as ``stty`` sees them; Ctrl-C is aish's
            f'trap : INT\nstty -g > {self.stty}.before\n"$@"\necho "status=$?"\nstty -g > {self.stty}.after\n'
        )
        env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
        self.child = pexpect.spawn(
            "bash",
            [str(script), sys.executable, "-c", hold],
            env=env,
            encoding="utf-8",
            timeout=20,
            dimensions=(30, 120),
        )
        self.child.logfile_read = self.screen = io.StringIO()
        """Everything aish wrote to the terminal."""

    def go(self) -> None:
        self.gate.write_text("")

    def modes(self) -> tuple[str, str]:
        self.child.expect(pexpect.EOF)  # the script has read the modes after aish
        return (Path(f"{self.stty}.before").read_text(), Path(f"{self.stty}.after").read_text())


@pytest.fixture
def held(refserver: RefServer, tmp_path: Path) -> Iterator[Held]:
    shell = Held(refserver, tmp_path)
    try:
        yield shell
    finally:
        shell.go()
        shell.child.close(force=True)


def sent(refserver: RefServer) -> list[str]:
    return [r.body["messages"][-1]["content"] for r in refserver.requests if r.body is not None]


def test_the_prompt_shows_before_cmd2_is_imported_and_what_is_typed_meanwhile_is_kept(
    held: Held, refserver: RefServer
) -> None:
    child = held.child
    child.expect_exact("Try: ")
    child.expect_exact("aish> ")
    child.send("athena what is ")
    child.send("an owl\r")  # typed, and Enter pressed, while cmd2 is still being imported
    with pytest.raises(pexpect.TIMEOUT):
        child.expect_exact("owl", timeout=0.3)  # not echoed yet: the line editor shows it
    held.go()
    child.expect_exact("athena what is an owl")
    child.expect_exact("[athena: Complete")
    child.expect_exact("aish>")
    assert sent(refserver) == ["what is an owl"]
    child.sendline("quit")
    child.expect_exact("status=0")
    before, after = held.modes()
    assert after == before  # the terminal is left as it was found


def test_ctrl_c_at_the_early_prompt_drops_what_was_typed(held: Held, refserver: RefServer) -> None:
    child = held.child
    child.expect_exact("aish> ")
    child.send("athena forget this")
    child.sendintr()
    child.expect_exact("^C\r\naish> ")  # a new prompt, as Ctrl-C at any prompt
    child.send("hermes keep this\r")
    held.go()
    child.expect_exact("[hermes: Complete")
    assert sent(refserver) == ["keep this"]
    child.sendline("quit")
    child.expect_exact("status=0")


def test_a_block_pasted_at_the_early_prompt_is_one_paste(held: Held, refserver: RefServer) -> None:
    child = held.child
    child.expect_exact("aish> \x1b[?2004h")  # bracketed paste is on: the terminal marks a paste
    child.send(f"athena {PASTE_START}line one\rline two{PASTE_END}")
    held.go()
    child.expect_exact("line two")
    child.send("\r")
    child.expect_exact("[athena: Complete")
    assert sent(refserver) == ["line one\nline two"]  # one message, not two lines run one by one
    child.sendline("quit")
    child.expect_exact("status=0")


def test_a_second_ctrl_c_before_the_editor_is_ready_ends_aish(held: Held) -> None:
    child = held.child
    child.expect_exact("aish> ")
    child.sendintr()
    child.expect_exact("^C\r\naish> ")
    child.sendintr()
    child.expect_exact("^C\r\naish: interrupted\r\nstatus=130")
    before, after = held.modes()
    assert after == before


def test_a_start_that_fails_after_the_prompt_reports_on_a_line_of_its_own(refserver: RefServer, tmp_path: Path) -> None:
    shell = Held(refserver, tmp_path, fail=True)
    try:
        shell.child.expect_exact("aish> ")
        shell.go()
        shell.child.expect_exact("\x1b[?2004h\x1b[?2004l\r\naish: ")  # paste off, on a line of its own
        shell.child.expect_exact("the interactive shell cannot start: ImportError: cmd2 is broken here\r\nstatus=1")
        before, after = shell.modes()
        assert after == before
    finally:
        shell.child.close(force=True)


def test_a_chat_on_a_terminal_shows_its_own_banner_and_prompt_early(refserver: RefServer, tmp_path: Path) -> None:
    shell = Held(refserver, tmp_path, "athena")
    try:
        shell.child.expect_exact("Chatting with athena")
        shell.child.expect_exact("athena> ")
        shell.child.send("a line & more\r")
        shell.go()
        shell.child.expect_exact("[athena: Complete")
        shell.child.send("\x04")
        shell.child.expect_exact("status=0")
        assert sent(refserver) == ["a line & more"]
        assert shell.screen.getvalue().count("Chatting with athena") == 1  # the banner was written once
    finally:
        shell.child.close(force=True)


def test_a_chats_opening_names_the_model_it_asks(make_app: Any) -> None:
    """``aish local`` (or ``aish local -m other``) opens a chat whose first line says which model it
    asks, as llm's chat does; a demo agent's model only repeats its name, so it is not said."""
    from aish.shell_start import opening

    app = make_app(
        '[agents.local]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "http://127.0.0.1:9/v1"\nmodel = "llama3"\n'
    )
    text, prompt = opening(app, None, "local")
    assert text.startswith("Chatting with local (model llama3): ") and prompt == "local> "
    assert opening(app, None, "local", ["-m", "other"])[0].startswith("Chatting with local (model other): ")
    assert opening(app, None, "athena")[0].startswith("Chatting with athena: ")
