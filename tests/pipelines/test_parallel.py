"""Parallel groups: same input, concurrent lanes, deterministic blocks, failures, Ctrl-C, team-chat."""

from __future__ import annotations

import _thread
import io
import json
import threading
import time
from collections.abc import Callable

from aish.app import App
from aish.errors import EXIT_INTERRUPTED, EXIT_REMOTE
from aish.runner import Runner
from aish.testing import Outcome
from aish_refserver import RefServer

Run = Callable[..., Outcome]

BROKEN = '\n[agents.broken]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{url}"\nmodel = "no-such-model"\n'


def test_same_input_to_every_lane_and_blocks_in_command_order(
    run_line: Run, refserver: RefServer, agents_toml: str
) -> None:
    result = run_line('echo "q" | hermes & apollo & athena', agents_toml)
    assert result.status == 0, result.err
    assert sorted(r.body["model"] for r in refserver.requests) == ["apollo", "athena", "hermes"]
    assert all(r.body["messages"][-1]["content"] == "q\n" for r in refserver.requests)
    blocks = result.out.split("\n\n")
    assert [b.split("\n")[0] for b in blocks] == ["[hermes]", "[apollo]", "[athena]"]
    assert blocks[1].split("\n")[1].startswith("Apollo (offline demo):")


def test_lanes_run_concurrently(make_app: Callable[..., App], refserver: RefServer, agents_toml: str) -> None:
    refserver.pace = 0.02  # ~64 tokens: about 1.3 s per lane
    app = make_app(agents_toml)
    runner = Runner(app, out=io.StringIO(), err=io.StringIO())
    started = time.monotonic()
    assert runner.run_source("echo q | apollo & athena & hermes") == 0
    elapsed = time.monotonic() - started
    slowest = max(r.duration for r in runner.last_results)
    assert [r.agent for r in runner.last_results] == ["apollo", "athena", "hermes"]
    assert elapsed < slowest * 1.5, (elapsed, slowest)


def test_one_failing_lane_does_not_stop_the_others(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    result = run_line("echo q | apollo & broken & athena", agents_toml + BROKEN.format(url=refserver.base_url))
    assert result.status == EXIT_REMOTE
    assert "[apollo]\nApollo (offline demo)" in result.out and "[athena]\nAthena (offline demo)" in result.out
    assert result.err.startswith("aish: broken: ") and result.err.count("\n") == 1


def test_fan_in_goes_on_with_the_answers_that_arrived(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    result = run_line("echo q | (apollo & broken) | hermes", agents_toml + BROKEN.format(url=refserver.base_url))
    assert result.status == EXIT_REMOTE
    assert result.out.startswith("Hermes (offline demo):")
    last = refserver.requests[-1].body["messages"][-1]["content"]
    assert last.startswith("[apollo]\n") and "[broken]" not in last


def test_json_lines_with_the_renderer_flag(
    make_app: Callable[..., App], refserver: RefServer, agents_toml: str
) -> None:
    out = io.StringIO()
    runner = Runner(make_app(agents_toml), out=out, err=io.StringIO(), renderer="jsonl")
    assert runner.run_source("echo q | apollo & athena") == 0
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {e["agent"] for e in events} == {"apollo", "athena"}
    assert sorted(e["agent"] for e in events if e["type"] == "stream_end") == ["apollo", "athena"]


def test_ctrl_c_cancels_every_lane_and_keeps_partials(
    make_app: Callable[..., App], refserver: RefServer, agents_toml: str
) -> None:
    refserver.pace = 0.05
    runner = Runner(make_app(agents_toml), out=io.StringIO(), err=(err := io.StringIO()))

    def interrupt_once_all_lanes_stream() -> None:
        deadline = time.monotonic() + 10
        while len(refserver.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(1.5)  # ~30 of ~64 tokens each, even on a loaded machine
        _thread.interrupt_main()

    timer = threading.Thread(target=interrupt_once_all_lanes_stream, daemon=True)
    timer.start()
    started = time.monotonic()
    status = runner.run_source("echo q | apollo & athena & hermes")
    timer.join()
    assert status == EXIT_INTERRUPTED
    assert time.monotonic() - started < 3.0, "cancelled long before the answers (~3.2 s) end"
    assert [r.status for r in runner.last_results] == ["cancelled"] * 3
    assert all(r.text for r in runner.last_results), "partial answers are kept"
    assert "interrupted" in err.getvalue()


def test_team_chat_broadcasts_to_every_agent(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    result = run_line('team-chat "hello team"', agents_toml)
    assert result.status == 0, result.err
    assert len(refserver.requests) == 7
    heads = [line for line in result.out.splitlines() if line.startswith("[")]
    assert heads == ["[apollo]", "[athena]", "[claude]", "[env]", "[hermes]", "[plain]", "[rhetor]"]
