"""Recording runs in-process: a real reference server, a real store, the runner's hooks."""

from __future__ import annotations

import io
import sqlite3
import threading
import time
from collections.abc import Callable

import pytest
from servers import closed_port, json_reply, openai_stream, script, serving

from aish import HistoryBackend, hookimpl
from aish.app import App
from aish.contracts import RunRecord
from aish.history.files import data_dir
from aish.history.store import make_recorder, opened, settle
from aish.runner import Runner
from aish.testing import Outcome, agent_toml, line_ended
from aish_refserver import RefServer

KEY = "sk-test-0123456789abcdef"


def run_recorded(app: App, source: str, **kwargs: object) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    recorder = make_recorder(app, err)
    assert recorder is not None
    status = Runner(app, out=out, err=err, history=recorder).run_source(source, **kwargs)  # type: ignore[arg-type]
    recorder.close()
    return Outcome(status, out.getvalue(), err.getvalue())


def stored(app: App) -> list[RunRecord]:
    with opened(app) as backend:
        return [settle(r) for r in backend.runs(None)]


def test_a_run_is_recorded_with_its_stage(demo_url: str, history_app: App) -> None:
    result = run_recorded(history_app, 'echo "owls" | athena')
    assert result.status == 0 and result.err == ""
    (run,) = stored(history_app)
    assert (run.number, run.line, run.status, run.replay_of) == (1, 'echo "owls" | athena', "complete", None)
    assert run.started <= (run.ended or 0) <= time.time()
    (stage,) = run.stages
    assert (stage.index, stage.agent, stage.transport, stage.codec) == (0, "athena", "sse", "openai-chat")
    assert (stage.input, line_ended(stage.text), stage.status, stage.error) == ("owls\n", result.out, "complete", None)
    meta = stage.meta
    assert meta["model"] == "athena" and meta["finish_reason"] in ("stop", "length")
    assert meta["tokens_out"] > 0 and meta["duration"] >= meta["first_token"] >= 0
    assert meta["position"] == 1 and meta["reconnects"] == 0


def test_every_stage_of_a_line_is_kept_apart(demo_url: str, history_app: App) -> None:
    result = run_recorded(history_app, "echo q | athena | apollo; athena again")
    assert result.status == 0, result.err
    (run,) = stored(history_app)
    assert [(s.index, s.agent, s.meta["position"]) for s in run.stages] == [
        (0, "athena", 1),
        (1, "apollo", 2),
        (2, "athena", 0),
    ]
    first, second, third = run.stages
    assert second.input == first.text and second.text != first.text
    assert third.input == "again" and third.text != first.text
    assert result.out == line_ended(second.text) + line_ended(third.text)  # on a pipe: each pipeline's last answer


def test_lines_without_agents_and_broken_lines_are_recorded_too(history_app: App) -> None:
    assert run_recorded(history_app, "echo hi").status == 0
    assert run_recorded(history_app, 'echo "unclosed').status == 2
    assert [(r.line, r.status, r.stages) for r in stored(history_app)] == [
        ("echo hi", "complete", []),
        ('echo "unclosed', "error", []),
    ]


def test_text_is_written_while_it_streams(refserver: RefServer, demo_url: str, history_app: App) -> None:
    refserver.pace = 0.02  # 64 tokens: about 1.3 s
    outcome: list[Outcome] = []
    thread = threading.Thread(target=lambda: outcome.append(run_recorded(history_app, "athena tell me")))
    thread.start()
    seen = ""
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        runs = stored(history_app)
        if runs and runs[0].stages and runs[0].status == "running":
            seen = runs[0].stages[0].text
        time.sleep(0.02)
    thread.join(30)
    (run,) = stored(history_app)
    assert seen, "no text was stored before the stage ended"
    assert run.status == "complete" and run.stages[0].text.startswith(seen) and len(seen) < len(run.stages[0].text)


