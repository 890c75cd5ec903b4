"""The ``jsonl`` renderer: one JSON object per stream event, one per line.

Every object starts with ``type`` (the event class in snake case:
``stream_start``, ``text_delta``, ``reasoning``, ``tool_call``, ``heartbeat``,
``usage``, ``stream_end``, ``stream_error``), ``agent`` and ``seq``, followed by the event's own fields.
It gets every text event as the endpoint sent it (``every_piece``), so a ``text_delta``'s
``pieces``, always 1, is left out.
An error is its one-line message (secrets already scrubbed by aish), never
the exception's other attributes. Text stays readable UTF-8, except that
U+2028, U+2029 and U+0085 are escaped so no reader splits an object. Lines are written once per batch (one
network read) and flushed, on a terminal and on a pipe alike; nothing is
written to stderr.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aish import Event, Record, RenderTarget, TextDelta

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_FIRST = ("type", "agent", "seq")


def event_type(event: object) -> str:
    """``TextDelta`` -> ``text_delta``."""
    return _CAMEL.sub("_", type(event).__name__).lower()


def event_object(event: object) -> dict[str, Any] | None:
    """The JSON object for ``event``, or None for something that is not an event: a
    :class:`aish.records.Record` (aish's events) or a dataclass (a plugin's own events)."""
    if isinstance(event, Record):
        values = {name: getattr(event, name) for name in event.__slots__}
    elif "__dataclass_fields__" in dir(type(event)) and not isinstance(event, type):
        import dataclasses  # only for a plugin's dataclass events

        values = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}  # type: ignore[arg-type]
    else:
        return None
    if type(event) is TextDelta and values["pieces"] == 1:
        del values["pieces"]  # always, as aish feeds this renderer (every_piece)
    obj: dict[str, Any] = {"type": event_type(event), "agent": values.pop("agent", ""), "seq": values.pop("seq", 0)}
    for name, value in values.items():
        obj[name] = str(value) if isinstance(value, BaseException) else value
    return obj


def _fallback(value: object) -> str:
    return str(value)


_CONTROLS = [0x7F, *range(0x80, 0xA0), 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029]
_LINE_BREAKS = str.maketrans({code: f"\\u{code:04x}" for code in _CONTROLS})
"""Characters some readers take as line ends, and controls JSON leaves raw (DEL, C1, bidi): escaped
(the same JSON value), so that an object is one line and cannot drive a terminal it is shown on."""


class JsonlRenderer:
    """Writes each event as a line of JSON; see the module docstring."""

    labels_agents = True
    """Every object names its agent: a parallel group's lanes may interleave here."""

    every_piece = True
    """One ``text_delta`` per text event the endpoint sent, not one per network read: what a
    reader of the event stream expects, and the same lines whatever the network's reads."""

    def __init__(self, target: RenderTarget) -> None:
        self.out = target.out
        self._lines: list[str] = []

    def feed(self, event: Event) -> None:
        obj = event_object(event)
        if obj is not None:
            line = json.dumps(obj, ensure_ascii=False, default=_fallback).translate(_LINE_BREAKS)
            self._lines.append(line + "\n")

    def flush(self) -> None:
        if self._lines:
            self.out.write("".join(self._lines))
            self._lines.clear()
        self.out.flush()

    def close(self) -> None:
        self.flush()


__all__ = ["JsonlRenderer", "event_object", "event_type"]
