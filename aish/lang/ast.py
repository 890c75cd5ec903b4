"""The syntax tree of an aish line.

A :class:`Script` is a list of pipelines joined by ``;``, newlines, ``&&`` and
``||``. A :class:`Pipeline` is stages joined by ``|``; a stage is a
:class:`Command` (``athena "text"``) or a :class:`Group` of commands run side by
side (``apollo & athena``, also written in parentheses for fan-in).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aish.lang.controls import Controls


@dataclass(frozen=True)
class Word:
    """One argument after quote removal. ``pos`` is its offset in the line."""

    value: str
    pos: int
    quoted: bool = False


@dataclass(frozen=True)
class Redirect:
    """``< FILE``, ``> FILE`` or ``>> FILE``."""

    op: str
    target: str
    pos: int


@dataclass(frozen=True)
class Command:
    """A named stage and its arguments: an agent or a built-in such as ``echo``.

    ``controls``: the per-call options of ``NAME[-m MODEL ...]`` (empty when none).
    """

    name: str
    args: tuple[Word, ...]
    pos: int
    controls: Controls = field(default_factory=Controls)

    @property
    def text(self) -> str:
        """The arguments joined by single spaces: the stage's own input text."""
        return " ".join(w.value for w in self.args)


@dataclass(frozen=True)
class Group:
    """Stages that run in parallel on the same input (``a & b & c``)."""

    members: tuple[Stage, ...]
    pos: int


Stage = Command | Group


@dataclass(frozen=True)
class Pipeline:
    """Stages joined by ``|``, with the pipeline's redirections."""

    stages: tuple[Stage, ...]
    stdin: Redirect | None = None
    stdout: Redirect | None = None
    pos: int = 0


@dataclass(frozen=True)
class Script:
    """Pipelines with the operator that leads into each (None for the first).

    ``;`` and newline run the next pipeline regardless, ``&&`` only after
    success, ``||`` only after failure.
    """

    items: tuple[tuple[str | None, Pipeline], ...] = field(default_factory=tuple)
    source: str = ""
