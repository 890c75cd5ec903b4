"""aish plugin: the ``anthropic-messages`` codec, for Anthropic's Messages API."""

from __future__ import annotations

from aish import AgentConfig, Codec, RegisterCodec, hookimpl


def _make_codec(agent: AgentConfig) -> Codec:
    from aish_anthropic.codec import AnthropicMessagesCodec

    return AnthropicMessagesCodec(agent)


@hookimpl
def aish_register_codecs(register: RegisterCodec) -> None:
    register("anthropic-messages", _make_codec, description="Anthropic Messages API (POST {url}/messages)")
