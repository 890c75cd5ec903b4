"""Faults the reference server injects, chosen per request.

A request asks for faults with the ``aish_fault`` object in a JSON body (an
agent's ``options`` go verbatim into the body, so a configured agent can ask
for them) or with the ``X-Aish-Fault`` header, ``name=value`` pairs separated
by ``,`` or ``;`` (for any endpoint, including the plain-text one)::

    {"aish_fault": {"drop_after": 5, "resume": true, "retry": 50}}
    X-Aish-Fault: status=429, retry_after=1, times=2

====================  =========================================================
``drop_after`` N      close the connection after N events (of this connection)
``drop_mode``         ``close`` (FIN, the default) or ``reset`` (RST)
``stall`` T           send nothing for T seconds after ``stall_after`` events
``heartbeats`` T      only ``: ping`` comments (every ``heartbeat_every`` s) for T s first
``malformed_after`` N send one malformed event after N events
``drip`` T            write every event in pieces of ``drip_bytes``, T s apart
``status`` CODE       answer with this HTTP status instead (``retry_after``: its header)
``times`` N           ... only for the first N such requests (same ``key``, or same body)
``ids``               tag every event with an id (``SID:N``)
``resume``            tag events and honour ``Last-Event-ID``: continue the same answer
``retry`` MS          send ``retry: MS`` first (the client's reconnection delay)
====================  =========================================================
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from .protocol import ApiError

_INTS = {"drop_after", "stall_after", "malformed_after", "drip_bytes", "status", "times", "retry"}
_FLOATS = {"stall", "heartbeats", "heartbeat_every", "drip", "retry_after"}
_BOOLS = {"ids", "resume"}
_STRS = {"drop_mode", "key"}


@dataclass(frozen=True, slots=True)
class Faults:
    """The faults of one request (all off by default)."""

    drop_after: int | None = None
    drop_mode: str = "close"
    stall: float = 0.0
    stall_after: int = 0
    heartbeats: float = 0.0
    heartbeat_every: float = 0.1
    malformed_after: int | None = None
    drip: float = 0.0
    drip_bytes: int = 1
    status: int | None = None
    retry_after: float | None = None
    times: int | None = None
    key: str | None = None
    ids: bool = False
    resume: bool = False
    retry: int | None = None

    @property
    def tagged(self) -> bool:
        """Whether events carry ids."""
        return self.ids or self.resume

    @property
    def shaping(self) -> bool:
        """Whether anything changes how the stream is written (else the fast paths serve it)."""
        return (
            self.drop_after is not None
            or self.stall > 0
            or self.heartbeats > 0
            or self.malformed_after is not None
            or self.drip > 0
            or self.tagged
            or self.retry is not None
        )


NO_FAULTS = Faults()


def parse_faults(body_field: object = None, header: str | None = None) -> Faults:
    """Faults from the ``aish_fault`` body object and the ``X-Aish-Fault`` header (the body wins)."""
    values: dict[str, Any] = {}
    if header:
        for part in header.replace(";", ",").split(","):
            name, sep, value = part.partition("=")
            if part.strip():
                values[name.strip()] = value.strip() if sep else "true"
    if body_field is not None:
        if not isinstance(body_field, Mapping):
            raise ApiError(400, "'aish_fault' must be an object", param="aish_fault")
        values.update(body_field)
    if not values:
        return NO_FAULTS
    known = {f.name for f in fields(Faults)}
    parsed: dict[str, Any] = {}
    for name, value in values.items():
        if name not in known:
            raise ApiError(400, f"unknown fault {name!r} (known: {', '.join(sorted(known))})", param="aish_fault")
        parsed[name] = _convert(name, value)
    faults = Faults(**parsed)
    if faults.drop_mode not in ("close", "reset"):
        raise ApiError(400, "drop_mode must be 'close' or 'reset'", param="aish_fault")
    if faults.status is not None and not 400 <= faults.status <= 599:
        raise ApiError(400, "status must be an HTTP error status (400-599)", param="aish_fault")
    return faults


def _convert(name: str, value: Any) -> Any:
    try:
        if name in _BOOLS:
            if isinstance(value, str):
                return value.lower() in ("1", "true", "yes", "on")
            return bool(value)
        if name in _STRS:
            return str(value)
        if isinstance(value, bool):
            raise ValueError(value)
        number = float(value) if name in _FLOATS else int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"fault {name!r}: bad value {value!r}", param="aish_fault") from None
    if number < 0 or (name in ("drip_bytes", "heartbeat_every") and number <= 0):
        raise ApiError(400, f"fault {name!r}: must be positive", param="aish_fault")
    return number


class FaultBook:
    """The server's memory for faults: status counts per request, answers that can be resumed."""

    def __init__(self, limit: int = 4096) -> None:
        self._lock = threading.Lock()
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._answers: OrderedDict[str, int] = OrderedDict()
        self._limit = limit
        self._next = 0

    def should_fail(self, faults: Faults, fallback_key: str) -> bool:
        """Whether this request gets the ``status`` fault (``times`` counts per key)."""
        if faults.status is None:
            return False
        if faults.times is None:
            return True
        key = faults.key or fallback_key
        with self._lock:
            seen = self._counts.get(key, 0)
            self._counts[key] = seen + 1
            self._trim(self._counts)
        return seen < faults.times

    def new_answer(self, events: int) -> str:
        """A fresh stream id for an answer of ``events`` events."""
        with self._lock:
            self._next += 1
            sid = f"s{self._next}"
            self._answers[sid] = events
            self._trim(self._answers)
        return sid

    def resume_point(self, last_event_id: str | None) -> tuple[str, int] | None:
        """(stream id, next event index) for a ``Last-Event-ID`` of a known answer, else None."""
        sid, sep, index = (last_event_id or "").rpartition(":")
        if not sep or not index.isdigit():
            return None
        with self._lock:
            events = self._answers.get(sid)
        if events is None or int(index) >= events:
            return None
        return sid, int(index) + 1

    def _trim(self, table: OrderedDict[str, int]) -> None:
        while len(table) > self._limit:
            table.popitem(last=False)
