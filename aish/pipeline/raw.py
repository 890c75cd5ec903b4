"""Bytes as they are: what programs and files pass on, decoded only where text is needed.

A program's output, a file given with ``< FILE`` or ``cat FILE``, is bytes: it
goes on unchanged into the next program (an OS pipe), into ``> FILE`` and to
aish's own output (a file or a pipe), whatever it holds. Only where text is
consumed (an agent, a built-in) or can only be shown as text (a stream with no
bytes under it, a transcript's capture) is it decoded, as UTF-8 with U+FFFD
for the bytes that are not (decision 21).

A byte writer is a callable that gets each piece in turn and ``b""`` once, at
the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, TextIO

from aish.encoding import Utf8Decoder

ByteWriter = Callable[[bytes], object]
"""Gets the bytes piece by piece, then ``b""`` at the end."""
CHUNK = 65536


def takes_bytes(out: TextIO) -> bool:
    """Whether ``out`` has bytes under it (a file, a pipe: a ``TextIOWrapper``'s ``buffer``)."""
    try:
        return getattr(out, "buffer", None) is not None
    except (OSError, ValueError):
        return False


def writer_to(out: TextIO) -> ByteWriter:
    """A byte writer to ``out``: to the bytes under it as they are, flushed at each piece (what
    ``out`` holds of text is flushed first); decoded, when it has none (a ``StringIO``)."""
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        return decoding(out)
    out.flush()

    def write(data: bytes) -> None:
        if data:
            buffer.write(data)
            buffer.flush()

    return write


def decoding(out: TextIO) -> ByteWriter:
    """A byte writer that decodes for a text stream: U+FFFD for bytes that are not UTF-8, silently
    (this is display, not input), a character split between two pieces kept whole."""
    decoder = Utf8Decoder()

    def write(data: bytes) -> None:
        text = decoder.decode(data, final=not data)
        if text:
            out.write(text)
        out.flush()

    return write


class Collected:
    """A program's output kept as the next stage's text (an agent's input): decoded as it arrives,
    with the offset of its first byte that is not UTF-8 for the one warning (:attr:`bad`)."""

    def __init__(self) -> None:
        self._decoder = Utf8Decoder()
        self._pieces: list[str] = []

    def __call__(self, data: bytes) -> None:
        piece = self._decoder.decode(data, final=not data)
        if piece:
            self._pieces.append(piece)

    @property
    def bad(self) -> int | None:
        return self._decoder.bad

    def text(self) -> str:
        return "".join(self._pieces)


def copy(files: list[IO[bytes]], write: Callable[[bytes], object]) -> None:
    """The bytes of ``files``, one after the other, to ``write`` (until it returns False)."""
    for file in files:
        while data := file.read(CHUNK):
            if write(data) is False:
                return
