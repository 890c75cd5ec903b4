"""Whether a stream is a terminal, for any stream aish is given (a closed or fake one says no)."""

from __future__ import annotations

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: the aish command imports this before typing
if TYPE_CHECKING:
    from typing import TextIO


def isatty(stream: TextIO) -> bool:
    """``stream.isatty()``, False for a stream without it or a closed one."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
