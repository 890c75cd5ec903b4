"""aish against its real peer: llama.cpp's native server serving stories260K.

Both dialects the server speaks are used: openai-chat (``/v1/chat/completions``)
and anthropic-messages (``/v1/messages``).

Everything here runs the ``aish`` command as a subprocess, the way a user or a
script would, and asserts protocol and timing only: the model writes
children's-story prose whose meaning is nobody's business here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from aish.history.journal import fold, journal_dir
from aish.testing import line_ended
from aish_history_jsonl.store import JsonlHistory

if TYPE_CHECKING:
    from conftest import LlamaServer

pytestmark = pytest.mark.llama

PROMPT = "Once upon a time"
MIN_SPREAD = 0.02
"""Seconds the reads of a 200-token answer must spread over: output held back until the end arrives in
one or two reads within a millisecond or so. (Not 50 ms: the tiny model has generated 200 tokens at
4,000 tokens/s, in 50 ms, on a quiet machine.)"""
N_CTX = 512
"""The context the ``llama_server`` fixture gives the model (conftest.N_CTX)."""
TIMEOUT = 60.0
"""Upper bound for any one aish run (they take well under a second)."""


# ----------------------------------------------------------------- helpers
def aish_command() -> list[str]:
    """The installed ``aish`` script next to this interpreter, else ``python -m aish``."""
    script = Path(sys.executable).parent / "aish"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "aish"]


def write_config(path: Path, url: str, agent: str = "llama", codec: str = "openai-chat", **options: Any) -> Path:
    """A configuration file with one agent for ``url`` (history in a jsonl file beside it)."""
    lines = [
        "[settings]",
        'history = "jsonl"',
        f'history_path = "{path.parent / "history.jsonl"}"',
        f"[agents.{agent}]",
        'transport = "sse"',
        f'codec = "{codec}"',
        f'url = "{url}"',
        'model = "stories260k"',
        f"[agents.{agent}.options]",
        *(f"{key} = {json.dumps(value)}" for key, value in options.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class TimedOutput:
    """What a subprocess wrote on its stdout pipe, read by read, with arrival times."""

    started: float
    reads: list[tuple[float, bytes]]
    returncode: int
    stderr: bytes
    ended: float

    @property
    def data(self) -> bytes:
        return b"".join(chunk for _, chunk in self.reads)

    @property
    def spread(self) -> float:
        """Seconds between the first and the last read."""
        return self.reads[-1][0] - self.reads[0][0] if self.reads else 0.0


def run_timed(
    cmd: list[str], env: Mapping[str, str], *, stdin: bytes | None = None, timeout: float = TIMEOUT
) -> TimedOutput:
    """Run ``cmd`` with stdout on a pipe, timestamping every ``os.read`` of it.

    The process is killed if it is still running after ``timeout`` seconds.
    """
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
    )
    assert proc.stdout is not None and proc.stderr is not None
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin)  # small: fits in the pipe buffer
        proc.stdin.close()
    reads: list[tuple[float, bytes]] = []
    errors: list[bytes] = []
    deadline = started + timeout
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            sel.register(proc.stderr, selectors.EVENT_READ)
            while sel.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"{cmd!r} still running after {timeout:g}s")
                for key, _ in sel.select(remaining):
                    chunk = os.read(key.fd, 65536)
                    now = time.monotonic()
                    if not chunk:
                        sel.unregister(key.fileobj)
                    elif key.fileobj is proc.stdout:
                        reads.append((now, chunk))
                    else:
                        errors.append(chunk)
        returncode = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()
    return TimedOutput(started, reads, returncode, b"".join(errors), time.monotonic())


def raw_stream(server: LlamaServer, path: str = "/chat/completions", **body: Any) -> list[dict[str, Any]]:
    """The JSON objects of one stream, read straight from the server with urllib (not aish)."""
    payload = {"model": "stories260k", "stream": True, "messages": [{"role": "user", "content": PROMPT}]}
    payload.update(body)
    request = urllib.request.Request(
        server.base_url + path, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    objects: list[dict[str, Any]] = []
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        for line in response:
            if line.startswith(b"data: ") and line.strip() != b"data: [DONE]":
                objects.append(json.loads(line[6:]))
    return objects


def raw_content_deltas(server: LlamaServer, **body: Any) -> list[str]:
    """The ``delta.content`` strings of one OpenAI stream."""
    return [
        content
        for obj in raw_stream(server, **body)
        for choice in obj.get("choices", [])
        if (content := (choice.get("delta") or {}).get("content"))
    ]


def raw_usage(server: LlamaServer, **body: Any) -> dict[str, Any]:
    """The usage object of one OpenAI stream (asked for with ``include_usage``)."""
    body["stream_options"] = {"include_usage": True}
    return next(obj["usage"] for obj in raw_stream(server, **body) if obj.get("usage"))


def history_stages(config: Path) -> list[dict[str, Any]]:
    """Every stage's ``done`` record in the jsonl history beside ``config``, once the one-shot runs'
    journal is applied to it (as the next ``history`` would)."""
    path = config.parent / "history.jsonl"
    backend = JsonlHistory(path)
    fold(journal_dir("jsonl", {"path": str(path)}), backend)
    backend.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r.get("op") == "done"]


def assert_clean_failure(out: TimedOutput) -> None:
    """A non-zero exit with exactly one ``aish: ...`` line on stderr and no traceback."""
    err = out.stderr.decode("utf-8", errors="replace")
    assert out.returncode != 0, f"expected failure, got exit 0; stderr={err!r}"
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
    assert lines[0].startswith("aish: "), lines[0]


@pytest.fixture
def llama_config(llama_server: LlamaServer, tmp_path: Path) -> Path:
    """Agent ``llama``: max_tokens 64, temperature 0."""
    return write_config(tmp_path / "aish.toml", llama_server.base_url, max_tokens=64, temperature=0)


# ------------------------------------------------------------------- tests
def test_one_line_streams_progressively(llama_server: LlamaServer, tmp_path: Path, aish_env: dict[str, str]) -> None:
    """``aish -c 'llama "..."'`` writes the answer to the pipe as it is generated."""
    # ~250 tokens at ~1,200 tokens/s: a stream of about 0.2 s, long enough to see it arrive.
    config = write_config(tmp_path / "aish.toml", llama_server.base_url, max_tokens=250, temperature=0)
    out = run_timed([*aish_command(), "--config", str(config), "-c", f'llama "{PROMPT}"'], aish_env)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    assert out.stderr == b""
    assert out.data.strip(), "no answer on stdout"
    out.data.decode("utf-8")  # valid UTF-8 throughout
    # Progressive: many separate reads, spread over the generation time, and the
    # first text well before the process ended.
    assert len(out.reads) >= 5, f"answer arrived in {len(out.reads)} read(s): buffered?"
    assert out.spread >= MIN_SPREAD, f"all reads within {out.spread * 1000:.0f} ms: buffered?"
    first = out.reads[0][0]
    assert out.ended - first >= 0.05
    # No read holds most of the answer.
    biggest = max(len(chunk) for _, chunk in out.reads)
    assert biggest < len(out.data) / 2, f"one read carried {biggest} of {len(out.data)} bytes"


def test_piped_stdin_is_the_prompt(llama_config: Path, aish_env: dict[str, str]) -> None:
    """``echo "..." | aish llama``."""
    out = run_timed([*aish_command(), "--config", str(llama_config), "llama"], aish_env, stdin=b"Once upon a time\n")
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    assert out.stderr == b""
    assert out.data.strip()


def test_words_after_the_agent_are_the_prompt(llama_config: Path, aish_env: dict[str, str]) -> None:
    """``aish llama Once upon a time`` (no -c)."""
    out = run_timed([*aish_command(), "--config", str(llama_config), "llama", *PROMPT.split()], aish_env)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    assert out.data.strip()


@pytest.mark.parametrize("max_tokens", [8, 40])
def test_max_tokens_is_respected(
    llama_server: LlamaServer, tmp_path: Path, aish_env: dict[str, str], max_tokens: int
) -> None:
    """The option reaches the server, and aish counts about that many tokens.

    On a terminal aish ends with ``[llama: Cut at max_tokens - 0.1s, N tokens]``
    on stderr (``Complete`` if the model ended first); N (the usage the server
    reports) is compared with the ``completion_tokens`` the server reports to a
    raw client for the same request body.
    """
    pexpect = pytest.importorskip("pexpect")
    config = write_config(tmp_path / "aish.toml", llama_server.base_url, max_tokens=max_tokens, temperature=0)
    cmd = [*aish_command(), "--config", str(config), "-c", f'llama "{PROMPT}"']
    output, status = pexpect.run(
        cmd[0], args=cmd[1:], env=aish_env, timeout=TIMEOUT, withexitstatus=True, encoding="utf-8"
    )
    assert status == 0, output
    match = re.search(r"\[llama: (Complete|Cut at max_tokens) - [\d.]+s, (\d+) tokens\]", output)
    assert match, f"no completion status line in {output!r}"
    counted = int(match.group(2))
    usage = raw_usage(llama_server, max_tokens=max_tokens, temperature=0)
    finish = [
        c.get("finish_reason")
        for o in raw_stream(llama_server, max_tokens=max_tokens, temperature=0)
        for c in o.get("choices", [])
        if c.get("finish_reason")
    ]
    assert match.group(1) == ("Cut at max_tokens" if finish == ["length"] else "Complete"), (finish, output)
    assert counted == usage["completion_tokens"] == max_tokens


def test_more_tokens_give_a_longer_answer(llama_server: LlamaServer, tmp_path: Path, aish_env: dict[str, str]) -> None:
    lengths = {}
    for n in (10, 100):
        config = write_config(tmp_path / f"aish{n}.toml", llama_server.base_url, max_tokens=n, temperature=0)
        out = run_timed([*aish_command(), "--config", str(config), "-c", f'llama "{PROMPT}"'], aish_env)
        assert out.returncode == 0, out.stderr.decode(errors="replace")
        lengths[n] = len(out.data)
    assert 0 < lengths[10] < lengths[100]
    # A token of this model is at most a word: 100 tokens are never thousands of bytes.
    assert lengths[100] < 100 * 20


@pytest.mark.parametrize("codec", ["openai-chat", "anthropic-messages"])
def test_prompt_longer_than_the_context_fails_cleanly(
    codec: str, llama_server: LlamaServer, tmp_path: Path, aish_env: dict[str, str]
) -> None:
    """llama-server answers HTTP 400 with a JSON error: one line naming the agent, exit 5, no traceback."""
    config = write_config(tmp_path / "aish.toml", llama_server.base_url, codec=codec, max_tokens=16)
    prompt = ("Once upon a time there was a little girl who liked to play in the park. " * 120).encode()
    assert len(prompt.split()) > N_CTX * 2
    out = run_timed([*aish_command(), "--config", str(config), "llama"], aish_env, stdin=prompt)
    assert_clean_failure(out)
    assert out.returncode == 5
    line = out.stderr.decode()
    assert line.startswith("aish: llama: request rejected (context too long?): HTTP 400 from http://127.0.0.1:")
    assert "context" in line.lower()
    assert out.data == b""
    assert out.ended - out.started < 30


def test_the_text_is_exactly_what_a_raw_client_gets(
    llama_server: LlamaServer, tmp_path: Path, aish_env: dict[str, str]
) -> None:
    """Temperature 0: aish's stdout is byte for byte the concatenated ``delta.content``."""
    config = write_config(tmp_path / "aish.toml", llama_server.base_url, max_tokens=80, temperature=0)
    out = run_timed([*aish_command(), "--config", str(config), "-c", f'llama "{PROMPT}"'], aish_env)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    raw = "".join(
        raw_content_deltas(llama_server, max_tokens=80, temperature=0, stream_options={"include_usage": True})
    )
    assert out.data.decode() == line_ended(raw)


