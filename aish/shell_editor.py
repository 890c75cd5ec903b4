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

import os
from collections.abc import Callable
from typing import TextIO

from prompt_toolkit.application import run_in_terminal
from prompt_toolkit.document import Document
from prompt_toolkit.filters import has_selection
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from aish.editor import EditorError, edit, editor_command
from aish.wordwrap import say


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
                say(err, f"aish: {exc}; the line is unchanged")
                err.flush()
                return None

        async def edit_in_terminal() -> None:
            edited = await run_in_terminal(run, in_executor=True)
            if edited is not None:
                buffer.document = Document(edited, len(edited))

        event.app.create_background_task(edit_in_terminal())


__all__ = ["EditorError", "bind_editor", "edit", "editor_command"]
