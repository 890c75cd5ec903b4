"""The SSE transport's incremental de-chunker."""

from __future__ import annotations

import pytest

from aish import MalformedEvent
from aish_sse.chunked import Dechunker

BODY = b"5\r\nhello\r\n1;ext=1\r\n \r\n10\r\n" + b"x" * 16 + b"\r\n0\r\nTrailer: yes\r\n\r\n"
PAYLOAD = b"hello " + b"x" * 16


def feed_all(pieces: list[bytes]) -> tuple[bytes, bool]:
    d = Dechunker()
    out = b"".join(d.feed(p) for p in pieces)
    return out, d.done


def test_whole_body() -> None:
    assert feed_all([BODY]) == (PAYLOAD, True)


def test_every_single_split_gives_the_same_payload() -> None:
    for cut in range(len(BODY) + 1):
        assert feed_all([BODY[:cut], BODY[cut:]]) == (PAYLOAD, True), cut


def test_byte_by_byte() -> None:
    assert feed_all([BODY[i : i + 1] for i in range(len(BODY))]) == (PAYLOAD, True)


def test_not_done_until_the_last_chunk() -> None:
    d = Dechunker()
    assert d.feed(b"3\r\nabc\r\n") == b"abc"
    assert not d.done
    assert d.feed(b"0\r\n\r\n") == b"" and d.done
    assert d.feed(b"ignored") == b""


def test_uppercase_hex_and_lone_lf() -> None:
    assert feed_all([b"A\nabcdefghij\r\n0\n\n"]) == (b"abcdefghij", True)


@pytest.mark.parametrize("body", [b"zz\r\nabc\r\n", b"\r\n", b"-1\r\n"])
def test_bad_sizes_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedEvent, match="invalid chunked encoding"):
        Dechunker().feed(body)


def test_endless_size_line_is_refused() -> None:
    with pytest.raises(MalformedEvent, match="too long"):
        Dechunker().feed(b"1" * 5000)
