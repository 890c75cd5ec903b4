"""The WebSocket transport's frame reader: every message a read completes, however the bytes were cut."""

from __future__ import annotations

import os
import struct

import pytest
from websocket import ABNF

from aish_websocket.frames import BINARY, CLOSE, PING, PONG, TEXT, FrameError, FrameReader


def frame(payload: bytes, opcode: int = TEXT, *, fin: bool = True, mask: bytes | None = None, rsv: int = 0) -> bytes:
    """One server frame, built by hand (RFC 6455 section 5.2)."""
    size = len(payload)
    b1 = (0x80 if fin else 0) | rsv << 4 | opcode
    bit = 0x80 if mask is not None else 0
    if size < 126:
        head = bytes((b1, bit | size))
    elif size < 65536:
        head = struct.pack("!BBH", b1, bit | 126, size)
    else:
        head = struct.pack("!BBQ", b1, bit | 127, size)
    if mask is None:
        return head + payload
    return head + mask + ABNF.mask(mask, payload)


def stream() -> tuple[bytes, list[tuple[int, bytes]]]:
    """Frames of every shape, and the messages they make."""
    big, huge = b"b" * 300, os.urandom(70000).hex().encode()[:70000]
    frames = [
        frame(b'{"type": "delta", "seq": 0, "text": "hi"}'),
        frame(big),
        frame(huge),
        frame(b"masked \xc3\xa9", mask=b"\x01\x02\x03\x04"),
        frame(b"frag-", fin=False),
        frame(b"ping!", PING),  # control frames may come between fragments
        frame(b"ment", 0x0, fin=False),
        frame(b"ed", 0x0),
        frame(b"", PONG),
        frame(b"\x00\x01\x02", BINARY),
        frame(struct.pack("!H", 1000) + b"bye", CLOSE),
    ]
    messages = [
        (TEXT, b'{"type": "delta", "seq": 0, "text": "hi"}'),
        (TEXT, big),
        (TEXT, huge),
        (TEXT, b"masked \xc3\xa9"),
        (PING, b"ping!"),
        (TEXT, b"frag-mented"),
        (PONG, b""),
        (BINARY, b"\x00\x01\x02"),
        (CLOSE, struct.pack("!H", 1000) + b"bye"),
    ]
    return b"".join(frames), messages


def test_one_read_of_many_frames_returns_every_message() -> None:
    data, messages = stream()
    reader = FrameReader()
    assert reader.feed(data) == messages
    assert reader.buffered == 0


@pytest.mark.parametrize("step", [1, 2, 3, 7, 125, 4096])
def test_messages_cut_anywhere_come_out_whole_and_in_order(step: int) -> None:
    data, messages = stream()
    reader = FrameReader()
    got = []
    for i in range(0, len(data), step):
        got += reader.feed(data[i : i + step])
    assert got == messages
    assert reader.buffered == 0


def test_an_unfinished_frame_is_kept_until_its_last_byte() -> None:
    reader = FrameReader()
    whole = frame(b"x" * 1000)
    assert reader.feed(frame(b"first") + whole[:500]) == [(TEXT, b"first")]
    assert reader.buffered == 500
    assert reader.feed(whole[500:-1]) == []
    assert reader.feed(whole[-1:]) == [(TEXT, b"x" * 1000)]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (frame(b"x", rsv=4), "rsv is not implemented, yet"),
        (frame(b"x", 0x3), "Invalid opcode 3"),
        (frame(b"x", 0x0), "Illegal frame"),
        (frame(b"a", fin=False) + frame(b"b"), "Illegal frame"),
        (frame(b"x", PING, fin=False), "Invalid ping frame."),
        (frame(b"x" * 126, PING), "Ping message is too long"),
        (frame(b"\x03", CLOSE), "Invalid close frame."),
        (frame(struct.pack("!H", 1000) + b"\xff", CLOSE), "Invalid close frame."),
        (frame(struct.pack("!H", 1005), CLOSE), "Invalid close opcode 1005"),
    ],
)  # fmt: skip
def test_broken_framing_is_a_frame_error_with_websocket_clients_words(data: bytes, error: str) -> None:
    with pytest.raises(FrameError) as raised:
        FrameReader().feed(data)
    assert str(raised.value) == error


def test_application_close_codes_are_valid() -> None:
    payload = struct.pack("!H", 4001) + b"no such user"
    assert FrameReader().feed(frame(payload, CLOSE)) == [(CLOSE, payload)]
