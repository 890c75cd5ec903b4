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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import importlib.metadata

    from aish.agents import AgentConfig


def line_ended(text: str) -> str:
    """``text`` as aish writes an answer off a terminal (a pipe, a file, a program's input): its last
    line ended with a newline when it has one that is not (nothing added to no text)."""
    return text + "\n" if text and not text.endswith("\n") else text


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


DIST_TIMEOUT = 120


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=DIST_TIMEOUT,
        check=False,
    )


def _installed(dist: str) -> importlib.metadata.Distribution | None:
    import importlib
    import importlib.metadata

    importlib.invalidate_caches()
    try:
        return importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _build_options() -> tuple[str, ...]:
    """Build offline (no isolation, no index) when this environment can build wheels itself."""
    import importlib.metadata
    import importlib.util
    import re

    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return ()
    major, minor = (int(part) for part in re.findall(r"\d+", version)[:2])
    if (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None:
        return ("--no-build-isolation", "--no-index")
    return ()


@contextmanager
def distribution_installed(source: Path, dist: str) -> Iterator[None]:
    """The distribution ``dist`` built from the directory ``source``, pip-installed into this
    interpreter's environment while the block runs, and uninstalled afterwards.

    It is built from a temporary copy (nothing is left in ``source``), without its
    dependencies, offline when the environment can build wheels itself. An installation
    the user made beforehand is kept. Raises RuntimeError when pip fails.
    """
    import shutil
    import tempfile

    prefix = f"{dist}-test-src-"
    before = _installed(dist)
    keep = before is not None and prefix not in (before.read_text("direct_url.json") or "")
    if not keep:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            src = Path(tmp) / dist
            ignore = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__")
            shutil.copytree(source, src, ignore=ignore)
            result = _pip("install", "--quiet", "--no-deps", "--no-cache-dir", *_build_options(), str(src))
            if result.returncode != 0:
                raise RuntimeError(f"pip install {dist} failed:\n{result.stdout}\n{result.stderr}")
    try:
        yield
    finally:
        if not keep:
            result = _pip("uninstall", "--yes", "--quiet", dist)
            if result.returncode != 0 or _installed(dist) is not None:
                raise RuntimeError(f"pip uninstall {dist} failed:\n{result.stderr}")


AISH_WITH_PEAK = """
import atexit, re, sys
def peak():
    status = open("/proc/self/status").read()
    sys.stderr.write("VmHWM " + re.search(r"VmHWM:\\s+(\\d+)", status).group(1) + "\\n")
atexit.register(peak)
from aish.cli import main
sys.exit(main(sys.argv[1:]))
"""
"""``python -c AISH_WITH_PEAK ARGS...``: aish with ARGS, then its own peak resident memory (``VmHWM``,
not a parent's) written last on stderr as ``VmHWM <kB>`` (tests/test_memory.py, benchmarks)."""


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
