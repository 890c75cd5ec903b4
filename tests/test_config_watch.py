"""The shell reads its configuration file again when it changes (aish.config_watch).

In-process against real files, and once in a real terminal (pexpect) with the
reference server as the agent that appears mid-session.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from aish.app import App
from aish.config_watch import ConfigWatch
from aish_refserver import RefServer


def agent(name: str, url: str = "http://127.0.0.1:9/v1") -> str:
    return f'[agents.{name}]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{url}"\n'


def edit(path: Path, text: str) -> None:
    """Write ``text`` so that the change is seen even within the file system's time stamp's step."""
    before = os.stat(path).st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_a_changed_file_is_read_again_and_what_changed_is_said(make_app: Callable[..., App], tmp_path: Path) -> None:
    app = make_app(agent("zeus"))
    path = Path(app.config.path or "")
    watch, err = ConfigWatch(app), io.StringIO()
    assert not watch.check(err) and err.getvalue() == ""  # unchanged: not read again
    edit(path, agent("zeus", "http://127.0.0.1:9/v2") + agent("hera") + '[groups]\nteam = ["zeus"]\n')
    assert watch.check(err)
    assert err.getvalue() == f"aish: {path} read again: agent hera added; agent zeus changed; groups changed\n"
    assert app.agent("zeus").url == "http://127.0.0.1:9/v2" and app.is_agent("hera")
    assert app.config.groups == {"team": ("zeus",)}


def test_a_file_that_no_longer_parses_leaves_the_configuration_in_use(
    make_app: Callable[..., App], tmp_path: Path
) -> None:
    app = make_app(agent("zeus"))
    path = Path(app.config.path or "")
    watch, err = ConfigWatch(app), io.StringIO()
    edit(path, "[agents.zeus\n")  # saved half-way through an edit
    assert not watch.check(err)
    assert "invalid TOML" in err.getvalue() and "(the configuration read before stays in use)" in err.getvalue()
    assert app.is_agent("zeus")
    assert not watch.check(err)  # said once, not before every line
    assert err.getvalue().count("\n") == 1
    edit(path, agent("zeus") + agent("hera"))
    assert watch.check(err) and app.is_agent("hera")


def test_a_removed_file_leaves_no_agents_of_its_own(make_app: Callable[..., App]) -> None:
    app = make_app(agent("zeus") + agent("hera"))
    watch, err = ConfigWatch(app), io.StringIO()
    os.remove(app.config.path or "")
    assert watch.check(err)
    assert err.getvalue().endswith("read again: agents hera, zeus removed\n")
    assert not app.is_agent("zeus") and not app.is_agent("hera")


def test_settings_read_at_start_wait_for_the_next_start(make_app: Callable[..., App]) -> None:
    app = make_app('[settings]\nhistory = "sqlite"\n' + agent("zeus"))
    path = Path(app.config.path or "")
    watch, err = ConfigWatch(app), io.StringIO()
    edit(path, '[settings]\nhistory = "jsonl"\nrenderer = "markdown"\n' + agent("zeus"))
    assert watch.check(err)
    assert err.getvalue().endswith("renderer changed; history takes effect when aish next starts\n")
    assert app.config.settings.history == "sqlite"  # the store this session records into
    assert app.config.settings.renderer == "markdown"


def test_a_file_created_after_the_start_is_read(
    make_app: Callable[..., App], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    app = make_app()
    watch, err = ConfigWatch(app), io.StringIO()
    path = tmp_path / "xdg" / "aish" / "config.toml"
    path.parent.mkdir(parents=True)
    edit(path, agent("zeus"))
    assert watch.check(err) and app.is_agent("zeus")


def test_in_the_shell_an_agent_added_to_the_file_answers_the_next_line(refserver: RefServer, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    env = {**os.environ, "AISH_CONFIG": str(config), "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "aish"], env=env, encoding="utf-8", timeout=20, dimensions=(40, 200))
    try:
        child.expect_exact("aish>")
        child.sendline("agents")
        child.expect_exact("aish>")
        edit(config, agent("zeus", refserver.base_url) + 'model = "athena"\n')
        child.sendline("zeus hello")
        child.expect_exact(f"aish: {config} read again: agent zeus added")
        child.expect_exact("[zeus: Complete")
        assert refserver.requests[-1].body is not None
        assert refserver.requests[-1].body["messages"][-1]["content"] == "hello"
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
