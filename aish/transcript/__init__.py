"""Transcripts: scripted shell sessions that are run as tests (``aish --test``, ``aish --record``).

See ``docs/transcripts.md``. The format is in :mod:`aish.transcript.format`,
the sandbox and capture in :mod:`aish.transcript.session`, running and
reporting in :mod:`aish.transcript.run`; recording (which needs cmd2) is
imported only by :func:`main` when asked to record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TextIO

from aish.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, UsageError
from aish.signals import ended_by_sigterm
from aish.transcript.format import (
    CONTINUATION,
    PROMPT,
    Entry,
    Expected,
    Transcript,
    TranscriptError,
    expected_line,
    format_entry,
    parse,
    read,
)
from aish.transcript.run import FileResult, Mismatch, RunInterrupted, run_file, run_files
from aish.tty import isatty


class CliArgs(Protocol):
    """What :func:`from_cli` reads of the ``aish`` command line."""

    command: str | None
    config: str | None
    renderer: str | None
    test: list[str] | None
    record: str | None
    target: str | None
    words: list[str]


def from_cli(args: CliArgs, *, stdin: TextIO, out: TextIO, err: TextIO, debug: bool) -> int:
    """``aish --test FILE...`` (options before or after the files) or ``aish --record FILE``."""
    positional = [args.target, *args.words] if args.target else []
    if args.command is not None or (positional and args.test is None):
        raise UsageError("--test and --record take no command, script or agent")
    test = None if args.test is None else [*args.test, *positional]
    if test is not None and not test and not args.record:
        raise UsageError("--test: give the transcript files to run")
    return main(
        test=test,
        record=args.record,
        stdin=stdin,
        out=out,
        err=err,
        config=args.config,
        renderer=args.renderer,
        debug=debug,
    )


def main(
    *,
    test: Sequence[str] | None,
    record: str | None,
    stdin: TextIO,
    out: TextIO,
    err: TextIO,
    config: str | None = None,
    renderer: str | None = None,
    debug: bool = False,
) -> int:
    """``aish --test FILE...`` or ``aish --record FILE``; returns the exit status."""
    if test is not None and record:
        raise UsageError("--test and --record cannot be combined")
    if record:
        from aish.transcript.record import record as record_session

        with ended_by_sigterm():
            return record_session(record, stdin=stdin, out=out, err=err, config=config, renderer=renderer, debug=debug)
    try:
        with ended_by_sigterm():
            failed = run_files(test or (), out, config=config, renderer=renderer, debug=debug)
    except RunInterrupted as exc:  # one Ctrl-C stops the whole run, as it stops a script
        out.flush()
        err.write(("\n" if isatty(err) else "") + f"aish: --test {exc}\n")  # after the terminal's ^C
        return EXIT_INTERRUPTED  # outside the shell aish then ends by SIGINT (aish.tty.die_of_ctrl_c)
    return EXIT_FAILURE if failed else EXIT_OK


__all__ = [
    "CONTINUATION",
    "PROMPT",
    "Entry",
    "Expected",
    "FileResult",
    "Mismatch",
    "RunInterrupted",
    "Transcript",
    "TranscriptError",
    "expected_line",
    "format_entry",
    "from_cli",
    "main",
    "parse",
    "read",
    "run_file",
    "run_files",
]
