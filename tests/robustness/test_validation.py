"""Validation at the boundary: a bad config value is one line naming file, agent and key,
and a header that could split a request never reaches a transport."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aish.config import load_config
from aish.errors import ConfigError
from aish.testing import run_aish

BASE = '[agents.bot]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "http://127.0.0.1:1/v1"\n'
NESTED = "[agents.bot.options]\nx = " + "[" * 5000 + "]" * 5000 + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BASE + "idle_timeout = nan\n", "agent 'bot': idle_timeout: expected a positive number of seconds"),
        (BASE + "connect_timeout = inf\n", "agent 'bot': connect_timeout: expected a positive number of seconds"),
        (BASE + "backoff_max = inf\n", "agent 'bot': backoff_max: expected a positive number of seconds"),
        (BASE + "backoff_initial = 1e300\n", "agent 'bot': backoff_initial: expected a positive number of seconds"),
        (BASE + "max_retries = 99999999999\n", "agent 'bot': max_retries: expected a whole number >= 0"),
        (BASE + "[agents.bot.options]\nwhen = 1979-05-27T07:32:00Z\n", "options: when: a datetime cannot be sent"),
        (BASE + "[agents.bot.options]\nt = 07:32:00\n", "options: t: a time cannot be sent"),
        (BASE + "[agents.bot.options]\nx = [1, nan]\n", "options: x[1]: nan is not a finite number"),
        (BASE + "[agents.bot.options]\nx = " + "[" * 40 + "]" * 40 + "\n", "options: x" + "[0]" * 32),
        (NESTED, "invalid TOML: arrays or tables nested too deeply"),
        (BASE.replace("1/v1", "99999/v1"), "agent 'bot': url: the port must be a number from 1 to 65535"),
        (BASE.replace("1/v1", "0/v1"), "agent 'bot': url: the port must be a number from 1 to 65535"),
        (BASE.replace("1/v1", "x/v1"), "agent 'bot': url: the port must be a number from 1 to 65535"),
        (BASE.replace("http://127.0.0.1:1/v1", "/v1"), "agent 'bot': url: expected an absolute URL"),
        (BASE.replace("1/v1", "1/v1\\r\\nHost: evil"), "agent 'bot': url: a URL may not hold spaces or control"),
        (BASE.replace("http://127.0.0.1", "http://[::1"), "agent 'bot': url: not a URL"),
        (BASE + 'headers = { "Bad Name:" = "v" }\n', "agent 'bot': headers: header 'Bad Name:': a header name"),
        (BASE + 'headers = { X-A = "v\\r\\nX-Injected: 1" }\n', "headers: header 'X-A': a header value may not"),
        (BASE + 'headers = { X-A = "v\\u0000" }\n', "headers: header 'X-A': a header value may not"),
        (BASE + 'api_key_env = "A=B"\n', "agent 'bot': api_key_env: expected an environment variable name"),
    ],
)
def test_bad_values_are_one_line_naming_file_agent_and_key(
    write_config: Callable[[str], Path], text: str, expected: str
) -> None:
    path = write_config(text)
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: ") and expected in message, message
    assert "\n" not in message and len(message) < 300


def test_a_file_that_is_not_utf8_names_the_byte_and_its_offset(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[settings]\nrenderer = "caf\xe9"\n')
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    assert str(info.value) == f"{path}: not UTF-8: byte 0xe9 at offset 26 (line 2)"


def test_good_values_at_the_limits_load(write_config: Callable[[str], Path]) -> None:
    text = BASE.replace("1/v1", "65535/v1") + "idle_timeout = 86400\nmax_retries = 0\n"
    text += 'headers = { "X-Tab_ok.~" = "a\\tb" }\n[agents.bot.options]\nx = [{ y = 1.5 }]\n'
    agent = load_config(str(write_config(text))).agents["bot"]
    assert agent.idle_timeout == 86400.0 and agent.url.endswith(":65535/v1")
    assert agent.headers == {"X-Tab_ok.~": "a\tb"}


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A listening socket that records whether anybody connected."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.settimeout(0.2)
        yield sock


def _nobody_connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except TimeoutError:
        return True
    conn.close()
    return False


@pytest.mark.parametrize(
    ("transport", "codec", "scheme"),
    [("sse", "openai-chat", "http"), ("websocket", "aish-ws", "ws"), ("sse", "anthropic-messages", "http")],
)
def test_a_key_holding_crlf_never_reaches_a_transport(
    write_config: Callable[[str], Path], listener: socket.socket, transport: str, codec: str, scheme: str
) -> None:
    port = listener.getsockname()[1]
    config = write_config(
        f'[agents.bot]\ntransport = "{transport}"\ncodec = "{codec}"\nurl = "{scheme}://127.0.0.1:{port}/v1"\n'
        'model = "m"\napi_key_env = "BOT_KEY"\n'
    )
    result = run_aish("--config", str(config), "-c", "bot hi", env={"BOT_KEY": "sk-secret\r\nX-Injected: 1"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert "a header value may not hold CR, LF" in result.stderr and "agent 'bot'" in result.stderr
    assert "sk-secret" not in result.stderr
    assert _nobody_connected(listener)
