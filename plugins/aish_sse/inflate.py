"""Decoding a ``gzip`` or ``deflate`` body as it arrives (imported only when a server compresses)."""

from __future__ import annotations

import zlib

from aish import RemoteError


class Inflater:
    """Decodes a gzip or deflate body as it arrives.

    ``deflate`` is meant to carry a zlib header (RFC 9110), but servers also
    send raw DEFLATE data: like urllib3, the first bytes decide. Concatenated
    gzip members are decoded one after another.
    """

    __slots__ = ("_gzip", "_obj", "_raw_tried", "_seen")

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding != "deflate"
        self._obj = zlib.decompressobj(31 if self._gzip else 15)
        self._raw_tried = False
        self._seen = b""  # deflate: the first bytes, to try again as raw DEFLATE

    def decompress(self, data: bytes) -> bytes:
        try:
            if not self._gzip and not self._raw_tried:
                self._seen += data
            out = bytes(self._obj.decompress(data))
        except zlib.error as exc:
            if self._gzip or self._raw_tried:
                raise RemoteError(f"the server sent a damaged compressed body ({exc})") from None
            self._raw_tried = True  # no zlib header: raw DEFLATE
            self._obj = zlib.decompressobj(-15)
            seen, self._seen = self._seen, b""
            return self.decompress(seen)
        if not self._gzip and not self._raw_tried and out:
            self._raw_tried, self._seen = True, b""  # the header was right: settled
        if self._gzip and self._obj.eof and self._obj.unused_data:
            rest = self._obj.unused_data
            self._obj = zlib.decompressobj(31)
            out += self.decompress(rest)
        return out

    def flush(self) -> bytes:
        return bytes(self._obj.flush())
