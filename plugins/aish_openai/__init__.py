"""aish plugin: the ``openai-chat`` codec, for any OpenAI-compatible chat server."""

from __future__ import annotations

from typing import Any

from aish import AgentConfig, Codec, hookimpl


def _make_codec(agent: AgentConfig) -> Codec:
    from aish_openai.codec import OpenAIChatCodec

    return OpenAIChatCodec(agent)


@hookimpl
def aish_register_codecs(register: Any) -> None:
    register(
        "openai-chat",
        _make_codec,
        description="OpenAI-compatible /chat/completions (OpenAI, llama.cpp, vLLM, Ollama, ...)",
    )