def test_usage_counts_reach_stats_and_history(
    llama_server: LlamaServer, tmp_path: Path, aish_env: dict[str, str]
) -> None:
    config = write_config(tmp_path / "aish.toml", llama_server.base_url, max_tokens=24, temperature=0)
    out = run_timed([*aish_command(), "--config", str(config), "--stats", "-c", f'llama "{PROMPT}"'], aish_env)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    usage = raw_usage(llama_server, max_tokens=24, temperature=0)
    stats = out.stderr.decode()
    tokens = usage["completion_tokens"]
    line = rf"\[stats\] llama: first token [\d.]+s, total [\d.]+s, {tokens} tokens, [\d.]+ tokens/s"
    assert re.search(line, stats), stats
    stage = history_stages(config)[-1]
    assert (stage["meta"]["tokens_in"], stage["meta"]["tokens_out"]) == (usage["prompt_tokens"], 24)


# ------------------------------------------------------------ anthropic-messages
def raw_message_text(server: LlamaServer, **body: Any) -> tuple[str, list[dict[str, Any]]]:
    """The text of one ``/v1/messages`` stream read by a raw client, and its events."""
    events = raw_stream(server, "/messages", **body)
    text = "".join(
        e["delta"]["text"]
        for e in events
        if e.get("type") == "content_block_delta" and e["delta"]["type"] == "text_delta"
    )
    return text, events


