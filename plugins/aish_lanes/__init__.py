"""aish plugin: the ``lanes`` renderer, for parallel groups on a terminal."""

from __future__ import annotations

from aish import RegisterRenderer, Renderer, RenderTarget, hookimpl


def _make(target: RenderTarget) -> Renderer:
    from aish_lanes.renderer import LanesRenderer

    return LanesRenderer(target)


@hookimpl
def aish_register_renderers(register: RegisterRenderer) -> None:
    register(
        "lanes",
        _make,
        description="parallel answers live, line by line, prefixed [agent]; a summary at the end",
        parallel=True,
    )
