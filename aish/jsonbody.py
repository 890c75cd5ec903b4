"""JSON as bytes without a second copy of its long strings (decision 27).

``json.dumps(body).encode()`` holds three more copies of a long prompt at
once beside the prompt itself: the escaped string, the joined JSON text, then
its bytes. With 20 MB piped into an agent that was 60 MB more at the peak.
Here the strings longer than :data:`LONG` characters are left out of
``json.dumps`` (a placeholder each) and escaped piece by piece:
:func:`json_chunks` yields the bytes in pieces (a history file writes them as
they come); :func:`json_body` makes a request body that is made in pieces
while it is sent (a :class:`JsonBody`), or all at once into one ``bytes`` of
the size counted first (``bytes(body)``).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from aish.joined import Joined, pieces_of

LONG = 1 << 16
"""Strings of more characters than this are escaped in pieces."""
PIECE = 1 << 18
"""Characters escaped at a time."""


def json_body(obj: Any, *, ensure_ascii: bool = True) -> bytes | JsonBody:
    """The body ``json.dumps(obj, ensure_ascii=ensure_ascii).encode()`` for a :class:`~aish.contracts.Request`.

    Those bytes when ``obj`` holds no string longer than :data:`LONG`; otherwise
    a :class:`JsonBody`, the same bytes made piece by piece whenever they are
    sent, so that a long prompt is never a second time in memory.
    """
    plan = _Plan(obj, ensure_ascii, None, "strict")
    return JsonBody(plan) if plan.longs else plan.text.encode()


class JsonBody:
    """A :class:`~aish.contracts.Body`: JSON text made in pieces each time it is sent."""

    __slots__ = ("_plan", "_size")

    def __init__(self, plan: _Plan) -> None:
        self._plan = plan
        self._size = plan.size()

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        return self._plan.chunks()

    def __bytes__(self) -> bytes:
        """All of it at once, for a transport that sends bytes only: one copy, the size counted first."""
        size = self._size
        buffer = io.BytesIO(bytes(size))  # written in place: CPython's BytesIO shares a bytes it alone holds
        for piece in self._plan.chunks():
            buffer.write(piece)
        if buffer.tell() != size:  # never expected: the count was wrong
            return buffer.getvalue()[: buffer.tell()]
        return buffer.getvalue()  # that same bytes object, no copy

    def __repr__(self) -> str:
        return f"<JsonBody of {self._size} bytes>"


def json_line(obj: Any, *, ensure_ascii: bool = True, separators: tuple[str, str] | None = None) -> bytes | None:
    """``json.dumps(obj, ensure_ascii=..., separators=...).encode()`` when ``obj`` holds no string longer
    than :data:`LONG` characters (a journal's line, a short request body: one call, no plan made); None
    otherwise (then :func:`json_chunks`)."""
    if _has_long(obj):
        return None
    return _line_encoder(ensure_ascii, separators)(obj).encode()


def json_chunks(
    obj: Any,
    *,
    ensure_ascii: bool = True,
    separators: tuple[str, str] | None = None,
    errors: str = "strict",
    indent: int | None = None,
) -> Iterator[bytes]:
    """``json.dumps(obj, ensure_ascii=..., separators=..., indent=...).encode("utf-8", errors)`` in
    pieces of at most a few MiB each, whatever the length of its strings."""
    return _Plan(obj, ensure_ascii, separators, errors, indent).chunks()


class _Plan:
    """``obj`` as JSON text with placeholders, and the long strings that go in their places."""

    def __init__(
        self,
        obj: Any,
        ensure_ascii: bool,
        separators: tuple[str, str] | None,
        errors: str,
        indent: int | None = None,
    ) -> None:
        self.longs: list[str | Joined] = []
        self.errors = errors
        self.escape: Callable[[str], str] = encode_basestring_ascii if ensure_ascii else encode_basestring
        self.ascii_only = ensure_ascii
        self.parts: list[bytes] = []
        if not _has_long(obj):  # most bodies: json.dumps as it is (a short Joined as its text)
            self.text = _encoder(ensure_ascii, separators, indent).encode(obj)
            return
        mark = _mark()
        skeleton = _skeleton(obj, self.longs, mark)
        clash = False
        if self.longs:
            text = json.dumps(skeleton, ensure_ascii=ensure_ascii, separators=separators, indent=indent)
            for i in range(len(self.longs)):
                placeholder = json.dumps(f"{mark}{i}", ensure_ascii=ensure_ascii)
                before, found, text = text.partition(placeholder)
                if not found or placeholder in text:  # never expected: a string of obj holding the mark
                    self.longs, self.parts, clash = [], [], True
                    break
                self.parts.append(before.encode("utf-8", errors))
            else:
                self.parts.append(text.encode("utf-8", errors))
        if not self.longs:  # short Joined strings are str in the skeleton (after a clash, all of them)
            whole = _skeleton(obj, [], "") if clash else skeleton
            self.text = json.dumps(whole, ensure_ascii=ensure_ascii, separators=separators, indent=indent)

    def chunks(self) -> Iterator[bytes]:
        if not self.longs:
            yield self.text.encode("utf-8", self.errors)
            return
        escape, errors = self.escape, self.errors
        for part, long in zip(self.parts[:-1], self.longs, strict=True):
            yield part + b'"'
            for piece in pieces_of(long, PIECE):
                yield escape(piece)[1:-1].encode("utf-8", errors)
            yield b'"'
        yield self.parts[-1]

    def size(self) -> int:
        """The length of the bytes :meth:`chunks` yields, counted piece by piece."""
        total = sum(map(len, self.parts))
        for long in self.longs:
            total += 2
            for piece in pieces_of(long, PIECE):
                escaped = self.escape(piece)
                total += len(escaped) - 2 if self.ascii_only else len(escaped.encode("utf-8", self.errors)) - 2
        return total


def _has_long(obj: Any) -> bool:
    """Whether ``obj`` holds a string (or :class:`aish.Joined`) of more than LONG characters, or a
    value ``json.dumps`` would not take as it is (then :func:`_skeleton` says what it becomes)."""
    kind = type(obj)
    if kind is str or kind is Joined:
        return len(obj) > LONG
    if kind is dict or kind is list or kind is tuple:
        for value in obj.values() if kind is dict else obj:
            kind = type(value)  # a string or a number here, in nearly every body: no call for it
            if kind is str:
                if len(value) > LONG:
                    return True
            elif not (value is None or kind is int or kind is float or kind is bool) and _has_long(value):
                return True
        return False
    return not (obj is None or kind is int or kind is float or kind is bool)


_encoders: dict[tuple[bool, tuple[str, str] | None, int | None], json.JSONEncoder] = {}


def _encoder(ensure_ascii: bool, separators: tuple[str, str] | None, indent: int | None) -> json.JSONEncoder:
    """``json.dumps``'s encoder for these options (``default=str``), made once: ``json.dumps`` makes
    one per call when given any option (a third of encoding a request body or a journal line)."""
    key = (ensure_ascii, separators, indent)
    encoder = _encoders.get(key)
    if encoder is None:
        encoder = _encoders[key] = json.JSONEncoder(
            ensure_ascii=ensure_ascii, separators=separators, indent=indent, default=str
        )
    return encoder


_line_encoders: dict[tuple[bool, tuple[str, str] | None], Callable[[Any], str]] = {}


def _line_encoder(ensure_ascii: bool, separators: tuple[str, str] | None) -> Callable[[Any], str]:
    """``_encoder(...).encode`` without what it does again on every call (a new C encoder, a check
    for cycles: aish's bodies and records have none), made once per set of options."""
    encode = _line_encoders.get((ensure_ascii, separators))
    if encode is None:
        encoder = _encoder(ensure_ascii, separators, None)
        make = getattr(json.encoder, "c_make_encoder", None)
        if make is None:  # an interpreter without the C accelerator
            encode = encoder.encode
        else:
            escape = encode_basestring_ascii if ensure_ascii else encode_basestring
            c_encode = make(
                None, encoder.default, escape, None, encoder.key_separator, encoder.item_separator, False, False, True
            )

            def encode(obj: Any) -> str:
                return "".join(c_encode(obj, 0)) if type(obj) is not str else escape(obj)

        _line_encoders[(ensure_ascii, separators)] = encode
    return encode


_marks: list[str] = []


def _mark() -> str:
    """The placeholders' prefix, drawn once per process (a string of the body holding it is a clash,
    which :class:`_Plan` notices: the body is then made in one piece)."""
    if not _marks:
        _marks.append(f"\0aish-{os.urandom(8).hex()}-")
    return _marks[0]


def _skeleton(obj: Any, longs: list[str | Joined], mark: str) -> Any:
    """``obj`` with each string longer than LONG replaced by ``mark`` and its number in ``longs``.

    An :class:`aish.Joined` is a string too, written piece by piece (never joined when long).
    """
    kind = type(obj)
    if kind is str or kind is Joined:
        if len(obj) <= LONG or not mark:
            return str(obj)
        longs.append(obj)
        return f"{mark}{len(longs) - 1}"
    if kind is dict:
        return {key: _skeleton(value, longs, mark) for key, value in obj.items()}
    if kind is list or kind is tuple:
        return [_skeleton(value, longs, mark) for value in obj]
    return obj


__all__ = ["LONG", "PIECE", "JsonBody", "json_body", "json_chunks", "json_line"]
