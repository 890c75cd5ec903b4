"""``agents edit``: the configuration file in the user's editor (a real program run on a copy),
saved only once it is a valid configuration, in process and in the shell on a pty."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest
from terminal import dialogue

from aish.cli import main
from aish.testing import Outcome
from aish_refserver import RefServer

KEPT = '# my agents\n[settings]\nrenderer = "plain"  # keep this comment\n'


def aish(*argv: str) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdin=io.StringIO(), stdout=out, stderr=err)
    return Outcome(status, out.getvalue(), err.getvalue())


def editor(tmp_path: Path, *appended: str) -> str:
    """An editor that appends ``appended[N]`` to the file on its Nth run (nothing after the last)."""
    script = tmp_path / "editor.py"
    runs = tmp_path / "editor-runs"
    script.write_text(
        "import pathlib, sys\n"
        f"runs = pathlib.Path({str(runs)!r})\n"
        "n = len(runs.read_text()) if runs.exists() else 0\n"
        "runs.write_text('x' * (n + 1))\n"
        f"texts = {list(appended)!r}\n"
        "if n < len(texts):\n"
        "    with open(sys.argv[1], 'a') as f:\n"
        "        f.write(texts[n])\n"
    )
    return f"{sys.executable} {script}"


def table(name: str, url: str) -> str:
    return f'\n[agents.{name}]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{url}"\nmodel = "echo"\n'


def test_an_edit_is_saved_and_used_at_once(
    refserver: RefServer, write_config: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(KEPT)
    monkeypatch.setenv("VISUAL", editor(tmp_path, table("local", refserver.base_url)))
    result = aish("--config", str(path), "-c", "agents edit; local hi there")
    assert (result.status, result.err) == (0, "")
    assert result.out == f"{path}: saved: agent local added\nhi there\n"
    assert path.read_text() == KEPT + table("local", refserver.base_url)  # every byte before it kept
    again = aish("--config", str(path), "agents", "edit")  # this editor changes nothing now
    assert again.out == f"{path}: unchanged\n" and path.read_text() == KEPT + table("local", refserver.base_url)
    path.write_text(KEPT.rstrip("\n"))  # no last newline: still unchanged, and left so
    assert aish("--config", str(path), "agents", "edit").out == f"{path}: unchanged\n"
    assert path.read_text() == KEPT.rstrip("\n")


def test_a_new_file_starts_from_a_commented_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AISH_CONFIG", raising=False)
    monkeypatch.setenv("EDITOR", editor(tmp_path, table("x", "http://127.0.0.1:9/v1")))
    monkeypatch.delenv("VISUAL", raising=False)
    assert aish("agents", "edit").status == 0
    text = (tmp_path / "home" / "aish" / "config.toml").read_text()
    assert text.startswith("# aish's configuration (docs/configuration.md)") and text.endswith(
        table("x", "http://127.0.0.1:9/v1")
    )


def test_an_invalid_edit_leaves_the_file_and_keeps_the_edit(
    write_config: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(KEPT)
    monkeypatch.setenv("VISUAL", editor(tmp_path, "\n[agents.bad]\nurl = 3\n"))
    result = aish("--config", str(path), "agents", "edit")
    kept = path.with_name(path.name + ".rejected")
    assert result.status == 2 and result.out == ""
    assert result.err == (f"aish: {path}: not changed: agent 'bad': missing key 'transport' (your edit is in {kept})\n")
    assert path.read_text() == KEPT and kept.read_text() == KEPT + "\n[agents.bad]\nurl = 3\n"


def test_an_editor_that_fails_changes_nothing(
    write_config: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(KEPT)
    monkeypatch.setenv("VISUAL", "false")
    result = aish("--config", str(path), "agents", "edit", "now")
    assert result.err == "aish: agents edit: takes no arguments, not 'now' (usage: agents edit)\n"
    result = aish("--config", str(path), "agents", "edit")
    assert result.err == f"aish: agents edit: the editor 'false' exited with status 1; {path} is unchanged\n"
    assert path.read_text() == KEPT


def test_in_the_shell_an_invalid_edit_can_be_edited_again(
    refserver: RefServer, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    """As ``crontab -e``: the error, then 'edit it again?'; yes opens the editor on the same copy."""
    path = write_config(KEPT)
    fixed = '\n[agents.local]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "' + refserver.base_url + '"\n'
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "AISH_DEMO_URL": refserver.base_url,
           "VISUAL": editor(tmp_path, "\n[agents.bad]\nurl = 3\n", '[agents.bad.options]\n', fixed)}  # fmt: skip
    child = pexpect.spawn(sys.executable, ["-m", "aish", "--config", str(path)], env=env, encoding="utf-8",
                          timeout=20, dimensions=(40, 200))  # fmt: skip
    try:
        child.expect_exact("aish>")
        child.sendline("agents edit")
        child.expect_exact("missing key 'transport'; edit it again? [y/N]")
        child.sendline("y")  # the second run adds an options table: still invalid
        child.expect_exact("edit it again? [y/N]")
        child.sendline("yes")
        child.expect_exact("missing key 'transport'; edit it again? [y/N]")
        child.sendline("n")
        child.expect_exact("not changed: agent 'bad': missing key 'transport' (your edit is in")
        child.expect_exact("aish>")
        assert path.read_text() == KEPT
        child.sendline("agents")
        child.expect_exact("aish>")
        assert "bad" not in (child.before or "")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


BROKEN = '[agents.x]\ntransport = "sse"\ncodec = "openai-chat"\n'


def test_an_invalid_file_can_be_mended_with_agents_edit_alone(
    refserver: RefServer, write_config: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found on a tour: after a hand edit broke the file, 'aish agents edit', the way to mend it, refused
    to start with the file's error, as every command did. It opens the file; other commands still fail."""
    path = write_config(BROKEN)
    error = f"aish: {path}: agent 'x': missing key 'url'\n"
    assert aish("--config", str(path), "agents") == Outcome(2, "", error)
    monkeypatch.setenv("VISUAL", "true")  # changes nothing
    assert aish("--config", str(path), "agents", "edit") == Outcome(
        2, "", error + f"aish: {path}: unchanged, and still invalid: agent 'x': missing key 'url'\n"
    )
    monkeypatch.setenv("VISUAL", editor(tmp_path, f'url = "{refserver.base_url}"\nmodel = "echo"\n'))
    assert aish("--config", str(path), "agents", "edit") == Outcome(0, f"{path}: saved: agent x added\n", error)
    assert aish("--config", str(path), "x", "mended") == Outcome(0, "mended\n", "")


def test_the_shell_starts_without_an_invalid_file_and_agents_edit_mends_it(
    refserver: RefServer, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    """The shell says what is wrong and goes on without the file (the demo agents answer), so that
    'agents edit' can mend it; the mended agents answer at once."""
    path = write_config(BROKEN)
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "AISH_DEMO_URL": refserver.base_url,
           "VISUAL": editor(tmp_path, f'url = "{refserver.base_url}"\nmodel = "echo"\n')}  # fmt: skip
    child = pexpect.spawn(sys.executable, ["-m", "aish", "--config", str(path)], env=env, encoding="utf-8",
                          timeout=20, dimensions=(40, 200))  # fmt: skip
    dialogue(
        child,
        (
            None,
            f"aish: {path}: agent 'x': missing key 'url'",
            "aish: going on without that file until it is valid: 'agents edit' opens it",
            "aish>",
        ),
        ("agents edit", f"{path}: saved: agent x added", "aish>"),
        ("x mended at once", "mended at once", "aish>"),
    )
    assert path.read_text() == BROKEN + f'url = "{refserver.base_url}"\nmodel = "echo"\n'
