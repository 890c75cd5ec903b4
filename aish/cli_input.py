"""What the ``aish`` command reads besides its arguments: piped standard input and script files.

Text that is not UTF-8 becomes U+FFFD, with one warning naming where it came from (decision 21).
"""

from __future__ import annotations

from aish.errors import UsageError
from aish.tty import isatty

TYPE_CHECKING = False  # as in aish.cli: pathlib and typing stay off the one-shot path
if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from typing import TextIO

    from aish.app import App
    from aish.cli import Args
    from aish.config import Config
    from aish.errors import ConfigError
    from aish.lang import Stage
    from aish.runner import Runner


def unbracketed(app: App, target: str | None, words: list[str]) -> tuple[str | None, list[str]]:
    """``aish athena[-m x] hi``, the language's form typed on the command line (which the calling
    shell splits into ``athena[-m``, ``x]``, ``hi``), as ``aish athena -m x -- hi``; a target that is
    not an agent's name with a bracket is returned as it is. The words inside the bracket are the
    calling shell's, already unquoted (``athena[-s "be brief"]``); a target quoted whole
    (``'athena[-m x]'``) is split as the language splits it."""
    if target is None or "[" not in target:
        return target, words
    name, _, inner = target.partition("[")
    if not app.is_agent(name):
        return target, words
    plain = f"(or without brackets: aish {name} -m MODEL ... TEXT)"
    if "]" in inner:  # one word: ``athena[-x]``, ``'athena[-m x -s "be brief"]'``, ``'athena[-m x] hi'``
        from aish.lang import lone_command

        stage = lone_command(target)  # a syntax error in the options says where
        if stage is None:
            raise UsageError(f"{target}: expected {name}[OPTIONS] TEXT {plain}")
        controls, rest = list(stage.controls.words), [word.value for word in stage.args] + list(words)
    else:
        closing = next((i for i, word in enumerate(words) if word.endswith("]")), None)
        if closing is None:
            raise UsageError(f"{target}: no ']' closes its options {plain}")
        last = words[closing][:-1]
        controls = [*([inner] if inner else []), *words[:closing], *([last] if last else [])]
        rest = list(words[closing + 1 :])
    return name, controls + (["--", *rest] if rest else [])


def clean_argv(
    command: str | None, target: str | None, words: list[str], err: TextIO
) -> tuple[str | None, str | None, list[str]]:
    """The ``-c`` line, the target and its words as valid Unicode (Python carries undecodable argv
    bytes as surrogates). The warning's offset counts in the words given, joined by spaces: the
    ``-c`` line alone, or the target and its words."""
    from aish.encoding import clean, first_bad, notice

    given = [word for word in (command, target) if word is not None]
    offset = first_bad(" ".join([*given, *words]))
    if offset is None:
        return command, target, words
    notice("the command line", offset, err)
    return (
        clean(command) if command is not None else None,
        clean(target) if target is not None else None,
        [clean(w) for w in words],
    )


def given_input(line: str, app: App, stdin: TextIO, err: TextIO, runner: Runner) -> str | None:
    """What ``aish -c LINE`` does with standard input (piped, or a file).

    A first stage without words that aish feeds (an agent, ``cat``) gets it as text: returned, to
    be sent and recorded. Else a pipeline that starts with a program (``grep ERROR | athena``,
    ``sha256sum``) leaves it to the program, which reads it itself, byte for byte, as under
    ``sh -c`` (``runner.programs_read_stdin``). Else it goes unread, with a warning
    (:func:`unread`)."""
    from aish.errors import AishSyntaxError
    from aish.lang import Command, parse

    try:
        script = parse(line)
    except AishSyntaxError:
        return None
    fed = script.items[0][1] if script.items else None
    if fed is not None and fed.stdin is None and _wordless(fed.stages[0], app):  # ``athena``, ``apollo & athena``
        return piped(stdin, err)
    starts = [p.stages[0] for _, p in script.items if p.stdin is None]
    if any(isinstance(first, Command) and _program(first.name, app) for first in starts):
        runner.programs_read_stdin = not isatty(stdin)
        return None
    unread(stdin, err)
    return None


