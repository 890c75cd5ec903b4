"""Configuration: where it is found, what it accepts, and errors that name file, agent and key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aish.config import default_path, load_config
from aish.errors import ConfigError

GOOD = """
[settings]
renderer = "plain"
disable_plugins = ["x"]

[agents.local]
transport = "sse"
codec = "openai-chat"
url = "http://127.0.0.1:9/v1"
model = "m"
api_key_env = "LOCAL_KEY"
headers = { "X-Team" = "blue" }
connect_timeout = 2
idle_timeout = 30.5
description = "a local model"

[agents.local.options]
max_tokens = 10
"""


def test_a_full_agent_is_parsed(write_config: Callable[[str], Path]) -> None:
    path = write_config(GOOD)
    config = load_config(str(path))
    agent = config.agents["local"]
    assert (agent.transport, agent.codec, agent.url, agent.model) == (
        "sse",
        "openai-chat",
        "http://127.0.0.1:9/v1",
        "m",
    )
    assert agent.headers == {"X-Team": "blue"}
    assert (agent.connect_timeout, agent.idle_timeout) == (2.0, 30.5)
    assert agent.options == {"max_tokens": 10}
    assert agent.source == str(path)
    assert config.settings.disable_plugins == ["x"]


def test_api_key_is_read_from_the_named_variable_at_use(
    write_config: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = load_config(str(write_config(GOOD))).agents["local"]
    assert agent.api_key() is None
    monkeypatch.setenv("LOCAL_KEY", "sk-test-123")
    assert agent.api_key() == "sk-test-123"
    assert "sk-test-123" not in repr(agent)


def test_no_file_at_the_default_place_is_fine(isolated_env: Path) -> None:
    config = load_config()
    assert config.path is None and config.agents == {}


def test_default_path_follows_xdg(tmp_path: Path) -> None:
    assert default_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "aish" / "config.toml"
    assert default_path({}).parts[-3:] == (".config", "aish", "config.toml")


def test_precedence_explicit_then_env_then_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "aish").mkdir(parents=True)
    (xdg / "aish" / "config.toml").write_text('[settings]\nrenderer = "from-xdg"\n')
    env_file = tmp_path / "env.toml"
    env_file.write_text('[settings]\nrenderer = "from-env"\n')
    explicit = tmp_path / "explicit.toml"
    explicit.write_text('[settings]\nrenderer = "from-flag"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    assert load_config().settings.renderer == "from-xdg"
    monkeypatch.setenv("AISH_CONFIG", str(env_file))
    assert load_config().settings.renderer == "from-env"
    assert load_config(str(explicit)).settings.renderer == "from-flag"


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=f"{missing}: configuration file not found"):
        load_config(str(missing))


def test_plugin_environment_variables(write_config: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AISH_DISABLE_PLUGINS", "a, b")
    monkeypatch.setenv("AISH_PLUGINS", "sse,plain")
    settings = load_config(str(write_config(GOOD))).settings
    assert settings.disable_plugins == ["x", "a", "b"]
    assert settings.plugins == ["sse", "plain"]


BASE = '[agents.bot]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "http://127.0.0.1:1/v1"\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[agents.bot\n", "invalid TOML"),
        ('[agents.bot]\ntransport = "sse"\ncodec = "openai-chat"\n', "agent 'bot': missing key 'url'"),
        ('[agents.bot]\nurl = "u"\ncodec = "c"\n', "agent 'bot': missing key 'transport'"),
        (BASE + "idle_timeout = -1\n", "agent 'bot': idle_timeout: expected a positive number"),
        (BASE + 'connect_timeout = "5"\n', "agent 'bot': connect_timeout: expected a positive number"),
        (BASE + "model = 3\n", "agent 'bot': model: expected str, got int"),
        (BASE + 'api_key = "sk-123"\n', "agent 'bot': unknown key 'api_key' (put keys in the environment"),
        (BASE + "headers = { X = 1 }\n", "agent 'bot': headers: expected a table of strings"),
        (BASE + 'transprot = "sse"\n', "agent 'bot': unknown key 'transprot', did you mean 'transport'?"),
        (
            BASE + "max_tokens = 80\n",
            "unknown key 'max_tokens' (a request option such as temperature goes under [agents.bot.options])",
        ),
        (BASE + "options = 3\n", "agent 'bot': options: expected a table"),
        ('[agents]\nbot = "x"\n', "[agents.bot] must be a table"),
        ('[agents."bad name"]\nurl="u"\n', "agent 'bad name': names may hold letters"),
        ('[setings]\nrenderer = "x"\n', "unknown table 'setings', did you mean 'settings'?"),
        ("[extras]\nx = 1\n", "unknown table 'extras' (expected settings, agents, groups)"),
        ('history = "jsonl"\n', "'history' is a setting: put it under [settings]"),
        ("colour = 1\n", "unknown key 'colour' (expected settings, agents, groups)"),
        ('[settings]\nrendrer = "x"\n', "settings: unknown key 'rendrer', did you mean 'renderer'?"),
        ('[settings]\ncolour = "x"\n', "settings: unknown key 'colour'"),
        ('[settings]\nplugin_agents = "no"\n', "settings.plugin_agents: expected bool, got str"),
        ("[settings]\ndisable_plugins = [1]\n", "settings.disable_plugins: expected str, got int"),
        (
            BASE + '[agents.r]\nextends = "bott"\n',
            "agent 'r': extends 'bott': no such agent in this file, did you mean 'bot'?",
        ),
        (
            BASE + '[agents.r]\nextends = "athena"\n',
            "agent 'r': extends 'athena': no such agent in this file (agents here: bot, r)",
        ),
        (BASE + "[agents.r]\nextends = 3\n", "agent 'r': extends: expected the name of another agent of this file"),
        ('[agents.a]\nextends = "b"\n[agents.b]\nextends = "a"\n', "agent 'b': extends 'a': a cycle (a -> b -> a)"),
        (
            BASE + '[agents.r]\nextends = "bot"\nidle_timeout = 0\n',
            "agent 'r': idle_timeout: expected a positive number",
        ),
        (BASE + '[agents.r]\nextnds = "bot"\n', "agent 'r': unknown key 'extnds', did you mean 'extends'?"),
    ],
)
def test_errors_name_the_file_the_agent_and_the_key(
    write_config: Callable[[str], Path], text: str, expected: str
) -> None:
    path = write_config(text)
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message
    assert "sk-123" not in message


def test_unreadable_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path))


@pytest.mark.parametrize("name", ["echo", "cat", "agents", "plugins", "help", "history", "quit"])
def test_agents_cannot_take_built_in_names(write_config: Callable[[str], Path], name: str) -> None:
    text = BASE.replace("[agents.bot]", f"[agents.{name}]")
    with pytest.raises(ConfigError, match=f"agent '{name}': '{name}' is a built-in command"):
        load_config(str(write_config(text)))


ROLES = """
[agents.local]
transport = "sse"
codec = "openai-chat"
url = "http://127.0.0.1:9/v1"
model = "m"
api_key_env = "LOCAL_KEY"
headers = { "X-Team" = "blue" }
idle_timeout = 30
description = "a local model"

