"""The demo plugin stops its server when aish shuts down: a program embedding aish does not pile them up."""

from __future__ import annotations

import io
import threading

import pytest

from aish.cli import main


def _servers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("aish-refserver")]


def test_many_runs_in_one_process_leave_no_demo_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AISH_DEMO_PACE", "0")
    before = len(_servers())
    for _ in range(12):
        out, err = io.StringIO(), io.StringIO()
        assert main(["-c", "athena hi"], stdin=io.StringIO(""), stdout=out, stderr=err) == 0, err.getvalue()
        assert out.getvalue().startswith("Athena (offline demo):")
    assert len(_servers()) == before


@pytest.mark.parametrize("pace", ["abc", "nan", "-1", "1e9"])
def test_a_bad_demo_pace_is_one_line(monkeypatch: pytest.MonkeyPatch, pace: str) -> None:
    monkeypatch.setenv("AISH_DEMO_PACE", pace)
    out, err = io.StringIO(), io.StringIO()
    assert main(["-c", "athena hi"], stdin=io.StringIO(""), stdout=out, stderr=err) == 2
    assert err.getvalue() == f"aish: AISH_DEMO_PACE: expected seconds between tokens from 0 to 10, got {pace!r}\n"
