"""The interactive shell: a thin cmd2 4 subclass.

cmd2 owns the prompt, line editing and its own commands (``help``, ``quit``,
...). aish lines never go through cmd2's statement parser (which would hand
text after ``|`` to an OS shell, write ``>`` to the clipboard, drop text after
``;`` and abort on an open quote): :class:`AishStatementParser` passes them
through untouched and :meth:`AishShell.default` runs them with aish's own
:class:`~aish.runner.Runner`. Unfinished lines (open quote, trailing ``|``,
``\\``, ``(``) continue on the next line.

aish's ``history`` (recorded runs, :mod:`aish.history`) replaces cmd2's own
``history`` command; arrow-up recall keeps its separate input history file.
``!N`` and ``!!`` replay a recorded run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cmd2
from cmd2.exceptions import EmptyStatement
from cmd2.parsing import Statement, StatementParser

from aish.app import App
from aish.config import find_config
from aish.errors import AishError
from aish.history.commands import history_line
from aish.history.recorder import Recorder
from aish.history.store import resolve_replay
from aish.lang import is_incomplete
from aish.listing import list_agents, list_plugins
from aish.pipeline import is_shell_escape_line
from aish.plugin_toggle import plugins_command
from aish.runner import Runner

PROMPT = "aish> "
CONTINUATION = "....> "


RAW_COMMANDS = frozenset({"history"})
"""Shell commands whose arguments reach them as typed (``history search a|b``)."""


class AishStatementParser(StatementParser):
    """cmd2's parser for cmd2's own commands; a pass-through for aish lines and RAW_COMMANDS."""

    def __init__(self, is_cmd2_command: Callable[[str], bool]) -> None:
        super().__init__(terminators=[], multiline_commands=[], shortcuts={})
        self._is_cmd2_command = is_cmd2_command

    def parse(self, line: str) -> Statement:
        partial = self.parse_command_only(line)
        if partial.command and partial.command not in RAW_COMMANDS and self._is_cmd2_command(partial.command):
            return super().parse(line)
        return Statement(partial.args, raw=line, command=partial.command or line.strip())


def history_file(environ: dict[str, str] | None = None) -> str:
    """Where the shell keeps its input history (arrow-up recall), apart from aish's run history."""
    env = os.environ if environ is None else environ
    base = Path(env.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "aish"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        return ""
    return str(base / "shell_history")


class AishShell(cmd2.Cmd):
    """aish's REPL."""

    def __init__(
        self,
        app: App,
        *,
        renderer: str | None = None,
        debug: bool = False,
        history: Recorder | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("persistent_history_file", history_file())
        super().__init__(
            allow_cli_args=False,
            allow_redirection=False,
            allow_clipboard=False,
            shortcuts={},
            terminators=[],
            include_py=False,
            **kwargs,
        )
        self.app = app
        self.prompt = PROMPT
        self.continuation_prompt = CONTINUATION
        self.statement_parser = AishStatementParser(self._is_cmd2_command)
        self.recorder = history
        self.runner = Runner(app, out=self.stdout, err=self._err(), renderer=renderer, debug=debug, history=history)
        self.last_status = 0
        self._register_plugin_commands()

    def _err(self) -> Any:
        import sys

        return sys.stderr

    def _is_cmd2_command(self, name: str) -> bool:
        return name in self.get_all_commands()

    def _register_plugin_commands(self) -> None:
        def make(_info: Any) -> dict[str, Any]:
            return {"register": self.register_command_set}

        self.app.host.call_each("aish_register_commands", make)

    # ------------------------------------------------------------ aish lines
    def _complete_statement(self, line: str) -> Statement:
        """Read continuation lines while an aish line is unfinished, then parse."""
        while not self._is_cmd2_command(line.split(maxsplit=1)[0] if line.split() else "") and is_incomplete(line):
            try:
                nextline = self._read_command_line(self.continuation_prompt)
            except EOFError:
                break  # the aish parser reports what is unfinished
            except KeyboardInterrupt:
                self.stdout.write("^C\n")
                raise EmptyStatement from None
            line = f"{line}\n{nextline}"
        return super()._complete_statement(line)

    def default(self, statement: Statement) -> bool | None:
        """Run an aish line (anything that is not a cmd2 command); ``!N``/``!!`` replay a run."""
        line, replay_of, stdin = statement.raw, None, None
        try:
            if line.lstrip().startswith("!") and not is_shell_escape_line(line):
                self._sync_history()
                replay = resolve_replay(self.app, line)
                if replay is not None:
                    line, replay_of, stdin = replay
                self.stdout.write(f"{line}\n")
        except AishError as exc:
            self.last_status = self.runner.report(exc)
            return None
        self.last_status = self.runner.run_source(line, stdin, replay_of=replay_of)
        return None

    def do_history(self, statement: Statement | str) -> bool | None:
        """Recorded runs: history [N] | show N | search TEXT | export [--json|--jsonl] | rm N... | clear [--yes]."""
        args = statement.args if isinstance(statement, Statement) else statement
        try:
            self._sync_history()
            self.last_status = history_line(self.app, args, self.stdout, confirm=self._confirm)
        except AishError as exc:
            self.last_status = self.runner.report(exc)
        return None

    def _sync_history(self) -> None:
        if self.recorder is not None:
            self.recorder.sync()

    def _confirm(self, question: str) -> bool:
        try:
            return self.read_input(question).strip().lower() in ("y", "yes")
        except (EOFError, KeyboardInterrupt):
            return False

    # -------------------------------------------------------------- commands
    def do_agents(self, _statement: Statement) -> None:
        """List agents: name, transport, codec and URL (never a key)."""
        list_agents(self.app, self.stdout)

    def do_plugins(self, statement: Statement) -> None:
        """List plugins (name, distribution, status, what each registered); plugins enable|disable NAME."""
        words = statement.arg_list
        if not words:
            list_plugins(self.app, self.stdout)
            return
        try:
            path = self.app.config.path or find_config(None)[0]
            self.last_status = plugins_command(words, known=self.app.host.plugins, path=path, out=self.stdout)
        except AishError as exc:
            self.last_status = self.runner.report(exc)

    def do_exit(self, _statement: Statement) -> bool:
        """Leave aish."""
        return True


NOT_AISH = ("shell", "edit", "run_pyscript", "py", "ipy")
"""cmd2 built-ins that are not aish's: an OS shell (aish has ``!cmd``), an editor, Python.
cmd2 lists only callable ``do_*`` attributes, so their lines reach aish like any other."""
for _name in NOT_AISH:
    setattr(AishShell, f"do_{_name}", None)


def run_shell(app: App, *, debug: bool = False, renderer: str | None = None, history: Recorder | None = None) -> int:
    """Run the REPL until ``quit``/``exit``/Ctrl-D; return the last status."""
    shell = AishShell(app, renderer=renderer, debug=debug, history=history)
    agents = app.agents()
    offered = [name for name, agent in agents.items() if "offline demo" in agent.description]
    hint = f" Offline demo agents: {', '.join(offered)}." if offered else ""
    example = f'Try: echo "hello" | {next(iter(agents))}   ' if agents else "No agents yet (see 'help').  "
    shell.stdout.write(f"aish, the AI shell.{hint} {example}(help, agents, quit)\n")
    shell.cmdloop()
    return shell.last_status
