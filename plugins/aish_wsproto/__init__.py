"""aish plugin: the ``aish-ws`` codec, the aish WebSocket protocol (``docs/websocket.md``)."""

from __future__ import annotations

from aish import AgentConfig, Codec, RegisterCodec, hookimpl


def _make_codec(agent: AgentConfig) -> Codec:
    from aish_wsproto.codec import AishWSCodec

    return AishWSCodec(agent)


@hookimpl
def aish_register_codecs(register: RegisterCodec) -> None:
    register(
        "aish-ws",
        _make_codec,
        description="the aish WebSocket protocol: JSON messages, sequence numbers, cancel and resume",
    )