[agents.local.options]
max_tokens = 10
temperature = 0.7

[agents.reviewer]
extends = "local"
description = "reviews code"

[agents.reviewer.options]
system = "List the bugs first."
temperature = 0

[agents.terse-reviewer]
extends = "reviewer"
model = "m2"
headers = { "X-Tone" = "terse" }
"""


def test_an_agent_extends_another_of_the_file(write_config: Callable[[str], Path]) -> None:
    """A role: another agent's connection with its own system prompt, model or options (``extends``)."""
    agents = load_config(str(write_config(ROLES))).agents
    reviewer, terse = agents["reviewer"], agents["terse-reviewer"]
    assert (reviewer.url, reviewer.model, reviewer.api_key_env, reviewer.idle_timeout) == (
        "http://127.0.0.1:9/v1",
        "m",
        "LOCAL_KEY",
        30.0,
    )
    assert reviewer.options == {"max_tokens": 10, "temperature": 0, "system": "List the bugs first."}
    assert reviewer.description == "reviews code"
    assert terse.model == "m2" and terse.options == reviewer.options
    assert terse.headers == {"X-Team": "blue", "X-Tone": "terse"}
    assert terse.description == ""  # a description says what an agent is: it is not inherited
    assert agents["local"].options == {"max_tokens": 10, "temperature": 0.7}  # the base is unchanged
