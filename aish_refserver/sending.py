"""Sending streamed replies from the request handler: faults, resume, drops.

:class:`ReplySender` is the half of the reference server's request handler
that writes Server-Sent Events (:mod:`.server` routes, this streams). It asks
:mod:`.faults` what to inject, :class:`~.faults.FaultBook` where a resumed
answer continues, and :class:`~.streaming.Streamer` to write.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import struct
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .faults import Faults, parse_faults
from .protocol import ApiError
from .replies import text_reply
from .streaming import Reply, StreamAborted, Streamer

LAST_FRAME = b"0\r\n\r\n"
"""The last chunk of a chunked body."""


def frame(data: bytes) -> bytes:
    """``data`` as one chunk of chunked transfer encoding."""
    return b"%x\r\n%b\r\n" % (len(data), data)


class ReplySender(BaseHTTPRequestHandler):
    """Streams replies; ``self.server.owner`` is the :class:`~.server.RefServer`."""

    server: Any

    def _faults(self, body: Any, raw: bytes) -> Faults:
        """This request's faults; raises the ``status`` fault's error when it is due."""
        field = body.get("aish_fault") if isinstance(body, dict) else None
        faults = parse_faults(field, self.headers.get("X-Aish-Fault"))
        key = hashlib.sha256(self.path.encode() + b"\0" + raw).hexdigest()
        if self.server.owner.faults.should_fail(faults, key):
            status = faults.status or 500
            headers = [] if faults.retry_after is None else [("Retry-After", f"{faults.retry_after:g}")]
            raise ApiError(status, f"injected fault: HTTP {status}", code="injected_fault", headers=headers)
        return faults

    def _text(self, model: str, raw: bytes) -> None:
        """The plain-text endpoint: the body (or ``?q=``) is the prompt, every event's data is text."""
        query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
        faults = self._faults(None, raw)
        reply, pace = text_reply(model, raw.decode("utf-8", "replace") if raw else query.get("q", ""), query)
        self._stream(reply, pace, faults)

    # -- streaming ----------------------------------------------------------

    def _stream(self, reply: Reply, pace: float | None, faults: Faults) -> None:
        """Send ``reply`` as Server-Sent Events, with ``faults``.

        HTTP/1.1 clients get chunked transfer encoding (the connection stays
        usable); HTTP/1.0 clients get a body delimited by closing. With
        ``resume``, a request whose ``Last-Event-ID`` names an event of an
        answer this server started continues that answer after it.
        """
        owner = self.server.owner
        chunked = self.request_version != "HTTP/1.0"
        start, sid = 0, ""
        if faults.tagged:
            point = owner.faults.resume_point(self.headers.get("Last-Event-ID")) if faults.resume else None
            if point is not None:
                sid, start = point
                owner.log_fault("resume")
            else:
                sid = owner.faults.new_answer(reply.total)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        streamer = Streamer(self.wfile.write, frame if chunked else bytes, owner._stopping)
        pace = owner.pace if pace is None else pace
        try:
            if not faults.shaping:
                streamer.plain(reply, pace, end=LAST_FRAME if chunked else b"")
                return
            if not streamer.faulty(reply, pace, faults, start=start, sid=sid):
                self._drop(faults.drop_mode)
                return
        except StreamAborted:
            self.close_connection = True
            return
        if chunked:
            self.wfile.write(LAST_FRAME)

    def _drop(self, mode: str) -> None:
        """Cut the connection mid-answer: FIN (``close``) or RST (``reset``)."""
        self.close_connection = True
        self.server.owner.log_fault("drop")
        with contextlib.suppress(OSError):
            if mode == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_WR)
