"""Quote-aware tokenizer for the aish language.

Words are runs of characters separated by blanks; quotes group characters into
a word and are removed (``"..."`` allows ``\\"`` and ``\\\\`` escapes, ``'...'``
is literal); outside quotes a backslash makes a blank or a character the
language uses (operators, quotes, ``\\ # [ ] !``) literal, and a
backslash-newline joins two lines. ``#`` where a stage starts, or at the start
of a word and followed by a blank or the end of the line, begins a comment.
Operators: ``|  ||  &  &&  ;  <  >  >>  (  )`` and newline.

English-safe rules (so that ordinary sentences reach an agent literally):

- An apostrophe right after a letter or digit is a letter (``what's``,
  ``don't``, ``the users' files``); at the start of a word ``'`` opens a quote.
- ``&`` between two letters or digits is a letter (``AT&T``, ``R&D``).
- Outside quotes, a backslash before a character the language does not use
  is kept (``\\d+``, ``C:\\Users``, ``\\frac``): regular expressions, paths
  and TeX reach the agent as typed.
- ``#`` glued to what follows it, after a stage's first word, is text
  (``issue #42``, ``what does #include do``): a comment is ``# note``.
- ``>`` after ``-`` or ``=`` is an arrow (``a -> b``, ``x => y``), and
  ``>=``, ``<=``, ``<-`` and a tag (``<div>``, ``</p>``, ``List<T>``) are text,
  not redirects.
- ``(`` is an operator only where a stage starts (at the start of a line, after
  ``|``, ``&``, ``&&``, ``||``, ``;``, a newline or another ``(``); anywhere
  else it is text, and so is the ``)`` that closes it (``summarize (briefly)``).
  A ``)`` that closes no text parenthesis closes a group, and outside any group
  it is text too (``a) cats b) dogs``).
- ``NAME[...]`` at the start of a stage (``[`` glued to the name) holds per-call
  options (``athena[-m MODEL -s SYSTEM -o KEY VALUE]``): tokens ``[``, the
  words inside, ``]``. A ``[`` anywhere else is text.
"""

from __future__ import annotations

import functools
import re

from aish.errors import AishSyntaxError
from aish.lang.ast import DOUBLE, KEPT, LITERAL, OPEN, Segments, is_shell_escape
from aish.records import FrozenRecord

OPERATORS = ("||", "&&", ">>", "|", "&", ";", "<", ">", "(", ")")
_OP_START = frozenset(op[0] for op in OPERATORS)
_BLANKS = frozenset(" \t\r")
NEWLINE = "\n"
_STAGE_START = frozenset({"|", "||", "&", "&&", ";", NEWLINE, "("})
"""Operators after which a stage starts: a ``(`` there opens a group."""
_ESCAPES = frozenset(_BLANKS | _OP_START | {"\\", '"', "'", "#", "[", "]", "!"})
"""What a backslash outside quotes makes literal; before anything else it is kept (``\\d``, ``C:\\Users``)."""
_COMMENT_AFTER = frozenset(_BLANKS | {NEWLINE})
"""What follows a ``#`` that begins a comment inside a stage (``# note``; ``#42`` is a word)."""
_PLAIN_STOP = frozenset(_BLANKS | {"\\", '"', "'", NEWLINE} | _OP_START)
_set = object.__setattr__
"""Sets a frozen record's field: a token is made per word, and ``freeze(**fields)`` costs 1.7x this."""


@functools.cache
def _name_with_controls() -> re.Pattern[str]:
    """``NAME[``: a stage's name with per-call options glued to it. Compiled on first use: a line without
    ``[`` never needs it."""
    return re.compile(r"[\w][\w.-]*\[")


@functools.cache
def _tag() -> re.Pattern[str]:
    """``<div>``, ``</p>``, ``<br/>``, ``<T>``: text in a sentence, not two redirects. Compiled on first
    use: a line without ``<`` never needs it."""
    return re.compile(r"</?[A-Za-z][A-Za-z0-9_-]*/?>")


class Token(FrozenRecord):
    """A word (``kind == "word"``) or an operator (``kind == "op"``, value is the operator).

    ``[`` and ``]`` are operator tokens around a stage's per-call options.
    """

    __slots__ = ("kind", "value", "pos", "quoted", "segments")
    kind: str
    value: str
    pos: int
    quoted: bool
    segments: Segments | None
    """How a word's parts were written, when not all as plain text (see :class:`~aish.lang.ast.Word`)."""

    def __init__(self, kind: str, value: str, pos: int, quoted: bool = False, segments: Segments | None = None) -> None:
        _set(self, "kind", kind)
        _set(self, "value", value)
        _set(self, "pos", pos)
        _set(self, "quoted", quoted)
        _set(self, "segments", segments)


class Incomplete(AishSyntaxError):
    """The line stops in the middle of something: more input may complete it."""


