"""The ``keys`` plugin: ``gpt`` and ``claude`` appear when their providers' keys are in the
environment, and talk to the server the SDKs' base-URL variables name (here the reference
server, OpenAI and Anthropic dialects, on 127.0.0.1)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from aish.cli import main
from aish.testing import Outcome, agent_toml
from aish_refserver import RefServer

OPENAI_KEY = "sk-keys-plugin-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-keys-plugin-0123456789abcdef"


def aish(*argv: str) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdin=io.StringIO(), stdout=out, stderr=err)
    return Outcome(status, out.getvalue(), err.getvalue())


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch, refserver: RefServer) -> RefServer:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", refserver.base_url)  # .../v1, as the OpenAI SDK's
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", refserver.base_url.removesuffix("/v1") + "/")  # the host, as the SDK's
    return refserver


def test_no_keys_no_agents(monkeypatch: pytest.MonkeyPatch, demo_url: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")  # empty counts as unset
    listed = aish("agents").out
    assert "gpt" not in listed and "claude" not in listed
    (row,) = [line for line in aish("plugins").out.splitlines() if line.startswith("keys ")]
    assert row.split(None, 3)[3] == "loaded  nothing registered (hooks: aish_register_agents)"  # it says what it does


def test_each_key_brings_its_agent_which_answers(keys: RefServer, demo_url: str) -> None:
    listed = aish("agents").out
    assert f"gpt     sse        openai-chat         gpt-4o-mini        {keys.base_url}" in listed
    assert "OpenAI, key from $OPENAI_API_KEY" in listed and "Anthropic, key from $ANTHROPIC_API_KEY" in listed
    assert OPENAI_KEY not in listed and ANTHROPIC_KEY not in listed
    result = aish("-c", "gpt[-m echo] hello there; claude[-m echo] and you")
    assert (result.status, result.out, result.err) == (0, "hello there\nand you\n", "")
    (openai,) = [r for r in keys.requests if r.path == "/v1/chat/completions"]  # (a /v1/models check may follow)
    (anthropic,) = [r for r in keys.requests if r.path == "/v1/messages"]
    assert openai.header("authorization") == f"Bearer {OPENAI_KEY}" and openai.body["model"] == "echo"
    assert anthropic.header("x-api-key") == ANTHROPIC_KEY and anthropic.body["model"] == "echo"
    shown = aish("history", "show", "last").out + aish("history", "export", "--json").out
    assert OPENAI_KEY not in shown and ANTHROPIC_KEY not in shown and "and you" in shown


def test_the_banner_offers_them_and_the_file_or_settings_win(
    keys: RefServer, write_config: Callable[[str], Path], demo_url: str
) -> None:
    from aish.app import build_app
    from aish.config import load_config
    from aish.shell_start import banner

    assert "Try: claude hello" in banner(build_app(load_config(str(write_config("")))))
    mine = write_config(agent_toml("gpt", keys.base_url, model="echo"))
    assert "gpt     sse        openai-chat         echo " in aish("--config", str(mine), "agents").out
    hidden = write_config("[settings]\nplugin_agents = false\n")
    assert aish("--config", str(hidden), "agents").out.count("\n") == 1  # the header alone
    assert "gpt" not in aish("--config", str(hidden), "agents").out
