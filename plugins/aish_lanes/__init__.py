"""aish plugin: the ``lanes`` renderer, for parallel groups on a terminal."""

from __future__ import annotations

from typing import Any

from aish import Renderer, RenderTarget, hookimpl


def _make(target: RenderTarget) -> Renderer:
    from aish_lanes.renderer import LanesRenderer

    return LanesRenderer(target)


@hookimpl
def aish_register_renderers(register: Any) -> None:
    register(
        "lanes",
        _make,
        description="parallel answers live, line by line, prefixed [agent]; a summary at the end",
        parallel=True,
    )
