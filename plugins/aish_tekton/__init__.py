"""aish plugin: the ``tekton-rhetor`` codec, for Tekton's Rhetor specialist streams."""

from __future__ import annotations

from aish import AgentConfig, Codec, RegisterCodec, hookimpl


def _make_codec(agent: AgentConfig) -> Codec:
    from aish_tekton.codec import RhetorCodec

    return RhetorCodec(agent)


@hookimpl
def aish_register_codecs(register: RegisterCodec) -> None:
    register(
        "tekton-rhetor",
        _make_codec,
        description="Tekton Rhetor: POST {url}/api/chat/{specialist}/stream, chunk/complete/error events",
    )
