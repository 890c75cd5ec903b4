"""A one-shot journal holds a run's start until the run waits for a server (decision 107).

``begin_run`` and ``begin_stage`` are written when the stage's request is on
the wire (``Request.sent``: the SSE transport calls it between sending the
request and reading the response head), or before any later call, whichever
comes first. The unit tests use a real journal directory; the last ones real
``aish`` processes and a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from servers import Exchange, openai_stream, serving

from aish import AgentConfig, Context, HistoryError, Prompt, Request, RunRecord, StageRecord
from aish.history.files import data_dir
from aish.history.journal import Journal
from aish.history.recorder import Recorder
from aish.stream import AgentStream
from aish.testing import run_aish
from aish_refserver import RefServer
from aish_sse.transport import SSETransport
from aish_websocket.transport import WebSocketTransport
from aish_wsproto.codec import AishWSCodec

AGENT = AgentConfig(name="athena", transport="sse", url="http://127.0.0.1:9/v1", codec="openai-chat", model="m")


def calls_in(directory: Path) -> list[str]:
    """The calls written to the journals in ``directory`` so far, in order."""
    found = []
    for path in sorted(directory.glob("*.journal")):
        found += re.findall(r'^\{"call":"(\w+)"', path.read_text(), re.MULTILINE)
    return found


def start(journal: Journal) -> tuple[Recorder, Any]:
    """A run of one stage begun through ``journal``: its recorder and its stage's recording."""
    recorder = Recorder(None, io.StringIO(), interval=0.0, sink=journal)
    stage = recorder.begin("athena hello").stage(AGENT, "hello")
    return recorder, stage


def test_the_run_s_start_is_held_until_the_run_waits_for_a_server(tmp_path: Path) -> None:
    journal = Journal(str(tmp_path))
    _recorder, stage = start(journal)
    assert calls_in(tmp_path) == []  # nothing written, no file taken: the request has not left
    stage.waiting()
    assert calls_in(tmp_path) == ["begin_run", "begin_stage"]
    stage.waiting()  # again (a reconnection, a redirect): nothing held, nothing written
    assert calls_in(tmp_path) == ["begin_run", "begin_stage"]


@pytest.mark.parametrize(
    "then",
    [
        lambda journal, run_id: journal.submit("append_text", run_id, 0, "text"),
        lambda journal, run_id: journal.submit_later(
            "end_stage", lambda: (run_id, StageRecord(0, "athena", status="complete"))
        ),
        lambda journal, run_id: journal.sync(),
        lambda journal, run_id: journal.close(),
    ],
    ids=["append_text", "end_stage", "sync", "close"],
)
def test_a_later_call_writes_the_held_start_before_itself(
    tmp_path: Path, then: Callable[[Journal, str], object]
) -> None:
    """A line that never waits for a server (a command, a stage that fails before sending) is still recorded."""
    journal = Journal(str(tmp_path))
    run = RunRecord(id=uuid.uuid4().hex, line="athena hello", started=time.time())
    journal.submit_later("begin_run", lambda: (run,))
    journal.submit_later("begin_stage", lambda: (run.id, StageRecord(0, "athena")))
    assert calls_in(tmp_path) == []
    then(journal, run.id)
    assert calls_in(tmp_path)[:2] == ["begin_run", "begin_stage"]
    journal.close()


def test_a_held_record_that_cannot_be_made_stops_recording_without_raising(tmp_path: Path) -> None:
    journal = Journal(str(tmp_path))
    err = io.StringIO()
    recorder = Recorder(None, err, interval=0.0, sink=journal)

    def broken() -> tuple[Any, ...]:
        raise ValueError("no record")

    journal.submit_later("begin_run", broken)
    recorder.idle()  # called from inside the transport: must not raise
    assert isinstance(journal.failure, HistoryError)
    assert str(journal.failure) == "cannot record a run's begin_run: no record"
    journal.submit("end_run", "x", "complete", time.time())
    assert calls_in(tmp_path) == []
    recorder.check()
    assert err.getvalue() == "aish: history: cannot record a run's begin_run: no record; runs are not being recorded\n"


def test_the_sse_transport_says_its_request_is_sent_before_it_waits_for_the_answer() -> None:
    """The server answers only once ``sent`` was called: a transport that called it after reading the
    response head (or never) would leave it waiting, and ``open`` would not return in time."""
    sent = threading.Event()

    def handle(ex: Exchange) -> None:
        if not sent.wait(5):
            return  # the client gets no answer: open fails
        ex.respond(200, {"Content-Type": "text/event-stream"})
        for piece in openai_stream("hi"):
            ex.send(piece)
        ex.end()

    with serving(handle) as server:
        agent = AGENT.replace(url=f"{server.url}/v1", connect_timeout=2.0, idle_timeout=8.0)
        request = Request(f"{server.url}/v1/chat/completions", b"{}", {"Content-Type": "application/json"})
        conn = SSETransport(agent).open(request.replace(sent=sent.set))
        try:
            assert sent.is_set()
            assert any(item for batch in conn for item in batch)
        finally:
            conn.close()


def test_the_stream_layer_says_it_for_a_transport_that_does_not() -> None:
    """The WebSocket transport's ``open`` returns once its first message is sent (it never calls
    ``sent``): the stream layer calls ``waiting`` then, before any of the answer is read."""
    seen: list[int] = []
    with RefServer(pace=0.0) as server:
        agent = AgentConfig(
            name="bot", transport="websocket", url=server.ws_url, codec="aish-ws", model="athena", idle_timeout=5.0
        )
        stream = AgentStream(agent, WebSocketTransport(agent), AishWSCodec(agent))
        stream.waiting = lambda: seen.append(len(stream.parts))
        result = stream.run(Prompt("tell me about owls", Context("p")), lambda event: None, lambda: None)
    assert result.status == "complete" and result.text
    assert seen == [0]


def test_a_one_shot_run_killed_while_the_server_thinks_keeps_its_line(
    history_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kill -9`` while the server has the request and has not answered: the run's start was written
    meanwhile, so ``history`` lists the line."""
    asked = threading.Event()

    def handle(ex: Exchange) -> None:
        asked.set()
        ex.hang(20)

    with serving(handle) as server:
        monkeypatch.setenv("AISH_DEMO_URL", server.url)
        proc = subprocess.Popen(
            [sys.executable, "-m", "aish", "-c", "athena are you there"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        try:
            assert asked.wait(20), "aish never sent its request"
            journals = data_dir() / f"journal-{history_backend}"
            deadline = time.monotonic() + 10
            while "begin_stage" not in calls_in(journals) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert calls_in(journals) == ["begin_run", "begin_stage"]
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
    listing = run_aish("history").stdout.splitlines()
    assert len(listing) == 1 and re.fullmatch(r"\s+1  \S+ \S+  \S+  athena are you there", listing[0]), listing
    shown = run_aish("history", "show", "1").stdout
    assert "-- stage 1: athena  sse/openai-chat" in shown and "-- input\nare you there\n" in shown


def test_a_one_shot_run_killed_while_its_program_runs_keeps_its_line(history_backend: str) -> None:
    """The run waits for ``sleep``: its start is written then, not held until the run ends."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "aish", "-c", "sleep 30"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # aish and its sleep, killed together
    )
    try:
        journals = data_dir() / f"journal-{history_backend}"
        deadline = time.monotonic() + 20
        while "begin_run" not in calls_in(journals) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert calls_in(journals) == ["begin_run"]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    listing = run_aish("history").stdout.splitlines()
    assert len(listing) == 1 and re.fullmatch(r"\s+1  \S+ \S+  \S+  sleep 30", listing[0]), listing
