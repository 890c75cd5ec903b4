"""Runs parsed aish lines: the error boundary around :mod:`aish.pipeline`.

The one error boundary of aish: every :class:`~aish.errors.AishError` becomes
one line on stderr (``aish: ...``) and an exit status; a traceback only with
``--debug``. Output goes to the streams the runner is given. On a terminal a
line of aish never leaves the cursor mid-line (:mod:`aish.terminal`): output
without a final newline gets one before the prompt, the shell's next line or
an error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, TextIO

from aish.app import App
from aish.commands import AskSecret, Confirm, Invocation, RawCall, join_words, split_raw, split_words
from aish.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    AishError,
    Interrupted,
    OutputError,
    PluginError,
    UnknownAgentError,
    UsageError,
    output_error,
    visible,
)
from aish.history.recorder import STOPPED, Recorder, RunRecording
from aish.lang import Command, Pipeline, Redirect, Script, parse
from aish.leaving import is_quit, quit_status
from aish.line_hints import NEW_LINE_HINT, stray_joiner
from aish.pipeline import RunEnv, run_pipeline
from aish.signals import Terminated
from aish.stream import StageResult
from aish.terminal import end_line, track
from aish.tty import isatty, silence
from aish.wordwrap import say

STDIN = "<stdin>"
"""The script name of lines read from standard input (``aish < lines.aish``): errors say ``<stdin>:N:``."""

if TYPE_CHECKING:
    from aish.conversations import Conversations
    from aish.models import ModelChecks


class Runner:
    """Executes aish source against an :class:`App`, writing to injected streams."""

    def __init__(
        self,
        app: App,
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
        tty: bool | None = None,
        renderer: str | None = None,
        debug: bool = False,
        history: Recorder | None = None,
        stats: bool | None = None,
        session_id: str | None = None,
        stdin: TextIO | None = None,
        interactive: bool = False,
        confirm: Confirm | None = None,
        conversations: Conversations | None = None,
        secret: AskSecret | None = None,
    ) -> None:
        self.app = app
        self.stdin = stdin
        """Standard input that commands may read (``Invocation.stdin``)."""
        self.interactive = interactive
        """A person is at a terminal: commands may ask with ``confirm``."""
        self.confirm = confirm if interactive else None
        self.secret = secret if interactive else None
        """Asks for a secret at the terminal (``Invocation.secret``)."""
        self.forget_typed: Callable[[str], bool] | None = None
        """Drops the input history's entry that holds a text (``Invocation.forget_typed``; the shell's)."""
        self.history = history
        """Records each line run through :meth:`run_source` or :meth:`run_line` (None: not recorded)."""
        self.enter_chat: Callable[[str, list[str]], None] | None = None
        """Set by the interactive shell: opens chat mode with an agent (the ``chat`` command)."""
        self.recording_enabled = True
        """False: lines are not recorded for now (``set history off``), though a store is open."""
        self._recording: RunRecording | None = None
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.tty = isatty(self.out) if tty is None else tty
        if self.tty:
            self.out = track(self.out)
        self.offer: Callable[[str], int] | None = self._run_at_prompt if interactive and self.tty else None
        """``-e``: offers the answer's command to run, and returns a status (the shell puts it on its
        next line instead); None, without a terminal: ``-e`` is refused."""
        self.renderer_name = renderer
        self.debug = debug or app.config.settings.debug
        self.last_results: list[StageResult] = []
        self.stats = app.config.settings.stats if stats is None else stats
        """Show per-stage figures on stderr after each pipeline (``--stats``)."""
        self.wrap = app.config.settings.wrap
        """Break answers' lines between words on a terminal (``set wrap``)."""
        self.session_id = session_id
        """Passed to every stage's context (the shell names its session)."""
        self.conversations = conversations
        """The session's conversations: a pipeline whose only agent stage is one agent continues that
        agent's conversation (see :mod:`aish.conversations`). None: every stage is one-shot."""
        self.quit = False
        """A ``quit`` or ``exit`` ran: the script stops there (the shell leaves too)."""
        self.script_name: str | None = None
        """The script file being run (``aish FILE``): each error names it and its line."""
        self._where = ""
        """``FILE:LINE: `` of the pipeline running in a script file, put before its errors."""
        self.programs_read_stdin = False
        """A program without other input reads aish's standard input itself (``cat log | aish -c
        'grep ERROR | athena'``), as under ``sh -c``; else it reads nothing (or, in the shell, the
        terminal)."""
        self.keys_in: int | None = None
        """The terminal the shell reads lines from (None: not a shell on a terminal). While a line of
        agents runs, keys typed on it wait for the next prompt unechoed (:mod:`aish.typeahead`)."""
        self.model_checks: ModelChecks | None = None
        """Models given with ``-m`` are checked against their server's list while the answer streams
        (made for the first line with one: a line without imports nothing of :mod:`aish.models`)."""

    # ------------------------------------------------------------ entry points
    def run_source(
        self, source: str, stdin: str | None = None, *, replay_of: int | None = None, record: bool = True
    ) -> int:
        """Parse and run ``source``; report any error as one line; return the exit status.

        ``replay_of``: the history number of the run this one replays (``!N``). A line
        that is only a command (``history``, ``agents``) is not recorded, nor is any
        line when ``record`` is false (the shell's line that starts with a blank).
        """
        if replay_of is None and self.is_command_line(source):
            return self._run_source(source, stdin)
        return self._recorded(source, replay_of, stdin, lambda: self._run_source(source, stdin), record)

    def run_line(self, line: str, pipeline: Pipeline, stdin: str | None = None, *, record: bool = True) -> int:
        """Run an already parsed ``pipeline``, recorded in history as ``line`` (unless not ``record``)."""
        return self._recorded(line, None, stdin, lambda: self.run_pipeline(pipeline, stdin), record)

    def _recorded(
        self, line: str, replay_of: int | None, stdin: str | None, body: Callable[[], int], record: bool = True
    ) -> int:
        try:
            return self._record(line, replay_of, stdin, body) if record else body()
        finally:
            end_line(self.out)

    def _record(self, line: str, replay_of: int | None, stdin: str | None, body: Callable[[], int]) -> int:
        if self.history is None or not self.recording_enabled:
            return body()
        recording = self._recording = self.history.begin(line, replay_of, stdin, self.app.typed_secrets(line))
        status, why = EXIT_FAILURE, STOPPED
        try:
            status = body()
        except KeyboardInterrupt:
            status = EXIT_INTERRUPTED
            raise
        except Terminated as ended:  # SIGTERM or SIGHUP: aish ends after this
            status, why = EXIT_INTERRUPTED, f"aish was ended by {ended.name}"
            raise
        finally:
            self._recording = None
            recording.end(status, why)
        return status

    @property
    def recording_id(self) -> str | None:
        """The id of the run being recorded for the line under way (None: none is): ``history show -1``
        on a recorded line (``history show -1 | less``) means the run before it."""
        return self._recording.run_id if self._recording is not None else None

    def is_command_line(self, source: str) -> bool:
        """Is ``source`` one command and nothing else (``agents``, ``history search a|b``, ``athena --help``)?"""
        parts = split_raw(source, self.app.commands)
        if len(parts) != 1:
            return False
        if isinstance(parts[0], RawCall):  # ``history search owl | head`` is a pipeline: recorded
            return parts[0].pipe_to is None
        try:
            items = parse(parts[0]).items
            only = items[0][1] if len(items) == 1 else None
            return only is not None and (
                (len(only.stages) == 1 and self._command(only) is not None)
                or is_quit(only)
                or self._asks_help(only, None) is not None
            )
        except AishError:  # reported when the line runs
            return False

    def _run_raw(self, call: RawCall, then: Script | None, line: int = 1) -> int:
        """A raw command's line (``history search a|b``, ``history export > runs.json``); ``then``:
        the source its output is piped into (``history search owl | head``), on ``line`` of a file."""
        if then is not None:
            return self._command_into(then, call.name, split_words(call.rest), call.rest, line)
        out = Redirect(call.stdout[0], call.stdout[1], 0) if call.stdout else None
        return self._guarded(lambda: self._call(call.name, split_words(call.rest), call.rest, out))

    def _run_source(self, source: str, stdin: str | None) -> int:
        self.quit = False
        try:
            raw = split_raw(source, self.app.commands)
            parts = [(p, parse(p.pipe_to) if p.pipe_to else None) if isinstance(p, RawCall) else parse(p) for p in raw]
            status = EXIT_OK
            line = 1  # of the part's first line in ``source``
            for part, part_source in zip(parts, raw, strict=True):
                if isinstance(part, tuple):
                    self._at(line)
                    status = self._run_raw(*part, line)
                    line += 1
                else:
                    text = part_source if isinstance(part_source, str) else ""
                    status = self.run_script(part, stdin, source=text, line=line)
                    line += text.count("\n")
                stdin = None
                if status == EXIT_INTERRUPTED or self.quit:
                    break
            return status
        except KeyboardInterrupt:
            return self.report(Interrupted())
        except AishError as exc:  # the source does not parse: nothing ran
            self._where = f"{self.script_name}: " if self.script_name is not None else ""
            return self.report(exc)
        finally:
            self._where = ""

    def _at(self, line: int) -> None:
        """Errors from now on name the script file's line ``line`` (nothing outside a file)."""
        self._where = f"{self.script_name}:{line}: " if self.script_name is not None else ""

    def report(self, exc: AishError) -> int:
        """Print ``exc`` as one line (and its traceback under --debug); return its exit code."""
        if self.debug and not isinstance(exc, Interrupted):
            import traceback

            traceback.print_exception(exc, file=self.err)
        if self.tty and isatty(self.err):
            end_line(self.out)
        say(self.err, f"aish: {self._where}{visible(str(exc))}")
        self.err.flush()
        if isinstance(exc, OutputError) and exc.target == "standard output":
            silence(self.out)  # reported once: what is still buffered for it must not fail again at exit
        return exc.exit_code

    def run_script(self, script: Script, stdin: str | None = None, *, source: str = "", line: int = 1) -> int:
        """Run each pipeline, honouring ``;``, ``&&`` and ``||``.

        ``source``: the text ``script`` was parsed from (an unknown agent at the start of a line
        after the first gets a hint: that is often a pasted text's second line; in a script file,
        the error names the file and line instead), whose first line is ``line`` of the file.
        """
        stray = stray_joiner(self.app, script, source, typed=self.script_name is None)
        if stray is not None:  # ``athena what does a && b do``: nothing runs
            return self.report(stray)
        status = EXIT_OK
        after = 0
        for joiner, pipeline in script.items:
            own_line = "\n" in source[after : pipeline.pos]
            after = pipeline.pos
            if (joiner == "&&" and status != EXIT_OK) or (joiner == "||" and status == EXIT_OK):
                continue
            try:
                leave = quit_status(pipeline, status)
            except AishError as exc:  # ``exit foo``: said, and the script stops, as a POSIX shell does
                leave = self.report(exc)
            if leave is not None:
                self.quit = True
                return leave
            self._at(line + source.count("\n", 0, pipeline.pos))
            hint = NEW_LINE_HINT if own_line and self.script_name in (None, STDIN) else None
            status = self.run_pipeline(pipeline, stdin, hint=hint)
            stdin = None
            if status == EXIT_INTERRUPTED:
                break
        return status

    # --------------------------------------------------------------- pipelines
    def run_pipeline(self, pipeline: Pipeline, stdin: str | None = None, *, hint: str | None = None) -> int:
        """Run one pipeline; errors inside are reported here and give the status.

        ``hint``: what an unknown agent as its first word adds (it starts a line of a script after
        the first: see :meth:`run_script`).
        """

        def body() -> int:
            agent = self._asks_help(pipeline, stdin)
            if agent is not None:  # ``athena --help``: as ``aish athena --help`` and every command
                from aish.shell_help import agent_help

                agent_help(self.app, agent, self.out)
                return EXIT_OK
            command = self._command(pipeline)
            if command is not None:
                words = command.args
                if self.app.commands[command.name].expands:  # ``cd $HOME/src``: file names, as sh gives them
                    from aish.lang.expand import expand_words

                    words = expand_words(words)
                args = [word.value for word in words]
                if len(pipeline.stages) == 1:
                    return self._call(command.name, args, None, pipeline.stdout)
                return self._command_into(pipeline, command.name, args)
            try:
                return self._pipeline(pipeline, stdin)
            except UnknownAgentError as exc:
                from aish.line_hints import unknown_agent_hint

                talking_to = self.conversations.last_agent if self.conversations is not None else None
                found = unknown_agent_hint(self.app, pipeline, exc, hint, self.script_name, talking_to)
                exc.args = (f"{exc}{found}",)
                raise

        return self._guarded(body)

    def run_command(self, name: str, args: list[str], line: str | None = None) -> int:
        """Run the registered command ``name`` (``aish NAME ARGS``, a raw line); report its errors.

        ``line``: the rest of the line as typed (default: ``args`` joined).
        """
        return self._guarded(lambda: self._call(name, args, line, None))

    def _guarded(self, body: Callable[[], int]) -> int:
        try:
            return body()
        except KeyboardInterrupt:
            return self.report(Interrupted())
        except AishError as exc:
            return self.report(exc)
        except BrokenPipeError:
            raise  # the reader went away: the CLI ends quietly
        except OSError as exc:  # a command's output could not be written (ENOSPC, EIO)
            return self.report(output_error(exc, exc.filename or "standard output"))
        except Exception as exc:  # a plugin bug must not take the shell down
            if self.debug:
                import traceback

                traceback.print_exception(exc, file=self.err)
            hint = "" if self.debug else " (run with --debug for the traceback)"
            culprit = self.app.host.culprit(exc)
            where = f" in plugin {culprit!r}" if culprit else ""
            say(self.err, f"aish: unexpected error{where}: {type(exc).__name__}: {visible(str(exc))}{hint}")
            return EXIT_FAILURE

    def _asks_help(self, pipeline: Pipeline, stdin: str | None) -> str | None:
        """The agent ``pipeline`` asks help about: an agent alone, ``--help`` or ``-h`` (unquoted) its only word."""
        stage = pipeline.stages[0]
        if len(pipeline.stages) > 1 or not isinstance(stage, Command) or len(stage.args) != 1:
            return None
        word = stage.args[0]
        alone = stdin is None and pipeline.stdin is None and pipeline.stdout is None and not stage.controls.words
        asks = alone and not word.quoted and word.value in ("--help", "-h") and self.app.is_agent(stage.name)
        return stage.name if asks else None

    def _command(self, pipeline: Pipeline) -> Command | None:
        """The registered command that ``pipeline`` starts with, if it does (commands win over agents)."""
        first = pipeline.stages[0]
        named = [s.name for s in pipeline.stages if isinstance(s, Command) and s.name in self.app.commands]
        if not named:
            return None
        if len(named) > 1 or pipeline.stdin is not None or not isinstance(first, Command) or first.name != named[0]:
            raise UsageError(f"{named[-1]}: a command runs on its own or first in a pipeline (no '<' or '|' into it)")
        return first

    def _command_into(
        self, rest: Pipeline | Script, name: str, args: list[str], typed: str | None = None, at: int = 1
    ) -> int:
        """``conversations | grep owl``, ``agents | athena which is cheapest?``: the command's output
        is the rest of the pipeline's input, as a program's would be (``rest``: the pipeline, its
        command first; or a raw command's source after `` | ``)."""
        import io

        captured = io.StringIO()
        status = self._guarded(lambda: self._call(name, args, typed, None, out=captured))
        if status != EXIT_OK:  # as ``cat nofile | athena``: nothing is asked of what failed
            return status
        if isinstance(rest, Script):
            return self.run_script(rest, captured.getvalue(), source=rest.source, line=at)
        return self._pipeline(rest.replace(stages=rest.stages[1:]), captured.getvalue())

    def _call(
        self, name: str, args: list[str], line: str | None, redirect: Redirect | None, out: TextIO | None = None
    ) -> int:
        spec = self.app.commands[name]
        if self.history is not None:
            self.history.sync()  # what ran before it is stored (``history`` reads it)
        with ExitStack() as stack:
            out = self.out if out is None else out
            if redirect is not None:
                from aish.pipeline.redirect import expanded, open_output

                redirect = expanded(redirect) or redirect  # ``history export > $HOME/runs.json``
                out = stack.enter_context(open_output(redirect.op, redirect.target))
            invocation = Invocation(
                app=self.app,
                args=args,
                line=join_words(args) if line is None else line,
                out=out,
                err=self.err,
                stdin=self.stdin,
                interactive=self.interactive,
                confirm=self.confirm,
                runner=self,
                secret=self.secret,
                forget_typed=self.forget_typed,
            )
            if args in (["--help"], ["-h"]):  # every command's, as cliff gives each one
                from aish.shell_help import usage_text

                usage_text(spec.help, out)
                status = EXIT_OK
            else:
                status = spec.func(invocation)
            out.flush()
        if redirect is not None:
            from aish.pipeline.redirect import say_where

            say_where(self.err, redirect.op, redirect.target)
        if isinstance(status, bool) or not isinstance(status, int):
            raise PluginError(f"command {name!r} (plugin {spec.plugin!r}) returned {status!r}, not an exit status")
        return status

    def _pipeline(self, pipeline: Pipeline, stdin: str | None) -> int:
        executing = next((c for c in pipeline.commands() if c.controls.execute), None)
        if executing is not None:
            from aish.offer import check_offer

            check_offer(pipeline, executing, can_offer=self.offer is not None)
        env = RunEnv(
            app=self.app,
            out=self.out,
            err=self.err,
            tty=self.tty,
            report=self.report,
            renderer_name=self.renderer_name,
            recording=self._recording,
            session_id=self.session_id,
            stats=self.stats,
            wrap=self.wrap,
            conversations=self.conversations,
            programs_read_stdin=self.programs_read_stdin,
        )
        self.last_results = env.results
        keys = self.keys_in
        if keys is not None and all(self.app.is_agent(c.name) for c in pipeline.commands()):
            # no program reads the terminal: typed keys wait for the next prompt, unechoed
            from aish.typeahead import unechoed

            with unechoed(keys, self.out if self.tty else None):
                status = self._checked(env, pipeline, stdin)
        else:
            status = self._checked(env, pipeline, stdin)
        if executing is None or status != EXIT_OK or self.offer is None:
            return status
        from aish.offer import offered_command

        return self.offer(offered_command(executing.name, env.results[-1], demo=self.app.is_demo(executing.name)))

    def _run_at_prompt(self, command: str) -> int:
        from aish.offer import run_at_prompt

        return run_at_prompt(command, self.err)

    def _checked(self, env: RunEnv, pipeline: Pipeline, stdin: str | None) -> int:
        """Run ``pipeline``, its ``-m`` models checked against their servers' lists meanwhile."""
        if all(command.controls.model is None for command in pipeline.commands()):  # no -m to check
            return run_pipeline(env, pipeline, stdin)
        if self.model_checks is None:
            from aish.models import ModelChecks

            self.model_checks = ModelChecks(self.app)
        checks = self.model_checks.start(pipeline)
        try:
            return run_pipeline(env, pipeline, stdin)
        finally:
            self.model_checks.report(checks, self.err)


__all__ = ["EXIT_FAILURE", "Runner"]
