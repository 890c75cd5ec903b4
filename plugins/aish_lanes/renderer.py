"""The ``lanes`` renderer: several agents' answers at once, each line prefixed by its agent.

Every line is prefixed with the agent's padded name (``[apollo   ] ...``);
long lines are wrapped at the terminal width, and on a terminal too narrow
for the names and ten cells of text the names are cut (``[apo…] ...``), so
that no line is wider than the terminal. Finished lines scroll up in the
order they were completed. On a terminal the renderer is live: below them,
every lane still streaming shows the line it is writing, redrawn in place as
text arrives, so a slow lane is never a blank screen (as many lanes as the
terminal has rows for, less one); a lane with nothing of its answer yet counts
its wait there from two seconds on (``[slow  ] Waiting - 5s``, redrawn every
second by an :class:`aish.WaitCount`). With colour
(``target.color``: a terminal, no ``NO_COLOR``) each lane's name has a colour
of its own, and the answers' control characters (but newline and tab) are
shown as escapes (``\\x1b``, :func:`aish.terminal_safe`). On a pipe or a file
it writes whole lines only, no colour, no cursor movement.

When the run ends a summary follows: ``[Complete - 3 AIs responded, 2.4s]`` (after Ctrl-C,
``[Interrupted - 1 of 3 AIs finished, 0.8s]``)
and one line per agent with its time, tokens and how it ended (``complete``,
``cut at max_tokens``, ``empty``, ``partial``, ``error``, ``cancelled``). The
lanes' names come from ``target.options["lanes"]`` (in command order); agents
not named there get a lane when they first speak.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import unicodedata
from typing import TYPE_CHECKING

from aish import (
    Event,
    Interrupted,
    RenderTarget,
    Retrying,
    StreamEnd,
    StreamError,
    TextDelta,
    Usage,
    WaitCount,
    cell_widths,
    cells,
    stop_note,
    terminal_safe,
    terminal_size,
    visible,
)

if TYPE_CHECKING:
    import re

COLOURS = ("36", "35", "33", "32", "34", "31", "96", "95", "93", "92", "94", "91")
"""SGR colour codes given to lanes in turn: cyan, magenta, yellow, green, blue, red, then bright ones."""
RESET = "\x1b[0m"
UP_AND_CLEAR = "\x1b[{n}A\r\x1b[J"
"""Move the cursor up ``n`` lines to the first column, erase from there to the end of the screen."""
MIN_TEXT = 10
"""Cells of text a line keeps on a narrow terminal: the names in the labels are cut first."""
DIM, UNDIM = "\x1b[2m", "\x1b[22m"


class _Lane:
    """One lane's state (a plain class with slots: a dataclass costs ~0.4 ms to create, issue 15)."""

    __slots__ = (
        "name",
        "started",
        "colour",
        "buffer",
        "width",
        "tokens",
        "usage_tokens",
        "status",
        "answered",
        "said",
        "ended",
    )
    name: str
    started: float
    colour: str
    buffer: list[str]
    width: int
    tokens: int
    usage_tokens: int | None
    status: str
    answered: bool
    said: bool
    ended: float | None

    def __init__(
        self,
        name: str,
        started: float,
        colour: str = "",
        buffer: list[str] | None = None,
        width: int = 0,
        tokens: int = 0,
        usage_tokens: int | None = None,
        status: str = "running",
        answered: bool = False,
        said: bool = False,
        ended: float | None = None,
    ) -> None:
        self.name = name
        self.started = started
        self.colour = colour
        self.buffer = [] if buffer is None else buffer
        self.width = width
        self.tokens = tokens
        self.usage_tokens = usage_tokens
        self.status = status
        self.answered = answered
        self.said = said
        self.ended = ended


