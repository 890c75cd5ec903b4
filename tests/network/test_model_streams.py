"""Streams of current models, replayed by a real loopback server: reasoning, tool calls, cache tokens.

The streams in ``streams/`` have the shapes the servers send (DeepSeek/vLLM
``reasoning_content`` with a cached-token usage chunk, OpenAI ``tool_calls``
deltas, Anthropic extended thinking with a prompt-cache hit, Anthropic
``tool_use``). ``llama-server-reasoning.sse`` and ``llama-server-thinking.sse``
were captured from the native llama-server (stories260K, llama.cpp's
DeepSeek-R1 template, ``--reasoning-format deepseek``) on both endpoints;
tests/integration runs the same server live.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from servers import Exchange, serving

from aish import Reasoning, SSEParser, StreamEnd, TextDelta, ToolCall, Usage, WireMessage
from aish.history.journal import fold, journal_dir
from aish_anthropic.codec import MessagesDecoder
from aish_history_jsonl.store import JsonlHistory
from aish_openai.codec import ChunkDecoder

STREAMS = Path(__file__).resolve().parent / "streams"


def replay(name: str, content_type: str = "text/event-stream") -> Any:
    body = (STREAMS / name).read_bytes()

    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": content_type})
        for line in body.split(b"\n\n"):
            if line:
                ex.send(line + b"\n\n")
        ex.end()

    return handle


def decoded(name: str, decoder: Any) -> list[Any]:
    items = SSEParser().feed((STREAMS / name).read_bytes())
    return [event for item in items if isinstance(item, WireMessage) for event in decoder.decode(item)]


def history_stage(tmp_path: Path) -> dict[str, Any]:
    """The last stage record the jsonl history file holds (its ``done`` record merged in), once the
    one-shot run's journal is applied to it (as the next ``history`` would)."""
    path = tmp_path / "history"
    backend = JsonlHistory(path)
    fold(journal_dir("jsonl", {"path": str(path)}), backend)
    backend.close()
    records = [json.loads(line) for line in (tmp_path / "history").read_text(encoding="utf-8").splitlines()]
    stage = [r for r in records if r.get("op") == "stage"][-1]
    done = [r for r in records if r.get("op") == "done"][-1]
    text = "".join(r["t"][int(r.get("o", 0)) :] for r in records if r.get("op") == "text")
    return {**stage, **done, "text": done.get("text", text)}


# ------------------------------------------------------------------ decoders
def test_openai_reasoning_content_is_reasoning_not_text() -> None:
    events = decoded("openai-reasoning.sse", ChunkDecoder())
    assert "".join(e.text for e in events if type(e) is Reasoning) == "The user greets me. I should greet back."
    assert "".join(e.text for e in events if type(e) is TextDelta) == "Hello! How can I help?"
    usage = next(e for e in events if type(e) is Usage)
    assert (usage.input_tokens, usage.output_tokens, usage.meta["cache_read_tokens"]) == (12, 21, 8)
    assert events[-1] == StreamEnd("stop")


def test_openai_tool_call_deltas_become_one_event_per_call() -> None:
    events = decoded("openai-tool-calls.sse", ChunkDecoder())
    assert events == [
        ToolCall("get_weather", '{"city":"Paris"}', "call_Ab12"),
        ToolCall("get_time", '{"tz":"CET"}', "call_Cd34"),
        StreamEnd("tool_calls"),
    ]


def test_anthropic_thinking_and_cache_tokens() -> None:
    events = decoded("anthropic-thinking.sse", MessagesDecoder())
    assert "".join(e.text for e in events if type(e) is Reasoning) == "Let me think about owls."
    assert "".join(e.text for e in events if type(e) is TextDelta) == "Owls are nocturnal."
    usage = next(e for e in events if type(e) is Usage)
    assert (usage.input_tokens, usage.output_tokens) == (3 + 2048, 27)  # the cache read counts as input
    assert usage.meta["cache_read_tokens"] == 2048


