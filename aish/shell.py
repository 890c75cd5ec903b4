"""The interactive shell: a thin cmd2 4 subclass.

cmd2 owns the prompt, line editing and its own commands (``help``, ``quit``,
...). aish lines never go through cmd2's statement parser (which would hand
text after ``|`` to an OS shell, write ``>`` to the clipboard, drop text after
``;`` and abort on an open quote): :class:`AishStatementParser` passes them
through untouched and :meth:`AishShell.default` runs them with aish's own
:class:`~aish.runner.Runner`. Unfinished lines (open quote, trailing ``|``,
``\\``, ``(``) continue on the next line.

Commands (``agents``, ``history``, a plugin's: :mod:`aish.commands`) run
through the same :class:`~aish.runner.Runner` as every other line, so a line
does what it does in ``aish -c``; the shell shows them to cmd2 (``do_NAME``)
and feeds help and Tab completion from the registry. aish's ``history``
(recorded runs) replaces cmd2's own; arrow-up recall keeps its separate input
history file. ``!N`` and ``!!`` replay a recorded run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import cmd2
from cmd2.exceptions import EmptyStatement
from cmd2.parsing import Statement, StatementParser
from prompt_toolkit.application import get_app
from prompt_toolkit.filters import Condition
from prompt_toolkit.key_binding import KeyBindings

from aish.app import App
from aish.commands import CommandSpec
from aish.config_watch import ConfigWatch
from aish.conversations import Conversations
from aish.errors import AishError
from aish.history.recorder import Recorder
from aish.history.store import is_private, resolve_replay
from aish.lang import is_incomplete, typed_on
from aish.leaving import leave_status
from aish.pipeline import is_shell_escape_line
from aish.runner import Runner
from aish.shell_chat import Chat, chat_request
from aish.shell_complete import AishCompleter, Sources
from aish.shell_history import InputHistory, input_history_path
from aish.shell_keys import add_line_keys
from aish.shell_start import CONTINUATION, PROMPT, EarlyPrompt
from aish.signals import terminated
from aish.terminal import note_open_line
from aish.tty import isatty, read_secret

MODELS_WAIT = 1.5
"""Seconds Tab after ``-m`` waits for a server's list of models (a later Tab has it when it comes)."""


class AishStatementParser(StatementParser):
    """cmd2's parser for cmd2's own commands (help, set, quit); a pass-through for aish lines and commands."""

    def __init__(self, is_cmd2_command: Callable[[str], bool], chatting: Callable[[], bool] = lambda: False) -> None:
        super().__init__(terminators=[], multiline_commands=[], shortcuts={})
        self._is_cmd2_command = is_cmd2_command
        self._chatting = chatting

    def parse(self, line: str) -> Statement:
        if self._chatting():  # chat mode: the line is a message, never parsed
            return Statement("", raw=line, command=CHAT_LINE if line.strip() else "")
        partial = self.parse_command_only(line)
        if partial.command and self._is_cmd2_command(partial.command):
            return super().parse(line)
        return Statement(partial.args, raw=line, command=partial.command or line.strip())


CHAT_LINE = "_chat_line"
"""The hidden command a chat-mode line becomes (it sends the line, as typed, to the agent)."""


CMD2_BUILTINS_GONE = ("alias", "macro", "shortcuts", "run_script", "_relative_run_script")
"""cmd2 commands that do not understand aish lines: gone, their names free for aish."""


