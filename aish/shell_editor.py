"""Ctrl-X Ctrl-E: write the line (or a chat's message) in an editor, as bash, zsh and fish let you.

The line being typed goes into a temporary file (mode 0600: chat messages can
be private), the editor of ``$VISUAL`` or ``$EDITOR`` (else the first of
``editor``, ``nano``, ``vi`` on the ``PATH``) opens it, and what it holds when
the editor exits comes back as the line, for review: nothing runs until Enter,
as zsh's ``edit-command-line`` and fish's ``edit_command_buffer`` do (bash's
runs it at once, which leaves no chance to look at a long prompt before it is
sent). An editor that fails leaves the line as it was, with one line saying why.

prompt_toolkit has the same binding (``enable_open_in_editor``) but picks its
fallback editors from fixed paths and says nothing when none runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Mapping
from typing import TextIO

from prompt_toolkit.application import run_in_terminal
from prompt_toolkit.document import Document
from prompt_toolkit.filters import has_selection
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from aish.wordwrap import say

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
            raise EditorError(f"the editor {command[0]!r} exited with status {status}; the line is unchanged")
        with open(path, encoding="utf-8", errors="replace", newline="") as file:
            edited = file.read()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
    edited = edited.replace("\r\n", "\n")
    return edited[:-1] if edited.endswith("\n") else edited


def bind_editor(bindings: KeyBindings, suffix: Callable[[], str], err: TextIO) -> None:
    """Ctrl-X Ctrl-E on the line being typed; ``suffix`` names the temporary file's kind
    (``.md`` for a chat's message, what editors colour as prose)."""

    @bindings.add("c-x", "c-e", filter=~has_selection)
    def _edit(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        text, kind = buffer.text, suffix()

        def run() -> str | None:
            try:
                return edit(text, editor_command(os.environ), kind)
            except EditorError as exc:
                say(err, f"aish: {exc}")
                err.flush()
                return None

        async def edit_in_terminal() -> None:
            edited = await run_in_terminal(run, in_executor=True)
            if edited is not None:
                buffer.document = Document(edited, len(edited))

        event.app.create_background_task(edit_in_terminal())


__all__ = ["EditorError", "bind_editor", "edit", "editor_command"]
