"""An SSE event has a size cap: a server sending an endless line (or an event that never ends)
fails the stage in one line, keeps the partial answer, and aish's memory stays near the cap."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from servers import ClientGone, Exchange, chunk, serving

from aish import EventTooLarge, MalformedEvent
from aish.kit.sse import MAX_EVENT_BYTES, SSEParser
from aish.testing import AISH_WITH_PEAK

MiB = 1 << 20


def test_a_line_past_the_cap_fails_in_any_number_of_pieces() -> None:
    parser = SSEParser(max_event=1000)
    assert parser.feed(b"data: " + b"x" * 500) == []
    with pytest.raises(EventTooLarge) as info:
        parser.feed(b"x" * 500)
    assert isinstance(info.value, MalformedEvent)
    assert str(info.value) == "the server sent more than 1,000 bytes without ending an event"


def test_an_event_of_many_lines_past_the_cap_fails() -> None:
    parser = SSEParser(max_event=1000)
    with pytest.raises(EventTooLarge):
        for _ in range(200):
            parser.feed(b"data: 0123456789\n")


def test_the_cap_is_per_event() -> None:
    parser = SSEParser(max_event=1000)
    event = b"data: " + b"y" * 900 + b"\n\n"
    got = [m for _ in range(50) for m in parser.feed(event[:400]) + parser.feed(event[400:])]
    assert len(got) == 50 and all(len(m.data) == 900 for m in got)  # type: ignore[union-attr]


def test_the_default_cap_is_documented() -> None:
    assert MAX_EVENT_BYTES >> 20 == 16
    docs = (Path(__file__).resolve().parents[2] / "docs" / "streams.md").read_text(encoding="utf-8")
    assert "16 MiB" in docs


def test_an_endless_line_ends_the_stage_and_memory_stays_bounded(tmp_path: Path) -> None:
    def flood(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"})
        ex.send(chunk(role="assistant") + chunk("Hello"))
        ex.send(b"data: ")
        block = b"x" * MiB
        try:
            for _ in range(96):
                ex.send(block)
        except ClientGone:
            return
        ex.end()

    config = tmp_path / "aish.toml"
    with serving(flood) as server:
        config.write_text(
            f'[settings]\nhistory = "sqlite"\nhistory_path = "{tmp_path / "h.sqlite3"}"\n'
            f'[agents.bot]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{server.url}/v1"\n'
            'model = "m"\nidle_timeout = 20\n',
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("AISH_")}
        env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), AISH_CONFIG=str(config))
        done = subprocess.run(
            [sys.executable, "-c", AISH_WITH_PEAK, "-c", "bot hi"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    err, peak = done.stderr.rsplit("VmHWM ", 1)
    assert done.returncode == 5, err
    assert done.stdout == "Hello\n"  # the partial answer, its line ended
    assert err.strip() == ("aish: bot: the server sent more than 16 MiB without ending an event (partial answer kept)")
    assert int(peak.split()[0]) * 1024 < 64 * MiB  # it held every byte before (96 MiB, then a copy)
    shown = subprocess.run(
        [sys.executable, "-m", "aish", "-c", "history show -1"], capture_output=True, text=True, env=env, timeout=60
    )
    assert "partial" in shown.stdout and "Hello" in shown.stdout
    assert "bot: the server sent more than 16 MiB without ending an event" in shown.stdout
