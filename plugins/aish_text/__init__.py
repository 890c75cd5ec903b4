"""aish plugin: the ``text`` codec, for the simplest event-stream servers."""

from __future__ import annotations

from typing import Any

from aish import AgentConfig, Codec, hookimpl


def _make_codec(agent: AgentConfig) -> Codec:
    from aish_text.codec import TextCodec

    return TextCodec(agent)


@hookimpl
def aish_register_codecs(register: Any) -> None:
    register("text", _make_codec, description="plain text: the input is the body, each event's data is text")
