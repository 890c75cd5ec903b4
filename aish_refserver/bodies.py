"""Reading request bodies (Content-Length or chunked), bounded."""

from __future__ import annotations

from io import BufferedIOBase
from typing import Any

from .protocol import ApiError

MAX_BODY_BYTES = 32 * 1024 * 1024
"""Largest request body accepted (413 beyond it)."""


def read_body(rfile: BufferedIOBase, headers: Any) -> bytes:
    """The request body announced by ``headers`` (an ``email.message.Message``)."""
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        return _read_chunked(rfile)
    length_text = headers.get("Content-Length")
    if length_text is None:
        return b""
    try:
        length = int(length_text)
    except ValueError:
        raise ApiError(400, "Invalid Content-Length.", code="invalid_request") from None
    if length < 0 or length > MAX_BODY_BYTES:
        raise ApiError(413, "Request body too large.", code="request_too_large")
    return rfile.read(length)


def _read_chunked(rfile: BufferedIOBase) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(1024)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ApiError(400, "Invalid chunked body.", code="invalid_request") from None
        total += size
        if total > MAX_BODY_BYTES:
            raise ApiError(413, "Request body too large.", code="request_too_large")
        if size == 0:
            while rfile.readline(1024).strip():
                pass  # trailers
            return b"".join(parts)
        parts.append(rfile.read(size))
        rfile.readline(1024)
