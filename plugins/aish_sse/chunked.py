"""An incremental decoder of HTTP/1.1 chunked transfer coding.

Why it exists: ``http.client`` (and urllib3) hand out at most one chunk per ``read1`` call,
and streaming servers send one chunk per event, so a fast stream costs one
Python-level read (with urllib3's bookkeeping) per token. Reading whatever the
socket has and de-chunking it here turns 50,000 reads into a few dozen (see
``docs/decisions.md``). Latency is unchanged: a read returns as soon as any
bytes arrive.
"""

from __future__ import annotations

from itertools import repeat

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
        fast = True  # at the first chunk boundary, try the whole-run path once
        while pos < end:
            if fast and not self._left and not self._need_crlf:
                fast = False
                pos += _whole_chunks(buf[pos:] if pos else buf, out)
                continue
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


def _whole_chunks(buf: bytes, out: list[bytes]) -> int:
    """The complete chunks at the start of ``buf``, de-chunked with C-level calls; how far they go.

    A streaming server's read holds many small ``SIZE CRLF DATA CRLF`` chunks:
    split on CRLF, sizes and data alternate. The split is trusted only when
    every size is plain hex and every piece of data is exactly its size
    long (no CRLF inside the data, no extension, no last chunk); otherwise
    nothing is taken here and :meth:`Dechunker.feed` reads the chunks one by
    one (0 is returned).
    """
    parts = buf.split(b"\r\n")
    pairs = (len(parts) - 1) // 2
    if pairs < 2:
        return 0
    sizes, data = parts[0 : 2 * pairs : 2], parts[1 : 2 * pairs : 2]
    try:
        if list(map(int, sizes, repeat(16))) != list(map(len, data)):
            return 0
    except ValueError:  # an extension, or not a size at all
        return 0
    joined = b"".join(sizes)
    if not joined.isalnum() or not data[-1] or not all(data):  # signs, spaces, "_"; a last (0) chunk
        return 0
    out.append(b"".join(data))
    return sum(map(len, sizes)) + sum(map(len, data)) + 4 * pairs
