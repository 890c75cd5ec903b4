"""Helpers for testing aish and aish plugins: run aish, describe agents, capture outcomes.

Import-light (no pytest needed) so that plugin authors can use them from any test runner.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def agent_toml(name: str, url: str, model: str = "athena", **options: object) -> str:
    """A ``[agents.NAME]`` table for an OpenAI-compatible agent at ``url``."""
    lines = [f"[agents.{name}]", 'transport = "sse"', 'codec = "openai-chat"', f'url = "{url}"', f'model = "{model}"']
    if options:
        lines.append(f"[agents.{name}.options]")
        lines += [f"{k} = {v!r}".replace("'", '"') for k, v in options.items()]
    return "\n".join(lines) + "\n"


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
