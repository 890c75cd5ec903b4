"""A failed history write is reported as what it was, and the run is still recorded as it ended
when the store recovers; never left ``running`` to read back as interrupted."""

from __future__ import annotations

import io
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from aish.app import App
from aish.contracts import HistoryBackend
from aish.errors import HistoryError
from aish.history.recorder import Recorder
from aish.history.store import backend_name, backend_options
from aish.runner import Runner


class Flaky:
    """A real backend whose first ``append_text`` fails as a full disk would."""

    def __init__(self, backend: HistoryBackend) -> None:
        self.backend = backend
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def append_text(self, run_id: str, index: int, text: str) -> None:
        if not self.failed:
            self.failed = True
            raise HistoryError("history.db: no space left on the device (disk I/O error)")
        self.backend.append_text(run_id, index, text)


def test_a_run_whose_write_failed_is_still_recorded_as_it_ended(demo_url: str, history_app: App) -> None:
    name = backend_name(history_app)
    assert name is not None
    backend = history_app.history(name, backend_options(history_app))
    flaky = Flaky(backend)
    err = io.StringIO()
    recorder = Recorder(lambda: flaky, err, interval=0.0)  # type: ignore[arg-type,return-value]
    status = Runner(history_app, out=io.StringIO(), err=err, history=recorder).run_source("athena tell me")
    recorder.close()
    assert status == 0 and flaky.failed
    assert err.getvalue() == (
        "aish: history: history.db: no space left on the device (disk I/O error); runs are not being recorded\n"
    )
    reader = history_app.history(name, backend_options(history_app))
    (run,) = reader.runs()
    assert run.status == "complete" and run.stages[0].status == "complete"
    assert run.stages[0].text.startswith("Athena (offline demo):")
    reader.close()


def test_sqlite_says_the_disk_is_full_when_it_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from aish_history_sqlite.store import _reason

    error = sqlite3.OperationalError("disk I/O error")
    error.sqlite_errorname = "SQLITE_IOERR_WRITE"  # type: ignore[attr-defined]
    assert _reason(error, tmp_path) == "disk I/O error (SQLITE_IOERR_WRITE)"

    class Full:
        f_bavail = 0
        f_favail = 10

    monkeypatch.setattr(os, "statvfs", lambda _path: Full())
    assert _reason(error, tmp_path) == "no space left on the device (disk I/O error)"
