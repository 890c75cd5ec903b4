"""The syntax tree of an aish line.

A :class:`Script` is a list of pipelines joined by ``;``, newlines, ``&&`` and
``||``. A :class:`Pipeline` is stages joined by ``|``; a stage is a
:class:`Command` (``athena "text"``) or a :class:`Group` of commands run side by
side (``apollo & athena``, also written in parentheses for fan-in).
"""

from __future__ import annotations

from collections.abc import Iterator

from aish.lang.controls import NO_CONTROLS, Controls
from aish.records import FrozenRecord, freeze

_set = object.__setattr__
"""Sets a frozen record's field: words and commands are made per parse, and ``freeze(**fields)`` costs 1.7x this."""


OPEN, DOUBLE, LITERAL, KEPT = "open", "double", "literal", "kept"
"""How a part of a word was written: plain text; inside ``"..."``; inside ``'...'`` or after a
backslash that makes it literal (``\\ ``, ``\\|``); a backslash kept with the character after it
(``\\d``, which an agent receives as typed and a program as ``d``, as sh gives it)."""

Segments = tuple[tuple[str, str], ...]
"""A word's parts as ``(how, text)`` pairs, ``how`` one of :data:`OPEN`, :data:`DOUBLE`,
:data:`LITERAL`, :data:`KEPT`."""


class Word(FrozenRecord):
    """One argument after quote removal. ``pos`` is its offset in the line.

    ``quoted``: some part of it was in quotes. ``segments``: how its parts were written, None when
    the whole word is plain text; :mod:`aish.lang.expand` reads them for a program's words.
    """

    __slots__ = ("value", "pos", "quoted", "segments")
    value: str
    pos: int
    quoted: bool
    segments: Segments | None

    def __init__(self, value: str, pos: int, quoted: bool = False, segments: Segments | None = None) -> None:
        _set(self, "value", value)
        _set(self, "pos", pos)
        _set(self, "quoted", quoted)
        _set(self, "segments", segments)

    def parts(self) -> Segments:
        """How the word's parts were written (one :data:`OPEN` part for plain text)."""
        return self.segments if self.segments is not None else ((OPEN, self.value),)


class Redirect(FrozenRecord):
    """``< FILE``, ``> FILE`` or ``>> FILE``. ``segments``: how the file's name was written (see
    :class:`Word`), for :func:`aish.pipeline.redirect.expanded`."""

    __slots__ = ("op", "target", "pos", "segments")
    op: str
    target: str
    pos: int
    segments: Segments | None

    def __init__(self, op: str, target: str, pos: int, segments: Segments | None = None) -> None:
        freeze(self, op=op, target=target, pos=pos, segments=segments)


class Command(FrozenRecord):
    """A named stage and its arguments: an agent or a built-in such as ``echo``.

    ``controls``: the per-call options of ``NAME[-m MODEL ...]`` (empty when none).
    """

    __slots__ = ("name", "args", "pos", "controls")
    name: str
    args: tuple[Word, ...]
    pos: int
    controls: Controls

    def __init__(self, name: str, args: tuple[Word, ...], pos: int, controls: Controls = NO_CONTROLS) -> None:
        _set(self, "name", name)
        _set(self, "args", args)
        _set(self, "pos", pos)
        _set(self, "controls", controls)

    @property
    def text(self) -> str:
        """The arguments joined by single spaces: the stage's own input text."""
        return " ".join(w.value for w in self.args)


class Group(FrozenRecord):
    """Stages that run in parallel on the same input (``a & b & c``)."""

    __slots__ = ("members", "pos")
    members: tuple[Stage, ...]
    pos: int

    def __init__(self, members: tuple[Stage, ...], pos: int) -> None:
        freeze(self, members=members, pos=pos)


Stage = Command | Group


class Pipeline(FrozenRecord):
    """Stages joined by ``|``, with the pipeline's redirections."""

    __slots__ = ("stages", "stdin", "stdout", "pos")
    stages: tuple[Stage, ...]
    stdin: Redirect | None
    stdout: Redirect | None
    pos: int

    def __init__(
        self, stages: tuple[Stage, ...], stdin: Redirect | None = None, stdout: Redirect | None = None, pos: int = 0
    ) -> None:
        freeze(self, stages=stages, stdin=stdin, stdout=stdout, pos=pos)

    def commands(self) -> Iterator[Command]:
        """Every command of the pipeline, a group's members included, in order."""
        return _commands(self.stages)


class Script(FrozenRecord):
    """Pipelines with the operator that leads into each (None for the first).

    ``;`` and newline run the next pipeline regardless, ``&&`` only after
    success, ``||`` only after failure.
    """

    __slots__ = ("items", "source")
    items: tuple[tuple[str | None, Pipeline], ...]
    source: str

    def __init__(self, items: tuple[tuple[str | None, Pipeline], ...] = (), source: str = "") -> None:
        freeze(self, items=items, source=source)


def _commands(stages: tuple[Stage, ...]) -> Iterator[Command]:
    for stage in stages:
        if isinstance(stage, Group):
            yield from _commands(stage.members)
        else:
            yield stage


def is_shell_escape(name: str) -> bool:
    """``!cmd``: a shell command. ``!N``, ``!-N`` and ``!!`` are history replays, never commands."""
    return name.startswith("!") and not (name[1:2].isdigit() or name[1:2] == "!" or _back(name))


def _back(name: str) -> bool:
    """``!-N``: the Nth last run."""
    return name[1:2] == "-" and name[2:3].isdigit()


def is_shell_escape_line(line: str) -> bool:
    """Whether ``line`` starts with a ``!cmd`` shell escape (so it is not a history replay)."""
    words = line.split(maxsplit=1)
    return bool(words) and is_shell_escape(words[0])
