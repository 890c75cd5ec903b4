"""``RecordHistory``: a history backend made of six storage operations, and helpers for files.

What every store repeats is here: the running runs kept in memory and saved
whole after each write (so a store whose ``save`` is atomic survives
``kill -9`` mid-stream), final text winning over appended text, stages of the
same agent kept apart, ``runs``/``get``/``search`` (with :func:`aish.search_terms`
and :func:`aish.run_matches`), writes for a removed run ignored. A subclass
stores records::

    class MyHistory(RecordHistory):
        def claim(self, run): ...        # a new number, never used before, even by another process
        def save(self, run): ...         # replace the record atomically; False when it was removed
        def load(self, number): ...      # the record, or None
        def numbers(self): ...           # the numbers of the stored records, ascending
        def remove(self, number): ...    # True when it was there
        def wipe(self): ...              # remove every record; numbering starts again at 1

For a store of files, :func:`claim_file` numbers across processes with
``O_EXCL`` and :func:`write_atomically` replaces a file so that a reader, or a
crash, sees the old text or the new, never half of it.
"""

from __future__ import annotations

import os
from pathlib import Path

from aish.contracts import RunRecord, StageRecord
from aish.history.terms import run_matches, search_terms
from aish.joined import text_of
from aish.private_dirs import make_private_dirs

FILE_MODE = 0o600


class RecordHistory:
    """A :class:`aish.HistoryBackend`; subclasses implement the six storage operations."""

    def __init__(self) -> None:
        self._live: dict[str, RunRecord] = {}

    # -- storage, for subclasses ------------------------------------------------------

    def claim(self, run: RunRecord) -> int:
        """Store ``run`` under a new number and return it (unique across processes)."""
        raise NotImplementedError

    def save(self, run: RunRecord) -> bool:
        """Replace the stored record of ``run.number`` atomically; False if it was removed."""
        raise NotImplementedError

    def load(self, number: int) -> RunRecord | None:
        raise NotImplementedError

    def numbers(self) -> list[int]:
        """The numbers of the stored runs, ascending."""
        raise NotImplementedError

    def remove(self, number: int) -> bool:
        raise NotImplementedError

    def wipe(self) -> None:
        """Remove every run; the next one is number 1."""
        raise NotImplementedError

    # -- writes --------------------------------------------------------------------------

    def begin_run(self, run: RunRecord) -> None:
        run.number = self.claim(run)
        self._live[run.id] = run

    def begin_stage(self, run_id: str, stage: StageRecord) -> None:
        self._update(run_id, stage.index, stage.replace(text="", input=text_of(stage.input)))  # a str to save

    def append_text(self, run_id: str, index: int, text: str) -> None:
        run = self._live.get(run_id)
        for stage in run.stages if run is not None else []:
            if stage.index == index:
                stage.text += text
                self._save(run_id)

    def end_stage(self, run_id: str, stage: StageRecord) -> None:
        run = self._live.get(run_id)
        began = next((s for s in run.stages if s.index == stage.index), None) if run is not None else None
        self._update(run_id, stage.index, stage.replace(input=began.input if began else text_of(stage.input)))

    def end_run(self, run_id: str, status: str, ended: float) -> None:
        run = self._live.get(run_id)
        if run is not None:
            run.status, run.ended = status, ended
            self._save(run_id)
            self._live.pop(run_id, None)

    def _update(self, run_id: str, index: int, stage: StageRecord) -> None:
        run = self._live.get(run_id)
        if run is not None:
            run.stages = sorted([s for s in run.stages if s.index != index] + [stage], key=lambda s: s.index)
            self._save(run_id)

    def _save(self, run_id: str) -> None:
        run = self._live.get(run_id)
        if run is not None and not self.save(run):
            self._live.pop(run_id, None)  # removed meanwhile: its later writes are ignored

    # -- reads ----------------------------------------------------------------------------

    def runs(self, limit: int | None = 20) -> list[RunRecord]:
        numbers = self.numbers()
        if limit is not None:
            numbers = numbers[-limit:] if limit > 0 else []
        return [run for run in map(self.load, numbers) if run is not None]

    def get(self, number: int) -> RunRecord | None:
        return self.load(number)

    def search(self, text: str, limit: int = 20) -> list[RunRecord]:
        terms = search_terms(text)
        if not terms or limit <= 0:
            return []
        return [run for run in self.runs(None) if run_matches(run, terms)][-limit:]

    def delete(self, number: int) -> bool:
        return self.remove(number)

    def clear(self) -> None:
        self.wipe()

    def close(self) -> None:
        self._live.clear()


def claim_file(directory: Path, name: str, first: int, text: str) -> tuple[int, Path]:
    """Create ``directory / name.format(n)`` for the lowest free ``n >= first`` (exclusively, 0600),
    write ``text`` into it, and return ``(n, path)``. Two processes never get the same ``n``."""
    number = first
    while True:
        path = directory / name.format(number)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            number += 1
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return number, path


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path``'s content with ``text`` (0600) through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def private_dir(path: Path) -> Path:
    """``path`` and its missing parents created, readable by their owner only (0700)."""
    make_private_dirs(path)
    path.chmod(0o700)
    return path


__all__ = ["RecordHistory", "claim_file", "private_dir", "write_atomically"]
