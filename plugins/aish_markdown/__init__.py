"""aish plugin: the ``markdown`` renderer.

On a terminal it renders the answer's Markdown live with rich as it streams;
on a pipe or a file it writes exactly the answer's text, like ``plain``. This
module is what the entry point names, so it stays cheap to import: the
renderer (and rich, only on a terminal) is loaded by the factory.
"""

from __future__ import annotations

from aish import RegisterRenderer, Renderer, RenderTarget, hookimpl


def _make(target: RenderTarget) -> Renderer:
    from aish_markdown.renderer import MarkdownRenderer

    return MarkdownRenderer(target)


@hookimpl
def aish_register_renderers(register: RegisterRenderer) -> None:
    register("markdown", _make, description="Markdown rendered live on a terminal (rich); exact text on a pipe")
