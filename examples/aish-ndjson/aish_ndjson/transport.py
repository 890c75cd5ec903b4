"""The ``ndjson`` transport: newline-delimited JSON over TCP (``tcp://HOST:PORT``), one connection per stream.

The request's body (from the codec) is sent as one line, or the codec's resume
line when the stream layer resumes after ``last_event_id``; every line received
is a :class:`aish.WireMessage`. :class:`aish.ByteStreamTransport` does the rest:
connecting, the idle timeout, cancel (with the codec's cancel line), the ids the
codec reads for resume, and the wording of every failure.
"""

from __future__ import annotations

from aish import ByteStreamTransport


class NDJSONTransport(ByteStreamTransport):
    """JSON lines over TCP: the default framing of a byte-stream transport is one message per line."""

    scheme = "tcp"
