"""The ``lanes`` renderer: several agents' answers at once, each line prefixed by its agent.

Text is shown a line at a time as it streams (long lines are wrapped at the
terminal width so they show up before their newline), prefixed with the
agent's padded name: ``[apollo   ] ...``. When the run ends a summary follows:
``[Complete - 3 AIs responded, 2.4s]`` and one line per agent with its time,
tokens and status. The lanes' names come from ``target.options["lanes"]``
(in command order); agents not named there get a lane when they first speak.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field

from aish import Event, Interrupted, RenderTarget, StreamEnd, StreamError, TextDelta, Usage, visible


@dataclass
class _Lane:
    name: str
    started: float
    buffer: list[str] = field(default_factory=list)
    width: int = 0
    tokens: int = 0
    usage_tokens: int | None = None
    status: str = "running"
    ended: float | None = None


class LanesRenderer:
    """Lines of several streams, interleaved as they complete, each labelled by its agent."""

    def __init__(self, target: RenderTarget) -> None:
        self.out = target.out
        self.started = time.monotonic()
        names = [str(n) for n in target.options.get("lanes", ())]
        self.lanes: dict[str, _Lane] = {n: _Lane(n, self.started) for n in names}
        self.pad = max((len(n) for n in names), default=6)
        columns = int(target.options.get("width") or shutil.get_terminal_size((100, 24)).columns)
        self.width = max(20, columns - self.pad - 4)
        self.closed = False

    def _lane(self, name: str) -> _Lane:
        lane = self.lanes.get(name)
        if lane is None:
            lane = self.lanes[name] = _Lane(name, time.monotonic())
            self.pad = max(self.pad, len(name))
        return lane

    def feed(self, event: Event) -> None:
        kind = type(event)
        lane = self._lane(event.agent)
        if kind is TextDelta:
            assert isinstance(event, TextDelta)
            lane.tokens += 1
            self._text(lane, event.text)
        elif kind is Usage:
            assert isinstance(event, Usage)
            lane.usage_tokens = event.output_tokens
        elif kind is StreamEnd:
            self._end(lane, "complete")
        elif kind is StreamError:
            assert isinstance(event, StreamError)
            status = "cancelled" if isinstance(event.error, Interrupted) else "partial" if event.partial else "error"
            self._end(lane, status)
            if status != "cancelled":
                self._line(lane, f"error: {visible(str(event.error))}")

    def _text(self, lane: _Lane, text: str) -> None:
        while text:
            head, newline, text = text.partition("\n")
            lane.buffer.append(head)
            lane.width += len(head)
            if newline:
                self._line(lane, "".join(lane.buffer))
                lane.buffer.clear()
                lane.width = 0
            elif lane.width > self.width:
                self._wrap(lane)

    def _wrap(self, lane: _Lane) -> None:
        line = "".join(lane.buffer)
        cut = line.rfind(" ", 0, self.width)
        cut = cut if cut > 0 else self.width
        self._line(lane, line[:cut])
        rest = line[cut:].lstrip(" ")
        lane.buffer[:] = [rest]
        lane.width = len(rest)

    def _end(self, lane: _Lane, status: str) -> None:
        if lane.buffer and "".join(lane.buffer).strip():
            self._line(lane, "".join(lane.buffer))
        lane.buffer.clear()
        lane.width = 0
        lane.status = status
        lane.ended = time.monotonic()

    def _line(self, lane: _Lane, text: str) -> None:
        self.out.write(f"[{lane.name:<{self.pad}}] {text}\n")

    def flush(self) -> None:
        self.out.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        now = time.monotonic()
        for lane in self.lanes.values():
            if lane.status == "running":
                self._end(lane, "cancelled")
        lanes = list(self.lanes.values())
        answered = sum(1 for lane in lanes if lane.status == "complete")
        word = "Interrupted" if any(lane.status == "cancelled" for lane in lanes) else "Complete"
        count = f"{answered}" if answered == len(lanes) else f"{answered} of {len(lanes)}"
        noun = "AI" if len(lanes) == 1 else "AIs"
        self.out.write(f"[{word} - {count} {noun} responded, {now - self.started:.1f}s]\n")
        for lane in lanes:
            seconds = (lane.ended or now) - lane.started
            tokens = lane.usage_tokens if lane.usage_tokens is not None else lane.tokens
            self.out.write(f"  {lane.name:<{self.pad}}  {seconds:5.1f}s  {tokens:5d} tokens  {lane.status}\n")
        self.out.flush()
