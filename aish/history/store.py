"""Which history backend to use, reading runs back, and resolving ``!N``.

``[settings] history`` names the backend: ``"off"`` records nothing, no value
means the backend a plugin registered with ``default=True`` (none registered:
off). ``[settings] history_path`` overrides the backend's file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, TextIO

from aish.app import App
from aish.contracts import RUNNING, HistoryBackend, RunRecord
from aish.errors import AishError, UsageError, visible
from aish.history.files import data_home
from aish.history.journal import Journal, fold, journal_dir
from aish.history.recorder import Recorder
from aish.records import FrozenRecord, freeze
from aish.wordwrap import say

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

OFF = "off"
INTERRUPTED = "interrupted"
DIED = "interrupted: the aish process ended before this stage did"


def is_private(line: str) -> bool:
    """A line typed with a blank first (bash's ``ignorespace``): kept out of input history, and
    its run out of run history (decision 50)."""
    return line[:1] in (" ", "\t")


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    """Compiled on first use: a one-shot line that is no ``!N`` never needs one (decision 32)."""
    import re

    return re.compile(pattern)


def backend_name(app: App) -> str | None:
    """The configured backend's name, or None when history is off."""
    name = app.config.settings.history
    if name == OFF:
        return None
    if name is None:
        if not any(reg.default for reg in app.components.get("history", {}).values()):
            return None
        return app.default_name("history")
    app.registration("history", name)  # an unknown name fails here, with the known ones
    return name


def backend_options(app: App) -> dict[str, Any]:
    path = app.config.settings.history_path
    return {"path": os.path.expanduser(path) if path else None, "data_dir": data_home()}


def open_backend(app: App, warn: Callable[[str], object] | None = None) -> HistoryBackend:
    """The configured backend, with the journals of one-shot processes applied to it (raises
    UsageError when history is off).

    A journal that cannot be applied (a full disk, a damaged file) is kept for a later reader and
    said in one line through ``warn`` (default: standard error): what the store holds is still read.
    """
    name = backend_name(app)
    if name is None:
        known = ", ".join(sorted(app.components.get("history", {}))) or "none is installed"
        raise UsageError(f"history is off (to record runs, set [settings] history to a backend: {known})")
    options = backend_options(app)
    backend = app.history(name, options)
    try:
        fold(journal_dir(name, options), backend)
    except AishError as exc:
        (warn or _stderr)(f"aish: history: {visible(str(exc))}; it is kept, to be added later\n")
    except BaseException:
        backend.close()
        raise
    return backend


def _stderr(text: str) -> None:
    import sys

    sys.stderr.write(text)
    sys.stderr.flush()


@contextmanager
def opened(app: App, warn: Callable[[str], object] | None = None) -> Iterator[HistoryBackend]:
    backend = open_backend(app, warn)
    try:
        yield backend
    finally:
        backend.close()


def make_recorder(app: App, err: TextIO, *, one_shot: bool = False) -> Recorder | None:
    """A recorder for the configured backend; None when history is off (a bad name warns once).

    ``one_shot`` (``aish -c``, ``aish AGENT ...``, a script: a process that
    runs and exits): record into a journal that the next reader applies to
    the store (:mod:`aish.history.journal`), not into the store itself.
    """
    try:
        name = backend_name(app)
    except AishError as exc:
        say(err, f"aish: history: {visible(str(exc))}; runs are not being recorded")
        return None
    if name is None:
        return None

    options = backend_options(app)
    if one_shot:

        def fold_all() -> None:
            with opened(app, err.write):
                pass

        def warn(message: str) -> None:
            say(err, f"aish: history: {visible(message)}")

        return Recorder(
            None, err, secrets=app.secrets, sink=Journal(journal_dir(name, options), fold_all=fold_all, warn=warn)
        )
    try:
        # Built here, not on the writer thread: building imports the backend's code, which on the
        # writer thread would compete for the GIL with the stream it records. Its files open on first use.
        backend = app.history(name, options)
    except Exception as exc:  # a plugin's factory failing must not stop the run
        say(err, f"aish: history: {visible(str(exc)) or type(exc).__name__}; runs are not being recorded")
        return None

    return Recorder(lambda: _FoldFirst(backend, journal_dir(name, options), err), err, secrets=app.secrets)


class _FoldFirst:
    """The shell's backend, on its writer thread: before each run it records, the journals of
    one-shot processes that ended meanwhile are applied, so that runs are numbered in the order
    they were made (``aish -c`` in another terminal between two lines of the shell comes
    between them), not in the order a reader happened to apply them."""

    def __init__(self, backend: HistoryBackend, directory: str, err: TextIO) -> None:
        self._backend = backend
        self._directory = directory
        self._err = err
        self._warned = False
        self._fold()

    def _fold(self) -> None:
        try:
            fold(self._directory, self._backend)
        except AishError as exc:  # the store may still take this process's runs
            if not self._warned:
                self._warned = True
                say(self._err, f"aish: history: {visible(str(exc))}; it is kept for later")

    def begin_run(self, run: RunRecord) -> None:
        self._fold()
        self._backend.begin_run(run)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def settle(run: RunRecord) -> RunRecord:
    """A run still ``running`` whose process is gone was interrupted: say so, and mark its stages."""
    if run.status == RUNNING and run.pid and not _alive(run.pid):
        run.status = INTERRUPTED
        for stage in run.stages:
            if stage.status == RUNNING:
                stage.status = "partial" if stage.text else "error"
                stage.error = stage.error or DIED
    return run


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but not ours to signal
    return True


def replay_request(source: str) -> int | None:
    """For ``!N`` the number N, for ``!-N`` -N (the Nth last run), for ``!!`` -1 (the last
    run), for any other line None.

    ``!`` followed by a digit, ``-`` and a digit, or a second ``!`` is replay syntax:
    anything else after it (``!3 more``, ``!!x``) is refused. Other ``!`` lines are not
    replays (``!cmd`` is a shell escape). ``!0`` is 0, which names no run.
    """
    text = source.strip()
    if not text.startswith("!"):
        return None
    match = _pattern(r"!(\d+|-[1-9]\d*|!)").fullmatch(text)
    if match:
        return -1 if match.group(1) == "!" else int(match.group(1))
    word = text.split()[0] if text else ""
    if word.startswith("!!") or (
        word.startswith("!") and (word[1:2].isdigit() or (word[1:2] == "-" and word[2:3].isdigit()))
    ):
        raise UsageError(f"{word}: !N replays run N, !-N the Nth last run and !! the last run, with nothing after them")
    return None


class Replay(FrozenRecord):
    """What ``!N`` runs again: the run's line, its number, and the input that was piped into it."""

    __slots__ = ("line", "number", "stdin")
    line: str
    number: int
    stdin: str | None

    def __init__(self, line: str, number: int, stdin: str | None) -> None:
        freeze(self, line=line, number=number, stdin=stdin)


def resolve_replay(app: App, source: str) -> Replay | None:
    """The run that ``!N`` or ``!!`` names; None when ``source`` is no replay."""
    number = replay_request(source)
    if number is None:
        return None
    with opened(app) as backend:
        if number >= 0:
            run = backend.get(number) if number else None
        else:
            last = backend.runs(-number)
            run = last[0] if len(last) == -number else None
    if run is None:
        named = "!" if source.strip() == "!!" else str(number)
        raise UsageError(f"!{named}: no such run in history (see 'history')")
    return Replay(run.line, run.number, run.stdin)


def command_line(words: list[str]) -> str:
    """Words as an aish line that parses back into the same words (``aish AGENT TEXT...``, recorded)."""
    plain = _pattern(r"[\w@%+=:,./-]+").fullmatch
    return " ".join(w if plain(w) else _quote(w) for w in words)


def text_line(words: list[str]) -> str:
    """An agent's text as a line's words (``aish athena what's a monad?``, a chat's turn; recorded):
    as typed when the language reads it back as the same text, else as :func:`command_line` writes
    it, a first word that is an option (``-x``) quoted: unquoted after an agent's name, the language
    refuses it (``aish.pipeline.plan.loose_controls``)."""
    from aish.lang.controls import CONTROL_WORDS

    if words and words[0] in CONTROL_WORDS:
        return " ".join([_quote(words[0]), command_line(words[1:])]).rstrip()
    typed = " ".join(words)
    if len(typed) <= TYPED_MAX and _reads_back(typed):
        return typed
    return command_line(words)


TYPED_MAX = 4096
"""Longer text is written quoted without trying it as typed (a parse of the line on a one-shot path)."""


def _reads_back(text: str) -> bool:
    """Whether ``AGENT TEXT`` is one agent stage with ``text`` as its text (nothing read as an operator,
    a quote, a comment or an option)."""
    from aish.errors import AishError
    from aish.lang import lone_command
    from aish.lang.controls import CONTROL_WORDS

    if not text or text.isspace():
        return False
    try:
        stage = lone_command(f"agent {text}")
    except AishError:
        return False
    return (
        stage is not None
        and stage.name == "agent"
        and not stage.controls.words
        and stage.text == text
        and stage.args[0].value not in CONTROL_WORDS
    )


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"
