"""The ``plain`` renderer.

On a pipe or a file it writes exactly the answer's text, nothing else. On a
terminal it also shows status on stderr, naming the agent:
``[athena: Streaming...]`` before the first token and
``[athena: Complete - 2.3s, N tokens]`` at the end. An end other than the
natural one says so (``[athena: Cut at max_tokens - ...]``, see
:func:`aish.ending`), an answer without text is ``[athena: Empty answer - ...]``,
and a broken stream ``[athena: Partial - ...]`` or ``[athena: Failed - ...]``.
On a terminal the answer always ends with a newline.
"""

from __future__ import annotations

import time

from aish import (
    Event,
    RenderTarget,
    StreamEnd,
    StreamError,
    StreamStart,
    TextDelta,
    Usage,
    ending,
    status_line,
)


class PlainRenderer:
    """Writes text as it arrives; see the module docstring."""

    def __init__(self, target: RenderTarget) -> None:
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

    def feed(self, event: Event) -> None:
        kind = type(event)
        if kind is TextDelta:
            text: str = event.text  # type: ignore[union-attr]
            self.out.write(text)
            self._deltas += 1
            if text:
                self._ends_with_newline = text.endswith("\n")
                self._said = self._said or not text.isspace()
        elif kind is StreamStart:
            self._started = time.monotonic()
            self._deltas, self._usage_tokens, self._ends_with_newline, self._said = 0, None, True, False
            self._agent = event.agent
            if self.tty:
                self._status(status_line(self._agent, "Streaming...") + " ", newline=False)
        elif kind is Usage:
            self._usage_tokens = event.output_tokens  # type: ignore[union-attr]
        elif kind is StreamEnd:
            self._summary(ending(event.finish_reason, empty=not self._said))  # type: ignore[union-attr]
        elif kind is StreamError:
            self._summary("Partial" if event.partial else "Failed")  # type: ignore[union-attr]

    def _summary(self, word: str) -> None:
        if not self.tty:
            return
        if not self._ends_with_newline:
            self.out.write("\n")
            self._ends_with_newline = True
        tokens = self._usage_tokens if self._usage_tokens is not None else self._deltas
        elapsed = time.monotonic() - self._started
        self._status(status_line(self._agent, word, f"{elapsed:.1f}s, {tokens} tokens"))

    def _status(self, text: str, newline: bool = True) -> None:
        self.out.flush()
        self.err.write(text + ("\n" if newline else ""))
        self.err.flush()

    def flush(self) -> None:
        self.out.flush()

    def close(self) -> None:
        self.out.flush()
