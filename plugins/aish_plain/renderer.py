"""The ``plain`` renderer.

On a pipe or a file it writes exactly the answer's text, nothing else. On a
terminal it also shows status on stderr, naming the agent:
``[athena: Streaming...]`` before the first token and
``[athena: Complete - 2.3s, N tokens]`` at the end. An end other than the
natural one says so (``[athena: Cut at max_tokens - ...]``, see
:func:`aish.ending`), an answer without text is ``[athena: Empty answer - ...]``,
and a broken stream ``[athena: Partial - ...]`` (some text came) or
``[athena: Failed - ...]`` (``Interrupted`` after Ctrl-C). An answer that ends
without text replaces the ``Streaming...`` tag on its line with that summary
(when standard error is a terminal too), so a refused connection reads
``[athena: Failed - 0.0s, 0 tokens]`` alone, not after a tag that said
``Streaming...``.
On a terminal the answer's lines are broken between words at the
terminal's width (:class:`aish.WordWrap`; not when ``target.options["wrap"]`` is
False, ``set wrap off``): a terminal would cut a word at its last column.
On a terminal the answer always ends with a newline, and its control
characters (but newline and tab) are shown as escapes (``\\x1b``, see
:func:`aish.terminal_safe`): an answer cannot retitle the terminal, hide
text or move the cursor.

The model's reasoning is shown on a terminal only, dim, before the answer
(never on a pipe or in a file, where only the answer is written), and an
answer that was only reasoning says so (``..., reasoning only]``). A tool
call is one line on stderr on a terminal, ``[athena: tool call: NAME
ARGUMENTS]`` (elsewhere aish's error line names the calls).

While the stage waits to ask again before any text came (HTTP 429 or 503, a
refused connection), the tag says so: ``[athena: Retrying in 2.0s - HTTP
429]``, and gives way to ``[athena: Streaming...]`` when text comes. A first
token that is slow to come (a server loading its model, one that hangs) is
counted on the tag when both standard output and standard error are the terminal:
``[athena: Waiting - 5s]`` from 2 seconds on, once a second
(:class:`aish.WaitCount`), until text comes (the tag is ``Streaming...``
again) or the stream ends.
"""

from __future__ import annotations

import threading
import time

from aish import (
    Event,
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
    WordWrap,
    cells,
    ending,
    isatty,
    note_line_start,
    status_line,
    terminal_safe,
    visible,
)

DIM, UNDIM = "\x1b[2m", "\x1b[22m"


