"""aish plugin: the offline demo agents ``apollo``, ``athena`` and ``hermes``.

They need no key and no network: the first time one is used, aish starts its
reference agent server (:mod:`aish_refserver`) on 127.0.0.1 in the background
and talks to it over real OpenAI-compatible SSE. Set ``AISH_DEMO_URL`` to use
an already running reference server instead, ``AISH_DEMO_PACE`` to change the
seconds between tokens (default 0.025), or ``plugin_agents = false`` in
``[settings]`` (or disable this plugin) to hide them.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from aish import AgentConfig, App, ConfigError, RegisterAgent, hookimpl

PERSONAS = {
    "apollo": "offline demo: foresight and prediction",
    "athena": "offline demo: knowledge and wisdom",
    "hermes": "offline demo: messages and coordination",
}
DEFAULT_PACE = 0.025


class DemoServer:
    """Starts the reference server once, on first use, and hands out its URL."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._url: str | None = os.environ.get("AISH_DEMO_URL") or None
        self.known_url = self._url
        self.server: Any = None

    def url(self) -> str:
        with self._lock:
            if self._url is None:
                from aish_refserver import RefServer

                self.server = RefServer(pace=_pace(os.environ.get("AISH_DEMO_PACE"))).start()
                self._url = str(self.server.base_url)
            return self._url

    def prepare(self, agent: AgentConfig) -> AgentConfig:
        return agent.replace(url=self.url())

    def stop(self) -> None:
        """Stop the server this started (if any); a later use starts another."""
        with self._lock:
            server, self.server = self.server, None
            if server is not None:
                self._url = self.known_url
                server.stop()


def _pace(text: str | None) -> float:
    """``AISH_DEMO_PACE``: seconds between tokens, a finite number from 0 to 10."""
    if text is None or not text.strip():
        return DEFAULT_PACE
    try:
        pace = float(text)
    except ValueError:
        pace = -1.0
    if not 0 <= pace <= 10:  # also refuses nan
        raise ConfigError(f"AISH_DEMO_PACE: expected seconds between tokens from 0 to 10, got {text!r}")
    return pace


_SERVERS: dict[int, DemoServer] = {}
"""The demo server of each app (by ``id(app)``), stopped when that app shuts down."""


@hookimpl
def aish_shutdown(app: App) -> None:
    server = _SERVERS.pop(id(app), None)
    if server is not None:
        server.stop()


@hookimpl
def aish_register_agents(register: RegisterAgent, app: App) -> None:
    server = _SERVERS[id(app)] = DemoServer()
    for name, description in PERSONAS.items():
        agent = AgentConfig(
            name=name,
            transport="sse",
            url="",
            codec="openai-chat",
            model=name,
            description=description,
            options={"max_tokens": 256},
            source="plugin:demo",
        )
        if server.known_url:
            register(agent.replace(url=server.known_url), demo=True)
        else:
            register(agent, prepare=server.prepare, demo=True)
