"""aish plugin: the ``websocket`` transport, bidirectional streams over WebSocket (websocket-client).

The dialect is the codec's (``aish-ws`` is aish's own protocol): the
transport sends the request as the first message and hands on every text
message it receives, while the stream layer retries, resumes and cancels.
"""

from __future__ import annotations

import sys

from aish import AgentConfig, App, RegisterTransport, Transport, hookimpl


def _make(agent: AgentConfig) -> Transport:
    from aish_websocket.transport import WebSocketTransport

    return WebSocketTransport(agent)


@hookimpl
def aish_register_transports(register: RegisterTransport) -> None:
    register("websocket", _make, description="WebSocket (ws://, wss://): pings, cancel and resume messages")


@hookimpl
def aish_shutdown(app: App) -> None:
    """Close the connections kept open for agents with ``session = true`` (if any were made)."""
    pool = sys.modules.get("aish_websocket.pool")  # not imported: no session, nothing to close
    if pool is not None:
        pool.POOL.close()
