"""The transport contract suite (:mod:`aish.contract_tests.transport`) for both built-in transports."""

from __future__ import annotations

from collections.abc import Sequence

from aish import AgentConfig, Codec, StreamExtension, Transport
from aish.contract_tests.transport import TransportContract
from aish_heartbeat.watchdog import LivenessWatchdog
from aish_openai.codec import OpenAIChatCodec
from aish_refserver import RefServer
from aish_sse.transport import SSETransport
from aish_websocket.transport import WebSocketTransport
from aish_wsproto.codec import AishWSCodec


class Watched:
    def extensions(self, agent: AgentConfig) -> Sequence[StreamExtension]:
        return [LivenessWatchdog(agent.idle_timeout)]


class TestSSE(Watched, TransportContract):
    transport = "sse"
    codec = "openai-chat"

    def make_transport(self, agent: AgentConfig) -> Transport:
        return SSETransport(agent)

    def make_codec(self, agent: AgentConfig) -> Codec:
        return OpenAIChatCodec(agent)

    def url(self, server: RefServer) -> str:
        return server.base_url


class TestWebSocket(Watched, TransportContract):
    transport = "websocket"
    codec = "aish-ws"

    def make_transport(self, agent: AgentConfig) -> Transport:
        return WebSocketTransport(agent)

    def make_codec(self, agent: AgentConfig) -> Codec:
        return AishWSCodec(agent)

    def url(self, server: RefServer) -> str:
        return server.ws_url


class TestWebSocketWithoutWatchdog(TestWebSocket):
    """The transport's own read deadlines bound silence when the heartbeat plugin is disabled."""

    def extensions(self, agent: AgentConfig) -> Sequence[StreamExtension]:
        return ()
