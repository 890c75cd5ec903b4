"""aish against a real OpenAI-compatible peer: llama.cpp serving stories260K.

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

if TYPE_CHECKING:
    from conftest import LlamaServer

pytestmark = pytest.mark.llama

PROMPT = "Once upon a time"
N_CTX = 512
"""The context the ``llama_server`` fixture gives the model (conftest.N_CTX)."""
TIMEOUT = 60.0
"""Upper bound for any one aish run (they take well under a second)."""


# ----------------------------------------------------------------- helpers
def aish_command() -> list[str]:
    """The installed ``aish`` script next to this interpreter, else ``python -m aish``."""
    script = Path(sys.executable).parent / "aish"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "aish"]


def write_config(path: Path, url: str, agent: str = "llama", **options: Any) -> Path:
    """A configuration file with one openai-chat agent for ``url``."""
    lines = [
        f"[agents.{agent}]",
        'transport = "sse"',
        'codec = "openai-chat"',
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


def raw_content_deltas(server: LlamaServer, **body: Any) -> list[str]:
    """The ``delta.content`` strings of one stream, read straight from the server."""
    return raw_stream(server, **body)[0]


def raw_stream(server: LlamaServer, **body: Any) -> tuple[list[str], str | None]:
    """The ``delta.content`` strings of one stream and its ``finish_reason``, read straight from the server."""
    payload = {"model": "stories260k", "stream": True, "messages": [{"role": "user", "content": PROMPT}]}
    payload.update(body)
    request = urllib.request.Request(
        server.base_url + "/chat/completions",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    deltas: list[str] = []
    finish: str | None = None
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        for line in response:
            if not line.startswith(b"data: ") or line.strip() == b"data: [DONE]":
                continue
            obj = json.loads(line[6:])
            for choice in obj.get("choices", []):
                content = (choice.get("delta") or {}).get("content")
                if content:
                    deltas.append(content)
                finish = choice.get("finish_reason") or finish
    return deltas, finish


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
    assert out.spread >= 0.05, f"all reads within {out.spread * 1000:.0f} ms: buffered?"
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
    on stderr (``Complete`` if the model ended first); N (text events seen:
    llama.cpp sends no usage) is compared with the number of content events the
    server streams for the same request body.
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
    raw, finish = raw_stream(llama_server, max_tokens=max_tokens, temperature=0)
    assert match.group(1) == ("Cut at max_tokens" if finish == "length" else "Complete"), (finish, output)
    assert len(raw) <= max_tokens
    assert counted == len(raw)
    assert max_tokens // 2 <= counted <= max_tokens


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


def test_prompt_longer_than_the_context_fails_cleanly(llama_config: Path, aish_env: dict[str, str]) -> None:
    """llama.cpp answers 200 with SSE headers, then closes with zero bytes.

    aish must notice the stream ended without its end marker: a non-zero exit
    and one line on stderr, not a traceback and not a hang.
    """
    prompt = ("Once upon a time there was a little girl who liked to play in the park. " * 120).encode()
    assert len(prompt.split()) > N_CTX * 2
    out = run_timed([*aish_command(), "--config", str(llama_config), "llama"], aish_env, stdin=prompt)
    assert_clean_failure(out)
    assert out.data == b""
    assert out.ended - out.started < 30
