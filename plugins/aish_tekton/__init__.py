"""aish plugin: the ``tekton-rhetor`` codec, for Tekton's Rhetor specialist streams."""

from __future__ import annotations

from typing import Any

from aish import AgentConfig, Codec, hookimpl


def _make_codec(agent: AgentConfig) -> Codec:
    from aish_tekton.codec import RhetorCodec

    return RhetorCodec(agent)


@hookimpl
def aish_register_codecs(register: Any) -> None:
    register(
        "tekton-rhetor",
        _make_codec,
        description="Tekton Rhetor: POST {url}/api/chat/{specialist}/stream, chunk/complete/error events",
    )
