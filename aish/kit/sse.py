"""Incremental parser for the WHATWG "event stream interpretation" (Server-Sent Events).

The rules are those of the HTML standard, section "Server-sent events", applied
to bytes as they arrive from the network:

* lines end with CRLF, LF or CR, freely mixed; a CR ending one chunk and an LF
  starting the next are one line ending;
* one UTF-8 BOM at the very start of the stream is dropped (it may arrive split);
* text is UTF-8, invalid bytes become U+FFFD; decoding happens per field value,
  so a character split across chunks decodes correctly;
* a blank line dispatches the event; an event still unterminated when the
  stream ends is discarded.

One extension: comment lines (``: ping``) are returned as :class:`WireComment`
so that the stream layer can treat them as heartbeats; the spec ignores them.

Everything runs on ``bytes``: chunks are split on ``b"\\n"`` with C-level
methods (CR and CRLF are first rewritten to LF, only when the chunk holds a CR),
and a data line costs one slice and one list append. Data lines are joined and
decoded once, when the event is dispatched.

One limit: an event held while it is incomplete (its data lines and the line
still open) may not grow past ``max_event`` bytes (:data:`MAX_EVENT_BYTES`, 16
MiB by default): a server sending an endless line would otherwise hold all of
it in memory. :meth:`SSEParser.feed` raises :class:`aish.errors.EventTooLarge`
then. Only an event that goes on into the next read is counted, each of its
lines once, so an event that arrives whole in one read costs nothing more.
"""

from __future__ import annotations

from aish.wire import WireComment, WireMessage

__all__ = ["SSEParser"]

_BOM = b"\xef\xbb\xbf"
MAX_EVENT_BYTES = 16 << 20
"""The most an unfinished event may hold (its data lines and its open line), in bytes."""


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


class SSEParser:
    """Incremental WHATWG event-stream parser. Feed it bytes as they arrive.

    :meth:`feed` returns the messages and comments completed by the chunk, in
    stream order. :meth:`close` ends the stream: a partial line or an event
    without its blank line is discarded, as the spec requires. The parser can
    then be fed a new stream (a reconnection): the BOM is looked for again and
    ``last_event_id`` and ``retry`` carry over.
    """

    __slots__ = (
        "_counted",
        "_cr",
        "_data",
        "_event",
        "_head",
        "_held",
        "_id",
        "_open",
        "_tail",
        "last_event_id",
        "max_event",
        "retry",
    )

    last_event_id: str
    retry: int | None

    def __init__(self, last_event_id: str = "", *, max_event: int = MAX_EVENT_BYTES) -> None:
        self.last_event_id = last_event_id  # the spec's "last event ID string" (kept across reconnections)
        self.retry = None  # reconnection time in ms, from the last valid ``retry:``
        # start of the stream while a BOM is still possible, None once decided
        self._head: bytes | None = b""
        # the previous chunk ended with CR: a leading LF belongs to that line end
        self._cr = False
        self._tail: list[bytes] = []  # pieces of the current, not yet terminated, line
        self._data: list[bytes] = []  # data buffer, one entry per ``data`` line
        self._event = ""  # event type buffer
        self._id = last_event_id  # last event ID buffer
        self.max_event = max_event
        self._held = 0  # bytes of the unfinished event's data lines (the first ``_counted`` of them)
        self._counted = 0
        self._open = 0  # bytes of the line not ended yet

    def feed(self, chunk: bytes) -> list[WireMessage | WireComment]:
        """Parse the next piece of the stream; return what it completed."""
        if self._head is not None:
            chunk = self._head + chunk
            if len(chunk) < 3 and _BOM.startswith(chunk):
                self._head = chunk  # could still be a BOM: wait for more bytes
                return []
            self._head = None
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        if self._cr and chunk:
            self._cr = False
            if chunk[0] == 10:  # LF completing a CRLF split across chunks
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._cr = chunk[-1] == 13
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if b"\n" not in chunk:
            if chunk:
                self._tail.append(chunk)
                self._open += len(chunk)
                if self._held + self._open > self.max_event:
                    self._too_large()
            return []
        tail = self._tail
        if tail:
            tail.append(chunk)
            chunk = b"".join(tail)
            tail.clear()
        lines = chunk.split(b"\n")
        last = lines.pop()
        out = self._lines(lines)
        if last:
            tail.append(last)
        self._open = len(last)
        if self._data:  # an event goes on into the next read: count what it holds
            self._count(lines)
        else:
            self._held = self._counted = 0
        if self._held + self._open > self.max_event:
            self._too_large()
        return out

    def _count(self, lines: list[bytes]) -> None:
        """Update :attr:`_held` to the bytes of the unfinished event's data lines, counting each line once."""
        data = self._data
        if b"" in lines:  # an event ended in this read: the one still open began in it
            self._held = sum(map(len, data))
        else:
            self._held += sum(map(len, data[self._counted :]))
        self._counted = len(data)

    def _too_large(self) -> None:
        from aish.errors import EventTooLarge

        limit = self.max_event
        size = f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit:,} bytes"
        self.close()
        raise EventTooLarge(f"the server sent more than {size} without ending an event")

    def close(self) -> list[WireMessage | WireComment]:
        """End of stream: discard any partial line and undispatched event.

        Every complete line was already handled by :meth:`feed`, so nothing is
        ever returned; the list keeps the signature symmetrical with ``feed``.
        """
        self._head = b""
        self._cr = False
        self._tail.clear()
        self._data.clear()
        self._held = self._counted = self._open = 0
        self._event = ""
        self._id = self.last_event_id
        return []

    def _lines(self, lines: list[bytes]) -> list[WireMessage | WireComment]:
        out: list[WireMessage | WireComment] = []
        data = self._data
        for line in lines:
            if not line:  # blank line: dispatch the event
                self.last_event_id = ident = self._id
                if data:
                    out.append(
                        WireMessage(
                            b"\n".join(data).decode("utf-8", "replace"),
                            self._event or "message",
                            ident or None,
                        )
                    )
                    data.clear()
                self._event = ""
                continue
            if line[:6] == b"data: ":  # the common case, first
                data.append(line[6:])
                continue
            colon = line.find(b":")
            if colon == 0:
                text = line[2:] if line[1:2] == b" " else line[1:]
                out.append(WireComment(_text(text)))
                continue
            if colon < 0:
                field, value = line, b""
            else:
                field = line[:colon]
                value = line[colon + 1 :]
                if value[:1] == b" ":
                    value = value[1:]
            if field == b"data":
                data.append(value)
            elif field == b"event":
                self._event = _text(value)
            elif field == b"id":
                if b"\0" not in value:
                    self._id = _text(value)
            elif field == b"retry" and value.isdigit() and len(value) < 20:  # ASCII digits only
                self.retry = int(value)
        return out
