"""Runs without their inputs: what ``history`` and ``history search`` list (decision 33).

A listing shows each run's number, time, status and line, and
:func:`aish.history.store.settle` looks at the status of each stage of a run
whose process died, and whether it had any text. Neither needs what was
piped into the run or sent to a stage, which can be 20 MB each. A backend
may answer the optional ``brief(limit, text)`` query without reading them;
without it aish reads whole runs (``runs``/``search``) and drops them
itself, so any backend works.

A brief run is what ``runs``/``search`` return for it, except that its
``stdin`` is None and each stage's ``input`` is ``""`` and its ``text`` a
prefix of the answer, empty only when the answer is (:func:`brief_of` cuts
it to :data:`BRIEF_TEXT` characters; the whole answer is a valid prefix too).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from aish.contracts import HistoryBackend, RunRecord

BRIEF_TEXT = 256
"""Characters of each stage's answer that the built-in backends keep in a brief run."""


def brief_of(run: RunRecord, text_chars: int = BRIEF_TEXT) -> RunRecord:
    """``run`` as a brief run: no piped input, no stage input, each answer cut to ``text_chars``
    characters (at least 1, so that an answer that was there still shows). Changes ``run`` in place."""
    run.stdin = None
    keep = max(1, text_chars)
    for stage in run.stages:
        stage.input = ""
        if len(stage.text) > keep:
            stage.text = stage.text[:keep]
    return run


def brief_runs(backend: HistoryBackend, limit: int | None = 20, text: str | None = None) -> list[RunRecord]:
    """The backend's ``brief(limit, text)`` if it has one, else ``runs(limit)`` or
    ``search(text, limit)`` made brief (``limit`` None: every run, or every match)."""
    query = getattr(backend, "brief", None)
    if callable(query):
        found: list[RunRecord] = query(limit, text)
        return found
    if text is None:
        return [brief_of(run) for run in backend.runs(limit)]
    return [brief_of(run) for run in backend.search(text, sys.maxsize if limit is None else limit)]


def each_run(backend: HistoryBackend) -> Iterator[RunRecord]:
    """Every run, whole, oldest first (``history export``): one at a time when the backend has
    ``brief`` (the numbers from ``brief(None)``, then ``get`` for each), else ``runs(None)`` at once."""
    if not callable(getattr(backend, "brief", None)):
        yield from backend.runs(None)
        return
    for short in brief_runs(backend, None):
        run = backend.get(short.number)
        if run is not None:  # else removed meanwhile
            yield run
        del run  # not held while the next one is read


__all__ = ["BRIEF_TEXT", "brief_of", "brief_runs", "each_run"]
