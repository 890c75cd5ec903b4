"""What a bracketed paste, or Alt-Enter, puts into the shell's line.

A block pasted at the start of a line is a script: each of its lines runs as
a command when Enter is pressed, as in any shell. A block of several lines
pasted after an agent's name (``athena proofread this: <paste>``) is text for
that agent, not commands: pasted prose must never run programs (a line
``yes we will ship`` would run ``yes``). It is inserted as one double-quoted
word, which the line shows for review before Enter sends it.

Alt-Enter starts a new line without running. At the end of an agent's words
(``athena explain this:`` Alt-Enter) the next line is more of that text, as in
a chat, not a command: the words typed so far become one double-quoted word,
open over the new line, and its closing quote goes after the cursor
(``athena "explain this:⏎|"``), so Enter sends the whole text. Elsewhere (a
script, a quote already open) it is a plain new line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aish.errors import AishSyntaxError
from aish.lang.tokens import NEWLINE, Incomplete, Token, tokenize

if TYPE_CHECKING:
    from prompt_toolkit.buffer import Buffer

_STAGE_START = frozenset({"|", "||", "&", "&&", ";", NEWLINE, "("})


def pasted(before: str, data: str, is_agent: Callable[[str], bool]) -> str:
    """The text to insert for ``data`` pasted after ``before`` (the line's text before the cursor).

    Line ends become newlines and the block's final ones are dropped (nothing
    left to review on an empty last line); a block of several lines after an
    agent's name is quoted.
    """
    data = data.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    stage = _agent_words(before) if "\n" in data else None
    if stage is None or not is_agent(stage[0].value):
        return data
    quoted = '"' + _escaped(data) + '"'
    return quoted if not before or before[-1].isspace() else " " + quoted


def new_line(buffer: Buffer, is_agent: Callable[[str], bool] | None) -> None:
    """Alt-Enter in ``buffer``: a new line, inside a quote opened around the agent's words when the
    cursor ends them (``is_agent`` None: a chat's message, where every new line is text)."""
    document = buffer.document
    opened = None
    if is_agent is not None and not document.text_after_cursor.strip():
        opened = opened_text(document.text_before_cursor, is_agent)
    if opened is None:
        buffer.insert_text("\n")
        return
    buffer.save_to_undo_stack()
    buffer.text = opened + '"'
    buffer.cursor_position = len(opened)


def opened_text(before: str, is_agent: Callable[[str], bool]) -> str | None:
    """``before`` (the line up to the cursor) with the words of the agent's stage it ends in made
    one double-quoted word, open, and a new line in it; None when it does not end in an agent's
    words (a program's, a redirection's target, an open quote)."""
    stage = _agent_words(before)
    if stage is None or not is_agent(stage[0].value):
        return None
    _name, words = stage
    head = before[: words[0].pos] if words else before.rstrip() + " "
    return head + '"' + _escaped(" ".join(word.value for word in words)) + "\n"


def _agent_words(before: str) -> tuple[Token, list[Token]] | None:
    """The name and the words of the stage ``before`` ends in, when the cursor is in those words:
    None inside a quote, an options bracket or a redirection's target, before a stage's name, or
    after a quoted one (never an agent's)."""
    try:
        tokens = tokenize(before)
    except (Incomplete, AishSyntaxError):
        return None
    name: Token | None = None
    words: list[Token] = []
    options = False
    for token in tokens:
        if token.kind == "op" and token.value in _STAGE_START:
            name, words, options = None, [], False
        elif token.kind == "op" and token.value == "[" and name is not None and not words:
            options = True
        elif token.kind == "op" and token.value == "]" and options:
            options = False
        elif token.kind == "op":
            return None  # a redirection: its word is a file's name
        elif name is None:
            name = token
        elif not options:
            words.append(token)
    if name is None or name.quoted or options:
        return None
    return name, words


def _escaped(text: str) -> str:
    """``text`` as the inside of a double-quoted word."""
    return text.replace("\\", "\\\\").replace('"', '\\"')
