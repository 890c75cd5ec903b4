"""aish plugin: the ``sqlite`` history backend, aish's default.

Runs are kept in an SQLite database (``$XDG_DATA_HOME/aish/history.sqlite3``,
or ``[settings] history_path``) in WAL mode, so several aish processes can
record at once and readers never wait for writers; finished runs are indexed
with FTS5 (trigram tokenizer) for ``history search``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aish import HistoryBackend, RegisterHistoryBackend, hookimpl


def make_backend(options: Mapping[str, Any]) -> HistoryBackend:
    """The factory aish calls (``options``: ``path``, ``data_dir``; ``timeout`` in seconds)."""
    from aish_history_sqlite.store import SqliteHistory

    return SqliteHistory.from_options(options)


@hookimpl
def aish_register_history_backends(register: RegisterHistoryBackend) -> None:
    register(
        "sqlite",
        make_backend,
        description="SQLite with full-text search in $XDG_DATA_HOME/aish/history.sqlite3",
        default=True,
    )
