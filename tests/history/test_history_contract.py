"""Both built-in history backends pass the contract suite that third-party backends use."""

from __future__ import annotations

from aish.contract_tests.history import HistoryBackendContract


class TestJsonl(HistoryBackendContract):
    factory = "aish_history_jsonl:make_backend"


class TestSqlite(HistoryBackendContract):
    factory = "aish_history_sqlite:make_backend"
