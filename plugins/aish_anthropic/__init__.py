"""aish plugin: the ``anthropic-messages`` codec, for Anthropic's Messages API."""

from __future__ import annotations

from typing import Any

from aish import AgentConfig, Codec, hookimpl


def _make_codec(agent: AgentConfig) -> Codec:
    from aish_anthropic.codec import AnthropicMessagesCodec

    return AnthropicMessagesCodec(agent)


@hookimpl
def aish_register_codecs(register: Any) -> None:
    register("anthropic-messages", _make_codec, description="Anthropic Messages API (POST {url}/messages)")