def test_anthropic_messages_streams_the_exact_text_progressively(
    llama_server: LlamaServer, tmp_path: Path, aish_env: dict[str, str]
) -> None:
    config = write_config(
        tmp_path / "aish.toml", llama_server.base_url, codec="anthropic-messages", max_tokens=200, temperature=0
    )
    out = run_timed([*aish_command(), "--config", str(config), "-c", f'llama "{PROMPT}"'], aish_env)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    assert out.stderr == b""
    text, _ = raw_message_text(llama_server, max_tokens=200, temperature=0)
    assert out.data.decode() == line_ended(text)
    assert len(out.reads) >= 5 and out.spread >= MIN_SPREAD, f"{len(out.reads)} reads over {out.spread:.3f}s: buffered?"


def test_anthropic_usage_counts_the_prompt_cache(
    llama_server: LlamaServer, tmp_path: Path, aish_env: dict[str, str]
) -> None:
    """llama-server reports a prompt-cache hit as ``input_tokens: 1`` plus ``cache_read_input_tokens``."""
    config = write_config(
        tmp_path / "aish.toml", llama_server.base_url, codec="anthropic-messages", max_tokens=8, temperature=0
    )
    for _ in range(2):  # the second request finds the prompt in the server's cache
        out = run_timed([*aish_command(), "--config", str(config), "-c", f'llama "{PROMPT}"'], aish_env)
        assert out.returncode == 0, out.stderr.decode(errors="replace")
    _, events = raw_message_text(llama_server, max_tokens=8, temperature=0)
    usage = next(e["message"]["usage"] for e in events if e.get("type") == "message_start")
    total = usage["input_tokens"] + usage.get("cache_read_input_tokens", 0)
    assert usage.get("cache_read_input_tokens"), usage  # the cache did answer: the test means something
    stage = history_stages(config)[-1]
    assert stage["meta"]["tokens_in"] == total
    assert stage["meta"]["cache_read_tokens"] == usage["cache_read_input_tokens"]