class LanesRenderer:
    """Lines of several streams, interleaved as they complete, each labelled by its agent."""

    def __init__(
        self, target: RenderTarget, *, count_after: float | None = None, count_every: float | None = None
    ) -> None:
        """``count_after``, ``count_every``: :class:`aish.WaitCount`'s ``after`` and ``every`` (None: its own)."""
        self.out = target.out
        self.started = time.monotonic()
        self.tty = target.tty
        """Answers' control characters are shown as escapes (:func:`aish.terminal_safe`)."""
        self.live = bool(target.options.get("live", target.tty))
        """Show each running lane's current line, redrawn in place (a terminal)."""
        self.color = target.color
        names = [str(n) for n in target.options.get("lanes", ())]
        self.pad = max((cells(n) for n in names), default=6)
        """The cells of the widest lane's name: the labels are padded to it."""
        self._target = target
        self._sized = not target.options.get("width") and not target.options.get("height")
        """The size is the terminal's (not given in options): asked again at each redraw."""
        size = _size(target)
        self.columns = max(1, int(target.options.get("width") or size.columns))
        self.rows = max(2, int(target.options.get("height") or size.lines))
        """Live lines are at most ``rows - 1``: the cursor can only go back up what is on the screen."""
        self.label = self.width = 0
        self._layout()
        self.lanes: dict[str, _Lane] = {}
        for name in names:
            self._lane(name, self.started)
        self.closed = False
        self._pending: list[str] = []
        """Finished lines not written yet (live mode writes them at the next flush)."""
        self._drawn = 0
        """How many live lines are on the screen below the finished ones."""
        self._dirty = False
        self._lock = threading.Lock()
        """Held while an event is fed, the screen is drawn, and a wait is counted."""
        self._count = (
            WaitCount(self._show_wait, self._lock, after=count_after, every=count_every) if self.live else None
        )

    def _lane(self, name: str, now: float | None = None) -> _Lane:
        lane = self.lanes.get(name)
        if lane is None:
            colour = COLOURS[len(self.lanes) % len(COLOURS)] if self.color else ""
            lane = self.lanes[name] = _Lane(name, now if now is not None else time.monotonic(), colour)
            if cells(name) > self.pad:
                self.pad = cells(name)
                self._layout()
        return lane

    def _layout(self) -> None:
        """The cells of the labels' names and of the text from the terminal's width: a line
        (``[name] text``) takes at most ``columns - 1`` cells, so a redraw never wraps. On a
        narrow terminal the names are cut (to three cells, then one) before the text gets narrower
        than :data:`MIN_TEXT`; the text keeps two cells, a wide character's (from 7 columns,
        every line fits)."""
        columns = self.columns
        self.label = min(self.pad, max(columns - 4 - MIN_TEXT, min(3, columns - 6), 1))
        self.width = max(2, columns - self.label - 4)

    # ----------------------------------------------------------------- events
    def feed(self, event: Event) -> None:
        with self._lock:
            self._feed(event)

    def _feed(self, event: Event) -> None:
        kind = type(event)
        lane = self._lane(event.agent)
        if kind is TextDelta:
            assert isinstance(event, TextDelta)
            lane.tokens += event.pieces
            if event.text:
                lane.said = lane.said or not event.text.isspace()
                self._text(lane, terminal_safe(event.text) if self.tty else event.text)
                self._dirty = True
        elif kind is Usage:
            assert isinstance(event, Usage)
            lane.usage_tokens = event.output_tokens
        elif kind is Retrying:
            assert isinstance(event, Retrying)
            if self.tty and not lane.said:  # nothing of the lane's answer yet: say why it waits
                self._line(lane, f"(retrying in {event.delay:.1f}s - {visible(event.reason)})")
                self._dirty = True
        elif kind is StreamEnd:
            assert isinstance(event, StreamEnd)
            if lane.said:
                self._end(lane, stop_note(event.finish_reason) or "complete", answered=True)
            else:
                self._end(lane, "empty")
        elif kind is StreamError:
            assert isinstance(event, StreamError)
            status = "cancelled" if isinstance(event.error, Interrupted) else "partial" if event.partial else "error"
            self._end(lane, status)
            if status != "cancelled":
                self._line(lane, f"error: {visible(str(event.error))}")
        if not self.live:
            self._write_pending()

    def _text(self, lane: _Lane, text: str) -> None:
        """Add ``text`` to the lane: each line it completes is written whole; the open line is
        wrapped while it is wider than the lanes (:meth:`_wrap`). Positions, not copies: time
        linear in ``text`` however long it is (20 MB in one piece, say)."""
        start, size = 0, len(text)
        while start < size:
            end = text.find("\n", start)
            if end < 0:
                self._wrap(lane, text[start:] if start else text)
                return
            self._wrap(lane, text[start:end])  # a line that arrives whole is wrapped too, every row labelled
            self._line(lane, "".join(lane.buffer))
            lane.buffer.clear()
            lane.width = 0
            start = end + 1

    def _wrap(self, lane: _Lane, text: str) -> None:
        """Add ``text`` (no newline) to the lane's open line; while the line is wider than
        ``self.width`` terminal cells (:func:`aish.cells`: a CJK character or an emoji takes two),
        write its first row: up to its last space within the width (at the width if there is
        none), the spaces after the cut dropped."""
        wide = cells(text)
        if lane.width + wide <= self.width:
            lane.buffer.append(text)
            lane.width += wide
            return
        line = "".join(lane.buffer) + text  # the open line is at most a row: one copy of text
        if line.isascii() and "\t" not in line:
            self._rows(lane, line, None)
        else:
            self._rows(lane, line, cell_widths(line))

    def _rows(self, lane: _Lane, line: str, widths: list[int] | None) -> None:
        """Write the full rows of ``line`` (``widths``: each character's cells, None when each
        takes one); the rest stays the lane's open line."""
        width, size, at = self.width, len(line), 0
        used = 0  # the cells of line[at:end]
        end = 0
        while True:
            if widths is None:
                end = min(size, at + width)
            else:
                while end < size and used + widths[end] <= width:
                    used += widths[end]
                    end += 1
            if end >= size and (widths is not None or size - at <= width):
                break
            space = line.rfind(" ", at, end)
            cut = space if space > at else max(end, at + 1)
            self._line(lane, line[at:cut])
            at = _past_spaces(line, cut)
            if widths is not None:
                end = max(end, at)
                used = sum(widths[at:end])
        lane.buffer[:] = [line[at:]]
        lane.width = size - at if widths is None else used

    def _end(self, lane: _Lane, status: str, *, answered: bool = False) -> None:
        if lane.buffer and "".join(lane.buffer).strip():
            self._line(lane, "".join(lane.buffer))
        lane.buffer.clear()
        lane.width = 0
        lane.status = status
        lane.answered = answered
        lane.ended = time.monotonic()
        self._dirty = True

    # ----------------------------------------------------------------- output
    def _prefix(self, lane: _Lane) -> str:
        label = f"[{_padded(_cut(lane.name, self.label), self.label)}]"
        return f"\x1b[{lane.colour}m{label}{RESET}" if lane.colour else label

    def _line(self, lane: _Lane, text: str) -> None:
        self._pending.append(f"{self._prefix(lane)} {text}\n")

    def _write_pending(self) -> None:
        if self._pending:
            self.out.write("".join(self._pending))
            self._pending.clear()

    def _resized(self) -> bool:
        """Take the terminal's size now; True when it changed since the last redraw."""
        if not self._sized:
            return False
        size = _size(self._target)
        columns, rows = max(1, size.columns), max(2, size.lines)
        if (columns, rows) == (self.columns, self.rows):
            return False
        self.columns, self.rows = columns, rows
        self._layout()
        return True

    def _redraw(self) -> None:
        """Finished lines above, then one line per running lane: its text so far (live mode).

        After a resize the live lines drawn before are left where they are: the terminal may
        have rewrapped them onto more rows (or not), so going back up over them could erase
        finished lines or leave copies of them behind. They stay once, and the live lines
        start afresh below, at the new width.
        """
        if self._resized():
            self._drawn = 0
        parts = [UP_AND_CLEAR.format(n=self._drawn)] if self._drawn else []
        parts += self._pending
        self._pending.clear()
        running = [lane for lane in self.lanes.values() if lane.status == "running"][: self.rows - 1]
        now = time.monotonic()
        for lane in running:
            text = _fit("".join(lane.buffer), self.width)
            if not text and self._waits(lane, now):
                text = _fit(f"Waiting - {now - lane.started:.0f}s", self.width)
                text = f"{DIM}{text}{UNDIM}" if self.color else text
            parts.append(f"{self._prefix(lane)} {text}\n")
        self._drawn = len(running)
        self.out.write("".join(parts))
        self._dirty = False

    def _waits(self, lane: _Lane, now: float) -> bool:
        """Whether ``lane`` runs with nothing of its answer yet, and has for long enough to say so."""
        after = self._count.after if self._count is not None else 0.0  # the count is the live lines'
        return lane.status == "running" and not lane.said and now - lane.started >= after

    def _show_wait(self, seconds: float) -> bool:
        """The count's call (the lock held): redraw the live lines while a lane waits for its first text."""
        if self.closed or all(lane.said or lane.status != "running" for lane in self.lanes.values()):
            return False  # every lane has spoken or ended: the count ends
        now = time.monotonic()
        if any(self._waits(lane, now) for lane in self.lanes.values()):
            self._redraw()
            self.out.flush()
        return True

    def flush(self) -> None:
        with self._lock:
            if self.live and self._dirty:
                self._redraw()
            else:
                self._write_pending()
            self.out.flush()

    def close(self) -> None:
        if self._count is not None:
            self._count.stop()
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self.closed:
            return
        self.closed = True
        now = time.monotonic()
        for lane in self.lanes.values():
            if lane.status == "running":
                self._end(lane, "cancelled")
        if self.live:
            self._redraw()  # no lane runs: the live lines give way to the finished ones
        self._write_pending()
        lanes = list(self.lanes.values())
        answered = sum(1 for lane in lanes if lane.answered)
        interrupted = any(lane.status == "cancelled" for lane in lanes)
        word, verb = ("Interrupted", "finished") if interrupted else ("Complete", "responded")  # cut short: partly
        count = f"{answered}" if answered == len(lanes) else f"{answered} of {len(lanes)}"
        noun = "AI" if len(lanes) == 1 else "AIs"
        self.out.write(f"[{word} - {count} {noun} {verb}, {now - self.started:.1f}s]\n")
        for lane in lanes:
            seconds = (lane.ended or now) - lane.started
            tokens = lane.usage_tokens if lane.usage_tokens is not None else lane.tokens
            name = _padded(lane.name, self.pad)
            if lane.colour:
                name = f"\x1b[{lane.colour}m{name}{RESET}"
            unit = "tokens" if tokens != 1 else "token "  # the statuses stay in one column
            self.out.write(f"  {name}  {seconds:5.1f}s  {tokens:5d} {unit}  {lane.status}\n")
        self.out.flush()


