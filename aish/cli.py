"""The ``aish`` command.

    aish                      interactive shell (when stdin is a terminal)
    aish -c 'LINE'            run one line of the aish language
    aish FILE.aish            run a script
    aish AGENT [-m MODEL] [-s SYSTEM] [-o KEY VALUE]... [-x] [--] [TEXT...]
                              ask one agent (piped stdin is sent too)
    aish COMMAND [ARGS...]    a command: agents, plugins [enable|disable NAME], history ..., models AGENT,
                              or a plugin's
    aish --test FILE...       run transcripts; aish --record FILE records one (docs/transcripts.md)
    aish --continue [AGENT] TEXT...   continue the last conversation (of AGENT); --cid ID: that one

Only the interactive shell imports cmd2; every other path stays lean:
``aish --version`` and ``aish --help`` import nothing but this module.
"""

from __future__ import annotations

import os
import sys

from aish.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, AishError, UsageError, visible
from aish.tty import in_pieces, isatty, read_secret, silence

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: ``aish --version`` need not import typing
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from typing import TextIO

    from aish.app import App
    from aish.conversations import Conversation, Conversations
EXIT_BROKEN_PIPE = 141


HELP = """\
usage: aish [-h] [-c LINE] [--config PATH] [--renderer NAME] [--debug]
            [--stats] [--version] [--test [FILE ...]] [--record FILE]
            [--continue] [--cid ID] [--no-history]
            [target] ...

aish, the AI shell: AI endpoints as commands, composed like Unix tools.

positional arguments:
  target                an agent, a script file, or a command (agents,
                        plugins, history, models...)
  words                 text for the agent, after its options: -m MODEL, -s
                        SYSTEM, -o KEY VALUE, -x, -e ('--' ends them)

options:
  -h, --help            show this help message and exit
  -c LINE               run LINE and exit
  --config PATH         configuration file (default: $AISH_CONFIG or XDG)
  --renderer NAME, --format NAME
                        renderer to show answers
  --debug               show tracebacks for errors
  --stats               per-stage time to first token, duration, tokens,
                        tokens/s
  --version             print the version and exit
  --test [FILE ...]     run transcript files and report any difference
  --record FILE         record this session into a transcript file
  --continue            continue the last recorded conversation (of the agent)
  --cid ID              continue the recorded conversation ID
  --no-history          record nothing in history (the shell: set history off)

Exit codes: 0 ok, 1 failure, 2 usage/syntax, 3 unknown agent, 4 connection, 5
remote error, 6 tool call asked, 130 interrupted, 141 output closed.
"""
"""``aish --help``: what :func:`aish.cli_parser.parser` prints on an 80-column terminal, without importing
argparse (a test keeps the two equal)."""


class Args:
    """What :func:`aish.cli_parser.parser` gives (an ``argparse.Namespace``'s attributes)."""

    def __init__(self) -> None:
        self.command: str | None = None
        self.config: str | None = None
        self.renderer: str | None = None
        self.debug = False
        self.stats = False
        self.version = False
        self.test: list[str] | None = None
        self.record: str | None = None
        self.cont = False
        self.cid: str | None = None
        self.no_history = False
        self.target: str | None = None
        self.words: list[str] = []


_QUICK_FLAGS = {"--debug": "debug", "--stats": "stats", "--continue": "cont", "--no-history": "no_history"}
QUICK_VALUES = {
    "-c": "command",
    "--config": "config",
    "--renderer": "renderer",
    "--format": "renderer",
    "--cid": "cid",
}