class AishShell(cmd2.Cmd):
    """aish's REPL."""

    def __init__(
        self,
        app: App,
        *,
        renderer: str | None = None,
        debug: bool = False,
        history: Recorder | None = None,
        conversations: Conversations | None = None,
        **kwargs: Any,
    ) -> None:
        typed = kwargs.pop("persistent_history_file", None)
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
        self.chat: Chat | None = None
        """Chat mode (None: aish lines)."""
        self.statement_parser = AishStatementParser(self._is_cmd2_command, lambda: self.chat_agent is not None)
        self.recorder = history
        self.runner = Runner(
            app,
            out=self.stdout,
            err=self._err(),
            renderer=renderer,
            debug=debug,
            history=history,
            interactive=True,
            confirm=self._confirm,
            conversations=conversations if conversations is not None else Conversations(),
            secret=functools.partial(read_secret, self._err()),
        )
        self.runner.enter_chat = self._enter_chat
        self.runner.offer = self._command_on_next_line
        self._next_line = ""  # -e's command, put on the next line by pre_prompt
        self.runner.keys_in = self.stdin.fileno() if isatty(self.stdin) else None
        self.runner.forget_typed = self._forget_typed
        self.last_status = 0
        self.hidden_commands.append(CHAT_LINE)
        for spec in app.commands.values():
            self._offer(spec)
        self.input_history = self._input_history(input_history_path() if typed is None else typed)
        self._continuing = False
        """What :meth:`_continues` said last outside a search."""
        self._continuing_text: str | None = None
        """The line :attr:`_continuing` was worked out for."""
        self._incomplete = False
        """:func:`~aish.lang.is_incomplete` of :attr:`_continuing_text`."""
        self._as_is = False
        """The line was submitted with Ctrl-D: run (or report) it unfinished."""
        self.chat_only = False
        """Started as a chat (``aish AGENT`` on a terminal): leaving the chat leaves aish."""
        self.config_watch = ConfigWatch(app)
        self._setup_session()

    # ------------------------------------------------------------ line editing
    def _input_history(self, path: str | Path) -> InputHistory | None:
        """Every typed line, kept across restarts (empty path: this session only)."""
        if not str(path):
            return None
        return InputHistory(Path(path), chatting=lambda: self.chat is not None, secrets=self.app.secrets)

    def _setup_session(self) -> None:
        """aish's completer, input history, continuation and paste on cmd2's prompt_toolkit session."""
        session = self.main_session
        session.completer = AishCompleter(
            Sources(
                agents=lambda: {name: agent.description for name, agent in self.app.agents().items()},
                commands=self._command_summaries,
                arguments=self._complete_arguments,
                active=lambda: self.chat_agent is None,
                models=self._models,
                chat_agent=lambda: self.chat_agent,
            )
        )
        if self.input_history is not None:
            session.history = self.input_history
            session.default_buffer.history = self.input_history
        session.multiline = Condition(self._continues)
        session.prompt_continuation = _continuation
        session.lexer = None  # cmd2's lexer colours aish lines as if they were cmd2 commands
        # The prompt runs in the main thread, where SIGWINCH tells prompt_toolkit of a resize: its
        # polling of the size besides (for Windows and other threads) woke an idle shell twice a second.
        session.app.terminal_size_polling_interval = None
        if isinstance(session.key_bindings, KeyBindings):
            add_line_keys(
                session.key_bindings,
                self.app,
                chatting=lambda: self.chat_agent is not None,
                continues=self._continues,
                at_end=self._at_end,
                as_is=lambda: setattr(self, "_as_is", True),
                main_buffer=lambda: self.main_session.default_buffer,
                err=self.runner.err,
            )

    def _continues(self) -> bool:
        """Whether Enter continues the line (an unfinished aish line) instead of running it.

        While Ctrl-R searches, the answer stays what it was when the search began:
        prompt_toolkit lays a search out by it, and a search text such as ``a|``
        (or a history entry found) must not switch the layout under the search.
        """
        if self.chat_agent is not None:
            return False
        buffer = self.main_session.default_buffer
        if get_app().current_buffer is not buffer:
            return self._continuing
        text = buffer.text
        if text is not self._continuing_text:  # asked ~30 times a render: a paste may be 100 KB
            before, self._continuing_text = self._continuing_text, text
            if before is None or not typed_on(before, text):  # else: a word typed after a paste, say
                self._incomplete = is_incomplete(text)
            self._continuing = bool(text.strip()) and self._incomplete and not self._takes_line_as_is(text)
        return self._continuing

    def _at_end(self) -> bool:
        """The cursor is at the end of the line being edited."""
        document = self.main_session.default_buffer.document
        return get_app().current_buffer is self.main_session.default_buffer and document.is_cursor_at_the_end

    def precmd(self, statement: Statement | str) -> Statement:
        """Before a line runs, and after it ran: the configuration file, read again if it changed."""
        self.config_watch.check(self._err())
        return super().precmd(statement)

    def postcmd(self, stop: bool, statement: Statement | str) -> bool:
        if not stop:  # ``!vim ~/.config/aish/config.toml``: its agents complete at the next prompt
            self.config_watch.check(self._err())
        if self.input_history is not None:
            self.input_history.rescrub()  # a secret the line brought (a URL's password) goes from it
        return stop

    def _err(self) -> Any:
        import sys

        return sys.stderr

    def sigint_handler(self, signum: int, frame: FrameType | None) -> None:
        """Ctrl-C while a line runs: cmd2's handler, without the newline it writes first.

        That newline, written from the signal handler in the middle of whatever is
        streaming, moved the cursor under a live display (the lanes' redrawn lines)
        and left stale copies of them on the screen. The terminal's ``^C`` echo is
        noted instead (:func:`aish.terminal.note_open_line`): the runner ends the
        line when the run is over, unless the output already did.
        """
        note_open_line(self.runner.out)
        if self.sigint_protection:
            return
        command_set = self.find_commandset_for_command(self.current_command.command) if self.current_command else None
        if command_set is not None and command_set.sigint_handler():
            return
        raise KeyboardInterrupt("Got a keyboard interrupt")

    def termination_signal_handler(self, signum: int, frame: FrameType | None) -> None:
        """SIGHUP (the terminal closed) or SIGTERM: unwound as :mod:`aish.signals` says, so the run
        under way is recorded as a Ctrl-C's is and aish ends by the signal (cmd2's handler exits
        with status 128 + N: the run was recorded as an error)."""
        terminated(signum)

    def _is_cmd2_command(self, name: str) -> bool:
        """A command of the shell's own (help, set, chat, quit); aish's commands are run by the runner."""
        return name not in self.app.commands and name in self.get_all_commands()

    def _takes_line_as_is(self, line: str) -> bool:
        """A line of a shell command or of a raw aish command (``history``): never continued."""
        name = line.split(maxsplit=1)[0] if line.strip() else ""
        spec = self.app.commands.get(name)
        return spec.takes_as_typed(line.strip()[len(name) :]) if spec is not None else self._is_cmd2_command(name)

    def _offer(self, spec: CommandSpec) -> None:
        """Show an aish command to cmd2 (``do_NAME``): it runs the line through the runner, as ``aish -c`` would."""

        def run(statement: Statement) -> None:
            self._run_line(statement.raw)

        run.__doc__ = spec.summary
        setattr(self, f"do_{spec.name}", run)

    # ------------------------------------------------------------ aish lines
    def _complete_statement(self, line: str) -> Statement:
        """Read continuation lines while an aish line is unfinished (not after Ctrl-D), then parse."""
        as_is, self._as_is = self._as_is, False
        while not as_is and self.chat_agent is None and not self._takes_line_as_is(line) and is_incomplete(line):
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
        line = statement.raw
        chat = chat_request(self.app.agents(), line)
        if chat is not None:  # an agent alone (or with its options alone): chat with it
            self._enter_chat(*chat)
            return None
        self._run_line(line)
        return True if self.runner.quit else None  # ``athena hi; quit``

    def _run_line(self, line: str) -> None:
        """Run ``line`` with the runner (a command, a pipeline, a script); ``!N``/``!!`` replay a run."""
        replay_of, stdin = None, None
        private = is_private(line)  # kept out of both histories, as bash's ignorespace
        try:
            if line.lstrip().startswith("!") and not is_shell_escape_line(line):
                self._sync_history()
                replay = resolve_replay(self.app, line)
                if replay is not None:
                    line, replay_of, stdin = replay.line, replay.number, replay.stdin
                self.stdout.write(f"{line}\n")
        except AishError as exc:
            self.last_status = self.runner.report(exc)
            return
        self.last_status = self.runner.run_source(line, stdin, replay_of=replay_of, record=not private)

    def _forget_typed(self, text: str) -> bool:
        """A secret was typed on the line: its input history entry goes (``Invocation.forget_typed``)."""
        return self.input_history is not None and self.input_history.forget(text)

    def _sync_history(self) -> None:
        if self.recorder is not None:
            self.recorder.sync()

    def _command_on_next_line(self, command: str) -> int:
        """``-e``: the command goes on the next line, to run with Enter (decision 94)."""
        from aish.offer import shell_line

        self._next_line = shell_line(command)
        return 0

    def pre_prompt(self) -> None:
        """cmd2's hook as the prompt starts: ``-e``'s command is written on the line."""
        if self._next_line:
            get_app().current_buffer.insert_text(self._next_line)
            self._next_line = ""

    def _confirm(self, question: str) -> bool:
        try:
            return self.read_input(question).strip().lower() in ("y", "yes")
        except (EOFError, KeyboardInterrupt):
            return False

    # -------------------------------------------------------------- commands
    def do_exit(self, statement: Statement | str) -> bool:
        """Leave aish (``exit N``: with status N, as sh; ``exit`` alone and Ctrl-D: the last line's)."""
        if not isinstance(statement, Statement):  # cmd2's Ctrl-D calls ``do_quit("")``
            return True
        try:
            self.last_status = leave_status(statement.raw, self.last_status)
        except AishError as exc:  # ``exit now``: said, and the shell leaves with 2, as sh's does
            self.last_status = self.runner.report(exc)
        return True

    do_quit = do_exit

    # ---------------------------------------------------------------- chat mode
    @property
    def chat_agent(self) -> str | None:
        """The agent of chat mode (None: aish lines)."""
        return self.chat.agent if self.chat is not None else None

    def _enter_chat(self, agent: str, controls: list[str] | None = None, *, quiet: bool = False) -> None:
        """Chat with ``agent``; ``quiet``: its banner is written by the caller (the shell's opening)."""
        self.chat = Chat(agent, self.runner, self.stdout, list(controls or []), leaves_aish=self.chat_only)
        self.prompt = self.chat.prompt
        if not quiet:
            self.stdout.write(self.chat.banner())
            self.stdout.flush()

    def _leave_chat(self) -> None:
        self.chat = None
        self.prompt = PROMPT

    def do__chat_line(self, statement: Statement) -> bool | None:
        """A line typed in chat mode (hidden): sent as it is, or a /command."""
        if self.chat is not None and not self.chat.handle(statement.raw):
            self._leave_chat()
            return True if self.chat_only else None
        return None

    def _read_command_line(self, prompt: str) -> str:
        """cmd2's read; Ctrl-D in chat mode leaves the chat instead of aish."""
        try:
            return super()._read_command_line(prompt)
        except EOFError:
            if self.chat_agent is None:
                raise
            self.stdout.write("\n")
            self._leave_chat()
            if self.chat_only:
                raise  # cmd2's end of input, now read as a line of aish (not a chat message): aish ends
            return ""

    # --------------------------------------------------------- command tables
    def _command_summaries(self) -> dict[str, str]:
        """The shell's commands (visible ones) and their one-line summaries."""
        found: dict[str, str] = {}
        for name in self.get_visible_commands():
            func = self.get_command_func(name)
            doc = (func.__doc__ or "").strip().splitlines() if func else []
            found[name] = doc[0] if doc else ""
        return found

    def _models(self, agent: str) -> list[str]:
        """What Tab offers after ``-m``: the agent's model, then its server's list (decision 45)."""
        if self.runner.model_checks is None:
            from aish.models import ModelChecks

            self.runner.model_checks = ModelChecks(self.app)
        return self.runner.model_checks.known(agent, MODELS_WAIT)

    def _complete_arguments(self, command: str, words: list[str], current: str) -> list[str]:
        """Candidates for a command's next argument (an aish command's own ``complete``)."""
        if command in self.app.commands:
            from aish.completion import arguments

            return arguments(self.app, command, words, current, self.runner)
        if command in ("help",) and not words:
            return [*self._command_summaries(), *self.app.agents()]
        return []


