"""aish plugin: the ``sse`` transport, Server-Sent Events over HTTP (aish's own HTTP/1.1 client, on ``socket``)."""

from __future__ import annotations

from aish import hookimpl

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: typing need not be imported to run
if TYPE_CHECKING:
    from aish import AgentConfig, RegisterTransport, Transport


def _make(agent: AgentConfig) -> Transport:
    from aish_sse.transport import SSETransport

    return SSETransport(agent)


@hookimpl
def aish_register_transports(register: RegisterTransport) -> None:
    register("sse", _make, description="Server-Sent Events over HTTP POST (WHATWG parsing)")
