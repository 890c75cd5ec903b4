"""Stream extensions: cross-cutting behaviour wrapped around every connection of an agent.

Plugins register extension factories with ``aish_register_stream_extensions``;
:meth:`aish.app.App.transport` wraps the agent's transport so that every
connection it opens, reconnections included, passes through each extension
(in name order, the first name innermost). The built-in liveness watchdog
(heartbeat plugin) is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aish.contracts import Connection, Request, StreamExtension, Transport


class ExtendedTransport:
    """A :class:`~aish.contracts.Transport` whose connections are wrapped by extensions.

    Anything else (attributes a test or a plugin reads) is the inner transport's.
    """

    def __init__(self, inner: Transport, extensions: Sequence[StreamExtension]) -> None:
        self.inner = inner
        self.extensions = tuple(extensions)

    def open(self, request: Request) -> Connection:
        conn = self.inner.open(request)
        try:
            for extension in self.extensions:
                conn = extension.wrap(conn, request)
        except BaseException:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"ExtendedTransport({self.inner!r}, {list(self.extensions)!r})"


def with_extensions(transport: Transport, extensions: Sequence[StreamExtension]) -> Transport:
    """``transport`` itself when there is no extension, else an :class:`ExtendedTransport`."""
    return ExtendedTransport(transport, extensions) if extensions else transport
