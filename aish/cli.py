"""The ``aish`` command.

    aish                      interactive shell (when stdin is a terminal)
    aish -c 'LINE'            run one line of the aish language
    aish FILE.aish            run a script
    aish AGENT [TEXT...]      ask one agent (piped stdin is sent too)
    aish agents | plugins     list agents / plugins

Only the interactive shell imports cmd2; every other path stays lean.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from aish.errors import EXIT_OK, EXIT_USAGE, AishError, UsageError

COMMANDS = ("agents", "plugins")
EXIT_BROKEN_PIPE = 141


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="aish",
        description="aish, the AI shell: AI endpoints as commands, composed like Unix tools.",
        epilog="Exit codes: 0 ok, 1 failure, 2 usage/syntax, 3 unknown agent, 4 connection, "
        "5 remote error, 130 interrupted.",
    )
    p.add_argument("-c", dest="command", metavar="LINE", help="run LINE and exit")
    p.add_argument("--config", metavar="PATH", help="configuration file (default: $AISH_CONFIG or XDG)")
    p.add_argument("--renderer", "--format", dest="renderer", metavar="NAME", help="renderer to show answers")
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument("target", nargs="?", help="an agent, a script file, or one of: agents, plugins")
    p.add_argument("words", nargs=argparse.REMAINDER, help="text for the agent")
    return p


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Entry point; returns the exit status (``python -m aish`` exits with it)."""
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = _parser().parse_args(argv)
    debug = args.debug or os.environ.get("AISH_DEBUG", "").lower() not in ("", "0", "false", "no")
    if args.version:
        from aish import __version__

        out.write(f"aish {__version__}\n")
        return EXIT_OK
    try:
        return _dispatch(args, stdin, out, err, debug)
    except BrokenPipeError:
        # The reader of our output went away (e.g. `aish ... | head`): end quietly.
        _silence(out)
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        err.write("aish: interrupted\n")
        return 130
    except AishError as exc:
        if debug:
            import traceback

            traceback.print_exception(exc, file=err)
        err.write(f"aish: {exc}\n")
        return exc.exit_code


def _dispatch(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO, debug: bool) -> int:
    from aish.app import build_app
    from aish.config import load_config
    from aish.runner import Runner

    app = build_app(load_config(args.config))
    app.startup()
    try:
        runner = Runner(app, out=out, err=err, renderer=args.renderer, debug=debug)
        if args.renderer:
            app.registration("renderer", args.renderer)
        if args.command is not None:
            if args.target:
                raise UsageError("-c takes the whole line; nothing may follow it")
            return runner.run_source(args.command, _piped(stdin) if _wants_input(args.command) else None)
        if args.target is None:
            if _isatty(stdin):
                from aish.shell import run_shell

                return run_shell(app, debug=debug, renderer=args.renderer)
            return runner.run_source(stdin.read())
        if args.target in COMMANDS:
            if args.words:
                raise UsageError(f"{args.target} takes no arguments")
            from aish.listing import list_agents, list_plugins

            (list_agents if args.target == "agents" else list_plugins)(app, out)
            return EXIT_OK
        if app.is_agent(args.target):
            return _ask(runner, args.target, args.words, _piped(stdin))
        path = Path(args.target)
        if path.is_file():
            return runner.run_source(path.read_text(encoding="utf-8"))
        if "/" in args.target or path.suffix == ".aish":
            raise UsageError(f"{args.target}: no such script file")
        from aish.errors import UnknownAgentError

        raise UnknownAgentError(args.target, list(app.agents()))
    finally:
        app.shutdown()


def _ask(runner: object, agent: str, words: list[str], piped: str | None) -> int:
    """``aish AGENT TEXT``: the words are one argument each, never re-parsed."""
    from aish.lang import Command, Pipeline, Word
    from aish.runner import Runner

    assert isinstance(runner, Runner)
    cmd = Command(agent, tuple(Word(w, 0, True) for w in words), 0)
    if not words and piped is None:
        raise UsageError(f"{agent}: nothing to send (give text, or pipe input into it)")
    return runner.run_pipeline(Pipeline((cmd,)), piped)


def _wants_input(line: str) -> bool:
    """Does the line start with a stage that reads input and was given none (``aish -c 'athena'``)?"""
    from aish.errors import AishSyntaxError
    from aish.lang import Command, parse

    try:
        script = parse(line)
    except AishSyntaxError:
        return False
    if not script.items:
        return False
    pipeline = script.items[0][1]
    first = pipeline.stages[0]
    return pipeline.stdin is None and isinstance(first, Command) and first.name != "echo" and not first.args


def _silence(stream: TextIO) -> None:
    """Point a dead stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _piped(stdin: TextIO) -> str | None:
    """Standard input when it is a pipe or file (never blocks on a terminal)."""
    if _isatty(stdin):
        return None
    try:
        data = stdin.read()
    except (OSError, ValueError):
        return None
    return data or None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


__all__ = ["EXIT_USAGE", "main"]
