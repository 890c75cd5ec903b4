"""A renderer chosen for a fan-out that cannot show lanes side by side: one answer after another.

``--renderer plain`` or ``--renderer markdown`` given a parallel group would
mix the lanes' words into one text. Instead :class:`Sequenced` gives every lane
a renderer of its own. The first lane (in command order) is shown live; the
others render into a recording of their output (standard output and standard
error, in the order written) that is played back verbatim as soon as the lanes
before them are done, and they then continue live. Every lane is thus shown
exactly as that renderer shows a single answer, one after the other. Off a
terminal each lane starts with a ``[agent]`` line, as the default blocks do.

A renderer whose output names the agent of every event (``labels_agents =
True``, like ``jsonl``) is not sequenced: it gets every lane's events as they
come (see :func:`aish.pipeline.parallel.parallel_renderer`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO, cast

from aish.contracts import Renderer, RenderTarget
from aish.events import Event, StreamEnd, StreamError
from aish.terminal import LineTracker


class _Relay(LineTracker):
    """A stream of one lane: passes writes on when the lane is shown, records them until then."""

    def __init__(self, stream: TextIO, log: list[tuple[TextIO, str]]) -> None:
        super().__init__(stream)
        self.log = log
        self.live = False

    def write(self, text: str) -> int:
        if text:
            self.at_line_start = text[-1] == "\n"
            if self.live:
                self.stream.write(text)
            else:
                self.log.append((self.stream, text))
        return len(text)

    def flush(self) -> None:
        if self.live:
            self.stream.flush()


class _Lane:
    def __init__(self, name: str, out: TextIO, err: TextIO) -> None:
        self.name = name
        self.log: list[tuple[TextIO, str]] = []
        self.out = _Relay(out, self.log)
        self.err = _Relay(err, self.log)
        self.renderer: Renderer | None = None
        self.ended = False
        self.closed = False

    def show(self) -> None:
        """Play back what was recorded, then pass everything on."""
        last: TextIO | None = None
        for stream, text in self.log:
            if last is not None and stream is not last:
                last.flush()
            stream.write(text)
            last = stream
        if last is not None:
            last.flush()
        self.log.clear()
        self.out.live = self.err.live = True


class Sequenced:
    """One renderer per lane, shown in command order; see the module docstring."""

    def __init__(self, make: Callable[[RenderTarget], Renderer], names: list[str], target: RenderTarget) -> None:
        self.target = target
        self.lanes: dict[str, _Lane] = {}
        self.order: list[_Lane] = []
        for name in names:
            if name in self.lanes:
                continue  # the same agent twice: its events cannot be told apart, one renderer shows both
            lane = _Lane(name, target.out, target.err)
            lane.renderer = make(
                RenderTarget(
                    out=cast(TextIO, lane.out),
                    err=cast(TextIO, lane.err),
                    tty=target.tty,
                    options=target.options,
                    color=target.color,
                )
            )
            self.lanes[name] = lane
            self.order.append(lane)
        self.current = 0
        self._open(0)

    def _open(self, index: int) -> None:
        if index >= len(self.order):
            return
        lane = self.order[index]
        out = self.target.out
        if index and not self.order[index - 1].out.at_line_start:
            out.write("\n")
        if not self.target.tty:
            out.write(f"{'' if index == 0 else chr(10)}[{lane.name}]\n")
        lane.show()

    def _advance(self) -> None:
        """Close the lanes shown that are done and show the next ones."""
        while self.current < len(self.order) and self.order[self.current].ended:
            lane = self.order[self.current]
            if not lane.closed:
                lane.closed = True
                assert lane.renderer is not None
                lane.renderer.close()
            self.current += 1
            self._open(self.current)

    def feed(self, event: Event) -> None:
        lane = self.lanes.get(event.agent)
        if lane is None or lane.renderer is None:
            return
        lane.renderer.feed(event)
        if type(event) in (StreamEnd, StreamError):
            lane.ended = True
            lane.renderer.flush()
            self._advance()

    def flush(self) -> None:
        for lane in self.order[self.current :]:
            if lane.renderer is not None and not lane.closed:
                lane.renderer.flush()
        self.target.out.flush()

    def close(self) -> None:
        for lane in self.order:
            lane.ended = True
        self._advance()
        self.target.out.flush()
        self.target.err.flush()


__all__ = ["Sequenced"]