_spaces: list[re.Pattern[str]] = []
"""A run of spaces, compiled on first use."""


def _past_spaces(line: str, at: int) -> int:
    """The position of the first character at or after ``at`` that is not a space."""
    if not _spaces:
        import re

        _spaces.append(re.compile(" +"))
    run = _spaces[0].match(line, at)
    return at if run is None else run.end()


def _cut(name: str, width: int) -> str:
    """``name`` in at most ``width`` terminal cells: its start and ``…`` when it is wider (its
    first character alone in one cell)."""
    if cells(name) <= width:
        return name
    if width <= 1:
        return name[0] if cells(name[0]) == 1 else "…"
    widths, used, end = cell_widths(name), 1, 0  # the ellipsis takes one cell
    while end < len(name) and used + widths[end] <= width:
        used += widths[end]
        end += 1
    return name[:end] + "…"


def _padded(name: str, width: int) -> str:
    """``name`` and blanks after it, ``width`` terminal cells in all."""
    return name + " " * (width - cells(name))


def _size(target: RenderTarget) -> os.terminal_size:
    """The terminal's real size when ``target.out`` is one (:func:`aish.terminal_size`): live lines
    are redrawn by moving the cursor up over them, so a line wider than the screen would wrap and
    leave stale rows behind."""
    return terminal_size(target.out, (100, 24)) if target.tty else shutil.get_terminal_size((100, 24))


def _fit(text: str, cells: int) -> str:
    """``text`` made safe for one terminal row of ``cells`` cells: control characters
    shown as spaces, and the end kept (with ``…`` first) when it is too wide."""
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    widths = cell_widths(text)
    if sum(widths) <= cells:
        return text
    used, start = 1, len(text)  # the ellipsis takes one cell
    while start > 0 and used + widths[start - 1] <= cells:
        start -= 1
        used += widths[start]
    return "…" + text[start:]
