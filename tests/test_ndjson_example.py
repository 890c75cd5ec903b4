"""``examples/aish-ndjson``: a third-party transport, installed, found, and held to the contract suites."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from example_dists import example_installed

from aish import AgentConfig, Codec, Transport
from aish.contract_tests.codec import CodecContract
from aish.contract_tests.transport import TransportContract
from aish_refserver import NDJSONRefServer, RefServer

DIST = "aish-ndjson"


@pytest.fixture(scope="module", autouse=True)
def installed() -> Iterator[None]:
    with example_installed(DIST):
        yield


def _module(name: str) -> Any:
    return importlib.import_module(name)


def aish(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISH_")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return subprocess.run(
        [sys.executable, "-m", "aish", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_found_as_an_installed_plugin(tmp_path: Path) -> None:
    result = aish(tmp_path, "plugins")
    assert result.returncode == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if line.startswith("ndjson ")]
    assert row.split()[1:4] == ["aish-ndjson", "0.1.0", "loaded"]
    assert "transport ndjson" in row and "codec ndjson-chat" in row


def test_an_agent_answers_over_ndjson(tmp_path: Path) -> None:
    with NDJSONRefServer(pace=0.0) as server:
        config = tmp_path / "aish.toml"
        config.write_text(
            f'[agents.tek]\ntransport = "ndjson"\ncodec = "ndjson-chat"\nurl = "{server.ndjson_url}"\n'
            'model = "athena"\n[agents.tek.options]\naish_tokens = 12\n',
            encoding="utf-8",
        )
        result = aish(tmp_path, "--config", str(config), "-c", "tek tell me about owls")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("Athena (offline demo):") and result.stderr == ""
        assert server.requests[0].body["type"] == "chat"
        assert server.requests[0].body["content"] == "tell me about owls"


class TestNDJSONTransport(TransportContract):
    transport = "ndjson"
    codec = "ndjson-chat"

    @pytest.fixture
    def server(self) -> Iterator[RefServer]:
        with NDJSONRefServer(pace=0.0) as srv:
            yield srv

    def make_transport(self, agent: AgentConfig) -> Transport:
        return _module("aish_ndjson.transport").NDJSONTransport(agent)  # type: ignore[no-any-return]

    def make_codec(self, agent: AgentConfig) -> Codec:
        return _module("aish_ndjson.codec").NDJSONCodec(agent)  # type: ignore[no-any-return]

    def url(self, server: RefServer) -> str:
        assert isinstance(server, NDJSONRefServer)
        url: str = server.ndjson_url
        return url


class TestNDJSONCodec(CodecContract):
    def make_codec(self, agent: AgentConfig) -> Codec:
        return _module("aish_ndjson.codec").NDJSONCodec(agent)  # type: ignore[no-any-return]
