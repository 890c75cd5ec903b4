"""Quote-aware tokenizer for the aish language.

Words are runs of characters separated by blanks; quotes group characters into
a word and are removed (``"..."`` allows ``\\"`` and ``\\\\`` escapes, ``'...'``
is literal); outside quotes a backslash escapes the next character and a
backslash-newline joins two lines. ``#`` at the start of a word begins a comment.
Operators: ``|  ||  &  &&  ;  <  >  >>  (  )`` and newline.
"""

from __future__ import annotations

from dataclasses import dataclass

from aish.errors import AishSyntaxError

OPERATORS = ("||", "&&", ">>", "|", "&", ";", "<", ">", "(", ")")
_OP_START = frozenset(op[0] for op in OPERATORS)
_BLANKS = frozenset(" \t\r")
NEWLINE = "\n"


@dataclass(frozen=True)
class Token:
    """A word (``kind == "word"``) or an operator (``kind == "op"``, value is the operator)."""

    kind: str
    value: str
    pos: int
    quoted: bool = False


class Incomplete(AishSyntaxError):
    """The line stops in the middle of something: more input may complete it."""


def tokenize(line: str) -> list[Token]:
    """Split ``line`` into tokens; raise :class:`Incomplete` on an open quote or trailing ``\\``."""
    tokens: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in _BLANKS:
            i += 1
        elif c == "\\" and i + 1 < n and line[i + 1] == "\n":
            i += 2
        elif c == "#":
            end = line.find("\n", i)
            i = n if end == -1 else end
        elif c == NEWLINE:
            tokens.append(Token("op", NEWLINE, i))
            i += 1
        elif c in _OP_START:
            op = next(o for o in OPERATORS if line.startswith(o, i))
            tokens.append(Token("op", op, i))
            i += len(op)
        else:
            i = _word(line, i, tokens)
    return tokens


def _word(line: str, start: int, tokens: list[Token]) -> int:
    parts: list[str] = []
    quoted = False
    i, n = start, len(line)
    while i < n:
        c = line[i]
        if c in _BLANKS or c == NEWLINE or c in _OP_START:
            break
        if c == "\\":
            if i + 1 >= n:
                raise Incomplete("line ends with '\\'", line, i)
            if line[i + 1] == "\n":
                i += 2
                continue
            parts.append(line[i + 1])
            i += 2
        elif c in "\"'":
            quoted = True
            i = _quoted(line, i, parts)
        else:
            j = i
            while j < n and line[j] not in _BLANKS and line[j] not in "\\\"'\n" and line[j] not in _OP_START:
                j += 1
            parts.append(line[i:j])
            i = j
    tokens.append(Token("word", "".join(parts), start, quoted))
    return i


def _quoted(line: str, start: int, parts: list[str]) -> int:
    quote = line[start]
    i, n = start + 1, len(line)
    while i < n:
        c = line[i]
        if c == quote:
            return i + 1
        if c == "\\" and quote == '"' and i + 1 < n and line[i + 1] in '"\\':
            parts.append(line[i + 1])
            i += 2
            continue
        parts.append(c)
        i += 1
    raise Incomplete(f"unclosed {quote} quote", line, start)


_CONTINUES = frozenset({"|", "||", "&&", "&", "("})


def is_incomplete(line: str) -> bool:
    """True when more lines would complete ``line`` (open quote, trailing ``|``, ``\\``, ``(``)."""
    try:
        tokens = tokenize(line)
    except Incomplete:
        return True
    except AishSyntaxError:
        return False
    depth = 0
    for tok in tokens:
        if tok.kind == "op" and tok.value in "()":
            depth += 1 if tok.value == "(" else -1
    meaningful = [t for t in tokens if not (t.kind == "op" and t.value == NEWLINE)]
    return depth > 0 or bool(meaningful and meaningful[-1].kind == "op" and meaningful[-1].value in _CONTINUES)
