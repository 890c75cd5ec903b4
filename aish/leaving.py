"""``quit`` and ``exit [N]``: a script's line of one of them ends it, with a status as sh's ``exit``."""

from __future__ import annotations

from aish.errors import UsageError
from aish.lang import Command, Pipeline, parse

QUIT = frozenset({"quit", "exit"})
"""A script's pipeline of one of these words alone (``exit N``) ends it (see :func:`quit_status`)."""


def is_quit(pipeline: Pipeline) -> bool:
    first = pipeline.stages[0]
    return len(pipeline.stages) == 1 and isinstance(first, Command) and first.name in QUIT


def leave_status(source: str, last: int) -> int:
    """The status the shell leaves with on ``quit`` or ``exit [N]`` typed alone (``last``: the last
    line's); a bad argument raises the UsageError ``aish -c`` reports (as sh, the shell still leaves)."""
    _, pipeline = parse(source).items[0]
    status = quit_status(pipeline, last)
    return last if status is None else status


def quit_status(pipeline: Pipeline, last: int) -> int | None:
    """The status to stop a script with if ``pipeline`` is ``quit`` or ``exit [N]`` (else None):
    ``N``, or that of the pipeline before it, as a POSIX shell's ``exit``."""
    first = pipeline.stages[0]
    if not isinstance(first, Command) or first.name not in QUIT:
        return None
    if len(pipeline.stages) > 1 or pipeline.stdin is not None or pipeline.stdout is not None:
        raise UsageError(f"{first.name}: it runs on its own (no '|', '<' or '>')")
    args = [word.value for word in first.args]
    if not args:
        return last
    if len(args) == 1 and args[0].isdigit() and args[0].isascii():
        return int(args[0]) % 256  # as sh: exit 300 is 44
    raise UsageError(f"{first.name}: takes at most an exit status (a whole number), not {' '.join(args)!r}")


__all__ = ["QUIT", "is_quit", "leave_status", "quit_status"]
