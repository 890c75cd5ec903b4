"""The ``dir`` history backend: ``NNNNNNNN.json`` per run, ``NNNNNNNN.gone`` per removed number."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aish import HistoryError, RecordHistory, RunRecord, claim_file, private_dir, write_atomically


class DirHistory(RecordHistory):
    """A directory of runs, one JSON file each; aish's ``RecordHistory`` does the bookkeeping."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        try:
            self.root = private_dir(root)
        except OSError as exc:
            raise HistoryError(f"{root}: cannot create the history directory: {exc.strerror}") from None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> DirHistory:
        path = options.get("path")
        return cls(Path(str(path)).expanduser() if path else Path(str(options["data_dir"])) / "history.d")

    def claim(self, run: RunRecord) -> int:
        used = [int(p.stem) for p in self.root.iterdir() if p.suffix in (".json", ".gone") and p.stem.isdigit()]
        number, _path = claim_file(self.root, "{:08d}.json", max(used, default=0) + 1, json.dumps(run.to_dict()))
        return number

    def file(self, number: int, suffix: str = ".json") -> Path:
        return self.root / f"{number:08d}{suffix}"

    def save(self, run: RunRecord) -> bool:
        path = self.file(run.number)
        if not path.exists():
            return False  # removed: a removed run stays removed
        try:
            write_atomically(path, json.dumps(run.to_dict()))
        except OSError as exc:
            raise HistoryError(f"{path}: cannot write: {exc.strerror}") from None
        return True

    def load(self, number: int) -> RunRecord | None:
        try:
            return RunRecord.from_dict(json.loads(self.file(number).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None  # removed meanwhile, or still empty

    def numbers(self) -> list[int]:
        return sorted(int(p.stem) for p in self.root.glob("*.json") if p.stem.isdigit())

    def remove(self, number: int) -> bool:
        self.file(number, ".gone").touch(0o600)  # the number stays used
        try:
            self.file(number).unlink()
        except FileNotFoundError:
            return False
        return True

    def wipe(self) -> None:
        for path in self.root.iterdir():
            if path.suffix in (".json", ".gone"):
                path.unlink(missing_ok=True)
