"""Running transcripts: each file in a fresh sandbox and shell, every command checked."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from aish.errors import AishError
from aish.transcript.compare import check
from aish.transcript.format import PROMPT, Entry, TranscriptError, read
from aish.transcript.session import ShellSession, config_for, sandbox


@dataclass
class Mismatch:
    """A command whose output differs from the transcript (or that could not run)."""

    entry: Entry
    diff: list[str]
    message: str = "output differs"


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a transcript, and with it the run: ``where`` is its file and line
    (``t.transcript:2``); :func:`run_files` adds how many files passed, failed and were not run."""

    def __init__(self, where: str, tally: str = "") -> None:
        super().__init__(where)
        self.where, self.tally = where, tally

    def __str__(self) -> str:
        return f"interrupted at {self.where}" + (f" ({self.tally})" if self.tally else "")


@dataclass
class FileResult:
    """The outcome of one transcript file."""

    path: str
    commands: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    error: str | None = None
    """Set when the file could not be read or run at all."""

    @property
    def passed(self) -> bool:
        return self.error is None and not self.mismatches

    def report(self) -> str:
        """What went wrong, for people: each mismatch with its file, line and diff."""
        if self.error is not None:
            return self.error + "\n"
        parts = []
        for mismatch in self.mismatches:
            entry = mismatch.entry
            command = entry.command.replace("\n", "\n" + " " * len(PROMPT))
            parts.append(f"{self.path}:{entry.line}: {mismatch.message}: {PROMPT}{command}\n")
            parts += [line + "\n" for line in mismatch.diff]
        return "".join(parts)


def run_file(
    path: str | Path,
    *,
    config: str | None = None,
    renderer: str | None = None,
    debug: bool = False,
    name: str | None = None,
) -> FileResult:
    """Run one transcript in a fresh sandbox and shell; never raises for a failing transcript.

    The configuration is ``FILE.toml`` next to the transcript when there is
    one, else ``config``, else none. ``name`` is how reports call the file
    (default: ``path`` as given).
    """
    name = name or str(path)
    try:
        transcript = read(path)
    except TranscriptError as exc:
        return FileResult(name, error=str(exc).replace(str(path), name, 1))
    config = config_for(path, config)
    result = FileResult(name, commands=len(transcript.entries))
    with sandbox() as box:
        try:
            session = ShellSession(config, renderer=renderer, debug=debug)
        except AishError as exc:
            result.error = f"{name}: aish: {exc}"
            return result
        except Exception as exc:  # a plugin bug at start-up fails this file, not the whole run
            result.error = f"{name}: aish: unexpected error: {type(exc).__name__}: {exc}"
            return result
        try:
            _run_entries(session, transcript.entries, result, box.variables())
        finally:
            session.close()
    return result


def _run_entries(
    session: ShellSession, entries: Sequence[Entry], result: FileResult, variables: Sequence[tuple[str, str]]
) -> None:
    for index, entry in enumerate(entries):
        try:
            output, stop = session.run(entry.command)
        except KeyboardInterrupt:
            raise RunInterrupted(f"{result.path}:{entry.line}") from None
        diff = check(entry, output, result.path, variables)
        if diff:
            result.mismatches.append(Mismatch(entry, diff))
        if stop and index + 1 < len(entries):
            message = "not run: the session ended before it"
            result.mismatches.append(Mismatch(entries[index + 1], [], message))
            return


def run_files(
    paths: Iterable[str | Path],
    out: TextIO,
    *,
    config: str | None = None,
    renderer: str | None = None,
    debug: bool = False,
) -> int:
    """Run transcripts, report each one and a summary to ``out``; return the number that failed.

    Ctrl-C stops the run: :class:`RunInterrupted` says where, and how many files passed,
    failed and were not run (no summary is written)."""
    passed = failed = 0
    paths = list(paths)
    for done, path in enumerate(paths):
        try:
            result = run_file(path, config=config, renderer=renderer, debug=debug)
        except KeyboardInterrupt as exc:
            where = exc.where if isinstance(exc, RunInterrupted) else str(path)
            tally = f"{passed} passed, {failed} failed, {len(paths) - done} not run"
            raise RunInterrupted(where, tally) from None
        if result.passed:
            passed += 1
            out.write(f"ok {result.path} ({result.commands} command{'s' if result.commands != 1 else ''})\n")
        else:
            failed += 1
            out.write(result.report())
            detail = "could not run" if result.error else f"{len(result.mismatches)} of {result.commands} commands"
            out.write(f"FAILED {result.path} ({detail})\n")
        out.flush()
    out.write(f"transcripts: {passed} passed, {failed} failed\n")
    out.flush()
    return failed
