"""What the reference server received: a thread-safe log tests can inspect."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as it reached the server.

    ``headers`` has lower-cased names (use :meth:`header` for any spelling);
    ``body`` is the decoded JSON body, or ``None`` when there was no body or
    it was not valid JSON (``raw_body`` always has the bytes).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw_body: bytes

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), if it was sent."""
        return self.headers.get(name.lower())


class RequestLog(Sequence[RecordedRequest]):
    """A thread-safe, append-only (until :meth:`clear`) list of requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def append(self, item: RecordedRequest) -> None:
        """Record one request."""
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[RecordedRequest]:
        """A copy of the records so far."""
        with self._lock:
            return list(self._items)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @overload
    def __getitem__(self, index: int) -> RecordedRequest: ...

    @overload
    def __getitem__(self, index: slice) -> list[RecordedRequest]: ...

    def __getitem__(self, index: int | slice) -> RecordedRequest | list[RecordedRequest]:
        with self._lock:
            return self._items[index]

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.snapshot())

    def __repr__(self) -> str:
        return f"RequestLog({self.snapshot()!r})"
