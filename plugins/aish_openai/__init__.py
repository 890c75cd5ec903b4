"""aish plugin: the ``openai-chat`` codec, for any OpenAI-compatible chat server."""

from __future__ import annotations

from aish import AgentConfig, Codec, RegisterCodec, hookimpl


def _make_codec(agent: AgentConfig) -> Codec:
    from aish_openai.codec import OpenAIChatCodec

    return OpenAIChatCodec(agent)


@hookimpl
def aish_register_codecs(register: RegisterCodec) -> None:
    register(
        "openai-chat",
        _make_codec,
        description="OpenAI-compatible /chat/completions (OpenAI, llama.cpp, vLLM, Ollama, ...)",
    )
