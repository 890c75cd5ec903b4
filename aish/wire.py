"""Wire-level messages: what a transport reads off the network, before any codec.

A transport turns bytes into these two kinds of item; it knows nothing of
OpenAI, Anthropic or any other dialect. Codecs turn :class:`WireMessage` into
:mod:`aish.events`; the stream layer turns :class:`WireComment` (and every
message) into liveness.
"""

from __future__ import annotations

from aish.records import Record


class WireMessage(Record):
    """One complete message from the peer.

    For Server-Sent Events this is one dispatched event: ``event`` is the event
    type (``"message"`` when the stream gave none), ``data`` the joined data
    lines, ``id`` the last event id in force when it was dispatched (``None``
    when the stream never set one). A WebSocket transport puts a text frame in
    ``data`` and leaves ``event`` as ``"message"``.
    """

    __slots__ = ("data", "event", "id")
    data: str
    event: str
    id: str | None

    def __init__(self, data: str, event: str = "message", id: str | None = None) -> None:
        self.data = data
        self.event = event
        self.id = id


class WireComment(Record):
    """A keep-alive with no content (an SSE comment line such as ``: ping``)."""

    __slots__ = ("text",)
    text: str

    def __init__(self, text: str = "") -> None:
        self.text = text


WireItem = WireMessage | WireComment
