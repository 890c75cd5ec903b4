"""Where streamed Markdown can be cut: the complete blocks at its start.

A block is complete once a blank line follows it and the next block has
begun on a line of its own (not indented, so not a continuation of a list
item or an indented code block), outside any fenced code block. Those
blocks can be rendered for good; only the rest has to be redrawn as more
text arrives, so redrawing stays cheap however long the answer grows.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")


def stable_prefix(text: str) -> int:
    """The length of the leading part of ``text`` made of complete blocks (0 if none)."""
    cut = 0
    fence: str | None = None
    previous_blank = False
    offset = 0
    lines = text.split("\n")
    for line in lines[:-1]:  # the last piece is an unfinished line
        blank = not line.strip()
        if fence is None and previous_blank and not blank and line[0] not in " \t":
            cut = offset
        fence = _fence_after(fence, line)
        previous_blank = blank
        offset += len(line) + 1
    return cut


def open_fence(text: str) -> str | None:
    """The line that opened the fenced code block ``text`` ends inside (None: it ends outside one)."""
    fence: str | None = None
    opener: str | None = None
    for line in text.split("\n"):
        after = _fence_after(fence, line)
        if after is None or fence is None:
            opener = None if after is None else line
        fence = after
    return opener


def live_window(text: str, rows: int, width: int) -> str:
    """The end of ``text`` that a live region of ``rows`` rows by ``width`` columns can show: its last
    ``rows`` lines, at most ``rows * width`` characters (from a blank in a longer line), after the
    line that opened the code block they are in. Laying out only this keeps a redraw's cost to the
    screen's size, however long the block grows (a 300-line code block took 50 ms a redraw)."""
    budget = max(rows, 1) * max(width, 1)
    if len(text) <= budget:
        return text
    start = len(text)
    for _ in range(max(rows, 1)):
        start = text.rfind("\n", 0, max(start - 1, 0)) + 1
        if start == 0 or len(text) - start >= budget:
            break
    if len(text) - start > budget:  # one long line (a paragraph): from a blank near its end
        cut = len(text) - budget
        blank = text.find(" ", cut)
        start = blank + 1 if blank >= 0 else cut
    if start == 0:
        return text
    opener = open_fence(text[:start])
    return f"{opener}\n{text[start:]}" if opener is not None else text[start:]


def _fence_after(fence: str | None, line: str) -> str | None:
    """The fence open after ``line`` (None: outside a code block), ``fence`` being the one open
    before it: a fence line opens a block, and inside one only a fence line of the same character,
    as long or longer and nothing else, closes it."""
    match = _FENCE.match(line)
    if match is None:
        return fence
    if fence is None:
        return match["fence"]
    stripped = line.strip()
    closes = stripped == stripped[0] * len(stripped) and _closes(fence, match["fence"])
    return None if closes else fence


def _closes(opening: str, candidate: str) -> bool:
    return candidate[0] == opening[0] and len(candidate) >= len(opening)
