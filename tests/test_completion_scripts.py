"""``aish completion bash|zsh``: the scripts, run by a real bash (and checked by zsh when it is here)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from terminal import missing_tool

from aish.testing import run_aish


def bash_complete(script: str, words: list[str], tmp_path: Path) -> list[str]:
    """What the bash function offers for ``words`` (the last one being completed)."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    shim = bindir / "aish"  # `aish` on PATH, as after installing
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m aish "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    words_array = " ".join(f"'{w}'" for w in words)
    program = f"""{script}
COMP_WORDS=({words_array}); COMP_CWORD={len(words) - 1}
_aish
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    return sorted(line for line in done.stdout.splitlines() if line)


@pytest.fixture
def bash_script() -> str:
    done = run_aish("completion", "bash")
    assert done.returncode == 0 and done.stderr == ""
    return done.stdout


def test_bash_offers_commands_agents_options_and_files(bash_script: str, tmp_path: Path) -> None:
    (tmp_path / "review.aish").write_text("echo hi\n", encoding="utf-8")
    assert bash_complete(bash_script, ["aish", "at"], tmp_path) == ["athena"]
    assert {"agents", "apollo", "athena", "chat", "history"} <= set(bash_complete(bash_script, ["aish", ""], tmp_path))
    assert bash_complete(bash_script, ["aish", "--sta"], tmp_path) == ["--stats"]
    assert bash_complete(bash_script, ["aish", "plugins", "en"], tmp_path) == ["enable"]
    assert "markdown" in bash_complete(bash_script, ["aish", "--renderer", ""], tmp_path)
    assert bash_complete(bash_script, ["aish", "athena", "rev"], tmp_path) == ["review.aish"]
    assert bash_complete(bash_script, ["aish", "rev"], tmp_path) == ["review.aish"]
    assert bash_complete(bash_script, ["aish", "--c"], tmp_path) == ["--cid", "--config", "--continue"]
    assert bash_complete(bash_script, ["aish", "--cid", "3f2a", "at"], tmp_path) == ["athena"]
    assert bash_complete(bash_script, ["aish", "athena", "-"], tmp_path) == sorted(
        ["-m", "-s", "-o", "-x", "-e", "--model", "--system", "--option", "--extract", "--execute", "--"]
    )
    disable = bash_complete(bash_script, ["aish", "plugins", "disable", ""], tmp_path)
    assert "demo" in disable and "commands" not in disable  # essential: it cannot be disabled


def test_bash_offers_a_commands_arguments_as_the_shells_tab_does(bash_script: str, tmp_path: Path) -> None:
    """Found on a tour: ``aish conversations show <Tab>`` and ``aish keys set <Tab>`` offered files.
    The script now asks ``aish completion words``, which asks the command's own ``complete``."""
    assert bash_complete(bash_script, ["aish", "history", "s"], tmp_path) == ["search", "show"]
    assert bash_complete(bash_script, ["aish", "keys", "set", "OPEN"], tmp_path) == ["OPENAI_API_KEY"]
    assert bash_complete(bash_script, ["aish", "agents", ""], tmp_path) == ["add", "edit", "remove"]
    assert bash_complete(bash_script, ["aish", "chat", "he"], tmp_path) == ["hermes"]
    assert bash_complete(bash_script, ["aish", "--", "at"], tmp_path) == ["athena"]
    assert bash_complete(bash_script, ["aish", "--test", "rev"], tmp_path) == []  # no such file here
    assert bash_complete(bash_script, ["aish", "athena", "-m", ""], tmp_path) == ["apollo", "athena", "echo", "hermes"]
    assert bash_complete(bash_script, ["aish", "athena", "hi", "-"], tmp_path) == []  # text: files


@pytest.mark.parametrize(
    ("words", "offered"),
    [
        (["conversations", "show", "zz"], []),
        (["history", "search", "owls", ""], []),
        (["-c", ""], []),
        (["--config", ""], None),
        (["nonsense.aish", ""], None),
        (["athena", "--", "-"], None),
    ],
)
def test_completion_words_says_what_to_offer(words: list[str], offered: list[str] | None) -> None:
    from aish.app import build_app
    from aish.completion import candidates
    from aish.config import Config

    assert candidates(build_app(Config()), words) == offered


def test_zsh_script_parses(tmp_path: Path) -> None:
    done = run_aish("completion", "zsh")
    assert done.returncode == 0 and done.stdout.startswith("#compdef aish")
    zsh = shutil.which("zsh")
    if zsh is None:
        missing_tool("zsh")
    script = tmp_path / "_aish"
    script.write_text(done.stdout, encoding="utf-8")
    checked = subprocess.run([zsh, "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


def test_an_unknown_shell_is_one_line() -> None:
    done = run_aish("completion", "fish")
    assert done.returncode == 2
    assert done.stderr == "aish: completion: no script for 'fish' (choose: bash, zsh)\n"


def test_bash_offers_recorded_conversation_ids_after_cid(demo_url: str, bash_script: str, tmp_path: Path) -> None:
    assert run_aish("athena", "what is an owl").returncode == 0
    listed = run_aish("conversations").stdout.split()
    cid = next(word for word in listed if len(word) == 12 and word.isalnum())
    assert bash_complete(bash_script, ["aish", "--cid", ""], tmp_path) == [cid]
    assert bash_complete(bash_script, ["aish", "--cid", cid[:4]], tmp_path) == [cid]
    assert cid in bash_complete(bash_script, ["aish", "conversations", "show", ""], tmp_path)
    assert bash_complete(bash_script, ["aish", "conversations", "resume", cid[:4]], tmp_path) == [cid]
    assert run_aish("completion", "names", "conversations").stdout == f"{cid}\n"


def test_zsh_completes_a_commands_arguments_in_a_real_terminal(tmp_path: Path) -> None:
    """zsh's completion system, in tmux: Tab after ``aish keys set OPEN`` and ``aish his`` fill the line in."""
    from terminal import Tmux

    zsh = shutil.which("zsh")
    if zsh is None:
        missing_tool("zsh")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "aish"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m aish "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "HOME": str(tmp_path), "PS1": "%% "}
    with Tmux([zsh, "-f", "-i"], env) as term:
        term.wait_for(r"^%")
        term.send_line('autoload -U compinit && compinit -u && eval "$(aish completion zsh)" && echo ready')
        term.wait_for(r"^ready$")
        term.send_keys("aish keys set OPEN", "Tab")
        term.wait_for(r"aish keys set OPENAI_API_KEY", timeout=20)
        term.send_keys("C-u")
        term.send_keys("aish his", "Tab")
        term.wait_for(r"aish history", timeout=20)