def tokenize(line: str) -> list[Token]:
    """Split ``line`` into tokens; raise :class:`Incomplete` on an open quote, ``[`` or trailing ``\\``."""
    return _Lexer(line).run()


class _Lexer:
    def __init__(self, line: str) -> None:
        self.line = line
        self.brackets = "[" in line
        """Whether any stage may have controls (``NAME[``)."""
        self.tokens: list[Token] = []
        self.stage_start = True
        """The next word starts a stage (its command name)."""
        self.groups = 0
        """Open ``(`` operators."""
        self.texts = 0
        """Open text parentheses in the current stage's words."""

    def run(self) -> list[Token]:
        line, n, i = self.line, len(self.line), 0
        while i < n:
            c = line[i]
            if c in _BLANKS:
                i += 1
            elif c == "\\" and i + 1 < n and line[i + 1] == "\n":
                i += 2
            elif c == "#" and (self.stage_start or i + 1 == n or line[i + 1] in _COMMENT_AFTER):
                end = line.find("\n", i)
                i = n if end == -1 else end
            elif c == NEWLINE:
                self.op(NEWLINE, i)
                i += 1
            elif c in _OP_START and self.is_operator(i, in_word=False):
                op = next(o for o in OPERATORS if line.startswith(o, i))
                self.op(op, i)
                i += len(op)
            elif c == "!" and self.stage_start:
                i = self.shell_escape(i)
            elif self.stage_start and self.brackets and (match := _name_with_controls().match(line, i)):
                self.tokens.append(Token("word", match.group()[:-1], i))
                i = self.controls(match.end() - 1)
            else:
                i = self.word(i)
        return self.tokens

    def op(self, value: str, pos: int) -> None:
        self.tokens.append(Token("op", value, pos))
        if value == "(":
            self.groups += 1
        elif value == ")":
            self.groups -= 1
        self.texts = 0
        self.stage_start = value in _STAGE_START

    def is_operator(self, i: int, *, in_word: bool) -> bool:
        """Whether the operator character at ``i`` acts as one (see the module's English-safe rules).

        A ``(`` or ``)`` that is text is counted when :meth:`word` takes it.
        """
        line, c = self.line, self.line[i]
        if c == "(":
            return not in_word and self.stage_start
        if c == ")":
            return not self.texts and self.groups > 0
        if c == "&" and not line.startswith("&&", i):
            return not (i > 0 and line[i - 1].isalnum() and i + 1 < len(line) and line[i + 1].isalnum())
        if c == ">":  # not an arrow (->, =>), not >=, not the end of a <tag>
            return not (
                (i > 0 and line[i - 1] in "-=")
                or line.startswith(">=", i)
                or _tag_end(line, line.rfind("<", 0, i)) == i + 1
            )
        if c == "<":  # not <=, not <-, not a <tag>
            return not (line.startswith(("<=", "<-"), i) or _tag_end(line, i) > 0)
        return True

    def word(self, start: int) -> int:
        line, n = self.line, len(self.line)
        parts: list[str] = []
        kinds: list[str] = []
        """How each part was written: what a program's words expand (:mod:`aish.lang.expand`)."""
        quoted = False
        i = start
        while i < n:
            c = line[i]
            if c in _BLANKS or c == NEWLINE or (c in _OP_START and self.is_operator(i, in_word=i > start)):
                break
            if c == "\\":
                if i > start and (i + 1 >= n or line[i + 1] == "\n"):  # ``in C:\``: text, not a continuation
                    parts.append(c)
                    kinds.append(LITERAL)
                    i += 1
                    continue
                if i + 1 >= n:
                    raise Incomplete("line ends with '\\'", line, i)
                if line[i + 1] == "\n":
                    i += 2
                    continue
                escaped = line[i + 1] in _ESCAPES
                parts.append(line[i + 1] if escaped else line[i : i + 2])
                kinds.append(LITERAL if escaped else KEPT)
                i += 2
            elif c == '"' or (c == "'" and not (i > start and line[i - 1].isalnum())):
                quoted = True
                i, text = _quoted(line, i)
                parts.append(text)
                kinds.append(DOUBLE if c == '"' else LITERAL)
            else:
                if c == "(":
                    self.texts += 1
                elif c == ")" and self.texts:
                    self.texts -= 1
                j = i + 1
                while j < n and line[j] not in _PLAIN_STOP:
                    j += 1
                parts.append(line[i:j])
                kinds.append(OPEN)
                i = j
        segments = None if all(kind == OPEN for kind in kinds) else tuple(zip(kinds, parts, strict=True))
        self.tokens.append(Token("word", "".join(parts), start, quoted, segments))
        self.stage_start = False
        return i

    def shell_escape(self, start: int) -> int:
        """``!cmd ...``: after the name, the text up to ``|``, ``||``, ``&&``, ``;``, a newline or the end
        is one word for ``/bin/sh``, as typed (``2>/dev/null``, ``>&2``, ``$(...)`` are the shell's);
        quotes and backslashes keep those operators inside them. ``!N``, ``!-N``, ``!!`` are words."""
        end = self.word(start)
        if not is_shell_escape(self.tokens[-1].value) and self.tokens[-1].value != "!":
            return end
        line, n = self.line, len(self.line)
        i = end
        while i < n and line[i] in _BLANKS:
            i += 1
        begin, quote = i, ""
        while i < n:
            c = line[i]
            if quote:
                if c == quote:
                    quote = ""
                elif c == "\\" and quote == '"':
                    i += 1
            elif c in "'\"":
                quote = c
            elif c == "\\":
                i += 1
            elif c in "\n|;" or line.startswith("&&", i):
                break
            i += 1
        if quote:
            raise Incomplete(f"unclosed {quote} quote", line, begin)
        if i > n:
            raise Incomplete("line ends with '\\'", line, n - 1)
        text = line[begin:i].rstrip(" \t\r")
        if text:
            self.tokens.append(Token("word", text, begin))
        self.stage_start = False
        return i

    def controls(self, start: int) -> int:
        """The words of ``[...]`` after a stage's name, up to the unquoted ``]``."""
        line, n = self.line, len(self.line)
        self.tokens.append(Token("op", "[", start))
        i = start + 1
        while i < n:
            c = line[i]
            if c in _BLANKS or c == NEWLINE:
                i += 1
            elif c == "]":
                self.tokens.append(Token("op", "]", i))
                self.stage_start = False
                return i + 1
            else:
                i = self.control_word(i)
        raise Incomplete("'[' is never closed", line, start)

    def control_word(self, start: int) -> int:
        line, n = self.line, len(self.line)
        parts: list[str] = []
        quoted = False
        i = start
        while i < n and line[i] not in _BLANKS and line[i] not in "]\n":
            c = line[i]
            if c == "\\":
                if i + 1 >= n:
                    raise Incomplete("line ends with '\\'", line, i)
                parts.append(line[i + 1] if line[i + 1] in _ESCAPES else line[i : i + 2])
                i += 2
            elif c in "\"'":
                quoted = True
                i, text = _quoted(line, i)
                parts.append(text)
            else:
                parts.append(c)
                i += 1
        self.tokens.append(Token("word", "".join(parts), start, quoted))
        return i


