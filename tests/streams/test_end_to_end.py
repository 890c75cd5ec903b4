"""Faulted streams through the whole of aish: configuration, plugins (heartbeat included), runner, CLI."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aish.config import load_config
from aish.errors import ConfigError
from aish.testing import Outcome, run_aish
from aish_refserver import RefServer, plan_reply


@pytest.fixture
def server() -> Iterator[RefServer]:
    with RefServer(pace=0.0) as srv:
        yield srv


def config(url: str, fault: str = "", tokens: int = 30, **keys: object) -> str:
    """An agent ``bot`` whose requests ask the reference server for ``fault`` (a TOML inline table)."""
    keys.setdefault("backoff_initial", 0.01)
    lines = [
        "[settings]",
        "plugin_agents = false",
        "[agents.bot]",
        'transport = "sse"',
        'codec = "openai-chat"',
        f'url = "{url}"',
        'model = "athena"',
        *(f"{k} = {str(v).lower() if isinstance(v, bool) else v}" for k, v in keys.items()),
        "[agents.bot.options]",
        f"aish_tokens = {tokens}",
    ]
    if fault:
        lines.append(f"aish_fault = {{ {fault} }}")
    return "\n".join(lines) + "\n"


def answer(tokens: int = 30, prompt: str = "owls") -> str:
    return plan_reply("athena", prompt, exact_tokens=tokens).text()


def test_a_dropped_answer_is_resumed_and_printed_exactly_once(
    server: RefServer, run_line: Callable[..., Outcome]
) -> None:
    outcome = run_line("bot owls", config(server.base_url, "drop_after = 6, resume = true, retry = 10"))
    assert (outcome.status, outcome.err) == (0, "")
    assert outcome.out == answer() + "\n"
    assert sum(1 for r in server.requests if r.header("Last-Event-ID")) == 5


def test_a_dropped_answer_without_resume_keeps_the_partial_and_says_so(
    server: RefServer, run_line: Callable[..., Outcome]
) -> None:
    outcome = run_line("bot owls", config(server.base_url, "drop_after = 6"))
    assert outcome.status == 4
    partial = outcome.out.removesuffix("\n")  # its line ended, as any answer's off a terminal
    assert answer().startswith(partial) and partial and outcome.out == partial + "\n"
    assert outcome.err == (
        f"aish: bot: connection lost: {server.base_url}/chat/completions closed the connection mid-answer; "
        "not resumed: the server sends no event ids (partial answer kept)\n"
    )


def test_the_heartbeat_plugin_guards_runs(server: RefServer, run_line: Callable[..., Outcome]) -> None:
    """A byte-level drip that never finishes an event: only the watchdog can call it dead."""
    text = config(server.base_url, "drip = 0.05, drip_bytes = 1", tokens=3, idle_timeout=0.4)
    started = time.monotonic()
    outcome = run_line("bot owls", text)
    assert time.monotonic() - started < 1.5
    assert outcome.status == 4
    assert outcome.err == f"aish: bot: {server.base_url}/chat/completions: nothing arrived for 0.4s\n"


def test_rate_limits_are_waited_out(server: RefServer, run_line: Callable[..., Outcome]) -> None:
    fault = 'status = 429, retry_after = 0.1, times = 2, key = "e2e"'
    outcome = run_line("bot owls", config(server.base_url, fault, backoff_max=1))
    assert (outcome.status, outcome.out) == (0, answer() + "\n")


def test_an_anthropic_agent_and_a_text_agent_from_the_configuration(
    server: RefServer, run_line: Callable[..., Outcome]
) -> None:
    text = f"""
[settings]
plugin_agents = false
[agents.claude]
transport = "sse"
codec = "anthropic-messages"
url = "{server.base_url}"
model = "hermes"
[agents.claude.options]
max_tokens = 5
[agents.plain]
transport = "sse"
codec = "text"
url = "{server.base_url}/text/echo"
[agents.plain.options]
context = "none"
"""
    outcome = run_line("claude owls | plain", text)
    assert outcome.status == 0, outcome.err
    assert outcome.out == plan_reply("hermes", "owls", max_tokens=5).text() + "\n"


def test_the_cli_exit_status_and_one_line_error(server: RefServer, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(config(server.base_url, "status = 503", max_retries=1))
    done = run_aish("--config", str(path), "-c", "bot owls", timeout=30)
    assert done.returncode == 5
    assert done.stderr == (
        f"aish: bot: server error: HTTP 503 from {server.base_url}/chat/completions: "
        "injected fault: HTTP 503; gave up after 1 retry\n"
    )


# --------------------------------------------------------------- configuration


def test_retry_keys_are_read(write_config: Callable[[str], Path]) -> None:
    text = config("http://h/v1", max_retries=0, backoff_initial=2, backoff_max=9.5, resume=False)
    agent = load_config(str(write_config(text))).agents["bot"]
    assert (agent.max_retries, agent.backoff_initial, agent.backoff_max, agent.resume) == (0, 2.0, 9.5, False)
    assert load_config(str(write_config(config("http://h/v1")))).agents["bot"].max_retries == 3


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("max_retries", "-1", "max_retries: expected a whole number >= 0"),
        ("max_retries", "1.5", "max_retries: expected a whole number >= 0"),
        ("backoff_max", "0", "backoff_max: expected a positive number of seconds"),
        ("backoff_initial", '"fast"', "backoff_initial: expected a positive number of seconds"),
        ("resume", '"yes"', "resume: expected bool, got str"),
    ],
)
def test_bad_retry_keys_name_the_agent_and_key(
    write_config: Callable[[str], Path], key: str, value: str, message: str
) -> None:
    text = config("http://h/v1", **{key: value})
    with pytest.raises(ConfigError, match="agent 'bot'") as info:
        load_config(str(write_config(text)))
    assert message in str(info.value)