NOT_AISH = ("shell", "edit", "run_pyscript", "py", "ipy", *CMD2_BUILTINS_GONE)
"""cmd2 built-ins that are not aish's: an OS shell (aish has ``!cmd``), an editor, Python.
cmd2 lists only callable ``do_*`` attributes, so their lines reach aish like any other."""
for _name in NOT_AISH:
    setattr(AishShell, f"do_{_name}", None)
for _name in ("alias", "macro"):  # their subcommands would look for the commands removed above
    for _sub in ("create", "delete", "list"):
        setattr(AishShell, f"_{_name}_{_sub}", None)


def run_shell(
    app: App,
    *,
    debug: bool = False,
    renderer: str | None = None,
    history: Recorder | None = None,
    record: bool = True,
    chat: str | None = None,
    chat_controls: list[str] | None = None,
    conversations: Conversations | None = None,
    started: Callable[[], None] = lambda: None,
    early: EarlyPrompt | None = None,
    opening_lines: str = "",
) -> int:
    """Run the REPL until ``quit``/``exit``/Ctrl-D; return the last status. ``chat``: start chatting with it.

    ``conversations``: continued ones (``aish --continue``, ``--cid``); None starts the session afresh.
    ``record``: False starts the session as ``set history off`` (``aish --no-history``).
    ``started``: called once the shell is built, before its first prompt (:func:`aish.cli.run` ends its
    pause of the cycle collector there, decision 42). ``early``: the opening lines and the prompt,
    shown before this module was imported (:func:`aish.shell_start.start_shell`, decision 43);
    without it, ``opening_lines`` are written before the first prompt.
    """
    try:
        shell = AishShell(app, renderer=renderer, debug=debug, history=history, conversations=conversations)
    except BaseException:
        if early is not None:
            early.abandon()
        raise
    shell.runner.recording_enabled = record
    started()
    if chat is not None:
        shell.chat_only = True
        shell._enter_chat(chat, chat_controls, quiet=True)
    if early is None:
        shell.stdout.write(opening_lines)
    else:  # the opening lines and the prompt are on the screen already
        if shell._initial_termios_settings is not None:  # read while the early prompt had echo off
            shell._initial_termios_settings = early.modes  # cmd2 sets them again after every line
        early.take_over()
    shell.cmdloop()
    return shell.last_status


def _continuation(width: int, line_number: int, wrap_count: int) -> str:
    """``....>`` before each further line of an unfinished line or a block; a row that only wraps
    a long line gets nothing (``....>`` there read as an unfinished line)."""
    return CONTINUATION if wrap_count == 0 else ""
