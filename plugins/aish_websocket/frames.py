"""Server-to-client WebSocket frames (RFC 6455 section 5), parsed from whatever one read returned.

websocket-client reads a frame with two system calls (its 2-byte header, then
the payload) and validates text byte by byte in Python: on a fast stream that
was three quarters of the client's CPU time (decision 15). :class:`FrameReader` is fed the
bytes of one ``recv`` and returns every message they complete, so one read of
a fast stream is one batch. Fragmented messages are joined; the checks are
websocket-client's, with its messages.
"""

from __future__ import annotations

from websocket import ABNF

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
_CONT = 0x0
_OPCODES = frozenset((_CONT, TEXT, BINARY, CLOSE, PING, PONG))
_VALID_CLOSE = frozenset((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014))


class FrameError(Exception):
    """The peer broke the framing rules (websocket-client's ``WebSocketProtocolException``)."""


class FrameReader:
    """Incremental parser: :meth:`feed` returns the ``(opcode, payload)`` of each complete message.

    Control frames (close, ping, pong) come out as they arrive, also in the
    middle of a fragmented message. A text payload is returned as bytes: the
    caller decodes it (``bytes.decode`` validates UTF-8 in C).
    """

    __slots__ = ("_chunks", "_fragment_op", "_fragments", "_need", "_size")

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._need = 2
        """Bytes needed before parsing can make progress (a header, or a whole frame)."""
        self._fragments: list[bytes] = []
        self._fragment_op = 0

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a returned message."""
        return self._size + sum(map(len, self._fragments))

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        chunks = self._chunks
        chunks.append(data)
        self._size += len(data)
        if self._size < self._need:
            return []
        buf = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        out: list[tuple[int, bytes]] = []
        pos, end = 0, len(buf)
        need = 2
        while end - pos >= 2:
            b1, b2 = buf[pos], buf[pos + 1]
            length = b2 & 0x7F
            head = 2
            if length == 126:
                head = 4
                if end - pos < 4:
                    need = 4
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
            elif length == 127:
                head = 10
                if end - pos < 10:
                    need = 10
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            masked = b2 & 0x80
            if masked:
                head += 4
            if end - pos < head + length:
                need = head + length
                break
            payload = buf[pos + head : pos + head + length]
            if masked:  # servers must not mask; websocket-client accepts it, so do we
                payload = ABNF.mask(buf[pos + head - 4 : pos + head], payload)
            pos += head + length
            if b1 == 0x81 and not self._fragment_op:  # the hot path: a whole text message
                out.append((TEXT, payload))
                continue
            message = self._frame(b1, payload)
            if message is not None:
                out.append(message)
        rest = buf[pos:] if pos < end else b""
        self._chunks = [rest] if rest else []
        self._size = len(rest)
        self._need = need
        return out

    def _frame(self, b1: int, payload: bytes) -> tuple[int, bytes] | None:
        fin, opcode = b1 & 0x80, b1 & 0x0F
        if b1 & 0x70:
            raise FrameError("rsv is not implemented, yet")
        if opcode not in _OPCODES:
            raise FrameError(f"Invalid opcode {opcode!r}")
        if opcode >= CLOSE:
            _check_control(opcode, fin, payload)
            return opcode, payload
        if (opcode == _CONT) != bool(self._fragment_op):
            raise FrameError("Illegal frame")
        if opcode != _CONT:
            self._fragment_op = opcode
        self._fragments.append(payload)
        if not fin:
            return None
        whole = b"".join(self._fragments)
        message = self._fragment_op, whole
        self._fragments = []
        self._fragment_op = 0
        return message


def _check_control(opcode: int, fin: int, payload: bytes) -> None:
    if opcode == PING and not fin:
        raise FrameError("Invalid ping frame.")
    if opcode == PING and len(payload) >= 126:
        raise FrameError("Ping message is too long")
    if opcode != CLOSE or not payload:
        return
    if len(payload) == 1 or len(payload) >= 126:
        raise FrameError("Invalid close frame.")
    try:
        payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError("Invalid close frame.") from None
    code = int.from_bytes(payload[:2], "big")
    if code not in _VALID_CLOSE and not 3000 <= code < 5000:
        raise FrameError(f"Invalid close opcode {code!r}")
