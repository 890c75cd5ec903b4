"""Child processes for the history contract tests: concurrent writers and a writer killed mid-stream.

Each child opens its own backend from the factory's import path, as a second
aish process would.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from aish.contracts import HistoryBackend, HistoryFactory, RunRecord, StageRecord

DELTA = "<{:06d}>"
"""The pieces a test writer appends: a stage's text is always whole pieces, in order."""


def load_factory(path: str) -> HistoryFactory:
    """``"package.module:callable"`` -> the callable."""
    module, _, name = path.partition(":")
    factory: HistoryFactory = getattr(importlib.import_module(module), name)
    return factory


def record_run(backend: HistoryBackend, line: str, texts: list[str], *, agent: str = "oracle") -> RunRecord:
    """Record a whole run, each text appended in two halves, every stage complete."""
    run = RunRecord(id=uuid.uuid4().hex, line=line, started=time.time(), pid=os.getpid())
    backend.begin_run(run)
    for index, text in enumerate(texts):
        stage = StageRecord(index, agent, "carrier", "dialect", input=f"input {index}")
        backend.begin_stage(run.id, stage)
        half = len(text) // 2
        backend.append_text(run.id, index, text[:half])
        backend.append_text(run.id, index, text[half:])
        stage.text, stage.status, stage.meta = text, "complete", {"tokens_out": len(text)}
        backend.end_stage(run.id, stage)
    backend.end_run(run.id, "complete", time.time())
    return run


def writer(factory: str, options: Mapping[str, Any], worker: int, runs: int, pieces: int) -> None:
    """Record ``runs`` runs named ``w{worker}-r{n}``, each stage's text streamed in ``pieces`` appends."""
    backend = load_factory(factory)(options)
    try:
        for n in range(runs):
            run = RunRecord(id=uuid.uuid4().hex, line=f"w{worker}-r{n}", started=time.time(), pid=os.getpid())
            backend.begin_run(run)
            backend.begin_stage(run.id, StageRecord(0, "oracle"))
            for piece in range(pieces):
                backend.append_text(run.id, 0, DELTA.format(piece))
            text = "".join(DELTA.format(p) for p in range(pieces))
            backend.end_stage(run.id, StageRecord(0, "oracle", text=text, status="complete"))
            backend.end_run(run.id, "complete", time.time())
    finally:
        backend.close()


def endless_writer(factory: str, options: Mapping[str, Any], ready: Any, after: int) -> None:
    """Stream appends to one stage forever; set ``ready`` after ``after`` of them (then be killed)."""
    backend = load_factory(factory)(options)
    run = RunRecord(id=uuid.uuid4().hex, line="endless", started=time.time(), pid=os.getpid())
    backend.begin_run(run)
    backend.begin_stage(run.id, StageRecord(0, "oracle"))
    piece = 0
    while True:
        backend.append_text(run.id, 0, DELTA.format(piece))
        piece += 1
        if piece == after:
            ready.set()


def run_processes(target: Callable[..., None], argsets: list[tuple[Any, ...]], timeout: float = 120) -> None:
    """Start one spawned process per argument tuple, all at once; fail if any fails."""
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=target, args=args) for args in argsets]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout)
    codes = [proc.exitcode for proc in procs]
    for proc in procs:
        if proc.is_alive():
            proc.kill()
            proc.join()
    if any(code != 0 for code in codes):
        raise AssertionError(f"writer processes failed: exit codes {codes}")
