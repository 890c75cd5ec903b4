"""A program's words, expanded as sh expands them (decision 90).

The words of a stage that runs a program (``ls``, ``grep``, ``wc``) and of the
built-ins ``echo`` and ``cat`` are expanded just before the stage runs; an
agent's words never are, so English reaches it as typed (``$5``, ``what?``,
``*really*``). In a program's words, as in sh:

- ``~`` and ``~/...`` (``~user``) at the start of a word: the home directory;
- ``$NAME`` and ``${NAME}``, outside quotes and inside ``"..."``: the
  environment variable, nothing when it is unset. A ``$`` before anything
  else (``$5``, ``$?``, a lone ``$``) is itself;
- ``*``, ``?`` and ``[...]`` outside quotes: the names that match, sorted;
  ``*`` and ``?`` match a leading ``.`` only when the pattern has one. A
  pattern that matches nothing stays as written (bash's default);
- a backslash makes the next character literal (``\\*``, ``\\$HOME``), and
  ``'...'`` keeps everything.

A word written without quotes that comes to nothing (an unset ``$NAME``) is
dropped; ``""`` stays an empty word. A variable's value is one word, neither
split at blanks nor matched as a pattern (zsh's rule, not sh's).

``!cmd`` needs none of this: its text goes to ``/bin/sh`` as typed
(:meth:`aish.lang.tokens._Lexer.shell_escape`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping

from aish.lang.ast import DOUBLE, KEPT, OPEN, Word

_MAGIC = "*?["
_SPECIAL = ("~", "$", *_MAGIC)
"""What makes a plain word worth a closer look; any other word is passed on as it is."""


@functools.cache
def _parameter() -> re.Pattern[str]:
    return re.compile(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})")


def expand_words(words: Iterable[Word], environ: Mapping[str, str] | None = None) -> tuple[Word, ...]:
    """``words`` as a program receives them: ``~``, ``$NAME`` and globs expanded (see the module)."""
    env = os.environ if environ is None else environ
    out: list[Word] = []
    for word in words:
        if word.segments is None and not any(c in word.value for c in _SPECIAL):
            out.append(word)
        else:
            out.extend(_expand(word, env))
    return tuple(out)


def _expand(word: Word, env: Mapping[str, str]) -> Iterator[Word]:
    text: list[str] = []
    """The word's value."""
    pattern: list[str] = []
    """The same as a glob pattern: what is literal escaped."""
    magic = False
    parts = word.parts()

    def literal(piece: str) -> None:
        text.append(piece)
        pattern.append(_escape(piece))

    for index, (how, part) in enumerate(parts):
        if how == OPEN:
            if index == 0 and part.startswith("~"):
                part = _tilde(part, env, last=len(parts) == 1, literal=literal)
            for piece, from_env in _parameters(part, env):
                if from_env:
                    literal(piece)
                else:
                    text.append(piece)
                    pattern.append(piece)
                    magic = magic or any(c in piece for c in _MAGIC)
        elif how == DOUBLE:
            for piece, _value in _parameters(part, env):
                literal(piece)
        elif how == KEPT:  # \d: the character, as sh gives it
            literal(part[1:])
        else:  # LITERAL
            literal(part)
    value = "".join(text)
    if magic:
        import glob

        matches = sorted(glob.glob("".join(pattern)))
        if matches:
            yield from (Word(match, word.pos, True) for match in matches)
            return
    if value or any(how != OPEN for how, _ in parts):
        yield Word(value, word.pos, word.quoted)


def _tilde(part: str, env: Mapping[str, str], *, last: bool, literal: Callable[[str], None]) -> str:
    """``~`` or ``~user`` at the start of ``part``: the home directory goes to ``literal``; the rest of
    the part is returned. Left alone when the name runs into a quoted part (``~"x"``)."""
    head, slash, rest = part.partition("/")
    if not (slash or last):
        return part
    home = (env.get("HOME") or os.path.expanduser("~")) if head == "~" else os.path.expanduser(head)
    if home == head:  # no such user
        return part
    literal(home)
    return slash + rest


def _parameters(part: str, env: Mapping[str, str]) -> Iterator[tuple[str, bool]]:
    """``part`` in pieces: ``(text, False)`` as written, ``(value, True)`` for each ``$NAME``."""
    if "$" not in part:
        yield part, False
        return
    start = 0
    for match in _parameter().finditer(part):
        yield part[start : match.start()], False
        yield env.get(match.group(1) or match.group(2), ""), True
        start = match.end()
    yield part[start:], False


def _escape(piece: str) -> str:
    """``piece`` as literal text in a glob pattern."""
    if not any(c in piece for c in _MAGIC):
        return piece
    import glob

    return glob.escape(piece)
