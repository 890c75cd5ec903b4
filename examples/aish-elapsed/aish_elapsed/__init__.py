"""aish plugin: the ``elapsed`` renderer (prefixes each line with the time since the stream began).

This module is what the ``aish.plugins`` entry point names, so aish imports it
at start-up: it stays cheap to import and loads the renderer only when a run
asks for it.
"""

from __future__ import annotations

from aish import RegisterRenderer, Renderer, RenderTarget, hookimpl

__version__ = "0.1.0"


def _make(target: RenderTarget) -> Renderer:
    from aish_elapsed.renderer import ElapsedRenderer

    return ElapsedRenderer(target)


@hookimpl
def aish_register_renderers(register: RegisterRenderer) -> None:
    register("elapsed", _make, description="each line prefixed with the seconds since the stream started")