def test_anthropic_tool_use_is_one_call_with_its_streamed_input() -> None:
    events = decoded("anthropic-tool-use.sse", MessagesDecoder())
    calls = [e for e in events if type(e) is ToolCall]
    assert calls == [ToolCall("get_weather", '{"location": "San Francisco, CA"}', "toolu_01T1x")]
    assert "".join(e.text for e in events if type(e) is TextDelta) == "Let me check the weather."
    assert events[-1] == StreamEnd("tool_use")


def test_llama_server_reasoning_captured_on_both_endpoints() -> None:
    openai = decoded("llama-server-reasoning.sse", ChunkDecoder())
    anthropic = decoded("llama-server-thinking.sse", MessagesDecoder())
    thought = "".join(e.text for e in openai if type(e) is Reasoning)
    assert thought.strip() and not [e for e in openai if type(e) is TextDelta]
    assert "".join(e.text for e in anthropic if type(e) is Reasoning) == thought  # one model, one prompt, temperature 0
    assert not [e for e in anthropic if type(e) is TextDelta]
    usage = next(e for e in openai if type(e) is Usage)
    assert (usage.output_tokens, usage.meta["cache_read_tokens"]) == (12, 40)
    anthropic_usage = next(e for e in anthropic if type(e) is Usage)
    assert anthropic_usage.input_tokens == 1 + 40  # input_tokens + cache_read_input_tokens
    assert openai[-1] == StreamEnd("length") and anthropic[-1] == StreamEnd("max_tokens")


def test_a_whole_json_answer_with_reasoning_and_tool_calls() -> None:
    body = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": "",
                    "reasoning_content": "thinking",
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    events = ChunkDecoder().decode(WireMessage(json.dumps(body), event="response"))
    assert list(events) == [Reasoning("thinking"), ToolCall("f", "{}", "c1"), StreamEnd("tool_calls")]


# ------------------------------------------------------- aish, end to end
def test_on_a_pipe_only_the_answer_is_written_and_history_keeps_the_reasoning_apart(aish: Any, tmp_path: Path) -> None:
    with serving(replay("openai-reasoning.sse")) as server:
        run = aish(server.url + "/v1", history="jsonl")
    assert (run.returncode, run.stdout, run.stderr) == (0, "Hello! How can I help?\n", "")
    stage = history_stage(tmp_path)
    assert stage["text"] == "Hello! How can I help?"
    assert stage["meta"]["reasoning"] == "The user greets me. I should greet back."
    assert stage["meta"]["cache_read_tokens"] == 8


@pytest.mark.parametrize("codec", ["openai-chat", "anthropic-messages"])
def test_reasoning_is_never_passed_to_the_next_stage(codec: str, aish: Any) -> None:
    name = "openai-reasoning.sse" if codec == "openai-chat" else "anthropic-thinking.sse"
    with serving(replay(name)) as server:
        run = aish(server.url + "/v1", "bot hi | wc -c", codec=codec)
    answer = "Hello! How can I help?" if codec == "openai-chat" else "Owls are nocturnal."
    assert (run.returncode, run.stdout.split()) == (0, [str(len(answer) + 1)]), run.stderr  # its line ended


def test_a_reasoning_only_answer_is_reported_as_such(aish: Any, tmp_path: Path) -> None:
    stream = (STREAMS / "openai-reasoning.sse").read_text(encoding="utf-8")
    only = "".join(block + "\n\n" for block in stream.split("\n\n") if block and '"content":"' not in block)
    (tmp_path / "only.sse").write_text(only, encoding="utf-8")

    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"})
        ex.send(only.encode())
        ex.end()

    with serving(handle) as server:
        run = aish(server.url + "/v1", "bot hi | bot more")
    assert (run.returncode, run.stdout) == (5, "")
    assert run.stderr == "aish: bot: the answer is reasoning only (40 characters), no text\n"
    assert len(server.requests) == 1  # the next stage was never asked