class PlainRenderer:
    """Writes text as it arrives; see the module docstring."""

    def __init__(
        self, target: RenderTarget, *, count_after: float | None = None, count_every: float | None = None
    ) -> None:
        """``count_after``, ``count_every``: :class:`aish.WaitCount`'s ``after`` and ``every`` (None: its own)."""
        self.out = target.out
        self.err = target.err
        self.tty = target.tty
        self._started = 0.0
        self._deltas = 0
        self._usage_tokens: int | None = None
        self._ends_with_newline = True
        self._said = False
        """Whether some text other than white space arrived."""
        self._agent = ""
        self._thinking = False  # dim reasoning is being written (terminal only)
        self._reasoned = False
        self._tag_alone = False
        """The ``Streaming...`` tag is all there is on the terminal's last line: an answer that
        ends without text replaces it with how it ended, instead of following it."""
        self._retrying = False
        """The tag says ``Retrying in ...`` (see :meth:`_text_begins`)."""
        self._waited = False
        """The tag says ``Waiting - Ns`` (see :meth:`_text_begins`)."""
        self._lock = threading.Lock()
        """Held while an event is fed and while the wait is counted on the tag."""
        self._count = (  # only where the tag's line is the answer's: it can change
            WaitCount(self._show_wait, self._lock, after=count_after, every=count_every, start=False)
            if self.tty and isatty(self.err) and isatty(self.out)
            else None
        )
        wraps = self.tty and target.options.get("wrap", True)
        self._wrap = WordWrap.for_terminal(target.out) if wraps else None
        """Breaks the answer's lines between words on a terminal (:class:`aish.WordWrap`; not on a
        ``TERM=dumb`` one, which wraps lines itself)."""

    def feed(self, event: Event) -> None:
        with self._lock:
            self._feed(event)

    def _feed(self, event: Event) -> None:
        kind = type(event)
        if kind is TextDelta:
            text: str = event.text  # type: ignore[union-attr]
            if self._tag_alone:
                self._text_begins()
            if self._thinking:
                self._end_thinking()
            self._deltas += event.pieces  # type: ignore[union-attr]
            if text:  # before writing: a Ctrl-C in a long write leaves the line open, some of the text shown
                self._ends_with_newline = False
                self._said = self._said or not text.isspace()
            if self._wrap is not None:
                self.out.write(self._wrap.text(terminal_safe(text)))
            else:
                self.out.write(terminal_safe(text) if self.tty else text)
            if text:
                self._ends_with_newline = text.endswith("\n")
        elif kind is StreamStart:
            self._started = time.monotonic()
            self._deltas, self._usage_tokens, self._ends_with_newline, self._said = 0, None, True, False
            self._agent = event.agent
            self._reasoned = self._thinking = self._retrying = self._waited = False
            if self.tty:
                self._tag(status_line(self._agent, "Streaming...") + " ")
                self._tag_alone = True
                if self._count is not None:
                    self._count.restart()
        elif kind is Reasoning:
            self._reasoned = True
            if self._tag_alone:
                self._text_begins()
            if self.tty:
                if not self._thinking:
                    self.out.write(DIM)
                    self._thinking = True
                text = terminal_safe(event.text)  # type: ignore[union-attr]
                self.out.write(self._wrap.text(text) if self._wrap is not None else text)
        elif kind is ToolCall:
            self._end_thinking()
            if self._tag_alone:
                self._text_begins()
            if self.tty:
                self._status(status_line(self._agent, f"tool call: {visible(event.describe())}"))  # type: ignore[union-attr]
                self._row_begins(0)
        elif kind is Usage:
            self._usage_tokens = event.output_tokens  # type: ignore[union-attr]
        elif kind is Retrying:
            if self._tag_alone and isatty(self.err):  # nothing of the answer yet: the tag says why it waits
                wait = f"Retrying in {event.delay:.1f}s"  # type: ignore[union-attr]
                self.err.write("\r\x1b[K")
                self._tag(status_line(self._agent, wait, event.reason) + " ")  # type: ignore[union-attr]
                self._retrying = True
                if self._count is not None:  # counted again once the stage has asked again
                    self._count.restart(begins=event.delay)  # type: ignore[union-attr]
        elif kind is StreamEnd:
            self._summary(ending(event.finish_reason, empty=not self._said))  # type: ignore[union-attr]
        elif kind is StreamError:
            interrupted = isinstance(event.error, Interrupted)  # type: ignore[union-attr]
            self._summary("Partial" if event.partial else "Interrupted" if interrupted else "Failed")  # type: ignore[union-attr]

    def _text_begins(self) -> None:
        """The first text after the tag: a ``Retrying`` or ``Waiting`` tag gives way to ``Streaming...``."""
        self._tag_alone = False
        self._stop_the_count()
        if self._retrying or self._waited:
            self._retrying = self._waited = False
            self.err.write("\r\x1b[K")
            self._tag(status_line(self._agent, "Streaming...") + " ")

    def _show_wait(self, seconds: float) -> bool:
        """The tag counts the wait (the lock held) until text comes; after a retry, from its asking again."""
        if not self._tag_alone:
            return False
        self._retrying = False
        self.err.write("\r\x1b[K")
        self._tag(status_line(self._agent, "Waiting", f"{seconds:.0f}s") + " ")
        self._waited = True
        return True

    def _stop_the_count(self) -> None:
        if self._count is not None:
            self._count.stop()

    def _end_thinking(self) -> None:
        """Close the dim reasoning with a blank line before what follows."""
        if self._thinking:
            self._thinking = False
            self.out.write(UNDIM + "\n\n")
            self._ends_with_newline = True
            self._row_begins(0)

    def _summary(self, word: str) -> None:
        if not self.tty:
            return
        if self._thinking:
            self.out.write(UNDIM)
            self._thinking, self._ends_with_newline = False, False
        if not self._ends_with_newline:
            self.out.write("\n")
            self._ends_with_newline = True
        if self._tag_alone and isatty(self.err):
            self.err.write("\r\x1b[K")  # the tag (and a ^C echoed after it) gives way to the summary
        self._tag_alone = False
        self._stop_the_count()
        tokens = self._usage_tokens if self._usage_tokens is not None else self._deltas
        elapsed = time.monotonic() - self._started
        only = ", reasoning only" if self._reasoned and not self._said else ""
        said = f"{elapsed:.1f}s, {tokens} token{'s' if tokens != 1 else ''}{only}"
        self._status(status_line(self._agent, word, said))
        note_line_start(self.out)  # the summary ended the line, a ^C echo's included

    def _tag(self, tag: str) -> None:
        """A status tag on stderr that the answer follows on the same row."""
        self._status(tag, newline=False)
        self._row_begins(cells(tag) if isatty(self.err) else 0)

    def _row_begins(self, col: int) -> None:
        if self._wrap is not None:
            self._wrap.start(col)

    def _status(self, text: str, newline: bool = True) -> None:
        self.out.flush()
        self.err.write(text + ("\n" if newline else ""))
        self.err.flush()

    def flush(self) -> None:
        self.out.flush()

    def close(self) -> None:
        with self._lock:
            self._stop_the_count()
        self.out.flush()