def _wordless(stage: Stage, app: App) -> bool:
    """``stage`` is fed by aish and has no words of its own: an agent or ``cat`` alone, or a
    parallel group of such agents (each lane then gets the input)."""
    from aish.lang import Command

    if isinstance(stage, Command):
        return not stage.args and stage.name != "echo" and not _program(stage.name, app)
    return all(_wordless(member, app) for member in stage.members)


def _program(name: str, app: App) -> bool:
    """``name`` starts an OS program (or is no agent at all), not a stage that aish feeds."""
    from aish.builtins import BUILTINS
    from aish.pipeline.plan import TEAM_CHAT

    return not (app.is_agent(name) or name in BUILTINS or name == TEAM_CHAT or name in app.commands)


def unread(stdin: TextIO, err: TextIO) -> None:
    """``cat notes | aish -c 'athena summarize'``: the line does not read standard input (only a
    first stage without words, or a program that starts a pipeline, does), so input waiting there
    would be dropped without a word: say so.

    Best effort, and nothing is consumed: a regular file that is not empty, or a pipe with bytes
    in it already (``FIONREAD``); a writer that has not written yet goes unnoticed."""
    if isatty(stdin):
        return
    import os
    import stat

    try:
        fd = stdin.fileno()
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            waiting = info.st_size > os.lseek(fd, 0, os.SEEK_CUR)
        elif stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode):
            import array
            import fcntl
            import termios

            count = array.array("i", [0])
            fcntl.ioctl(fd, termios.FIONREAD, count)
            waiting = count[0] > 0
        else:
            return
    except (AttributeError, ValueError, OSError):
        return
    if waiting:
        err.write(
            "aish: warning: standard input is not read: with -c an agent reads it only without words "
            "(aish -c 'athena', or aish athena WORDS... to send both)\n"
        )


def piped(stdin: TextIO, err: TextIO) -> str | None:
    """Standard input when it is a pipe or file (never blocks on a terminal)."""
    if isatty(stdin):
        return None
    try:
        data = read_all(stdin, "standard input", err)
    except (OSError, ValueError):
        return None
    return data or None


def read_all(stdin: TextIO, source: str, err: TextIO) -> str:
    """All of ``stdin``: bytes that are not UTF-8 become U+FFFD, with one warning (decision 21)."""
    from aish.encoding import notice, read_text

    text, bad = read_text(stdin)
    notice(source, bad, err)
    return text


def read_script(path: Path, err: TextIO) -> str:
    from aish.encoding import decode, notice

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    text, bad = decode(data)
    notice(str(path), bad, err)
    return text


def configuration(args: Args | argparse.Namespace) -> tuple[Config, ConfigError | None]:
    """The configuration, and the error of an invalid file: then the configuration is the one
    without the file, for :func:`without_the_file` to decide whether the line may go on."""
    from aish.config import load_config, unread_config
    from aish.errors import ConfigError

    try:
        return load_config(args.config), None
    except ConfigError as exc:
        return unread_config(args.config), exc


def without_the_file(app: App, args: Args | argparse.Namespace, tty: bool, error: ConfigError, err: TextIO) -> None:
    """An invalid configuration file stops the line with its error, but for the shell and a
    command's subcommand that mends it (``agents edit``, registered with ``mends_config``): they
    go on without the file, and say so, as ``crontab -e`` opens a crontab that does not parse."""
    spec = app.commands.get(args.target or "") if args.command is None else None
    mending = spec is not None and spec.mends_config is not None and list(args.words or [])[:1] == [spec.mends_config]
    shell = tty and args.command is None and args.target is None
    if not (shell or mending):
        raise error
    err.write(f"aish: {error}\n")
    if shell:
        menders = [f"'{c.name} {c.mends_config}'" for c in app.commands.values() if c.mends_config is not None]
        opens = f": {' or '.join(menders)} opens it" if menders else ""
        err.write(f"aish: going on without that file until it is valid{opens}\n")
