"""pytest fixtures for aish plugin authors (see ``docs/plugins/testing.md``).

Active wherever aish is installed (the ``aish-kit`` ``pytest11`` entry point),
or with ``-p aish.pytest_plugin``. Every fixture is named ``aish_*``:

- ``aish_env``: fresh XDG directories and no ``AISH_*`` variables, so no user
  configuration, history or entry-point cache leaks into a test.
- ``aish_refserver``: aish's reference agent server, started unpaced; faults
  are asked for per agent with ``aish_agent(fault={...})``.
- ``aish_agent``: an :class:`aish.AgentConfig` for the reference server
  (OpenAI dialect over SSE unless told otherwise).
- ``aish_app``: a factory for an application with chosen plugins and agents.
- ``aish_run``: runs a line of the aish language and captures its output.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.register_assert_rewrite("aish.contract_tests")  # a failed contract shows its values, as a test's own asserts do

from aish.testing import Outcome, refserver_agent  # noqa: E402

if TYPE_CHECKING:
    from aish.agents import AgentConfig
    from aish.app import App
    from aish_refserver import RefServer

AppFactory = Callable[..., "App"]


@pytest.fixture
def aish_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of fresh ``XDG_*`` directories (returned), with every ``AISH_*`` variable removed."""
    home = tmp_path_factory.mktemp("aish-home")
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        path = home / var.lower()
        path.mkdir()
        monkeypatch.setenv(var, str(path))
    for var in [v for v in os.environ if v.startswith("AISH_")]:
        monkeypatch.delenv(var)
    return home


@pytest.fixture
def aish_refserver() -> Iterator[RefServer]:
    """aish's reference agent server on 127.0.0.1, unpaced (``.pace`` may be changed)."""
    from aish_refserver import RefServer

    with RefServer(pace=0.0) as server:
        yield server


@pytest.fixture
def aish_agent(aish_refserver: RefServer) -> Callable[..., AgentConfig]:
    """``aish_agent(name="bot", *, model=..., fault=None, tokens=None, **fields)``: an agent of the server.

    See :func:`aish.testing.refserver_agent`. ``fault`` is the reference
    server's ``aish_fault`` object (``{"drop_after": 5}``, ``{"status": 429,
    "times": 1}``, ...); ``tokens`` fixes the answer's length.
    """

    def make(name: str = "bot", **kwargs: Any) -> AgentConfig:
        return refserver_agent(aish_refserver.base_url, name, **kwargs)

    return make


@pytest.fixture
def aish_app(aish_env: Path) -> AppFactory:
    """``aish_app(*plugins, agents=(), entry_points=False, settings=None)``: a fresh application.

    ``plugins`` are ``(name, module_or_object)`` pairs registered as they are;
    with ``entry_points=True`` the installed plugins load too (as in real use).
    ``agents`` are :class:`aish.AgentConfig` objects; ``settings`` a dict of
    ``[settings]`` values.
    """
    from aish.app import build_app
    from aish.config import Config, Settings

    def make(
        *plugins: tuple[str, object],
        agents: Iterable[AgentConfig] = (),
        entry_points: bool = False,
        settings: Mapping[str, Any] | None = None,
    ) -> App:
        config = Config(settings=Settings(**dict(settings or {})), agents={a.name: a for a in agents})
        return build_app(config, extra_plugins=plugins, entry_points=entry_points)

    return make


@pytest.fixture
def aish_run(aish_app: AppFactory) -> Callable[..., Outcome]:
    """``aish_run(line, *, app=None, stdin=None, renderer=None, tty=False)``: status, stdout and stderr.

    Without ``app`` the line runs in an application of the installed plugins.
    """
    from aish.runner import Runner

    def run(
        line: str,
        *,
        app: App | None = None,
        stdin: str | None = None,
        renderer: str | None = None,
        tty: bool = False,
    ) -> Outcome:
        app = app if app is not None else aish_app(entry_points=True)
        out, err = io.StringIO(), io.StringIO()
        status = Runner(app, out=out, err=err, tty=tty, renderer=renderer).run_source(line, stdin)
        return Outcome(status, out.getvalue(), err.getvalue())

    return run
