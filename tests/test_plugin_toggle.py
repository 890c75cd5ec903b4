"""``aish plugins enable/disable NAME``: real config files, real subprocesses, and the shell command."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aish.app import build_app
from aish.config import load_config


def aish(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aish", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, "AISH_DEMO_PACE": "0", **(env or {})},
        timeout=60,
        check=False,
    )


def status(listing: str, name: str) -> str:
    [row] = [line for line in listing.splitlines() if line.split()[:1] == [name]]
    return row.split()[3]


def test_disable_creates_the_xdg_config_and_enable_restores(isolated_env: Path) -> None:
    path = isolated_env / "xdg_config_home" / "aish" / "config.toml"
    assert not path.exists()
    result = aish("plugins", "disable", "demo")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"plugin demo disabled in {path}") and result.stderr == ""
    assert path.read_text(encoding="utf-8") == '[settings]\ndisable_plugins = ["demo"]\n'
    assert status(aish("plugins").stdout, "demo") == "disabled"
    assert aish("-c", "athena hi").returncode == 3  # the demo agents are gone
    result = aish("plugins", "enable", "demo")  # a disabled plugin is still a known name
    assert result.returncode == 0, result.stderr
    assert path.read_text(encoding="utf-8") == "[settings]\ndisable_plugins = []\n"
    assert status(aish("plugins").stdout, "demo") == "loaded"


def test_edits_only_the_key_of_an_explicit_config(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    original = '# my setup\n[settings]\nrenderer = "plain"  # default\n\n[agents.bot]   # a bot\ntransport = "sse"\n'
    original += 'codec = "openai-chat"\nurl = "http://127.0.0.1:9/v1"\n'
    path.write_text(original, encoding="utf-8")
    assert aish("--config", str(path), "plugins", "disable", "plain").returncode == 0
    expected = original.replace("[settings]\n", '[settings]\ndisable_plugins = ["plain"]\n')
    assert path.read_text(encoding="utf-8") == expected
    assert aish("--config", str(path), "plugins", "disable", "sse").returncode == 0
    assert path.read_text(encoding="utf-8") == expected.replace('["plain"]', '["plain", "sse"]')
    assert aish("--config", str(path), "plugins", "disable", "sse").returncode == 0  # idempotent
    assert aish("--config", str(path), "plugins", "enable", "plain").returncode == 0
    assert path.read_text(encoding="utf-8") == expected.replace('["plain"]', '["sse"]')
    assert load_config(str(path)).settings.disable_plugins == ["sse"]


def test_aish_config_variable_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "env.toml"
    path.write_text("[settings]\nstats = false\n", encoding="utf-8")
    assert aish("plugins", "disable", "demo", env={"AISH_CONFIG": str(path)}).returncode == 0
    assert path.read_text(encoding="utf-8") == '[settings]\ndisable_plugins = ["demo"]\nstats = false\n'


def test_enable_notes_an_environment_that_still_disables(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    result = aish("--config", str(path), "plugins", "enable", "demo", env={"AISH_DISABLE_PLUGINS": "demo"})
    assert result.returncode == 2 and "not found" in result.stderr  # an explicit file must exist
    path.write_text("", encoding="utf-8")
    result = aish("--config", str(path), "plugins", "enable", "demo", env={"AISH_DISABLE_PLUGINS": "demo"})
    assert result.returncode == 0 and "AISH_DISABLE_PLUGINS still disables it" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "pattern"),
    [
        (("enable", "nosuch"), 3, r"aish: unknown plugin 'nosuch' \(known: .*demo.*\)"),
        (("toggle", "demo"), 2, r"aish: usage: plugins \[enable NAME \| disable NAME\]"),
        (("disable",), 2, r"aish: usage: .*"),
    ],
)
def test_bad_requests_are_one_line_and_touch_nothing(
    isolated_env: Path, args: tuple[str, ...], code: int, pattern: str
) -> None:
    result = aish("plugins", *args)
    assert result.returncode == code and result.stdout == ""
    assert re.fullmatch(pattern + "\n", result.stderr), result.stderr
    assert not (isolated_env / "xdg_config_home" / "aish").exists()


def test_a_file_it_cannot_edit_safely_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "dotted.toml"
    path.write_text("settings.disable_plugins = []\n", encoding="utf-8")
    result = aish("--config", str(path), "plugins", "disable", "demo")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "edit the file by hand" in result.stderr
    assert path.read_text(encoding="utf-8") == "settings.disable_plugins = []\n"


def test_shell_command(tmp_path: Path) -> None:
    from aish.runner import Runner
    from aish.shell import AishShell

    path = tmp_path / "shell.toml"
    path.write_text("[settings]\n", encoding="utf-8")
    app = build_app(load_config(str(path)))
    out, err = io.StringIO(), io.StringIO()
    shell = AishShell(app, stdin=io.StringIO(), stdout=out, persistent_history_file="")
    shell.runner = Runner(app, out=out, err=err, tty=False)
    shell.onecmd_plus_hooks("plugins disable demo")
    assert shell.last_status == 0 and "plugin demo disabled" in out.getvalue()
    assert path.read_text(encoding="utf-8") == '[settings]\ndisable_plugins = ["demo"]\n'
    shell.onecmd_plus_hooks("plugins enable nosuch")
    assert shell.last_status == 3 and err.getvalue().startswith("aish: unknown plugin 'nosuch'")
    shell.onecmd_plus_hooks("plugins")
    assert re.search(r"^demo\s+aish \S+\s+loaded", out.getvalue(), re.M)  # this process keeps its plugins