def _tag_end(line: str, i: int) -> int:
    """Where a tag starting at ``i`` ends (``<div>``, ``</p>``, ``List<T>``: text), or -1. A tag glued
    to a file-like word after it (``<in>out``) is a redirect, as it always was."""
    match = _tag().match(line, i) if i >= 0 else None
    if match is None:
        return -1
    end = match.end()
    return -1 if end < len(line) and (line[end].isalnum() or line[end] in "._/~") else end


def _quoted(line: str, start: int) -> tuple[int, str]:
    """The text of the quote opened at ``start``, and where the quote ends. Inside ``"``, a
    backslash keeps a ``"`` or ``\\`` that follows it; any other backslash is text. Found with
    ``str.find``: the shell asks at each key, and a pasted text may be 100 KB."""
    quote = line[start]
    i = start + 1
    parts: list[str] = []
    while True:
        end = line.find(quote, i)
        if end < 0:
            raise Incomplete(f"unclosed {quote} quote", line, start)
        slash = line.find("\\", i, end) if quote == '"' else -1
        if slash < 0:
            parts.append(line[i:end])
            return end + 1, "".join(parts)
        parts.append(line[i:slash])
        if line[slash + 1] in '"\\':
            parts.append(line[slash + 1])
            i = slash + 2
        else:
            parts.append("\\")
            i = slash + 1


_CONTINUES = frozenset({"|", "||", "&&", "&", "("})


def typed_on(old: str, new: str) -> bool:
    """Whether ``new`` is ``old`` with only ASCII letters, digits and blanks typed after it, ``old``
    ending in a letter or digit (blanks aside): then :func:`is_incomplete` says the same of both.

    Nothing such text adds opens or closes a quote, a ``[``, a group or a comment, and the last
    token stays a word (or what is open stays open), so the shell need not tokenize a pasted
    100 KB line again at each key typed after it.
    """
    if len(new) <= len(old) or not new.startswith(old):
        return False
    added = new[len(old) :]
    plain = added.replace(" ", "").replace("\t", "")
    last = old.rstrip(" \t")[-1:]
    return added.isascii() and (not plain or plain.isalnum()) and last.isascii() and last.isalnum()


def is_incomplete(line: str) -> bool:
    """True when more lines would complete ``line`` (open quote or ``[``, trailing ``|``, ``\\``, ``(``)."""
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
