"""Every built-in codec passes aish's codec contract suite."""

from __future__ import annotations

import pytest

from aish.agents import AgentConfig
from aish.app import build_app
from aish.config import Config
from aish.contract_tests.codec import CodecContract
from aish.contracts import Codec

APP = build_app(Config())
CODECS = sorted(
    name
    for name, reg in APP.components["codec"].items()
    if (APP.host.plugins[reg.plugin].distribution or ("",))[0] == "aish"  # built-ins, not whatever is installed
)


def test_the_builtins_are_all_here() -> None:
    assert {"openai-chat", "anthropic-messages", "text"} <= set(CODECS)


@pytest.mark.parametrize("name", CODECS)
class TestBuiltinCodecs(CodecContract):
    @pytest.fixture(autouse=True)
    def _name(self, name: str) -> None:
        self.name = name

    def make_codec(self, agent: AgentConfig) -> Codec:
        return APP.registration("codec", self.name).factory(agent)  # type: ignore[no-any-return]


class _KeyErrorDecoder:
    def decode(self, message: object) -> list[object]:
        empty: dict[str, object] = {}
        return [empty["text"]]


class _LeakyCodec:
    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    def encode(self, prompt: object) -> object:
        from aish.contracts import Request

        return Request(url=f"http://x/?key={self.agent.api_key()}", body=b"{}")

    def decoder(self) -> _KeyErrorDecoder:
        return _KeyErrorDecoder()

    def error_message(self, status: int, body: str) -> str | None:
        return None


def test_the_suite_fails_a_broken_codec(monkeypatch: pytest.MonkeyPatch) -> None:
    suite = CodecContract()
    monkeypatch.setattr(suite, "make_codec", _LeakyCodec)
    with pytest.raises(KeyError):
        suite.test_junk_ends_in_an_aish_error_or_events("{}", "message")
    with pytest.raises(AssertionError):
        suite.test_encode_builds_a_request_carrying_the_prompt()
    monkeypatch.setenv("AISH_CONTRACT_TEST_KEY", "sk-contract-test-SECRET-4242")
    with pytest.raises(AssertionError):
        suite.test_a_key_goes_only_into_headers_and_secrets(suite.agent(api_key_env="AISH_CONTRACT_TEST_KEY"))
