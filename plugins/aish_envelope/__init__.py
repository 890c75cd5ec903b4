"""aish plugin: the ``aish-envelope`` codec, which carries the context object explicitly."""

from __future__ import annotations

from aish import AgentConfig, Codec, RegisterCodec, hookimpl


def _make_codec(agent: AgentConfig) -> Codec:
    from aish_envelope.codec import EnvelopeCodec

    return EnvelopeCodec(agent)


@hookimpl
def aish_register_codecs(register: RegisterCodec) -> None:
    register(
        "aish-envelope",
        _make_codec,
        description="aish's own JSON envelope: input, context object and options; text/end/error events",
    )
