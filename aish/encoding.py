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

import re
from typing import TextIO

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


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
    return _SURROGATE.sub(REPLACEMENT, text) if _SURROGATE.search(text) else text


def first_bad(text: str) -> int | None:
    """The UTF-8 byte offset of the first undecodable byte Python carried in ``text`` (None: clean)."""
    match = _SURROGATE.search(text)
    if match is None:
        return None
    return len(text[: match.start()].encode("utf-8"))


def read_text(stream: TextIO) -> tuple[str, int | None]:
    """Everything on ``stream`` (its bytes when it has them), decoded by :func:`decode`."""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        return decode(buffer.read())
    text = stream.read()
    return clean(text), first_bad(text)


def notice(source: str, offset: int | None, err: TextIO) -> None:
    """The one line saying that ``source`` was not UTF-8 (nothing when ``offset`` is None)."""
    if offset is not None:
        err.write(f"aish: warning: {source} is not UTF-8 (first bad byte at offset {offset}); shown as U+FFFD\n")
        err.flush()


__all__ = ["REPLACEMENT", "clean", "decode", "first_bad", "notice", "read_text"]
