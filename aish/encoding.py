"""Text that is not UTF-8: carried, never fatal (decision 21).

aish reads text from outside as UTF-8. A byte that is not valid UTF-8 (in
piped input, a script file, the command line) becomes U+FFFD, the replacement
character, and aish says so once on stderr, naming the source and the first
bad byte's offset. Text from a server with a lone surrogate (a JSON ``\\udXXX``
escape) gets the same treatment, silently. So every string inside aish is
valid Unicode: it can be sent as JSON, stored in any history backend and
written to any terminal.
"""

from __future__ import annotations

import codecs
import functools
import re
from typing import BinaryIO, TextIO

REPLACEMENT = "\ufffd"


@functools.cache
def _surrogate() -> re.Pattern[str]:
    """Compiled on first use (~0.3 ms): ASCII text, nearly all of it, never needs it."""
    return re.compile("[\ud800-\udfff]")


def decode(data: bytes) -> tuple[str, int | None]:
    """``data`` as UTF-8 with bad bytes replaced; and the offset of the first bad byte (None: clean)."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return data.decode("utf-8", "replace"), exc.start


def clean(text: str) -> str:
    """``text`` with every lone surrogate (an undecodable byte Python carried along) as U+FFFD."""
    if text.isascii():  # nearly every streamed token: no regex
        return text
    surrogate = _surrogate()
    return surrogate.sub(REPLACEMENT, text) if surrogate.search(text) else text


def first_bad(text: str) -> int | None:
    """The UTF-8 byte offset of the first undecodable byte Python carried in ``text`` (None: clean)."""
    if text.isascii():
        return None
    match = _surrogate().search(text)
    if match is None:
        return None
    return len(text[: match.start()].encode("utf-8"))


READ_SIZE = 1 << 18
"""Bytes read and decoded at a time by :func:`read_text`."""


def read_text(stream: TextIO) -> tuple[str, int | None]:
    """Everything on ``stream`` (its bytes when it has them, see :func:`read_decoded`)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        whole = stream.read()
        return clean(whole), first_bad(whole)
    return read_decoded(buffer)


def read_decoded(buffer: BinaryIO) -> tuple[str, int | None]:
    """Everything on a binary stream, decoded as :func:`decode` does (U+FFFD, the first bad byte's offset).

    The bytes are read and decoded :data:`READ_SIZE` at a time, and the text
    grows in place: never all the bytes and all the text at once, which with
    20 MB piped in was 20 MB more at the peak (decision 27). ``text += piece``
    on a local that holds the only reference is CPython's in-place append
    (its specialised ``BINARY_OP``, once the loop has run 8 times: hence
    small reads, and ``while True`` rather than ``while chunk := ...``, whose
    backward jump never warms the code up); the text then grows by
    ``realloc``. A text that turns non-ASCII (or wider) is copied once at
    that point.
    """
    decoder = Utf8Decoder()
    text = ""
    while True:
        chunk = buffer.read(READ_SIZE)
        final = not chunk
        text += decoder.decode(chunk, final)
        if final:
            return text, decoder.bad


class Utf8Decoder:
    """UTF-8 decoded piece by piece as :func:`decode` decodes it whole: U+FFFD for each bad byte,
    and :attr:`bad`, the offset of the first (None: clean so far)."""

    def __init__(self) -> None:
        self._decoder = _utf8("strict")
        self._seen = 0  # bytes given to the decoder before this chunk
        self.bad: int | None = None

    def decode(self, chunk: bytes, final: bool = False) -> str:
        try:
            piece = self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:  # the first bad byte: from here on, U+FFFD
            pending = self._decoder.getstate()[0]
            self.bad = self._seen - len(pending) + exc.start
            self._decoder = _utf8("replace")
            self._decoder.setstate((pending, 0))
            piece = self._decoder.decode(chunk, final)
        self._seen += len(chunk)
        return piece


def _utf8(errors: str) -> codecs.IncrementalDecoder:
    return codecs.getincrementaldecoder("utf-8")(errors)


def notice(source: str, offset: int | None, err: TextIO) -> None:
    """The one line saying that ``source`` was not UTF-8 (nothing when ``offset`` is None)."""
    if offset is not None:
        from aish.wordwrap import say  # a warning's path only

        say(err, f"aish: warning: {source} is not UTF-8 (first bad byte at offset {offset}); shown as U+FFFD")
        err.flush()


__all__ = ["REPLACEMENT", "Utf8Decoder", "clean", "decode", "first_bad", "notice", "read_decoded", "read_text"]
