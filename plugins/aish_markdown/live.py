"""Markdown redrawn in place on a terminal as it streams, with rich.

Only imported on a terminal. Complete blocks (see :mod:`aish_markdown.blocks`)
are printed above the live region for good; the live region holds the block
still arriving, so each redraw is small and the region never outgrows the
screen for long. Blocks are separated by one blank line, as rich renders
them within one document.

The live region is redrawn at most once a :data:`FRAME` (less often when a
redraw takes longer than half of that), not once per network read: a fast
server's reads come every millisecond or two, a redraw takes several, and
redrawing at the pace of the reads slowed the whole stream to the renderer's.
A redraw put off is made by a small thread when its time comes, so the end of
the text is on screen while the stream waits for more.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TextIO

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.segment import Segment
from rich.text import Text

from aish import cells
from aish_markdown.blocks import live_window, stable_prefix

PLAIN_AFTER = 64 * 1024
"""A block still arriving that grows past this many characters is written as it is from then on:
rich lays out the whole block on every redraw, and one 5 MB paragraph took 45 s (Ctrl-C included)."""
MIN_WIDTH = 20
"""A block is never laid out narrower than this to make room for wide emoji sequences."""
FRAME = 1 / 30
"""Seconds between redraws of the live region, at least (30 a second, as smooth as a terminal needs)."""


class LiveMarkdown:
    """One answer's Markdown on a terminal: :meth:`append` text, :meth:`refresh`, :meth:`close`."""

    def __init__(self, out: TextIO, *, frame: float = FRAME, clock: Callable[[], float] = time.monotonic) -> None:
        """``frame``: seconds between redraws of the live region, at least (0: a redraw at every :meth:`refresh`)."""
        self.console = Console(file=out, force_terminal=True, highlight=False)
        self._live = Live(
            console=self.console,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
            vertical_overflow="ellipsis",
        )
        self._tail = ""
        self._blocks = 0
        self._live_started = False
        self._plain = False
        """Past :data:`PLAIN_AFTER`: the rest of the answer is written as it comes, not laid out."""
        self._open_line = False
        self._frame = frame
        self._clock = clock
        self._due = 0.0
        """When the live region may be redrawn next (by ``clock``)."""
        self._pending = False
        """A redraw was put off: the ticker makes it."""
        self._lock = threading.Lock()
        """Held while the view changes or is drawn: the :class:`_Ticker` draws from a thread of its own."""
        self._ticker: _Ticker | None = None

    def append(self, text: str) -> None:
        with self._lock:
            if self._plain:
                self._write(text)
                return
            self._tail += text
            if len(self._tail) > PLAIN_AFTER:
                self._go_plain()

    def _go_plain(self) -> None:
        if self._live_started:
            self._live.transient = True  # the live region gives way to the text itself
            self._live.stop()
            self._live_started = False
        if self._blocks:
            self._write("\n")
        tail, self._tail, self._plain = self._tail, "", True
        self._write(tail)

    def _write(self, text: str) -> None:
        if text:
            self.console.file.write(text)
            self._open_line = not text.endswith("\n")

    def refresh(self) -> None:
        """Print the blocks that are complete, and redraw the one still arriving (now, or when the
        frame's time comes)."""
        with self._lock:
            if self._plain:
                self.console.file.flush()
                return
            cut = stable_prefix(self._tail)
            if cut:
                block, self._tail = self._tail[:cut], self._tail[cut:]
                if self._live_started:
                    self._live.update(self._renderable(after_block=True), refresh=True)
                    self._pending = False
                self._print(block)  # with the live region started, rich redraws it below the block
                if self._live_started:
                    return
            if not self._tail.strip():
                return
            wait = self._due - self._clock()
            if wait <= 0:
                self._redraw()
                return
            self._pending = True
        if self._ticker is None:
            self._ticker = _Ticker(self._redraw_due)
        self._ticker.draw_in(wait)

    def _redraw(self) -> None:
        """Draw the live region (the lock held)."""
        self._pending = False
        start = self._clock() if self._frame > 0 else 0.0
        if not self._live_started:
            self._live.update(self._renderable(), refresh=False)
            self._live.start()
            self._live_started = True
        self._live.update(self._renderable(), refresh=True)
        if self._frame > 0:  # 0: a redraw at every refresh
            end = self._clock()
            self._due = end + max(self._frame, 2 * (end - start))  # a third of the time at most

    def _redraw_due(self) -> None:
        """The ticker's redraw: the live region as it is now, unless it was drawn meanwhile or is gone."""
        with self._lock:
            if self._pending and self._live_started and not self._plain:
                self._redraw()
                self.console.file.flush()

    def close(self) -> None:
        """Render what is left for good and leave the cursor on a fresh line."""
        if self._ticker is not None:
            self._ticker.stop()
        with self._lock:
            if self._plain:
                if self._open_line:
                    self._write("\n")
                self.console.file.flush()
                return
            self._pending = False
            if self._live_started:
                self._live.transient = True  # erase the live region; the tail is printed below, once
                self._live.update(Group())  # rich's stop draws the region once more: nothing to lay out
                self._live.stop()
                self._live_started = False
            if self._tail.strip():
                self._print(self._tail)
            self._tail = ""

    def _renderable(self, after_block: bool = False) -> RenderableType:
        """The live region: the end of the block still arriving, as much as the screen shows (its
        last rows, as ``tail -f`` would; the whole block is printed once it is complete)."""
        if not self._tail.strip():
            return Group()
        spaced = bool(self._blocks or after_block)
        width, height = self.console.size
        rows = max(height - 1 - spaced, 1)  # the cursor's row stays below the region
        markdown = _Trimmed(Markdown(live_window(self._tail, rows, width)), last=rows)
        return Group(Text(""), markdown) if spaced else markdown

    def _print(self, block: str) -> None:
        if self._blocks:
            self.console.print()
        self.console.print(_Trimmed(Markdown(block)))
        self._blocks += 1


