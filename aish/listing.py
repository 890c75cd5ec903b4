"""``agents`` and ``plugins``: what is configured and what is loaded. Never shows a secret."""

from __future__ import annotations

from typing import TextIO

from aish.agents import shown_url
from aish.app import App
from aish.errors import closest, visible
from aish.layout import table
from aish.plugins import LOADED, distributions


def list_agents(app: App, out: TextIO) -> None:
    """Name, transport, codec, model and URL of every agent (no headers, no keys)."""
    rows = [["NAME", "TRANSPORT", "CODEC", "MODEL", "URL", "DESCRIPTION"]]
    for name, agent in app.agents().items():
        url = shown_url(agent.url) if agent.url else "(started on first use)"
        model = visible(agent.model) if agent.model else "-"
        rows.append([name, agent.transport, agent.codec, model, visible(url), visible(agent.description)])
    if len(rows) == 1:
        out.write("no agents: add some to the configuration file (see docs/configuration.md)\n")
        return
    table(rows, out, header=True)


def list_plugins(app: App, out: TextIO, err: TextIO | None = None) -> None:
    """Every plugin: name, distribution and version, status, what it registered or why not; then,
    on ``err`` (else ``out``), a warning for each name in the allow or disable list that no plugin has."""
    rows = [["PLUGIN", "DISTRIBUTION", "STATUS", "REGISTERED / REASON"]]
    plugins = sorted(app.host.plugins.items())
    for (name, info), dist in zip(plugins, distributions(info for _, info in plugins), strict=True):
        dist_text = f"{dist[0]} {dist[1]}" if dist else "-"
        if info.status == LOADED:
            detail = ", ".join(f"{kind} {item}" for kind, item in info.registered) or _hooks(app, name)
        else:
            detail = visible(info.error or "")  # a plugin's import error may span lines
        rows.append([name, dist_text, info.status, detail])
    table(rows, out, header=True)
    for name, where in app.host.unmatched.items():
        warning = f"no plugin is named {visible(name)!r} (in the {where}){_closest(name, app)}"
        (err or out).write(f"aish: warning: {warning}\n")


def _hooks(app: App, name: str) -> str:
    """What a loaded plugin that registered nothing does: its hooks (``aish_register_agents`` that
    offered no agent this time, say, as the ``keys`` plugin without a key)."""
    hooks = app.host.hook_names(name)
    return f"nothing registered (hooks: {', '.join(hooks)})" if hooks else "(no hooks)"


def _closest(name: str, app: App) -> str:
    close = closest(name, app.host.plugins, 0.7)
    return f"; did you mean {close!r}?" if close else ""
