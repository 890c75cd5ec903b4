"""What a bracketed paste puts into the shell's line.

A block pasted at the start of a line is a script: each of its lines runs as
a command when Enter is pressed, as in any shell. A block of several lines
pasted after an agent's name (``athena proofread this: <paste>``) is text for
that agent, not commands: pasted prose must never run programs (a line
``yes we will ship`` would run ``yes``). It is inserted as one double-quoted
word, which the line shows for review before Enter sends it.
"""

from __future__ import annotations

from collections.abc import Callable

from aish.errors import AishSyntaxError
from aish.lang.tokens import NEWLINE, Incomplete, tokenize

_STAGE_START = frozenset({"|", "||", "&", "&&", ";", NEWLINE, "("})


def pasted(before: str, data: str, is_agent: Callable[[str], bool]) -> str:
    """The text to insert for ``data`` pasted after ``before`` (the line's text before the cursor).

    Line ends become newlines and the block's final ones are dropped (nothing
    left to review on an empty last line); a block of several lines after an
    agent's name is quoted.
    """
    data = data.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    if "\n" not in data or not is_agent(_stage_name(before) or ""):
        return data
    quoted = '"' + data.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return quoted if not before or before[-1].isspace() else " " + quoted


def _stage_name(before: str) -> str | None:
    """The name of the stage the cursor is in (None: inside a quote, a stage not begun, or no line)."""
    try:
        tokens = tokenize(before)
    except Incomplete:
        return None  # inside a quote: the block is already text
    except AishSyntaxError:
        return None
    name = None
    for tok in tokens:
        if tok.kind == "op" and tok.value in _STAGE_START:
            name = None
        elif tok.kind == "word" and name is None and not tok.quoted:
            name = tok.value
    return name
