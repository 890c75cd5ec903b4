"""Text made of other strings, never copied into one (decision 31).

``aish athena summarize < input`` sends the piped input, a blank line and the
stage's words. Joined into one ``str`` that prompt was a second copy of a
20 MB input, held beside the input itself (which the run's record and the
pipeline keep) for the whole stream. A :class:`Joined` holds the pieces
instead, each as (string, end): its first ``end`` characters, so the input
with its trailing blank lines cut is not a copy either. :func:`aish.json_body`
and :func:`aish.json_chunks` write one as a single JSON string, piece by
piece; the history backends store a stage input that begins with the run's
piped input by reference to it; ``str(joined)`` makes the one string, when
something needs it (one copy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

LONG = 1 << 16
"""Text of more characters than this is joined lazily by :func:`join_text`."""
PIECE = 1 << 18
"""Characters per piece of :meth:`Joined.pieces`."""


class Joined:
    """Text made of pieces of other strings: ``"".join(text[:end] for text, end in joined.parts)``.

    Made with strings, ``(string, end)`` pairs (its first ``end`` characters)
    and other ``Joined`` (their parts); ``len()`` is the text's length,
    :meth:`pieces` yields it in slices, ``str()`` joins it (a copy), ``==``
    compares the text (with a ``str`` too).
    """

    __slots__ = ("_length", "parts")

    parts: tuple[tuple[str, int], ...]
    """(string, end) pairs: the text is the first ``end`` characters of each, in order."""

    def __init__(self, *parts: str | tuple[str, int] | Joined) -> None:
        flat: list[tuple[str, int]] = []
        for part in parts:
            if isinstance(part, Joined):
                flat.extend(part.parts)
            elif isinstance(part, str):
                flat.append((part, len(part)))
            else:
                text, end = part
                flat.append((text, max(0, min(end, len(text)))))
        self.parts = tuple((text, end) for text, end in flat if end)
        self._length = sum(end for _, end in self.parts)

    def __len__(self) -> int:
        return self._length

    def __str__(self) -> str:
        if len(self.parts) == 1 and self.parts[0][1] == len(self.parts[0][0]):
            return self.parts[0][0]
        return "".join(self.pieces())

    def __repr__(self) -> str:
        return f"<Joined: {self._length} characters in {len(self.parts)} parts>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str | Joined):
            return NotImplemented
        if len(other) != self._length:
            return False
        other_pieces = other.pieces() if isinstance(other, Joined) else iter((other,))
        return _same(self.pieces(), other_pieces)

    def __hash__(self) -> int:
        return hash(str(self))

    def pieces(self, size: int = PIECE) -> Iterator[str]:
        """The text in slices of at most ``size`` characters (a part of up to ``size`` as it is)."""
        for text, end in self.parts:
            if end == len(text) and end <= size:
                yield text
                continue
            for start in range(0, end, size):
                yield text[start : min(start + size, end)]

    def isascii(self) -> bool:
        return all(piece.isascii() for piece in self.pieces())

    @staticmethod
    def join(separator: str, items: Iterable[str | Joined]) -> str | Joined:
        """``separator.join(items)`` where items may be ``Joined``: a ``str`` when the text is up to
        :data:`LONG` characters (or is one item), else a ``Joined`` of them (see :func:`join_text`)."""
        return join_with(separator, items)

    def after(self, head: str) -> tuple[int, str] | None:
        """When the text begins with a part of ``head`` (that string, or one equal to it) and the rest
        is short: how many characters of ``head`` it keeps, and the rest as a ``str``; else None.

        A history backend stores such a stage input by reference to the run's piped input ``head``.
        """
        if not self.parts:
            return None
        text, end = self.parts[0]
        if (text is not head and text != head) or self._length - end > LONG:
            return None
        return end, "".join(t[:e] for t, e in self.parts[1:])

    def map(self, func: Callable[[str], str]) -> Joined:
        """Each part's whole string through ``func`` (a scrubber masking secrets, say).

        A part that ``func`` returns unchanged stays the same string; a changed
        one keeps what followed its end before (its trailing white space, cut).
        """
        parts: list[tuple[str, int]] = []
        for text, end in self.parts:
            done = func(text)
            if done is text or done == text:
                parts.append((text, end))
            else:
                parts.append((done, max(0, len(done) - (len(text) - end))))
        return Joined(*parts)


def join_text(*parts: str | tuple[str, int] | Joined) -> str | Joined:
    """``parts`` as one text: a ``str`` when it is up to :data:`LONG` characters, else a :class:`Joined`."""
    joined = Joined(*parts)
    return joined if len(joined) > LONG else str(joined)


def join_with(separator: str, items: Iterable[str | Joined]) -> str | Joined:
    """``separator.join(items)`` for items that may be :class:`Joined` (see :func:`join_text`)."""
    parts: list[str | Joined] = []
    for item in items:
        if parts:
            parts.append(separator)
        parts.append(item)
    if len(parts) == 1:
        return parts[0]
    return join_text(*parts)


def text_of(text: str | Joined) -> str:
    """``text`` as one ``str`` (joined, for a ``Joined``: a copy)."""
    return text if isinstance(text, str) else str(text)


def rstripped(text: str) -> tuple[str, int]:
    """``text`` without its trailing white space, as a (string, end) part: ``rstrip`` would copy it."""
    end = len(text)
    while end and text[end - 1].isspace():
        end -= 1
    return text, end


def _same(a: Iterator[str], b: Iterator[str]) -> bool:
    """Do two sequences of pieces spell the same text (their lengths known to be equal)?"""
    left = right = ""
    while True:
        if not left:
            left = next(a, "")
        if not right:
            right = next(b, "")
        if not left or not right:
            return not left and not right
        n = min(len(left), len(right))
        if left[:n] != right[:n]:
            return False
        left, right = left[n:], right[n:]


def pieces_of(text: str | Joined, size: int = PIECE) -> Iterable[str]:
    """``text`` in slices of at most ``size`` characters."""
    if isinstance(text, Joined):
        return text.pieces(size)
    return (text[start : start + size] for start in range(0, len(text), size))


__all__ = ["LONG", "PIECE", "Joined", "join_text", "join_with", "pieces_of", "rstripped", "text_of"]
