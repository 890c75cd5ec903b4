"""The ``dir`` history backend: ``NNNNNNNN.json`` per run, ``NNNNNNNN.gone`` per removed number."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aish import HistoryError, RunRecord, StageRecord, run_matches, search_terms

DIRECTORY = "history.d"


class DirHistory:
    """A directory of runs. Writes for a run go through the process that began it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._live: dict[str, RunRecord] = {}
        try:
            _private_dir(root)
        except OSError as exc:
            raise HistoryError(f"{root}: cannot create the history directory: {exc.strerror}") from None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> DirHistory:
        if options.get("path"):
            return cls(Path(str(options["path"])).expanduser())
        data_dir = Path(str(options["data_dir"]))
        _private_dir(data_dir)
        return cls(data_dir / DIRECTORY)

    # -- writes ----------------------------------------------------------------

    def begin_run(self, run: RunRecord) -> None:
        number = self._highest() + 1
        while True:
            try:
                fd = os.open(self._file(number), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileExistsError:
                number += 1
            except OSError as exc:
                raise HistoryError(f"{self.root}: cannot store a run: {exc.strerror}") from None
        run.number = number
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(run.to_dict(), fh)
        self._live[run.id] = run

    def begin_stage(self, run_id: str, stage: StageRecord) -> None:
        run = self._live.get(run_id)
        if run is not None:
            run.stages = sorted([*run.stages, StageRecord(**{**vars(stage), "text": ""})], key=lambda s: s.index)
            self._save(run)

    def append_text(self, run_id: str, index: int, text: str) -> None:
        stage = self._stage(run_id, index)
        if stage is not None:
            stage.text += text
            self._save(self._live[run_id])

    def end_stage(self, run_id: str, stage: StageRecord) -> None:
        run = self._live.get(run_id)
        if run is not None:
            run.stages = sorted([s for s in run.stages if s.index != stage.index] + [stage], key=lambda s: s.index)
            self._save(run)

    def end_run(self, run_id: str, status: str, ended: float) -> None:
        run = self._live.pop(run_id, None)
        if run is not None:
            run.status, run.ended = status, ended
            self._save(run)

    # -- reads -----------------------------------------------------------------

    def runs(self, limit: int | None = 20) -> list[RunRecord]:
        found = self._all()
        if limit is None:
            return found
        return found[-limit:] if limit > 0 else []

    def get(self, number: int) -> RunRecord | None:
        return _load(self._file(number))

    def search(self, text: str, limit: int = 20) -> list[RunRecord]:
        terms = search_terms(text)
        if not terms or limit <= 0:
            return []
        return [run for run in self._all() if run_matches(run, terms)][-limit:]

    def delete(self, number: int) -> bool:
        path = self._file(number)
        if not path.exists():
            return False
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path.with_suffix(".gone"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def clear(self) -> None:
        for path in self.root.iterdir():
            if path.suffix in (".json", ".gone"):
                path.unlink(missing_ok=True)

    def close(self) -> None:
        self._live.clear()

    # -- files -----------------------------------------------------------------

    def _file(self, number: int) -> Path:
        return self.root / f"{number:08d}.json"

    def _highest(self) -> int:
        numbers = [int(p.stem) for p in self.root.iterdir() if p.suffix in (".json", ".gone") and p.stem.isdigit()]
        return max(numbers, default=0)

    def _all(self) -> list[RunRecord]:
        paths = sorted(p for p in self.root.glob("*.json") if p.stem.isdigit())
        return [run for run in map(_load, paths) if run is not None]

    def _stage(self, run_id: str, index: int) -> StageRecord | None:
        run = self._live.get(run_id)
        stages = [s for s in run.stages if s.index == index] if run is not None else []
        return stages[0] if stages else None

    def _save(self, run: RunRecord) -> None:
        """Replace the run's file atomically; a removed run stays removed."""
        path = self._file(run.number)
        if not path.exists():
            self._live.pop(run.id, None)
            return
        tmp = self.root / f".{run.number:08d}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(run.to_dict(), fh)
            os.replace(tmp, path)
        except OSError as exc:
            raise HistoryError(f"{path}: cannot write: {exc.strerror}") from None


def _load(path: Path) -> RunRecord | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RunRecord.from_dict(data)
    except (OSError, ValueError, TypeError):
        return None  # removed meanwhile, or still empty


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
