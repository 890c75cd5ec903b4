"""Shared fixtures: an isolated environment, a real reference server, apps and runs."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aish.app import App, build_app
from aish.config import load_config
from aish.runner import Runner
from aish.testing import Outcome
from aish_refserver import RefServer

ROOT = Path(__file__).resolve().parent.parent

# A suite started in the background by a shell without job control (``bash scripts/test &`` in a
# script, some CI runners) inherits SIGINT ignored, and so would every aish it starts: the tests that
# press Ctrl-C would find it ignored. The suite's own processes get Ctrl-C as a terminal gives it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fresh XDG dirs (no user config, no shared entry-point cache), no AISH_* variables, and no
    provider keys (the ``keys`` plugin would add agents for them)."""
    home = tmp_path_factory.mktemp("home")
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        path = home / var.lower()
        path.mkdir()
        monkeypatch.setenv(var, str(path))
    for var in list(os.environ):
        if var.startswith("AISH_") and var != "AISH_REQUIRE_LLAMA":
            monkeypatch.delenv(var)
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def refserver() -> Iterator[RefServer]:
    """A real reference agent server on 127.0.0.1, unpaced."""
    server = RefServer(pace=0.0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def demo_url(refserver: RefServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the demo agents at the test's reference server."""
    monkeypatch.setenv("AISH_DEMO_URL", refserver.base_url)
    return refserver.base_url


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_app(write_config: Callable[[str], Path]) -> Callable[..., App]:
    def make(config_text: str | None = None, **kwargs: object) -> App:
        config = load_config(str(write_config(config_text))) if config_text is not None else load_config()
        return build_app(config, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def run_line(make_app: Callable[..., App]) -> Callable[..., Outcome]:
    """Run aish source in-process with captured output (stdout is not a terminal)."""

    def run(source: str, config_text: str | None = None, *, stdin: str | None = None, tty: bool = False) -> Outcome:
        app = make_app(config_text)
        out, err = io.StringIO(), io.StringIO()
        status = Runner(app, out=out, err=err, tty=tty).run_source(source, stdin)
        return Outcome(status, out.getvalue(), err.getvalue())

    return run


@pytest.fixture(params=["sqlite", "jsonl"])
def history_backend(
    request: pytest.FixtureRequest, write_config: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> str:
    """Each built-in history backend in turn, chosen in a config file that AISH_CONFIG names.

    So in-process apps (``load_config()``) and ``aish`` subprocesses both record with it.
    """
    name = str(request.param)
    monkeypatch.setenv("AISH_CONFIG", str(write_config(f'[settings]\nhistory = "{name}"\n')))
    return name


@pytest.fixture
def history_app(history_backend: str, make_app: Callable[..., App]) -> App:
    """An app recording with ``history_backend`` into the test's XDG_DATA_HOME."""
    return make_app()
