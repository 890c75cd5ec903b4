"""aish plugin: the ``dir`` history backend (one JSON file per run)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aish import HistoryBackend, RegisterHistoryBackend, hookimpl


def make_backend(options: Mapping[str, Any]) -> HistoryBackend:
    """The factory aish calls (``options``: ``path``, ``data_dir``)."""
    from aish_history_dir.store import DirHistory

    return DirHistory.from_options(options)


@hookimpl
def aish_register_history_backends(register: RegisterHistoryBackend) -> None:
    register("dir", make_backend, description="one JSON file per run in $XDG_DATA_HOME/aish/history.d")
