"""Wire-level messages: what a transport reads off the network, before any codec.

A transport turns bytes into these two kinds of item; it knows nothing of
OpenAI, Anthropic or any other dialect. Codecs turn :class:`WireMessage` into
:mod:`aish.events`; the stream layer turns :class:`WireComment` (and every
message) into liveness.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class WireMessage:
    """One complete message from the peer.

    For Server-Sent Events this is one dispatched event: ``event`` is the event
    type (``"message"`` when the stream gave none), ``data`` the joined data
    lines, ``id`` the last event id in force when it was dispatched (``None``
    when the stream never set one). A WebSocket transport puts a text frame in
    ``data`` and leaves ``event`` as ``"message"``.
    """

    data: str
    event: str = "message"
    id: str | None = None


@dataclass(slots=True)
class WireComment:
    """A keep-alive with no content (an SSE comment line such as ``: ping``)."""

    text: str = ""


WireItem = WireMessage | WireComment
