"""aish plugin: the ``ndjson`` transport and ``ndjson-chat`` codec (newline-delimited JSON over TCP).

The entry-point module stays cheap: it registers factories, and the transport
and codec modules are imported only when an agent uses them.
"""

from __future__ import annotations

from aish import AgentConfig, Codec, RegisterCodec, RegisterTransport, Transport, hookimpl


def _make_transport(agent: AgentConfig) -> Transport:
    from aish_ndjson.transport import NDJSONTransport

    return NDJSONTransport(agent)


def _make_codec(agent: AgentConfig) -> Codec:
    from aish_ndjson.codec import NDJSONCodec

    return NDJSONCodec(agent)


@hookimpl
def aish_register_transports(register: RegisterTransport) -> None:
    register("ndjson", _make_transport, description="newline-delimited JSON over TCP (tcp://HOST:PORT)")


@hookimpl
def aish_register_codecs(register: RegisterCodec) -> None:
    register("ndjson-chat", _make_codec, description="chat / stream_chunk / stream_end JSON lines (Tekton sockets)")
