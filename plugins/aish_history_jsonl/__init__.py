"""aish plugin: the ``jsonl`` history backend.

Runs are kept in one append-only file of JSON records
(``$XDG_DATA_HOME/aish/history.jsonl``, or ``[settings] history_path``),
one complete record per line, each appended under an exclusive lock. It is
plain text for ``grep`` and ``jq``. Searches keep a cache of every finished
run's text beside it (``history.jsonl.search``, :mod:`aish_history_jsonl.cache`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aish import HistoryBackend, RegisterHistoryBackend, hookimpl


def make_backend(options: Mapping[str, Any]) -> HistoryBackend:
    """The factory aish calls (``options``: ``path``, ``data_dir``)."""
    from aish_history_jsonl.store import JsonlHistory

    return JsonlHistory.from_options(options)


@hookimpl
def aish_register_history_backends(register: RegisterHistoryBackend) -> None:
    register("jsonl", make_backend, description="JSON lines in $XDG_DATA_HOME/aish/history.jsonl")
