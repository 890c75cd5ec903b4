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
        match = _FENCE.match(line)
        if fence is not None:
            if match and line.strip() == line.strip()[0] * len(line.strip()) and _closes(fence, match["fence"]):
                fence = None
        else:
            if previous_blank and not blank and line[0] not in " \t":
                cut = offset
            if match:
                fence = match["fence"]
        previous_blank = blank
        offset += len(line) + 1
    return cut


def _closes(opening: str, candidate: str) -> bool:
    return candidate[0] == opening[0] and len(candidate) >= len(opening)
