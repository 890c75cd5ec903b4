"""Output redirection of a pipeline (``> FILE``, ``>> FILE``)."""

from __future__ import annotations

import os
from typing import TextIO

from aish.errors import UsageError


def open_output(op: str, target: str) -> TextIO:
    """``target`` opened for ``>`` (truncate) or ``>>`` (append); a failure is one line naming it."""
    try:
        path = os.path.expanduser(target)
        return open(path, "a" if op == ">>" else "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{op} {target}: {exc.strerror}") from None
