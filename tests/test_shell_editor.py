"""Ctrl-X Ctrl-E: the line (or a chat's message) written in an editor, then back for review.

The editors here are real programs: a small Python script that records the
file it was given and writes new text into it, ``false``, a missing path.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import pytest
from terminal import Tmux

from aish.shell_editor import EditorError, edit, editor_command
from aish_refserver import RefServer


def script_editor(tmp_path: Path, text: str) -> str:
    """An editor that logs what it was given (the file's name and text) and writes ``text``."""
    log = tmp_path / "editor.log"
    script = tmp_path / "editor.py"
    script.write_text(
        f"import sys, os\n"
        f"path = sys.argv[-1]\n"
        f"with open({str(log)!r}, 'a') as log:\n"
        f"    log.write(repr((path, oct(os.stat(path).st_mode & 0o777), open(path).read())) + '\\n')\n"
        f"open(path, 'w').write({text!r})\n",
        encoding="utf-8",
    )
    return f"{sys.executable} {script}"


def logged(tmp_path: Path) -> list[tuple[str, str, str]]:
    import ast

    return [ast.literal_eval(line) for line in (tmp_path / "editor.log").read_text().splitlines()]


# ------------------------------------------------------------------ choosing and running the editor


def test_visual_comes_before_editor_and_may_hold_options() -> None:
    assert editor_command({"VISUAL": "code --wait", "EDITOR": "vi"}) == ["code", "--wait"]
    assert editor_command({"VISUAL": " ", "EDITOR": "'my editor' -n"}) == ["my editor", "-n"]


def test_without_either_variable_the_first_installed_fallback_is_used() -> None:
    found = {"nano": "/usr/bin/nano", "vi": "/usr/bin/vi"}
    assert editor_command({}, which=found.get) == ["/usr/bin/nano"]
    with pytest.raises(EditorError, match="no editor: set VISUAL or EDITOR"):
        editor_command({}, which=lambda name: None)


def test_a_variable_that_is_not_a_command_line_is_named() -> None:
    with pytest.raises(EditorError, match=r"\$EDITOR is not a command line .*'vi \"oops'"):
        editor_command({"EDITOR": 'vi "oops'})


def test_edit_gives_the_files_text_without_its_last_newline_and_removes_the_file(tmp_path: Path) -> None:
    command = script_editor(tmp_path, "new text\r\nsecond line\n").split()
    assert edit("old text", command, ".md") == "new text\nsecond line"
    [(path, mode, given)] = logged(tmp_path)
    assert given == "old text\n" and path.endswith(".md") and mode == "0o600"
    assert not Path(path).exists()


def test_a_failing_or_missing_editor_is_one_line_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(EditorError, match=r"^the editor 'false' exited with status 1$"):
        edit("x", ["false"], ".aish")
    with pytest.raises(EditorError, match=r"^cannot run the editor '/nonexistent/ed': No such file or directory$"):
        edit("x", ["/nonexistent/ed"], ".aish")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ in the shell, in a real terminal


def shell(refserver: RefServer, editor: str, tmp_path: Path) -> Tmux:
    keep = ("PATH", "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "LANG")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(AISH_DEMO_URL=refserver.base_url, PROMPT_TOOLKIT_NO_CPR="1", EDITOR=editor)
    env["XDG_STATE_HOME"] = str(tmp_path / "state")  # its own input history
    term = Tmux([sys.executable, "-m", "aish"], env)
    term.wait_for(r"^aish>$")
    return term


def test_the_line_comes_back_from_the_editor_and_runs_only_on_enter(refserver: RefServer, tmp_path: Path) -> None:
    with shell(refserver, script_editor(tmp_path, "echo edited-and-run\n"), tmp_path) as term:
        term.send_keys("-l", "echo typed")
        term.send_keys("C-x", "C-e")
        term.wait_for(r"^aish> echo edited-and-run$")
        [(path, mode, given)] = logged(tmp_path)
        assert (given, mode) == ("echo typed\n", "0o600") and path.endswith(".aish")
        time.sleep(0.5)
        assert "edited-and-run" not in term.lines()[-1:], "it is for review: nothing runs before Enter"
        term.send_keys("Enter")
        lines = term.wait_until(lambda ls: ls[-2:] == ["edited-and-run", "aish>"], "the edited line run")
        assert lines.count("aish> echo edited-and-run") == 1


def test_a_chat_message_written_in_the_editor_is_one_message(refserver: RefServer, tmp_path: Path) -> None:
    message = "first line | not a pipe\nsecond line & not parallel"
    with shell(refserver, script_editor(tmp_path, message + "\n"), tmp_path) as term:
        term.send_line("athena")
        term.wait_for(r"^athena>$")
        term.send_keys("C-x", "C-e")
        term.wait_for(r"second line & not parallel$")
        term.send_keys("Enter")
        term.wait_for(r"\[athena: Complete - ")
        assert logged(tmp_path)[0][0].endswith(".md")
        assert [r.body["messages"][-1]["content"] for r in refserver.requests if r.body] == [message]


def test_an_editor_that_fails_leaves_the_line_and_says_why(refserver: RefServer, tmp_path: Path) -> None:
    with shell(refserver, "false", tmp_path) as term:
        term.send_keys("-l", "echo kept")
        term.send_keys("C-x", "C-e")
        said = "aish: the editor 'false' exited with status 1; the line is unchanged"
        term.wait_until(lambda ls: ls[-2:] == [said, "aish> echo kept"], "the line kept, below the error")
        term.send_keys("Enter")
        term.wait_until(lambda ls: ls[-2:] == ["kept", "aish>"], "the line run")
