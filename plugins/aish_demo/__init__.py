"""aish plugin: the offline demo agents ``apollo``, ``athena`` and ``hermes``.

They need no key and no network: the first time one is used, aish starts its
reference agent server (:mod:`aish.refserver`) on 127.0.0.1 in the background
and talks to it over real OpenAI-compatible SSE. Set ``AISH_DEMO_URL`` to use
an already running reference server instead, ``AISH_DEMO_PACE`` to change the
seconds between tokens (default 0.025), or ``plugin_agents = false`` in
``[settings]`` (or disable this plugin) to hide them.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from typing import Any

from aish import AgentConfig, hookimpl

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
                from aish.refserver import RefServer

                pace = float(os.environ.get("AISH_DEMO_PACE", DEFAULT_PACE))
                self.server = RefServer(pace=pace).start()
                self._url = str(self.server.base_url)
            return self._url

    def prepare(self, agent: AgentConfig) -> AgentConfig:
        return replace(agent, url=self.url())


@hookimpl
def aish_register_agents(register: Any) -> None:
    server = DemoServer()
    for name, description in PERSONAS.items():
        agent = AgentConfig(
            name=name,
            transport="sse",
            url="",
            codec="openai-chat",
            model=name,
            description=description,
            options={"max_tokens": 64},
            source="plugin:demo",
        )
        if server.known_url:
            register(replace(agent, url=server.known_url))
        else:
            register(agent, prepare=server.prepare)