class _Ticker:
    """A thread that makes a redraw put off (:meth:`draw_in`) when its time comes."""

    def __init__(self, draw: Callable[[], None]) -> None:
        self._draw = draw
        self._cond = threading.Condition()
        self._at: float | None = None
        self._stopped = False
        threading.Thread(target=self._loop, name="aish-markdown", daemon=True).start()

    def draw_in(self, seconds: float) -> None:
        with self._cond:
            if self._at is None:
                self._at = time.monotonic() + seconds
                self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (self._at is None or self._at > time.monotonic()):
                    self._cond.wait(None if self._at is None else self._at - time.monotonic())
                if self._stopped:
                    return
                self._at = None
            try:
                self._draw()
            except Exception:  # the terminal is gone: the stream's own writes will say so
                return


class _Trimmed:
    """A renderable without the blank lines rich puts before some blocks (lists), so that
    blocks rendered one at a time are spaced like one document: one blank line apart.

    Its lines fit the width with every part of an emoji sequence counted (:func:`aish.cells`):
    rich counts a skin-toned or ZWJ emoji as two cells, as kitty or iTerm2 draw it, but tmux,
    xterm and VTE draw each part (four, six cells), so a line rich filled wrapped on the
    terminal, and the live region, moved up by the rows rich counted, left a copy of its first
    row behind at every redraw. When a line would not fit so, the block is laid out again that
    much narrower: a line may end a little early where the terminal draws the sequence narrow.
    """

    def __init__(self, renderable: RenderableType, last: int | None = None) -> None:
        self.renderable = renderable
        self.last = last
        """Only the last this many lines (the live region: the end of the block, as it arrives)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        lines = console.render_lines(self.renderable, options, pad=False)
        width = options.max_width
        for _ in range(3):  # a narrower layout may break lines elsewhere: check it again
            over = max((cells(_text(line)) for line in lines), default=0) - options.max_width
            if over <= 0 or width - over < MIN_WIDTH:
                break
            width -= over
            lines = console.render_lines(self.renderable, options.update_width(width), pad=False)
        while lines and _blank(lines[0]):
            lines.pop(0)
        while lines and _blank(lines[-1]):
            lines.pop()
        if self.last is not None:
            del lines[: -self.last]
        for line in lines:
            yield from line
            yield Segment.line()


def _text(line: list[Segment]) -> str:
    return "".join(segment.text for segment in line if not segment.control)


def _blank(line: list[Segment]) -> bool:
    return all(not seg.text.strip() and (seg.style is None or seg.style.bgcolor is None) for seg in line)
