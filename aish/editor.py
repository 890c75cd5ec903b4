"""The user's editor, for a line (Ctrl-X Ctrl-E in the shell) or a file (``agents edit``).

The editor is ``$VISUAL``, else ``$EDITOR`` (either may hold options, ``code --wait``), else the
first of ``editor``, ``nano``, ``vi`` on the ``PATH``. No prompt_toolkit here: ``aish agents
edit`` runs without the shell.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Mapping

FALLBACKS = ("editor", "nano", "vi")
"""Tried in order, on the ``PATH``, when neither ``VISUAL`` nor ``EDITOR`` is set (Debian's
``editor`` is the system's choice)."""


class EditorError(Exception):
    """The editor could not be run or failed: the line stays as it was."""


def editor_command(environ: Mapping[str, str], which: Callable[[str], str | None] = shutil.which) -> list[str]:
    """The editor's command words: ``$VISUAL``, else ``$EDITOR`` (either may hold options,
    ``code --wait``), else the first fallback found; :class:`EditorError` when there is none."""
    import shlex

    for variable in ("VISUAL", "EDITOR"):
        value = environ.get(variable, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError as exc:
                raise EditorError(f"${variable} is not a command line ({exc}): {value!r}") from None
            if words:
                return words
    for name in FALLBACKS:
        found = which(name)
        if found:
            return [found]
    raise EditorError("no editor: set VISUAL or EDITOR (none of editor, nano, vi is installed)")


def edit(text: str, command: list[str], suffix: str) -> str:
    """Run ``command`` on a temporary file holding ``text``; the file's text afterwards (its last
    newline dropped, as editors add one). Raises :class:`EditorError` when the editor fails."""
    import subprocess
    import tempfile

    fd, path = tempfile.mkstemp(prefix="aish-", suffix=suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text + "\n" if text else "")
        try:
            status = subprocess.call([*command, path])
        except OSError as exc:
            raise EditorError(f"cannot run the editor {command[0]!r}: {exc.strerror or exc}") from None
        if status != 0:
            raise EditorError(f"the editor {command[0]!r} exited with status {status}")
        with open(path, encoding="utf-8", errors="replace", newline="") as file:
            edited = file.read()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
    edited = edited.replace("\r\n", "\n")
    return edited[:-1] if edited.endswith("\n") else edited


__all__ = ["FALLBACKS", "EditorError", "edit", "editor_command"]
