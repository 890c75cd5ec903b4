"""Pipelines against the real llama.cpp server: several agents (different names) on one server.

aish runs as a subprocess through a recording proxy in front of the server, so
the tests see what each stage sent and when its answer ended.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from recording_proxy import RecordingProxy
from test_llama import PROMPT, aish_command, run_timed

if TYPE_CHECKING:
    from conftest import LlamaServer

pytestmark = pytest.mark.llama


@pytest.fixture
def proxy(llama_server: LlamaServer) -> Iterator[RecordingProxy]:
    with RecordingProxy(llama_server.base_url) as p:
        yield p


def agents_config(path: Path, url: str, tokens: dict[str, int]) -> Path:
    """openai-chat agents named by ``tokens`` (their max_tokens), every one at ``url``."""
    blocks = [
        f'[agents.{name}]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{url}"\nmodel = "stories260k"\n'
        f"options = {{ max_tokens = {n}, temperature = 0 }}\n"
        for name, n in tokens.items()
    ]
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def test_a_sequential_pipeline_passes_answer_and_context(
    proxy: RecordingProxy, tmp_path: Path, aish_env: dict[str, str]
) -> None:
    config = agents_config(tmp_path / "aish.toml", proxy.base_url, {"teller": 40, "critic": 200})
    line = f'echo "{PROMPT}" | teller | critic'
    out = run_timed([*aish_command(), "--config", str(config), "-c", line], aish_env)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    first, second = proxy.exchanges
    assert first.body["messages"][-1]["content"].strip() == PROMPT
    assert first.text.strip(), "the first stage produced no text"
    # the second stage's input is the first one's answer, and its system message the context
    messages = second.body["messages"]
    assert messages[-1]["content"].strip() == first.text.strip()
    system = messages[0]["content"]
    assert messages[0]["role"] == "system"
    assert "stage 3 of 3" in system and "previous stage, teller" in system
    assert f"Original input:\n{PROMPT}" in system
    assert first.ended is not None and second.arrived >= first.ended, "the second stage started before the first ended"
    # the last stage's answer reached stdout progressively
    assert second.text.strip() and second.text.strip() in out.data.decode()
    assert len(out.reads) >= 3, f"answer arrived in {len(out.reads)} read(s): buffered?"
    assert out.reads[0][0] < out.ended - 0.02


@pytest.mark.parametrize("order", [("apollo", "athena"), ("athena", "apollo")])
def test_a_parallel_fan_out_writes_blocks_in_command_order(
    proxy: RecordingProxy, tmp_path: Path, aish_env: dict[str, str], order: tuple[str, str]
) -> None:
    # the first agent named answers longer, so it ends last: blocks still follow the command
    first, second = order
    config = agents_config(tmp_path / "aish.toml", proxy.base_url, {first: 120, second: 10})
    out = run_timed([*aish_command(), "--config", str(config), "-c", f'echo "{PROMPT}" | {first} & {second}'], aish_env)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    assert sorted(e.body["max_tokens"] for e in proxy.exchanges) == [10, 120]
    assert all(e.body["messages"][-1]["content"].strip() == PROMPT for e in proxy.exchanges)
    assert all(e.text.strip() for e in proxy.exchanges), "a lane's answer was cut short"
    assert out.data.decode().startswith(f"[{first}]\n")
    heads = [line for line in out.data.decode().splitlines() if line in (f"[{first}]", f"[{second}]")]
    assert heads == [f"[{first}]", f"[{second}]"]
    by_tokens = {e.body["max_tokens"]: e.text.strip() for e in proxy.exchanges}
    text = out.data.decode()
    assert text.index(by_tokens[120][:40]) < text.index(f"[{second}]") < text.rindex(by_tokens[10][:20])


def test_a_fan_in_gives_the_next_stage_every_lane_labelled(
    proxy: RecordingProxy, tmp_path: Path, aish_env: dict[str, str]
) -> None:
    config = agents_config(tmp_path / "aish.toml", proxy.base_url, {"north": 30, "south": 12, "judge": 40})
    line = f'echo "{PROMPT}" | (north & south) | judge'
    out = run_timed([*aish_command(), "--config", str(config), "-c", line], aish_env)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    by_tokens = {e.body["max_tokens"]: e for e in proxy.exchanges}
    assert sorted(by_tokens) == [12, 30, 40] and len(proxy.exchanges) == 3
    north, south, judge = by_tokens[30], by_tokens[12], by_tokens[40]
    assert north.text.strip() and south.text.strip(), "a lane's answer was cut short"
    # the judge starts once both lanes ended, and gets both answers labelled, in command order
    assert north.ended is not None and south.ended is not None
    assert judge.arrived >= max(north.ended, south.ended)
    sent = " ".join(judge.body["messages"][-1]["content"].split())  # the answers as the model wrote them
    assert sent.startswith(f"[north] {' '.join(north.text.split())[:30]}")
    assert sent.index("[north]") < sent.index(f" [south] {' '.join(south.text.split())[:10]}")
    system = judge.body["messages"][0]["content"]
    assert "answers of north, south, each labelled" in system and f"Original input:\n{PROMPT}" in system
    assert judge.text.strip() and judge.text.strip()[:30] in out.data.decode()  # only the last stage is shown
