"""The shell's own keys, on cmd2's prompt_toolkit session.

- A bracketed paste is one edit (:mod:`aish.shell_paste`): text for an agent after its name.
- Ctrl-D on an unfinished line submits it as it is, so the syntax error says what is missing.
- Enter in a Ctrl-R search runs the line found, as bash does.
- Ctrl-X Ctrl-E edits the line in an editor (:mod:`aish.shell_editor`).
- Tab completes at once, so keys typed right after it (``ath<Tab>hi<Enter>``, typed ahead
  or pasted by a tool) find the completion in place (:func:`complete_now`).
- ``[`` right after Tab glues per-call options to the agent's name.
- Alt-Enter starts a new line without running (:func:`aish.shell_paste.new_line`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from prompt_toolkit.filters import Condition, is_searching
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys

from aish.shell_complete import glues_controls
from aish.shell_editor import bind_editor
from aish.shell_paste import new_line, pasted

if TYPE_CHECKING:
    from prompt_toolkit.buffer import Buffer

    from aish.app import App


def add_line_keys(
    bindings: KeyBindings,
    app: App,
    *,
    chatting: Callable[[], bool],
    continues: Callable[[], bool],
    at_end: Callable[[], bool],
    as_is: Callable[[], None],
    main_buffer: Callable[[], Buffer],
    err: TextIO,
) -> None:
    """Add the shell's keys to ``bindings``. ``chatting``: a chat's message is being typed (not an
    aish line); ``continues``: Enter would continue the line; ``at_end``: the cursor ends it;
    ``as_is``: the line is submitted unfinished; ``main_buffer``: the line's buffer (not a search's)."""

    @bindings.add(Keys.BracketedPaste)
    def _paste(event: KeyPressEvent) -> None:
        """A pasted block is inserted as one edit, for review; Enter runs (or sends) it whole.
        After an agent's name it is text for the agent (:mod:`aish.shell_paste`)."""
        buffer = event.current_buffer
        before = "" if chatting() else buffer.document.text_before_cursor
        buffer.insert_text(pasted(before, event.data, app.is_agent))

    @bindings.add("c-d", filter=Condition(lambda: continues() and at_end()))
    def _submit(event: KeyPressEvent) -> None:
        """Ctrl-D on an unfinished line submits it as it is: the syntax error says what is missing."""
        as_is()
        event.current_buffer.validate_and_handle()

    @bindings.add("enter", filter=is_searching)
    def _run_found(event: KeyPressEvent) -> None:
        """Enter in a Ctrl-R search runs the line found, as bash does (Esc leaves the search
        with the line, to edit it first; Ctrl-G gives the search up)."""
        from prompt_toolkit.search import accept_search

        accept_search()
        if not continues():
            main_buffer().validate_and_handle()

    bind_editor(bindings, lambda: ".md" if chatting() else ".aish", err)

    @bindings.add("tab", filter=~is_searching)
    def _tab(event: KeyPressEvent) -> None:
        """Tab: the completion is made before the next key is read (:func:`complete_now`)."""
        complete_now(event.current_buffer)

    @bindings.add("[")
    def _bracket(event: KeyPressEvent) -> None:
        """``ath<Tab>[``: the blank Tab left after an agent's name goes, so the controls are
        glued to it (``athena[-m ...]``), as zsh removes a completion's suffix."""
        buffer = event.current_buffer
        tab = bool(event.previous_key_sequence) and event.previous_key_sequence[-1].key == Keys.ControlI
        if tab and not chatting() and glues_controls(buffer.document.text_before_cursor, app):
            buffer.delete_before_cursor(1)
        buffer.insert_text(event.data * event.arg)

    @bindings.add("escape", "enter")
    @bindings.add("escape", "c-j")  # typed ahead (before the editor, during an answer) Enter is ^J
    def _newline(event: KeyPressEvent) -> None:
        """Alt-Enter (Esc Enter) starts a new line without running: after an agent's words, more
        of its text (:func:`aish.shell_paste.new_line`)."""
        new_line(event.current_buffer, None if chatting() else app.is_agent)


def complete_now(buffer: Buffer) -> None:
    """Tab: one completion is inserted; of several, the part they share is, and the menu opens
    (Tab in it goes to the next), as prompt_toolkit's own Tab does, but at once.

    prompt_toolkit's Tab completes in a background task, which keys read with the Tab do not
    wait for: ``ath<Tab>hi<Enter>`` typed quickly ran ``athhi``. The completer is asked here,
    in the key's handler; that task ran it in the event loop too (it is not threaded), so the
    editor waits no longer than it did."""
    from prompt_toolkit.completion import CompleteEvent, get_common_complete_suffix

    if buffer.complete_state is not None:
        buffer.complete_next()
        return
    if buffer.completer is None:
        return
    document = buffer.document
    completions = list(buffer.completer.get_completions(document, CompleteEvent(completion_requested=True)))
    if len(completions) == 1:
        buffer.delete_before_cursor(-completions[0].start_position)
        buffer.insert_text(completions[0].text)
        return
    if completions:
        buffer.insert_text(get_common_complete_suffix(document, completions))
        buffer.start_completion()  # the menu, from the completer again (the line may have changed)
