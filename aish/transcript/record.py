"""Recording a session into a transcript (``aish --record FILE``).

The session is the ordinary shell (interactive on a terminal, reading lines
from a pipe otherwise) running in the same sandbox as ``aish --test`` (see
:mod:`aish.transcript.session`), so what is recorded replays. Each command's
output is captured exactly as ``--test`` captures it (standard output and
standard error merged, not a terminal, so no status lines) while it is also
shown. Each command is written to the file as soon as it finishes; the
command that ends the session (``quit``, ``exit``, Ctrl-D) is not recorded,
nor one that Ctrl-C interrupted (``--test`` cannot press Ctrl-C).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from cmd2.plugin import CommandFinalizationData, PostparsingData

from aish.errors import EXIT_INTERRUPTED, EXIT_OK, UsageError
from aish.transcript.format import HEADER, format_entry
from aish.transcript.session import Channel, Merged, ShellSession, config_for, sandbox
from aish.wordwrap import say


class Recorder:
    """Shell hooks that capture each command's output and append it to the transcript."""

    def __init__(
        self, session: ShellSession, file: TextIO, shown: tuple[TextIO, TextIO], variables: list[tuple[str, str]]
    ) -> None:
        self.session, self.file, self.shown, self.variables = session, file, shown, variables
        self.merged = Merged()
        self.out = Channel(self.merged, "out", shown[0])
        self.err = Channel(self.merged, "err", shown[1])
        self.commands = 0
        self._command: str | None = None
        self._saved: tuple[Any, ...] = ()

    def begin(self, data: PostparsingData) -> PostparsingData:
        shell = self.session.shell
        shell.last_status = EXIT_OK  # a shell command (agents) does not set it
        runner = shell.runner
        self._command = str(data.statement.raw)
        self._saved = (shell.stdout, runner.out, runner.err, runner.tty, sys.stderr)
        shell.stdout, runner.out, runner.err, runner.tty, sys.stderr = self.out, self.out, self.err, False, self.err
        return data

    def end(self, data: CommandFinalizationData) -> CommandFinalizationData:
        if self._command is None:
            return data
        shell = self.session.shell
        runner = shell.runner
        shell.stdout, runner.out, runner.err, runner.tty, sys.stderr = self._saved
        output = self.merged.take()
        if output and not output.endswith("\n"):
            self.shown[0].write("\n")  # the next prompt starts on a line of its own
            self.shown[0].flush()
        if shell.last_status == EXIT_INTERRUPTED:  # Ctrl-C: --test cannot press it, so it would not replay
            self.shown[1].write("aish: not recorded: Ctrl-C interrupted it\n")
            self.shown[1].flush()
        elif not data.stop:
            self.file.write(format_entry(self._command, output, self.variables))
            self.file.flush()
            self.commands += 1
        self._command = None
        return data


def record(
    path: str,
    *,
    stdin: TextIO,
    out: TextIO,
    err: TextIO,
    config: str | None = None,
    renderer: str | None = None,
    debug: bool = False,
) -> int:
    """Record a session from ``stdin`` into the transcript ``path``; return the exit status."""
    target = Path(path).resolve()
    config = config_for(target, config)
    try:
        file = target.open("w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--record {path}: {exc.strerror}") from None
    with file, sandbox() as box:
        file.write(HEADER)
        session = ShellSession(config, renderer=renderer, debug=debug, stdin=stdin, stdout=out)
        recorder = Recorder(session, file, (out, err), box.variables())
        session.shell.register_postparsing_hook(recorder.begin)
        session.shell.register_cmdfinalization_hook(recorder.end)
        say(err, f"aish: recording to {path} (working directory {box.work}; quit or Ctrl-D ends the recording)")
        err.flush()
        try:
            session.shell.cmdloop()
        finally:
            session.close()
    say(err, f"aish: recorded {_commands(recorder.commands)} to {path}")
    return 0


def _commands(n: int) -> str:
    return f"{n} command{'s' if n != 1 else ''}"
