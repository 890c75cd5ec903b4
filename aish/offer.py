"""``AGENT[-e] TEXT``: the answer's command, offered to run (decision 94).

In the shell the command is put on the next line, after a ``!`` (:func:`shell_line`),
to run with Enter, edit first, or drop with Ctrl-C, as llm's ``cmd`` plugin and zsh's
``print -z`` put a line in the editor. A one-shot ``aish`` on a terminal asks at an
editable ``run:`` prompt instead (:func:`run_at_prompt`) and runs what is accepted with
``/bin/sh -c``. Nothing ever runs without that Enter, and without a terminal ``-e`` is
refused before the request (``-x`` prints the command).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from aish.errors import EXIT_INTERRUPTED, EXIT_OK, RemoteError, UsageError

if TYPE_CHECKING:
    from aish.lang.ast import Command, Pipeline
    from aish.stream.result import StageResult


def check_offer(pipeline: Pipeline, executing: Command, *, can_offer: bool) -> None:
    """Refuse ``-e`` before the request where its command could not be offered (``can_offer``:
    there is a terminal to offer it on)."""
    name = executing.name
    if pipeline.stages[-1] is not executing or pipeline.stdout is not None:
        raise UsageError(f"{name}[-e]: its command is offered to run, so it ends the line (no | or > after it)")
    if not can_offer:
        raise UsageError(f"{name}[-e]: needs a terminal, to show the command before it runs ({name}[-x] prints it)")


BARE = 200
"""An answer without a code block is offered as a command only as one line of at most this many characters."""


def offered_command(agent: str, result: StageResult, *, demo: bool = False) -> str:
    """The command ``agent``'s answer ``result`` offers: its first code block, else the answer when it
    is one short line (a model that answered with the bare command). An answer cut short offers
    none: a command cut short may do something else than the whole one. Nor does prose (more than
    a line, or sentences): it would go on the next line as a command to run. ``demo``: ``agent``
    is an offline demo agent, which answers every question with text."""
    from aish.pipeline.extract import code_of
    from aish.stops import stop_note

    cut = stop_note(result.finish_reason)
    if cut is not None:
        raise RemoteError(f"{agent}[-e]: the answer was {cut}: its command is not offered to run")
    command = code_of(result.text).strip()
    if not command:
        raise UsageError(f"{agent}[-e]: the answer holds no command to run")
    if command == result.text.strip() and ("\n" in command or len(command) > BARE or _sentences(command)):
        why = f"{agent}[-e]: the answer is text, not a command (no code block): nothing is offered to run"
        if demo:
            why += f"; {agent} is an offline demo, which answers with text: try -e with a real model (agents add)"
        raise RemoteError(why)
    return command


def _sentences(text: str) -> bool:
    """Whether ``text`` reads as two sentences or more (``It lists them. Use ls.``)."""
    import re

    return re.search(r"[a-z][.!?] +[A-Z]", text) is not None


def shell_line(command: str) -> str:
    """``command`` as aish lines for ``/bin/sh``: each line after a ``!`` (a line continued with a
    trailing backslash goes on without one; blank lines stay blank), but ``cd DIR``, which is aish's
    own: a child shell's ``cd`` would change nothing."""
    lines: list[str] = []
    continued = False
    for line in command.splitlines():
        own = continued or not line.strip() or line.split()[0] == "cd"
        lines.append(line if own else f"!{line}")
        continued = line.endswith("\\")
    return "\n".join(lines)


def run_at_prompt(command: str, err: TextIO) -> int:
    """Show ``command`` at an editable ``run:`` prompt; run what Enter accepts with ``/bin/sh -c``
    and return its status (Ctrl-C or Ctrl-D: nothing runs, 130)."""
    from prompt_toolkit import prompt

    try:
        line = prompt("run: ", default=command)
    except (EOFError, KeyboardInterrupt):
        err.write("aish: not run\n")
        return EXIT_INTERRUPTED
    if not line.strip():
        return EXIT_OK
    import subprocess

    from aish.pipeline.oscmd import SHELL

    process = subprocess.Popen([SHELL, "-c", line])
    try:
        return process.wait()
    except KeyboardInterrupt:  # the command got the Ctrl-C too
        process.wait()
        return EXIT_INTERRUPTED
