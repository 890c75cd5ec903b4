"""aish plugin: the ``plain`` renderer, aish's default."""

from __future__ import annotations

from aish import RegisterRenderer, Renderer, RenderTarget, hookimpl


def _make(target: RenderTarget) -> Renderer:
    from aish_plain.renderer import PlainRenderer

    return PlainRenderer(target)


@hookimpl
def aish_register_renderers(register: RegisterRenderer) -> None:
    register("plain", _make, description="text as it arrives; status on stderr when on a terminal", default=True)
