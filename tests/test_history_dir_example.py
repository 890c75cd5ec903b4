"""``examples/aish-history-dir``: a third-party history backend, installed, found, and held to the contract."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from example_dists import example_installed

from aish.contract_tests.history import HistoryBackendContract

DIST = "aish-history-dir"


@pytest.fixture(scope="module", autouse=True)
def installed() -> Iterator[None]:
    with example_installed(DIST):
        yield


def aish(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("AISH_")}
    full.update(XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_DATA_HOME=str(tmp_path / "data"), AISH_DEMO_PACE="0")
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "aish", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=full,
        timeout=60,
        check=False,
    )


def test_records_runs_of_a_real_session(tmp_path: Path) -> None:
    config = tmp_path / "aish.toml"
    config.write_text('[settings]\nhistory = "dir"\n', encoding="utf-8")
    listing = aish(tmp_path, "--config", str(config), "plugins")
    assert "history dir" in listing.stdout, listing.stdout
    result = aish(tmp_path, "--config", str(config), "-c", "athena tell me about owls")
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "data" / "aish" / "journal-dir").glob("*.journal"))) == 1  # decision 30
    shown = aish(tmp_path, "--config", str(config), "history")  # applies the journal to the backend
    assert shown.returncode == 0 and "athena tell me about owls" in shown.stdout, shown.stdout + shown.stderr
    files = sorted((tmp_path / "data" / "aish" / "history.d").glob("*.json"))
    assert [f.name for f in files] == ["00000001.json"]


class TestDirHistory(HistoryBackendContract):
    factory = "aish_history_dir:make_backend"