@pytest.mark.parametrize(
    ("codec", "name", "line"),
    [
        (
            "openai-chat",
            "openai-tool-calls.sse",
            "aish: bot: the answer asks to run "
            'get_weather {"city":"Paris"}, get_time {"tz":"CET"}; aish runs no tools\n',
        ),
        (
            "anthropic-messages",
            "anthropic-tool-use.sse",
            'aish: bot: the answer asks to run get_weather {"location": "San Francisco, CA"}; aish runs no tools\n',
        ),
    ],
)
def test_a_tool_call_is_one_line_and_exit_6(codec: str, name: str, line: str, aish: Any, tmp_path: Path) -> None:
    with serving(replay(name)) as server:
        run = aish(server.url + "/v1", codec=codec, history="jsonl")
        piped = aish(server.url + "/v1", "bot hi | bot more", codec=codec)
    assert (run.returncode, run.stderr) == (6, line)
    calls = history_stage(tmp_path)["meta"]["tool_calls"]
    assert calls[0]["name"] == "get_weather" and json.loads(calls[0]["arguments"])
    assert (piped.returncode, piped.stderr) == (6, line)
    assert len(server.requests) == 2  # one per run: the pipeline's next stage was never asked


def test_on_a_terminal_a_tool_call_is_shown_as_it_comes() -> None:
    from aish import RenderTarget, StreamStart
    from aish_plain.renderer import PlainRenderer

    out, err = io.StringIO(), io.StringIO()
    renderer = PlainRenderer(RenderTarget(out=out, err=err, tty=True))
    for event in [
        StreamStart(),
        TextDelta("Checking."),
        ToolCall("get_weather", '{"city": "Paris"}'),
        StreamEnd("tool_calls"),
    ]:
        renderer.feed(event)
    assert '[tool call: get_weather {"city": "Paris"}]\n' in err.getvalue()


def test_stats_give_no_rate_for_an_answer_sent_whole(aish: Any) -> None:
    body = json.dumps(
        {
            "choices": [{"message": {"role": "assistant", "content": "all at once"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 40},
        }
    ).encode()

    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "application/json"}, framing="length", length=len(body))
        ex.send(body)
        ex.end()

    with serving(handle) as server:
        run = aish(server.url + "/v1", args=["--stats"])
    assert run.returncode == 0, run.stderr
    stats = [line for line in run.stderr.splitlines() if line.startswith("[stats]")]
    assert len(stats) == 1 and "40 tokens, -, complete" in stats[0], stats


# ------------------------------------------------------------ on a terminal
def test_on_a_terminal_reasoning_is_dim_and_apart_from_the_answer() -> None:
    from aish import RenderTarget, StreamStart
    from aish_plain.renderer import PlainRenderer

    out, err = io.StringIO(), io.StringIO()
    renderer = PlainRenderer(RenderTarget(out=out, err=err, tty=True))
    for event in [StreamStart(), Reasoning("hmm"), Reasoning(" ok"), TextDelta("Hi"), StreamEnd("stop")]:
        renderer.feed(event)
    renderer.close()
    assert out.getvalue() == "\x1b[2mhmm ok\x1b[22m\n\nHi\n"


def test_on_a_terminal_a_reasoning_only_answer_says_so() -> None:
    from aish import RenderTarget, StreamStart
    from aish_plain.renderer import PlainRenderer

    out, err = io.StringIO(), io.StringIO()
    renderer = PlainRenderer(RenderTarget(out=out, err=err, tty=True))
    for event in [StreamStart(), Reasoning("hmm"), Usage(3, 40), StreamEnd("length")]:
        renderer.feed(event)
    assert "40 tokens, reasoning only]" in err.getvalue()
    assert out.getvalue() == "\x1b[2mhmm\x1b[22m\n"
