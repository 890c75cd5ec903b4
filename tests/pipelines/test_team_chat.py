"""team-chat to every agent or to a ``[groups]`` group; group errors name the file and the group."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aish.config import load_config
from aish.errors import ConfigError
from aish.testing import Outcome
from aish_refserver import RefServer

Run = Callable[..., Outcome]

GROUPS = '\n[groups]\nelders = ["athena", "apollo"]\nsolo = ["hermes"]\nlost = ["apollo", "zeus"]\n'


def heads(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("[")]


@pytest.mark.parametrize("option", ["--group", "-g"])
def test_team_chat_to_a_group_reaches_only_its_agents_in_group_order(
    run_line: Run, refserver: RefServer, agents_toml: str, option: str
) -> None:
    result = run_line(f'team-chat {option} elders "hello elders"', agents_toml + GROUPS)
    assert result.status == 0, result.err
    assert sorted(r.body["model"] for r in refserver.requests) == ["apollo", "athena"]
    assert all(r.body["messages"][-1]["content"] == "hello elders" for r in refserver.requests)
    assert heads(result.out) == ["[athena]", "[apollo]"]


def test_team_chat_without_a_group_still_reaches_everyone(
    run_line: Run, refserver: RefServer, agents_toml: str
) -> None:
    result = run_line('team-chat "all hands"', agents_toml + GROUPS)
    assert result.status == 0, result.err
    assert len(refserver.requests) == 7


def test_a_quoted_option_is_part_of_the_message(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    result = run_line('team-chat "--group" solo', agents_toml + GROUPS)
    assert result.status == 0, result.err
    assert len(refserver.requests) == 7
    chats = [r.body for r in refserver.requests if r.body and "messages" in r.body]  # the openai-chat lanes
    assert chats and {body["messages"][-1]["content"] for body in chats} == {"--group solo"}  # in any order


def test_an_unknown_agent_in_a_group_is_one_line_naming_file_and_group(
    run_line: Run, refserver: RefServer, agents_toml: str, tmp_path: Path
) -> None:
    result = run_line('team-chat --group lost "hi"', agents_toml + GROUPS)
    assert result.status != 0 and not refserver.requests
    line = result.err.strip()
    assert "\n" not in line
    assert f"{tmp_path / 'config.toml'}: group 'lost': unknown agent 'zeus'" in line


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('team-chat --group nope "hi"', "team-chat: unknown group 'nope' (groups: elders, lost, solo)"),
        ("team-chat --group", "team-chat: --group needs a group name"),
    ],
)
def test_group_usage_errors(run_line: Run, refserver: RefServer, agents_toml: str, line: str, message: str) -> None:
    result = run_line(line, agents_toml + GROUPS)
    assert result.status != 0 and not refserver.requests
    assert message in result.err and result.err.count("\n") == 1


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[groups]\nx = []\n", "group 'x': expected a non-empty list of agent names"),
        ('[groups]\nx = "apollo"\n', "group 'x': expected a non-empty list of agent names"),
        ('[groups]\nx = ["apollo", "apollo"]\n', "group 'x': an agent is listed twice"),
        ("groups = 3\n", "[groups] must be a table"),
    ],
)
def test_bad_groups_in_config_name_the_file_and_group(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(str(path), environ={})
    assert str(info.value) == f"{path}: {message}"


@pytest.mark.parametrize("line", ["echo hi | athena & team-chat", "echo hi | (team-chat & athena)"])
def test_team_chat_in_a_parallel_group_is_refused_as_not_an_agent(
    run_line: Run, refserver: RefServer, agents_toml: str, line: str
) -> None:
    result = run_line(line, agents_toml)
    assert result.status == 2 and not refserver.requests
    assert result.err.strip() == "aish: team-chat: only agents can run in parallel ('&')"
