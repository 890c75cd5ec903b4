"""OS commands as stages (streaming stdin/stdout), ``!cmd``, and --stats."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aish.app import App
from aish.runner import Runner
from aish.testing import Outcome, run_aish
from aish_refserver import RefServer

Run = Callable[..., Outcome]


def test_agent_into_grep(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    result = run_line('apollo "list colours" | grep -o "Apollo (offline demo)"', agents_toml)
    assert result.status == 0, result.err
    assert result.out == "Apollo (offline demo)\n"


def test_grep_without_a_match_fails_like_a_shell(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    assert run_line('apollo "x" | grep -c zzzqqq', agents_toml).out == "0\n"
    assert run_line('apollo "x" | grep -c zzzqqq', agents_toml).status == 1


def test_cat_agent_tee_agent(
    run_line: Run, refserver: RefServer, agents_toml: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("f.py").write_text("print('hi')\n")
    result = run_line("cat f.py | apollo | tee draft.md | athena", agents_toml)
    assert result.status == 0, result.err
    draft = Path("draft.md").read_text()
    assert draft.startswith("Apollo (offline demo):")
    assert refserver.requests[1].body["messages"][-1]["content"] == draft
    assert result.out.startswith("Athena (offline demo):")


def test_os_stages_chain_and_feed_an_agent(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    result = run_line("echo 'b a c' | tr ' ' '\\n' | sort | athena", agents_toml)
    assert result.status == 0, result.err
    assert refserver.requests[0].body["messages"][-1]["content"] == "a\nb\nc\n"


def test_agent_text_streams_into_the_process_while_generated(
    make_app: Callable[..., App], refserver: RefServer, agents_toml: str, tmp_path: Path
) -> None:
    refserver.pace = 0.03
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys, time\nstart = time.monotonic()\nfirst = sys.stdin.read(5)\n"
        "at = time.monotonic() - start\nrest = sys.stdin.read()\nend = time.monotonic() - start\n"
        "print(f'{at:.3f} {end:.3f}')\n"
    )
    out = io.StringIO()
    runner = Runner(make_app(agents_toml), out=out, err=io.StringIO())
    assert runner.run_source(f'athena "go" | {sys.executable} {probe}') == 0
    first, end = (float(x) for x in out.getvalue().split())
    assert end - first > 0.5, "the first bytes arrived long before the end of the answer"


def test_shell_escape_and_history_replay_syntax(tmp_path: Path) -> None:
    done = run_aish("-c", "!echo hi $GREETING '$NOT' | tr a-z A-Z", cwd=tmp_path, env={"GREETING": "there"})
    assert done.returncode == 0 and done.stdout == "HI THERE $NOT\n", done.stderr
    replay = run_aish("-c", "!!", cwd=tmp_path)
    assert "no such run in history" in replay.stderr or replay.returncode == 0


def test_unknown_command_is_an_unknown_agent(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    result = run_line("echo x | athena | zzz-no-such-program", agents_toml)
    assert result.status == 3 and "unknown agent 'zzz-no-such-program'" in result.err
    assert len(refserver.requests) == 0


def test_stats_lines_per_stage(make_app: Callable[..., App], refserver: RefServer, agents_toml: str) -> None:
    err = io.StringIO()
    runner = Runner(make_app(agents_toml), out=io.StringIO(), err=err, stats=True)
    assert runner.run_source("echo q | apollo | athena") == 0
    lines = err.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["[stats] apollo", "[stats] athena"]
    assert all("first token 0." in line and "tokens/s, complete" in line for line in lines)


def test_stats_setting_and_flag(refserver: RefServer, agents_toml: str, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(agents_toml + "[settings]\nstats = true\n")
    done = run_aish("--config", str(config), "-c", 'athena "x"', cwd=tmp_path)
    assert done.returncode == 0 and done.stderr.startswith("[stats] athena: first token ")
    config.write_text(agents_toml)
    done = run_aish("--config", str(config), "--stats", "-c", 'athena "x"', cwd=tmp_path)
    assert done.stderr.startswith("[stats] athena: first token ")
