"""``-x``: a stage's output is the first fenced code block of its answer.

``athena[-x] a bash one-liner that counts lines | sh`` or ``aish athena -x
"fizzbuzz in python" > fizz.py`` (llm's ``--extract``): what the stage shows,
passes on and writes is the code between the first fence of three backticks
or tildes (its info string, ``python``, left out) and the fence that closes
it; the whole answer when it has no fence. History keeps the whole answer.

:class:`CodeExtractor` does it on text as it streams, without waiting for
the end of the answer: the code is shown line by line as it comes. Only the
start of a line is held until it is known not to be the closing fence. On a
terminal the block is shown with its fences (``fences=True``): a renderer
then knows it for code (``markdown`` highlights it, ``plain`` leaves its
lines whole), while a file, a pipe and the next stage get the code alone.
"""

from __future__ import annotations

from collections.abc import Callable

from aish.events import Event, StreamEnd, StreamError, TextDelta

BEFORE, INSIDE, AFTER = 0, 1, 2


def _fence(line: str) -> str | None:
    """The fence a line opens (three or more backticks or tildes, at most three blanks before
    them), or None."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3 or stripped[:3] not in ("```", "~~~"):
        return None
    mark = stripped[0]
    return stripped[: len(stripped) - len(stripped.lstrip(mark))]


class CodeExtractor:
    """Feed it an answer's text in pieces; it returns the code of its first fenced block as it
    becomes known. :meth:`finish` ends the answer (the whole text, if no fence ever opened)."""

    def __init__(self, *, fences: bool = False) -> None:
        self.fences = fences
        """Give the block's fence lines too (what a terminal shows), not only the code."""
        self.state = BEFORE
        self._before: list[str] = []
        """The answer until the opening fence (given back whole when there is none)."""
        self._line = ""
        """The current line's start, while it could still be a fence."""
        self._fence = ""

    def feed(self, text: str) -> str:
        if self.state == AFTER or not text:
            return ""
        if self.state == BEFORE:
            return self._look_for_fence(text)
        out: list[str] = []
        at = 0
        while at < len(text) and self.state == INSIDE:
            end = text.find("\n", at)
            piece = text[at:] if end < 0 else text[at : end + 1]
            at += len(piece)
            out.append(self._inside(piece))
        return "".join(out)

    def finish(self) -> str:
        """What is still held at the end of the answer."""
        state, held = self.state, self._line
        self.state, self._line = AFTER, ""
        if state == BEFORE:
            return "".join(self._before)
        if state == AFTER:
            return ""
        return held if self.fences or not self._closes(held) else ""

    def _look_for_fence(self, text: str) -> str:
        self._before.append(text)
        line = self._line + text
        while True:
            end = line.find("\n")
            if end < 0:
                self._line = line
                return ""
            opener = _fence(line[:end])
            shown = line[: end + 1] if self.fences else ""
            line = line[end + 1 :]
            if opener is not None:
                self.state, self._fence, self._line = INSIDE, opener, ""
                self._before.clear()
                return shown + self.feed(line)

    def _inside(self, piece: str) -> str:
        """``piece``: the rest of a line, with its newline when it has one."""
        line = self._line + piece
        self._line = ""
        if line.endswith("\n"):
            if self._closes(line):
                self.state = AFTER
                return line if self.fences else ""
            return line
        body = line.lstrip(" ")
        if len(line) - len(body) <= 3 and not body.rstrip(" \t").strip(self._fence[0]):
            self._line = line  # blanks and fence marks so far: it may close the block
            return ""
        return line

    def _closes(self, line: str) -> bool:
        """Whether ``line`` is the fence that closes the block."""
        body = line.rstrip("\n").rstrip(" \t")
        marks = body.lstrip(" ")
        return len(body) - len(marks) <= 3 and len(marks) >= len(self._fence) and not marks.strip(self._fence[0])


def code_of(text: str) -> str:
    """The code of ``text``'s first fenced block (the whole text when it has none)."""
    extractor = CodeExtractor()
    return extractor.feed(text) + extractor.finish()


def extracting(sink: Callable[[Event], None], *, fences: bool = False) -> Callable[[Event], None]:
    """``sink`` given, of the answer's text, only the code of its first fenced block (see module);
    ``fences``: with the block's fence lines (for a terminal)."""
    extractor = CodeExtractor(fences=fences)

    def feed(event: Event) -> None:
        kind = type(event)
        if kind is TextDelta:
            code = extractor.feed(event.text)  # type: ignore[union-attr]
            if code:
                sink(TextDelta(code, event.agent, event.seq, event.pieces))  # type: ignore[union-attr]
            return
        if kind is StreamEnd or kind is StreamError:
            rest = extractor.finish()
            if rest:
                sink(TextDelta(rest, event.agent, event.seq))
        sink(event)

    return feed


__all__ = ["CodeExtractor", "code_of", "extracting"]
