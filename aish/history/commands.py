"""What the ``history`` command does (registered, with its usage, by the built-in ``commands`` plugin)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TextIO

from aish.app import App
from aish.commands import Confirm
from aish.contracts import HistoryBackend, RunRecord
from aish.errors import EXIT_OK, UsageError, unknown_subcommand
from aish.history.brief import brief_runs, each_run
from aish.history.show import last_answers, write_answer, write_export, write_list, write_run
from aish.history.store import opened, settle
from aish.tty import isatty

DEFAULT_COUNT = 20
ANSWER_LOOKBACK = 100
"""``history answer`` and ``history show`` alone look this many runs back for the newest answer or agent."""


def history_command(
    app: App,
    args: Sequence[str],
    out: TextIO,
    *,
    search_text: str | None = None,
    confirm: Confirm | None = None,
    current: str | None = None,
) -> int:
    """Run ``history ARGS``, writing to ``out``. Misuse raises UsageError.

    ``search_text`` is the text after ``search`` as typed (the shell passes it
    untouched); by default the arguments are joined, phrases re-quoted.
    ``current``: the id of the run of the line this command is part of (``history show -1 |
    less`` is recorded): ``-N`` and ``last`` count the runs before it.
    """
    args = without_list(args, "history")
    sub, rest = (args[0], list(args[1:])) if args else ("", [])
    if sub == "clear":
        return _clear(app, rest, out, confirm)
    with opened(app) as backend:
        if sub == "" or (sub.isdigit() and not rest):
            _at_least_one("history", sub)
            listed = write_list(map(settle, brief_runs(backend, int(sub) if sub else DEFAULT_COUNT)), out)
            if not listed and isatty(out):
                out.write("no runs recorded yet\n")
        elif sub == "show":
            if rest in ([], ["last"]):
                number = _last_asked(backend) or _from_last(backend, rest, current)
            else:
                number = _from_last(backend, rest, current) if _back(rest) else _number(rest, "show")
            run = backend.get(number) if number else None
            if run is None:
                raise UsageError(f"history show: no run {rest[0]}" if rest else "history show: no runs recorded yet")
            write_run(settle(run), out, _replaced(backend, run))
        elif sub == "answer":
            write_answer(answered_run(backend, rest, current=current), out)
        elif sub == "search":
            text = search_text if search_text is not None else " ".join(_requote(w) for w in rest)
            if not text.strip():
                raise UsageError("history search: give the text to look for")
            if not write_list(map(settle, brief_runs(backend, DEFAULT_COUNT, text)), out) and isatty(out):
                out.write(f"no runs match {text.strip()!r}\n")  # on a pipe, no line at all (as grep)
        elif sub == "export":
            if set(rest) - {"--json", "--jsonl"} or len(rest) > 1:
                raise UsageError("history export: the only options are --json (the default) and --jsonl")
            write_export(map(settle, each_run(backend)), out, jsonl=rest == ["--jsonl"])
        elif sub == "rm":
            numbers = [_number([n], "rm") for n in rest] if rest else [_number(rest, "rm")]
            missing = [n for n in numbers if not backend.delete(n)]
            removed = [str(n) for n in numbers if n not in missing]
            if removed:
                out.write(f"removed run{'s' if len(removed) > 1 else ''} {', '.join(removed)}\n")
            if missing:
                raise UsageError(f"history rm: no run {', '.join(map(str, missing))}")
        else:
            raise unknown_subcommand("history", sub, ["show", "answer", "search", "export", "rm", "clear", "help"])
    return EXIT_OK


def history_line(
    app: App, text: str, out: TextIO, *, confirm: Confirm | None = None, current: str | None = None
) -> int:
    """Run ``history TEXT`` as typed on a line (the shell, ``aish -c``): words split like a
    shell's, and the text after ``search`` kept as typed (``history search a|b "x``); ``current``:
    see :func:`history_command`."""
    try:
        words = shlex.split(text)
    except ValueError:  # an unbalanced quote: plain words
        words = text.split()
    head, _, rest = text.strip().partition(" ")
    if head != "search" and ("|" in words or "<" in words):  # taken as typed, a pipe would be a word
        raise UsageError("history: a command runs on its own (no '|' or '<'; '>' FILE is fine)")
    search_text = rest if head == "search" else None
    return history_command(app, words, out, search_text=search_text, confirm=confirm, current=current)


def _clear(app: App, rest: list[str], out: TextIO, confirm: Confirm | None) -> int:
    if set(rest) - {"--yes", "-y"}:
        raise UsageError("history clear: the only option is --yes")
    with opened(app) as backend:
        if not rest:
            if confirm is None:
                raise UsageError("history clear: add --yes to remove every run (there is no terminal to ask on)")
            if not confirm("Remove every run from history? [y/N] "):
                out.write("history left as it was\n")
                return EXIT_OK
        backend.clear()
    out.write("history cleared\n")
    return EXIT_OK


def without_list(args: Sequence[str], command: str) -> Sequence[str]:
    """``history list [N]`` is ``history [N]`` (as ``llm logs list``), and so for ``conversations``."""
    if not args or args[0] != "list":
        return args
    if len(args) > 2 or (len(args) == 2 and not args[1].isdigit()):
        raise UsageError(f"{command} list: {args[1]!r} is not a count (see '{command} help')")
    return args[1:]


def _at_least_one(command: str, count: str) -> None:
    """``history 0``: nothing to list, which is not the same as nothing recorded."""
    if count and int(count) == 0:
        raise UsageError(f"{command} {count}: give a count of 1 or more")


def _back(rest: Sequence[str]) -> bool:
    """``history show -2``: the run before the last."""
    return len(rest) == 1 and rest[0].startswith("-") and rest[0][1:].isdigit() and int(rest[0][1:]) >= 1


def _from_last(backend: HistoryBackend, rest: Sequence[str], current: str | None = None) -> int:
    """The number of the last run (``show``, ``show last``, ``show -1``) or the Nth from last (``show -N``),
    the run ``current`` left out (the line being run); 0: none."""
    back = int(rest[0][1:]) if _back(rest) else 1
    runs = sorted((run for run in brief_runs(backend, back + 1) if run.id != current), key=lambda run: run.number)
    return runs[-back].number if len(runs) >= back else 0


def _replaced(backend: HistoryBackend, run: RunRecord) -> dict[str, int]:
    """The numbers of the runs whose answers ``run``'s retries replace (``/retry``), among the last
    runs: a stage records the replaced run's id, and numbers are the backend's."""
    ids = {stage.meta.get("replaces") for stage in run.stages} - {None}
    if not ids:
        return {}
    return {found.id: found.number for found in brief_runs(backend, ANSWER_LOOKBACK) if found.id in ids}


def _last_asked(backend: HistoryBackend) -> int:
    """``history show`` alone: the newest run that asked an agent (the lines since may have been
    ``clear``, ``ls`` or commands); 0 when none of the last runs did."""
    found = next((run for run in brief_runs(backend, ANSWER_LOOKBACK)[::-1] if run.stages), None)
    return found.number if found is not None else 0


def answered_run(
    backend: HistoryBackend, rest: Sequence[str], command: str = "history answer", *, current: str | None = None
) -> RunRecord:
    """``history answer [N | -N | last]`` (and ``copy``): run N (or the Nth from last, ``current``
    left out: see :func:`history_command`); alone, the newest run that has an answer (the lines
    since may have been commands, programs or errors)."""
    if rest in ([], ["last"]):
        found = next((run for run in brief_runs(backend, ANSWER_LOOKBACK)[::-1] if last_answers(run)), None)
        run = backend.get(found.number) if found is not None else None
        if run is None:
            raise UsageError(f"{command}: no answer recorded yet")
        return settle(run)
    number = _from_last(backend, rest, current) if _back(rest) else _number(rest, "answer", command)
    run = backend.get(number) if number else None
    if run is None:
        raise UsageError(f"{command}: no run {rest[0]}")
    if not last_answers(run):
        raise UsageError(f"{command}: run {run.number} has no answer (see 'history show {run.number}')")
    return settle(run)


def _number(rest: Sequence[str], sub: str, command: str | None = None) -> int:
    said = command or f"history {sub}"
    if len(rest) == 1 and not (rest[0].isdigit() and int(rest[0]) >= 1):
        raise UsageError(f"{said}: {rest[0]!r} is not a run number (see 'history')")
    if len(rest) != 1:
        raise UsageError(f"{said}: give one run number (see 'history')")
    return int(rest[0])


def _requote(word: str) -> str:
    """A command-line argument with spaces in it was a phrase: keep it one search term."""
    return f'"{word}"' if any(c.isspace() for c in word) and '"' not in word else word
