"""aish plugin: the ``text`` codec, for the simplest event-stream servers."""

from __future__ import annotations

from aish import AgentConfig, Codec, RegisterCodec, hookimpl


def _make_codec(agent: AgentConfig) -> Codec:
    from aish_text.codec import TextCodec

    return TextCodec(agent)


@hookimpl
def aish_register_codecs(register: RegisterCodec) -> None:
    register("text", _make_codec, description="plain text: the input is the body, each event's data is text")
