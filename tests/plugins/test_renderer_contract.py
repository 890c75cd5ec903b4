"""Every built-in renderer passes aish's renderer contract suite."""

from __future__ import annotations

import pytest

from aish.app import build_app
from aish.config import Config
from aish.contract_tests.renderer import RendererContract
from aish.contracts import Renderer, RenderTarget

APP = build_app(Config())
RENDERERS = sorted(
    name
    for name, reg in APP.components["renderer"].items()
    if (APP.host.plugins[reg.plugin].distribution or ("",))[0] == "aish"  # built-ins, not whatever is installed
)
STRUCTURED = {"jsonl", "lanes"}
"""Renderers that add to the text (JSON objects, lane prefixes and a summary)."""


def test_the_builtins_are_all_here() -> None:
    assert {"plain", "markdown", "jsonl", "lanes"} <= set(RENDERERS)


class _Builtin(RendererContract):
    @pytest.fixture(autouse=True)
    def _name(self, name: str) -> None:
        self.name = name

    def make_renderer(self, target: RenderTarget) -> Renderer:
        return APP.renderer(self.name, target)


@pytest.mark.parametrize("name", [n for n in RENDERERS if n not in STRUCTURED])
class TestTextRenderers(_Builtin):
    pass


@pytest.mark.parametrize("name", sorted(STRUCTURED))
class TestStructuredRenderers(_Builtin):
    exact_text = False


class _Shouting:
    def __init__(self, target: RenderTarget) -> None:
        self.out = target.out

    def feed(self, event: object) -> None:
        from aish.events import TextDelta

        if isinstance(event, TextDelta):
            self.out.write(event.text.upper())

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.out.close()


def test_the_suite_fails_a_broken_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    suite = RendererContract()
    monkeypatch.setattr(suite, "make_renderer", _Shouting)
    with pytest.raises(AssertionError, match="must not close"):
        suite.test_nothing_fed()
    monkeypatch.setattr(_Shouting, "close", lambda self: None)
    with pytest.raises(AssertionError):
        suite.test_exact_text_when_not_a_tty()
