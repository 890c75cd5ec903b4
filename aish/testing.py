"""Helpers for testing aish and aish plugins: run aish, describe agents, capture outcomes.

Import-light (no pytest needed) so that plugin authors can use them from any test runner.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aish.agents import AgentConfig


def agent_toml(name: str, url: str, model: str = "athena", **options: object) -> str:
    """A ``[agents.NAME]`` table for an OpenAI-compatible agent at ``url``."""
    lines = [f"[agents.{name}]", 'transport = "sse"', 'codec = "openai-chat"', f'url = "{url}"', f'model = "{model}"']
    if options:
        lines.append(f"[agents.{name}.options]")
        lines += [f"{k} = {v!r}".replace("'", '"') for k, v in options.items()]
    return "\n".join(lines) + "\n"


def refserver_agent(
    url: str,
    name: str = "bot",
    *,
    model: str = "athena",
    fault: Mapping[str, object] | None = None,
    tokens: int | None = None,
    **fields: Any,
) -> AgentConfig:
    """An agent of aish's reference server at ``url`` (OpenAI dialect over SSE unless ``fields`` say otherwise).

    ``fault`` is the server's ``aish_fault`` object; ``tokens`` fixes the answer's length.
    """
    from aish.agents import AgentConfig

    options = dict(fields.pop("options", {}))
    if fault is not None:
        options["aish_fault"] = dict(fault)
    if tokens is not None:
        options["aish_tokens"] = tokens
    fields.setdefault("transport", "sse")
    fields.setdefault("codec", "openai-chat")
    return AgentConfig(name=name, url=url, model=model, options=options, **fields)


@dataclass
class Outcome:
    status: int
    out: str
    err: str


def run_aish(
    *args: str,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``python -m aish ARGS`` in a subprocess with the test's environment."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "aish", *args],
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_answers(url: str) -> bool:
    """True when ``GET url`` answers 200 within a second (a server's readiness probe)."""
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a child server, killing it if it does not go within 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
