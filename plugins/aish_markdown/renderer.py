"""The ``markdown`` renderer.

On a pipe or a file it writes exactly the answer's text, nothing else (rich
is not even imported). On a terminal it renders the Markdown with rich as it
streams: complete blocks are printed for good, and the block still arriving
is redrawn in place, at most 30 times a second (:data:`aish_markdown.live.FRAME`). Status goes to stderr
as with ``plain``, naming the agent: ``[athena: Streaming...]`` on a line of
its own before the answer, ``[athena: Complete - 2.3s, N tokens]`` after it
(or how else it ended: ``Cut at max_tokens``, ``Empty answer``, ``Partial``,
``Failed``, ``Interrupted`` after Ctrl-C; see :func:`aish.ending`). Reasoning is not rendered (the ``plain``
renderer shows it, dim); a tool call is one line on stderr on a terminal,
``[athena: tool call: NAME ARGUMENTS]``; a wait to ask again before any text
is one too, ``[athena: Retrying in 2.0s - HTTP 429]``. A first token slow to come is
counted on the tag when standard output and standard error are the terminal, ``[athena:
Waiting - 5s]`` (:class:`aish.WaitCount`), and the tag says ``Streaming...`` again when text
comes. The answer's control characters
(but newline and tab) are shown as escapes before rich sees them
(:func:`aish.terminal_safe`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from aish import (
    Event,
    Heartbeat,
    Interrupted,
    Reasoning,
    RenderTarget,
    Retrying,
    StreamEnd,
    StreamError,
    StreamStart,
    TextDelta,
    ToolCall,
    Usage,
    WaitCount,
    ending,
    isatty,
    note_line_start,
    status_line,
    terminal_safe,
    visible,
)

if TYPE_CHECKING:
    from aish_markdown.live import LiveMarkdown


class MarkdownRenderer:
    """Live Markdown on a terminal, exact text elsewhere; see the module docstring."""

    def __init__(
        self,
        target: RenderTarget,
        clock: Callable[[], float] = time.monotonic,
        frame: float | None = None,
        *,
        count_after: float | None = None,
        count_every: float | None = None,
    ) -> None:
        """``frame``: seconds between redraws of the live region, at least (None: :data:`~aish_markdown.live.FRAME`);
        ``count_after``, ``count_every``: :class:`aish.WaitCount`'s ``after`` and ``every`` (None: its own)."""
        self.out = target.out
        self.err = target.err
        self.tty = target.tty
        self._clock = clock
        self._frame = frame
        self._view: LiveMarkdown | None = None
        self._started = clock()
        self._deltas = 0
        self._usage_tokens: int | None = None
        self._said = False
        """Whether some text other than white space arrived."""
        self._agent = ""
        self._lock = threading.Lock()
        """Held while an event is fed and while the wait is counted on the tag."""
        self._count = (  # only where the tag is the line above the cursor
            WaitCount(self._show_wait, self._lock, after=count_after, every=count_every, start=False)
            if self.tty and isatty(self.err) and isatty(self.out)
            else None
        )
        self._waited = False
        """The tag says ``Waiting - Ns``: text brings ``Streaming...`` back."""

    def feed(self, event: Event) -> None:
        with self._lock:
            if self._count is not None and self._count.counting and type(event) not in _WAITING:
                self._count.stop()
            self._feed(event)

    def _feed(self, event: Event) -> None:
        kind = type(event)
        if kind is TextDelta:
            text: str = event.text  # type: ignore[union-attr]
            if self._waited:
                self._retag("Streaming...")
            self._deltas += event.pieces  # type: ignore[union-attr]
            if not self._said and text and not text.isspace():
                self._said = True
            if self.tty:
                self._live().append(terminal_safe(text))
            else:
                self.out.write(text)
        elif kind is StreamStart:
            self._end_view()
            self._started = self._clock()
            self._deltas, self._usage_tokens, self._said = 0, None, False
            self._agent = event.agent
            if self.tty:
                self._status(status_line(self._agent, "Streaming..."))
                if self._count is not None:
                    self._count.restart()
        elif kind is Usage:
            self._usage_tokens = event.output_tokens  # type: ignore[union-attr]
        elif kind is Retrying:
            if self.tty and not self._deltas:  # nothing of the answer yet: say why it waits
                wait = f"Retrying in {event.delay:.1f}s"  # type: ignore[union-attr]
                self._status(status_line(self._agent, wait, event.reason))  # type: ignore[union-attr]
                if self._count is not None:  # counted again once the stage has asked again
                    self._count.restart(begins=event.delay)  # type: ignore[union-attr]
        elif kind is ToolCall:
            self._end_view()
            if self.tty:
                self._status(status_line(self._agent, f"tool call: {visible(event.describe())}"))  # type: ignore[union-attr]
        elif kind is StreamEnd:
            self._summary(ending(event.finish_reason, empty=not self._said))  # type: ignore[union-attr]
        elif kind is StreamError:
            interrupted = isinstance(event.error, Interrupted)  # type: ignore[union-attr]
            self._summary("Partial" if event.partial else "Interrupted" if interrupted else "Failed")  # type: ignore[union-attr]

    def _show_wait(self, seconds: float) -> bool:
        self._retag("Waiting", f"{seconds:.0f}s")
        self._waited = True
        return True

    def _retag(self, word: str, detail: str = "") -> None:
        """The tag, the line above the cursor, says ``word`` now."""
        self._waited = False
        self.err.write("\x1b[1A\r\x1b[K" + status_line(self._agent, word, detail) + "\n")
        self.err.flush()

    def _live(self) -> LiveMarkdown:
        if self._view is None:
            from aish_markdown.live import FRAME, LiveMarkdown

            frame = FRAME if self._frame is None else self._frame
            self._view = LiveMarkdown(self.out, frame=frame, clock=self._clock)
        return self._view

    def _end_view(self) -> None:
        if self._view is not None:
            self._view.close()
            self._view = None

    def _summary(self, word: str) -> None:
        if not self.tty:
            return
        self._end_view()
        if not self._deltas and self.err.isatty():
            self.err.write("\r\x1b[K")  # the line under the tag holds at most a ^C echo: it gives way
        tokens = self._usage_tokens if self._usage_tokens is not None else self._deltas
        said = f"{self._clock() - self._started:.1f}s, {tokens} token{'s' if tokens != 1 else ''}"
        self._status(status_line(self._agent, word, said))
        note_line_start(self.out)  # the summary ended the line, a ^C echo's included

    def _status(self, text: str) -> None:
        self._waited = False  # the line above the cursor is this one now
        self.out.flush()
        self.err.write(text + "\n")
        self.err.flush()

    def flush(self) -> None:
        if self._view is not None:
            self._view.refresh()
        self.out.flush()

    def close(self) -> None:
        with self._lock:
            if self._count is not None:
                self._count.stop()
        self._end_view()
        self.out.flush()


_WAITING = frozenset({Usage, Heartbeat, Reasoning})
"""Events that leave the wait for text counted (reasoning is not shown: the wait for text goes on)."""