def _quick_args(words: list[str]) -> Args | None:
    """argparse's answer for the usual command lines, without argparse (~5 ms with gettext and shutil).

    Options from _QUICK_FLAGS and QUICK_VALUES (each value a separate word not
    starting with ``-``), then an optional target and its words taken as they
    are. Anything else (``-h``, ``--version``, ``--test``, ``--opt=value``,
    abbreviations, ``--``, a lone ``-``) returns None: argparse decides.
    """
    if "--" in words:
        return None
    args = Args()
    i = 0
    while i < len(words):
        word = words[i]
        if word in _QUICK_FLAGS:
            setattr(args, _QUICK_FLAGS[word], True)
            i += 1
        elif word in QUICK_VALUES:
            if i + 1 == len(words) or (words[i + 1].startswith("-") and word != "-c"):
                return None  # (-c takes the next word whatever it is: a line may start with '-')
            setattr(args, QUICK_VALUES[word], words[i + 1])
            i += 2
        elif word.startswith("-"):
            return None
        else:
            args.target, args.words = word, words[i + 1 :]
            break
    return args


def _parsed(words: list[str]) -> argparse.Namespace:
    from aish.cli_parser import parser

    return parser().parse_args(words)


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    started: Callable[[], None] | None = None,
) -> int:
    """Entry point; returns the exit status (``python -m aish`` exits with it).

    :param started: called once aish has started (configuration read, plugins loaded), before a
        line, command, script or the shell runs (:func:`run` passes :func:`_collect_from_now_on`).
    """
    started = started or _nothing
    stdin = stdin or sys.stdin
    out = stdout or in_pieces(_utf8(sys.stdout, "replace"))
    err = stderr or _utf8(sys.stderr, "backslashreplace")
    words = list(sys.argv[1:] if argv is None else argv)
    if words in (["--help"], ["-h"]):  # the fast paths: nothing else is imported
        out.write(HELP)
        return EXIT_OK
    try:
        args = None if words == ["--version"] else _quick_args(words) or _parsed(words)
    except UsageError as exc:
        return _report(exc, err, False)
    if args is not None:
        _keep_double_dash(args, words)
    if args is None or args.version:
        from aish import __version__

        out.write(f"aish {__version__}\n")
        return EXIT_OK
    debug = args.debug or os.environ.get("AISH_DEBUG", "").lower() not in ("", "0", "false", "no")
    try:
        try:
            if args.test is not None or args.record:  # docs/transcripts.md
                from aish.transcript import from_cli

                started()
                return from_cli(args, stdin=stdin, out=out, err=err, debug=debug)
            from aish.signals import ended_by_sigterm

            with ended_by_sigterm():  # a closed terminal, ``timeout``: the run is recorded, then aish ends
                return _dispatch(args, stdin, out, err, debug, started)
        finally:
            out.flush()  # here, not at interpreter exit: a full disk is reported like any other error
    except BrokenPipeError:
        # The reader of our output went away (e.g. `aish ... | head`): end quietly.
        silence(out)
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        err.write("aish: interrupted\n")
        return 130
    except OSError as exc:  # writing our output failed (ENOSPC, EIO): one line, never a traceback
        from aish.errors import output_error

        silence(out)
        return _report(output_error(exc, exc.filename or "standard output"), err, debug)
    except AishError as exc:
        return _report(exc, err, debug)


