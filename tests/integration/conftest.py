"""Fixtures for the real-peer integration tests: llama.cpp's native server and aish as a subprocess.

The server is ``llama-server`` (OpenAI ``/v1/chat/completions`` and Anthropic
``/v1/messages``), built once by ``scripts/build-llama-server`` (which
``scripts/bootstrap test`` runs) into ``build/llama-server/``, running the
shared ``stories260K.gguf`` model (see ``shared/notes/protocols.md``). A
second one, ``llama_reasoning_server``, runs with llama.cpp's DeepSeek-R1
chat template and ``--reasoning-format deepseek``: the template opens a
``<think>`` section that the tiny model never closes, so every answer is
reasoning only, streamed as ``reasoning_content`` and ``thinking_delta``.
When the binary or the model is missing the tests are skipped, unless
``AISH_REQUIRE_LLAMA=1`` is set (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from aish.testing import free_port, http_answers, stop_process

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO.parent / "shared" / "models" / "stories260K.gguf"
MODEL_SHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d"
MODEL_ALIAS = "stories260k"
N_CTX = 512
READY_TIMEOUT = 30.0
"""Seconds to wait for ``GET /health`` to answer after starting the server."""
LLAMA_DIR = REPO / "build" / "llama-server"
LLAMA_SERVER = LLAMA_DIR / "llama-server"
REASONING_TEMPLATE = LLAMA_DIR / "templates" / "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja"


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the environment promises llama.cpp (``AISH_REQUIRE_LLAMA=1``)."""
    if os.environ.get("AISH_REQUIRE_LLAMA") == "1":
        pytest.fail(f"AISH_REQUIRE_LLAMA=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class LlamaServer:
    """A running llama.cpp server."""

    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@pytest.fixture(scope="session")
def llama_model() -> Path:
    """The shared model file, checked against its known sha256 (and the built server beside it)."""
    if not LLAMA_SERVER.is_file() or not REASONING_TEMPLATE.is_file():
        _unavailable(f"{LLAMA_SERVER} is not built (run scripts/build-llama-server)")
    if not MODEL.is_file():
        _unavailable(f"model not found: {MODEL}")
    digest = _sha256(MODEL)
    if digest != MODEL_SHA256:
        pytest.fail(f"{MODEL}: sha256 {digest}, expected {MODEL_SHA256}", pytrace=False)
    return MODEL


@pytest.fixture(scope="session")
def llama_server(llama_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """``llama-server`` on a free port of 127.0.0.1, killed at the end."""
    yield from _serve(llama_model, tmp_path_factory.mktemp("llama") / "server.log", [])


@pytest.fixture(scope="session")
def llama_reasoning_server(llama_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """``llama-server`` with a reasoning chat template: every answer is reasoning only."""
    extra = ["--jinja", "--chat-template-file", str(REASONING_TEMPLATE), "--reasoning-format", "deepseek"]
    yield from _serve(llama_model, tmp_path_factory.mktemp("llama-reasoning") / "server.log", extra)


def _serve(model: Path, log: Path, extra: list[str]) -> Iterator[LlamaServer]:
    for attempt in range(3):  # a free port can be taken between the probe and the bind
        port = free_port()
        proc = _start(model, port, log, extra)
        try:
            if _wait_ready(proc, port, log, last_attempt=attempt == 2):
                yield LlamaServer(port=port, log=log)
                return
        finally:
            stop_process(proc)


def _start(model: Path, port: int, log: Path, extra: list[str]) -> subprocess.Popen[bytes]:
    cmd = [
        str(LLAMA_SERVER),
        "-m", str(model),
        "--alias", MODEL_ALIAS,
        "--host", "127.0.0.1",
        "--port", str(port),
        "-c", str(N_CTX),
        "-t", "2",
        "--seed", "42",
        *extra,
    ]  # fmt: skip
    with log.open("wb") as log_file:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path, *, last_attempt: bool) -> bool:
    """True once ``GET /health`` answers 200 (the model is loaded); False if the port was taken."""
    deadline = time.monotonic() + READY_TIMEOUT
    while not http_answers(f"http://127.0.0.1:{port}/health"):
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            if "bind" in tail.lower() and not last_attempt:
                return False
            pytest.fail(f"llama-server exited with {proc.returncode}:\n{tail}", pytrace=False)
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:]
            pytest.fail(f"llama-server not ready within {READY_TIMEOUT:g}s:\n{tail}", pytrace=False)
        time.sleep(0.05)
    return True


@pytest.fixture
def aish_env(tmp_path: Path) -> dict[str, str]:
    """An environment for aish subprocesses: private caches, no user configuration."""
    cache = tmp_path / "cache"
    config_home = tmp_path / "config-home"
    cache.mkdir()
    config_home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISH_")}
    env.update(XDG_CACHE_HOME=str(cache), XDG_CONFIG_HOME=str(config_home))
    env.pop("PYTHONUNBUFFERED", None)  # aish must flush by itself
    return env
