"""An incremental decoder of HTTP/1.1 chunked transfer coding.

Why it exists: ``http.client`` hands out at most one chunk per ``read1`` call,
and streaming servers send one chunk per event, so a fast stream costs one
Python-level read (with urllib3's bookkeeping) per token. Reading whatever the
socket has and de-chunking it here turns 50,000 reads into a few dozen (see
``docs/decisions.md``). Latency is unchanged: a read returns as soon as any
bytes arrive.
"""

from __future__ import annotations

from aish import MalformedEvent

_MAX_SIZE_LINE = 4096


class Dechunker:
    """Feed raw body bytes; get the payload bytes back. ``done`` after the last chunk."""

    __slots__ = ("_buf", "_left", "_need_crlf", "done")

    def __init__(self) -> None:
        self._buf = b""
        self._left = 0  # payload bytes still due in the current chunk
        self._need_crlf = False  # the CRLF after a chunk's data is due
        self.done = False

    def feed(self, data: bytes) -> bytes:
        if self.done:
            return b""
        buf = self._buf + data if self._buf else data
        out: list[bytes] = []
        pos, end = 0, len(buf)
        while pos < end:
            if self._left:
                take = min(self._left, end - pos)
                out.append(buf[pos : pos + take])
                pos += take
                self._left -= take
                if self._left == 0:
                    self._need_crlf = True
                continue
            if self._need_crlf:
                if end - pos < 2:
                    break
                pos += 2  # tolerate a lone LF: servers that get CRLF wrong are rare but real
                self._need_crlf = False
                continue
            nl = buf.find(b"\n", pos)
            if nl == -1:
                if end - pos > _MAX_SIZE_LINE:
                    raise MalformedEvent("invalid chunked encoding: chunk size line too long")
                break
            line = buf[pos:nl].split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
                if size < 0 or line[:1] in (b"+", b"-"):
                    raise ValueError(line)
            except ValueError:
                raise MalformedEvent(f"invalid chunked encoding: bad chunk size {line[:20]!r}") from None
            pos = nl + 1
            if size == 0:
                self.done = True  # trailers, if any, are not needed
                pos = end
                break
            self._left = size
        self._buf = buf[pos:] if pos < end else b""
        return b"".join(out) if len(out) != 1 else out[0]