def _report(exc: AishError, err: TextIO, debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exception(exc, file=err)
    from aish.wordwrap import say  # an error's path only

    say(err, f"aish: {visible(str(exc))}")
    return exc.exit_code


def run() -> None:
    """The ``aish`` command and ``python -m aish``: :func:`main`, then a quick exit.

    By the time :func:`main` returns, history is closed (its records complete
    and on the disk), plugins are shut down and output files closed.
    What the interpreter would still do is tear down every module and object
    (12-25 ms, more than the rest of the exit). So: run the ``atexit``
    functions, flush stdout and stderr, and ``os._exit``. If another
    non-daemon thread is still running, or a flush fails, the exit is left to
    the interpreter, which waits for the thread or reports the failure.
    """
    import gc

    gc.disable()  # until aish has started: see _collect_from_now_on
    status = main(started=_collect_from_now_on)
    if status == EXIT_INTERRUPTED and not _SHELL[0]:
        from aish.tty import die_of_ctrl_c

        die_of_ctrl_c()
    threading = sys.modules.get("threading")
    if threading is not None:
        current = threading.current_thread()
        if any(t.is_alive() and not t.daemon and t is not current for t in threading.enumerate()):
            sys.exit(status)
    import atexit

    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        sys.exit(status)
    os._exit(status)


_SHELL = [False]
"""Whether this process ran the interactive shell (its status is its last line's, not a Ctrl-C)."""


def _collect_from_now_on() -> None:
    """End :func:`run`'s pause of Python's cycle collector: what start-up made stays, uncollected.

    Start-up (importing ~150 modules, loading the plugins) makes ~14,000 objects that live as long as
    the process: modules, classes, functions. The collector, triggered every 700 allocations, went
    over them again and again: 20-25 collections, 2-3 ms before the request left. Paused until
    aish has started, then ``gc.freeze()`` puts what start-up made out of every later
    collection's way (cyclic garbage made during start-up, if any, is never freed). Whatever runs
    next (the line, the shell) is collected as usual.
    """
    import gc

    gc.freeze()
    gc.enable()


def _nothing() -> None:
    pass


def _keep_double_dash(args: Args | argparse.Namespace, argv: list[str]) -> None:
    """``aish AGENT -- -m``: argparse drops the ``--`` after the agent, which ends its options."""
    words = args.words or []
    at = len(argv) - len(words) - 1
    if args.target and at >= 1 and argv[at] == "--" and argv[at - 1] == args.target:
        args.words = ["--", *words]


def _dispatch(
    args: Args | argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO, debug: bool, started: Callable[[], None]
) -> int:
    import functools

    from aish.app import build_app
    from aish.cli_input import (
        clean_argv,
        configuration,
        given_input,
        piped,
        read_all,
        read_script,
        unbracketed,
        without_the_file,
    )
    from aish.runner import STDIN, Runner

    given_target = args.target  # a script's file name is opened as given, whatever its bytes
    args.command, args.target, args.words = clean_argv(args.command, args.target, args.words, err)
    config, invalid = configuration(args)
    app = build_app(config)
    if invalid is not None:
        without_the_file(app, args, isatty(stdin), invalid, err)
    args.target, args.words = unbracketed(app, args.target, args.words)  # ``aish athena[-m x] hi``
    if args.stats:
        app.config.settings.stats = True
    app.startup()
    history = None
    tty = isatty(stdin)
    chat = _chat_agent(app, args) if tty else None  # ``aish athena`` on a terminal: chat with it
    shell = (args.command is None and args.target is None and tty) or chat is not None
    if not shell:  # the shell calls it once it is built: cmd2's ~450 modules are not collected over and over
        started()
    confirm, secret = functools.partial(_confirm, stdin, err), functools.partial(read_secret, err)
    try:
        if args.command is not None and args.target:
            raise UsageError("-c takes the whole line; nothing may follow it")
        lone = Runner(app, out=out, err=err, debug=debug, stdin=stdin, interactive=tty, confirm=confirm, secret=secret)
        if args.command is None and args.target in app.commands:  # ``aish history search owls``
            return lone.run_command(args.target, list(args.words))
        if args.command is not None and lone.is_command_line(args.command):  # before the recorder: never recorded
            return lone.run_source(args.command)
        from aish.history.store import make_recorder, resolve_replay

        conversations, resumed = _conversations(app, args)
        history = None if args.no_history and not shell else make_recorder(app, err, one_shot=not shell)
        runner = Runner(
            app,
            out=out,
            err=err,
            renderer=args.renderer,
            debug=debug,
            history=history,
            stdin=stdin,
            interactive=tty,
            confirm=confirm,
            conversations=conversations,
            secret=secret,
        )
        if args.renderer:
            app.registration("renderer", args.renderer)
        if args.command is not None:
            from aish.pipeline import is_shell_escape_line

            replay = None if is_shell_escape_line(args.command) else resolve_replay(app, args.command)
            if replay is not None and replay.stdin is not None:  # the original's piped input, sent again
                return runner.run_source(replay.line, replay.stdin, replay_of=replay.number)
            line, replay_of = (replay.line, replay.number) if replay else (args.command, None)
            return runner.run_source(line, given_input(line, app, stdin, err, runner), replay_of=replay_of)
        _SHELL[0] = shell
        if shell:  # the interactive shell, or a chat with ``aish AGENT`` on a terminal
            from aish.shell_start import start_shell

            session = None if conversations.one_shot else conversations
            return start_shell(
                app,
                stdin=stdin,
                out=out,
                debug=debug,
                renderer=args.renderer,
                history=history,
                record=not args.no_history,
                conversations=session,
                chat=chat,
                chat_controls=args.words if chat is not None else None,
                started=started,
            )
        if args.target is None:  # ``aish < lines.aish``: a script, its errors numbered by line
            runner.script_name = STDIN
            return runner.run_source(read_all(stdin, "standard input", err))
        from aish.ask import ask_agent

        if app.is_agent(args.target):
            if resumed is not None and resumed.agent != args.target:
                raise UsageError(f"--cid {resumed.id}: that conversation is with {resumed.agent}, not {args.target}")
            return ask_agent(runner, args.target, args.words, piped(stdin, err))
        from pathlib import Path

        path = Path(given_target if given_target is not None else args.target)
        if path.is_file():
            if args.words:  # ``aish notes is a file`` must not run ./notes, nor drop the words
                raise UsageError(f"{args.target}: a script takes no arguments (to send words, name an agent first)")
            runner.script_name, runner.programs_read_stdin = args.target, not tty  # as a shell script's
            return runner.run_source(read_script(path, err))
        if not conversations.one_shot:  # aish --continue TEXT, aish --cid ID TEXT: to the conversation's agent
            from aish.conversation_commands import last_agent

            if resumed is None:
                from aish.cli_hints import not_a_misspelt_agent

                not_a_misspelt_agent(app, args.target)
            agent = resumed.agent if resumed is not None else last_agent(app)
            return ask_agent(runner, agent, [args.target, *args.words], piped(stdin, err))
        if "/" in args.target or path.suffix == ".aish":
            raise UsageError(f"{args.target}: no such script file")
        from aish.cli_hints import default_agent

        agent = default_agent(app, args.target, args.words)  # ``aish what is a monad``
        return ask_agent(runner, agent, [args.target, *args.words], piped(stdin, err))
    finally:
        if history is not None:
            history.close()
        app.shutdown()


def _conversations(app: App, args: Args | argparse.Namespace) -> tuple[Conversations, Conversation | None]:
    """One-shot conversations (each request its own, recorded to be continued later), unless
    ``--continue`` or ``--cid ID`` asked to continue recorded ones."""
    if not args.cont and args.cid is None:
        from aish.conversations import Conversations

        return Conversations(one_shot=True), None
    from aish.conversation_commands import continuing

    return continuing(app, latest=args.cont, cid=args.cid)


def _confirm(stdin: TextIO, err: TextIO, question: str) -> bool:
    """Ask on the terminal (``history clear``); commands get it only when stdin is one."""
    err.write(question)
    err.flush()
    return stdin.readline().strip().lower() in ("y", "yes")


def _chat_agent(app: App, args: Args | argparse.Namespace) -> str | None:
    """The agent ``aish AGENT [-m MODEL -s SYSTEM -o KEY VALUE]`` names with no text (on a terminal:
    a chat with it, as ``llm chat`` and aichat open one), else None."""
    if args.command is not None or args.target is None or not app.is_agent(args.target):
        return None
    from aish.lang import ControlsError, parse_controls

    try:
        _controls, used = parse_controls(args.words, leading=True)
    except ControlsError:
        return None  # asking it reports the error
    return args.target if used == len(args.words) and "--" not in args.words else None


def _utf8(stream: TextIO, errors: str) -> TextIO:
    """aish writes UTF-8 whatever the locale says (decision 21): a C locale must not make text fatal."""
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    if encoding != "utf8" and hasattr(stream, "reconfigure"):
        import contextlib

        with contextlib.suppress(ValueError, OSError):
            stream.reconfigure(encoding="utf-8", errors=errors)
    return stream


__all__ = ["EXIT_USAGE", "main", "run"]
