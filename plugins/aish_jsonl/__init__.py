"""aish plugin: the ``jsonl`` renderer (``--format jsonl``), one JSON object per stream event, for scripts."""

from __future__ import annotations

from aish import RegisterRenderer, Renderer, RenderTarget, hookimpl


def _make(target: RenderTarget) -> Renderer:
    from aish_jsonl.renderer import JsonlRenderer

    return JsonlRenderer(target)


@hookimpl
def aish_register_renderers(register: RegisterRenderer) -> None:
    register("jsonl", _make, description="one JSON object per stream event (type, agent, seq, fields)")
