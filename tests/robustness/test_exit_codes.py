"""The exit-code table in docs/usage.md is true: each code it lists is what a real case returns,
with one line on stderr (or none: 0, and 141 for a closed pipe)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from servers import closed_port, json_reply, serving

from aish.testing import run_aish
from aish_refserver import RefServer

ROOT = Path(__file__).resolve().parents[2]


def documented_codes() -> dict[int, str]:
    text = (ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    match = re.search(r"^#{2,6} Exit codes[ \t]*\n(?P<body>.*?)(?=^#|\Z)", text, re.MULTILINE | re.DOTALL)
    assert match
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in match["body"].splitlines()]
    return {int(row[0]): row[1] for row in rows if row and row[0].isdigit()}


@pytest.fixture
def bad_agents(write_config: Callable[[str], Path]) -> Iterator[Path]:
    """A config with an agent that cannot be reached and one whose server answers 500."""
    tool_call = {
        "choices": [
            {
                "message": {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                ]},
                "finish_reason": "tool_calls",
            }
        ]
    }  # fmt: skip
    with (
        serving(json_reply(500, {"error": {"message": "the model fell over"}})) as server,
        serving(json_reply(200, tool_call)) as tools,
    ):
        yield write_config(
            f'[agents.tools]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{tools.url}/v1"\n'
            f'[agents.gone]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "http://127.0.0.1:{closed_port()}/v1"\n'
            "max_retries = 0\nconnect_timeout = 2\n"
            f'[agents.broken]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{server.url}/v1"\nmax_retries = 0\n'
            f'[agents.odd]\ntransport = "carrier-pigeon"\ncodec = "openai-chat"\nurl = "{server.url}/v1"\n'
        )


def one_line(cmd: str, config: Path) -> tuple[int, str]:
    result = run_aish("--config", str(config), "-c", cmd)
    assert result.stderr.count("\n") == 1, result.stderr
    return result.returncode, result.stderr


def interrupted() -> int:
    with RefServer(pace=0.05).start() as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aish", "-c", "athena tell me a long story"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "AISH_DEMO_URL": server.base_url},
        )
        assert proc.stdout is not None and os.read(proc.stdout.fileno(), 100)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert err.decode().count("\n") == 1
    return proc.returncode


def closed_pipe(line: str) -> int:
    """Run ``line`` with its output read a little, then the pipe closed: nothing on stderr."""
    with RefServer(pace=0.02).start() as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aish", "-c", line],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "AISH_DEMO_URL": server.base_url},
        )
        assert proc.stdout is not None and proc.stderr is not None
        assert os.read(proc.stdout.fileno(), 10)
        proc.stdout.close()
        err = proc.stderr.read()
        proc.wait(timeout=30)
    assert err == b"", err.decode()
    return proc.returncode


def test_every_documented_exit_code_is_what_aish_returns(bad_agents: Path) -> None:
    table = documented_codes()
    seen: dict[int, str] = {}
    result = run_aish("--config", str(bad_agents), "-c", "echo hi")
    assert (result.returncode, result.stdout, result.stderr) == (0, "hi\n", "")
    seen[0] = "echo hi"
    cases = {
        1: "echo x > /dev/full",
        2: "echo hi |",
        3: "nosuchagent hi",
        4: "gone hi",
        5: "broken hi",
        6: "tools hi",
    }
    for code, line in cases.items():
        status, err = one_line(line, bad_agents)
        assert status == code, f"{line!r}: {status}: {err}"
        seen[code] = line
    status, err = one_line("odd hi", bad_agents)  # an unknown transport is an unknown name too
    assert status == 3 and "transport: unknown transport 'carrier-pigeon'" in err
    seen[130] = "Ctrl-C"
    assert interrupted() == -signal.SIGINT  # ended by SIGINT, as a program after Ctrl-C: a shell's $? is 130
    seen[141] = "closed pipe"
    assert closed_pipe("athena tell me a long story") == 141
    assert sorted(seen) == sorted(table), f"docs/usage.md lists {sorted(table)}, the cases cover {sorted(seen)}"


@pytest.mark.parametrize(
    "line", ["echo x | athena & hermes & apollo", "athena one & hermes two", "(athena a & hermes b) | apollo"]
)
def test_a_closed_pipe_in_any_lane_ends_quietly_with_141(line: str) -> None:
    assert closed_pipe(line) == 141