# ------------------------------------------------------------ reasoning, live
@pytest.mark.parametrize("codec", ["openai-chat", "anthropic-messages"])
def test_a_reasoning_only_answer_is_reported_as_such(
    codec: str, llama_reasoning_server: LlamaServer, tmp_path: Path, aish_env: dict[str, str]
) -> None:
    config = write_config(
        tmp_path / "aish.toml", llama_reasoning_server.base_url, codec=codec, max_tokens=30, temperature=0
    )
    out = run_timed([*aish_command(), "--config", str(config), "-c", f'llama "{PROMPT}" | llama'], aish_env)
    assert (out.returncode, out.data) == (5, b"")
    assert re.fullmatch(rb"aish: llama: the answer is reasoning only \(\d+ characters\), no text\n", out.stderr), (
        out.stderr
    )
    stage = history_stages(config)[-1]
    assert stage["meta"]["reasoning"].strip() and stage.get("text", "") == ""
    assert len(history_stages(config)) == 1  # the next stage never ran


def test_reasoning_is_dim_on_a_terminal(
    llama_reasoning_server: LlamaServer, tmp_path: Path, aish_env: dict[str, str]
) -> None:
    pexpect = pytest.importorskip("pexpect")
    config = write_config(tmp_path / "aish.toml", llama_reasoning_server.base_url, max_tokens=30, temperature=0)
    cmd = [*aish_command(), "--config", str(config), "-c", f'llama "{PROMPT}"']
    output, status = pexpect.run(
        cmd[0], args=cmd[1:], env=aish_env, timeout=TIMEOUT, withexitstatus=True, encoding="utf-8"
    )
    assert status == 5, output
    thought = "".join(
        choice["delta"].get("reasoning_content") or ""
        for obj in raw_stream(llama_reasoning_server, max_tokens=30, temperature=0)
        for choice in obj.get("choices", [])
    )
    assert thought.strip()
    shown = output.replace("\r\n", "\n")
    assert "\x1b[2m" + thought.replace("\r\n", "\n") + "\x1b[22m" in shown
    assert "reasoning only]" in shown
