"""What every stage of a pipeline shares: the app, the output streams, history, results."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from aish.app import App
from aish.errors import AishError
from aish.history.recorder import RunRecording
from aish.records import FrozenRecord, Record, freeze
from aish.stream import StageResult

if TYPE_CHECKING:
    from aish.conversations import Conversations


class RunEnv(Record):
    """The environment of one pipeline run, built by the runner.

    ``report`` prints an error as one line and returns its exit status (the
    runner's error boundary); ``results`` collects every agent stage's result,
    parallel lanes in command order.
    """

    __slots__ = (
        "app",
        "out",
        "err",
        "tty",
        "report",
        "renderer_name",
        "recording",
        "session_id",
        "stats",
        "wrap",
        "conversations",
        "results",
        "lock",
        "programs_read_stdin",
    )
    app: App
    out: TextIO
    err: TextIO
    tty: bool
    report: Callable[[AishError], int]
    renderer_name: str | None
    recording: RunRecording | None
    session_id: str | None
    stats: bool
    wrap: bool
    """Renderers may break an answer's lines between words on a terminal (``RenderTarget.options["wrap"]``)."""
    conversations: Conversations | None
    """The session's conversations (the shell, ``aish --continue``), or None: every stage is one-shot."""
    results: list[StageResult]
    lock: threading.Lock
    programs_read_stdin: bool
    """A program without other input reads aish's standard input (``aish -c``: :mod:`aish.cli_input`)."""

    def __init__(
        self,
        app: App,
        out: TextIO,
        err: TextIO,
        tty: bool,
        report: Callable[[AishError], int],
        renderer_name: str | None = None,
        recording: RunRecording | None = None,
        session_id: str | None = None,
        stats: bool = False,
        wrap: bool = True,
        conversations: Conversations | None = None,
        results: list[StageResult] | None = None,
        lock: threading.Lock | None = None,
        programs_read_stdin: bool = False,
    ) -> None:
        self.app = app
        self.out = out
        self.err = err
        self.tty = tty
        self.report = report
        self.renderer_name = renderer_name
        self.recording = recording
        self.session_id = session_id
        self.stats = stats
        self.wrap = wrap
        self.conversations = conversations
        self.results = [] if results is None else results
        self.lock = threading.Lock() if lock is None else lock
        self.programs_read_stdin = programs_read_stdin

    def add_results(self, results: list[StageResult]) -> None:
        with self.lock:
            self.results.extend(results)


class Shown(FrozenRecord):
    """Where a stage's answer is shown: a stream and whether it is a terminal."""

    __slots__ = ("out", "tty")
    out: TextIO
    tty: bool

    def __init__(self, out: TextIO, tty: bool) -> None:
        freeze(self, out=out, tty=tty)
