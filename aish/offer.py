"""``AGENT[-e] TEXT``: the answer's command, offered to run (decision 94).

In the shell the command is put on the next line, after a ``!`` (:func:`shell_line`),
to run with Enter, edit first, or drop with Ctrl-C, as llm's ``cmd`` plugin and zsh's
``print -z`` put a line in the editor. A one-shot ``aish`` on a terminal asks at an
editable ``run:`` prompt instead (:func:`run_at_prompt`) and runs what is accepted with
``/bin/sh -c``. Nothing ever runs without that Enter, and without a terminal ``-e`` is
refused before the request (``-x`` prints the command).
"""

from __future__ import annotations

from typing import TextIO

from aish.errors import EXIT_INTERRUPTED, EXIT_OK


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
