"""What every stage of a pipeline shares: the app, the output streams, history, results."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from aish.app import App
from aish.errors import AishError
from aish.history.recorder import RunRecording
from aish.stream import StageResult

if TYPE_CHECKING:
    from aish.conversations import Conversations


@dataclass
class RunEnv:
    """The environment of one pipeline run, built by the runner.

    ``report`` prints an error as one line and returns its exit status (the
    runner's error boundary); ``results`` collects every agent stage's result,
    parallel lanes in command order.
    """

    app: App
    out: TextIO
    err: TextIO
    tty: bool
    report: Callable[[AishError], int]
    renderer_name: str | None = None
    recording: RunRecording | None = None
    session_id: str | None = None
    stats: bool = False
    conversations: Conversations | None = None
    """The session's conversations (the shell, ``aish --continue``), or None: every stage is one-shot."""
    results: list[StageResult] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_results(self, results: list[StageResult]) -> None:
        with self.lock:
            self.results.extend(results)


@dataclass(frozen=True)
class Shown:
    """Where a stage's answer is shown: a stream and whether it is a terminal."""

    out: TextIO
    tty: bool