def test_a_connection_failure_is_recorded_with_its_message_and_never_the_key(
    history_backend: str, make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_API_KEY", KEY)
    url = f"http://127.0.0.1:{closed_port()}/v1"
    config = f'[settings]\nhistory = "{history_backend}"\n' + agent_toml("down", url) + 'api_key_env = "TEST_API_KEY"\n'
    app = make_app(config)
    result = run_recorded(app, f"down {KEY}")
    assert result.status == 4 and "cannot connect" in result.err
    (run,) = stored(app)
    assert run.status == "error"
    (stage,) = run.stages
    assert stage.status == "error" and stage.text == ""
    assert stage.error is not None and stage.error.startswith("down: cannot connect to ")
    assert stage.input == "***"  # the key typed as text is scrubbed too
    _assert_key_nowhere()


def test_secrets_in_answers_and_error_bodies_are_scrubbed(
    history_backend: str, make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_API_KEY", KEY)
    echoing = script(openai_stream("your key is ", KEY, " ok"))
    with serving(echoing) as ok, serving(json_reply(401, {"error": {"message": f"bad key {KEY}"}})) as bad:
        config = f'[settings]\nhistory = "{history_backend}"\n'
        config += agent_toml("ok", ok.url + "/v1") + 'api_key_env = "TEST_API_KEY"\n'
        config += agent_toml("bad", bad.url + "/v1") + 'api_key_env = "TEST_API_KEY"\n'
        app = make_app(config)
        assert run_recorded(app, "ok hi").status == 0
        assert run_recorded(app, "bad hi").status == 5
        assert ok.requests[0].header("authorization") == f"Bearer {KEY}"  # it was sent, and only sent
    first, second = stored(app)
    assert first.stages[0].text == "your key is *** ok"
    assert second.stages[0].status == "error" and "authentication failed" in (second.stages[0].error or "")
    _assert_key_nowhere()


def _assert_key_nowhere() -> None:
    files = [p for p in data_dir().rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert KEY.encode() not in path.read_bytes(), f"the key is in {path}"
        assert b"Authorization" not in path.read_bytes() and b"Bearer" not in path.read_bytes()


def test_replays_are_recorded_as_such(demo_url: str, history_app: App) -> None:
    run_recorded(history_app, "athena one")
    run_recorded(history_app, "athena one", replay_of=1)
    first, second = stored(history_app)
    assert (second.line, second.replay_of, second.number) == ("athena one", 1, 2)
    assert second.stages[0].text == first.stages[0].text


def test_a_failing_store_warns_once_and_never_breaks_a_run(demo_url: str, make_app: Callable[..., App]) -> None:
    app = make_app('[settings]\nhistory = "jsonl"\nhistory_path = "/dev/full"\n')
    out, err = io.StringIO(), io.StringIO()
    recorder = make_recorder(app, err)
    runner = Runner(app, out=out, err=err, history=recorder)
    assert runner.run_source("athena one") == 0
    assert runner.run_source("athena two") == 0
    assert recorder is not None
    recorder.close()
    assert out.getvalue().count("Athena (offline demo)") == 2
    warnings = err.getvalue().splitlines()
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("aish: history: cannot ") and "/dev/full" in warnings[0]
    assert warnings[0].endswith("runs are not being recorded")


class BrokenFactory:
    @hookimpl
    def aish_register_history_backends(self, register: Callable[..., None]) -> None:
        def factory(options: object) -> HistoryBackend:
            raise RuntimeError("the store's server is down")

        register("broken", factory)


def test_a_backend_factory_that_raises_warns_and_the_run_goes_on(demo_url: str, make_app: Callable[..., App]) -> None:
    app = make_app('[settings]\nhistory = "broken"\n', extra_plugins=[("broken", BrokenFactory())])
    out, err = io.StringIO(), io.StringIO()
    recorder = make_recorder(app, err)
    assert recorder is None
    assert err.getvalue() == "aish: history: the store's server is down; runs are not being recorded\n"
    assert Runner(app, out=out, err=err, history=recorder).run_source("athena one") == 0
    assert out.getvalue().startswith("Athena (offline demo)")


def test_an_unknown_backend_warns_once(make_app: Callable[..., App]) -> None:
    app = make_app('[settings]\nhistory = "nosuch"\n')
    err = io.StringIO()
    assert make_recorder(app, err) is None
    assert err.getvalue() == (
        "aish: history: unknown history 'nosuch' (known: jsonl, sqlite); runs are not being recorded\n"
    )


def test_history_off_records_nothing(make_app: Callable[..., App]) -> None:
    app = make_app('[settings]\nhistory = "off"\n')
    assert make_recorder(app, io.StringIO()) is None
    assert Runner(app, out=io.StringIO(), err=io.StringIO()).run_source("echo hi") == 0
    assert not (data_dir()).exists()


def test_sqlite_is_the_default_backend(make_app: Callable[..., App]) -> None:
    app = make_app()
    assert run_recorded(app, "echo hi").status == 0
    names = sorted(p.name for p in data_dir().iterdir())  # the WAL stays: the next run checkpoints it
    assert names == ["history.sqlite3", "history.sqlite3-shm", "history.sqlite3-wal"]


def test_a_locked_store_never_holds_a_stream_up(demo_url: str, make_app: Callable[..., App]) -> None:
    app = make_app('[settings]\nhistory = "sqlite"\n')
    assert run_recorded(app, "echo create").status == 0
    holder = sqlite3.connect(data_dir() / "history.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the database (for less than the 5 s timeout)
    out, err = io.StringIO(), io.StringIO()
    recorder = make_recorder(app, err)
    assert recorder is not None
    try:
        started = time.monotonic()
        assert Runner(app, out=out, err=err, history=recorder).run_source("athena owls") == 0
        assert time.monotonic() - started < 2.0  # the run did not wait for the lock
        assert out.getvalue().startswith("Athena (offline demo)")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    recorder.close()  # the writes wait for the lock, not the stream
    assert err.getvalue() == ""
    assert [(r.line, r.status) for r in stored(app)] == [("echo create", "complete"), ("athena owls", "complete")]
