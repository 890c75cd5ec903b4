"""docs/plugins/ guides: their examples run, pass the contract suites, and quote the examples verbatim."""

from __future__ import annotations

import re
import sys
import tomllib
import types
from pathlib import Path
from typing import Any

import pytest

from aish import hookimpl
from aish.agents import AgentConfig
from aish.config import parse_config
from aish.contract_tests.codec import CodecContract
from aish.contract_tests.renderer import RendererContract
from aish.contracts import Codec, Renderer, RenderTarget

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugins"
GUIDES = ("transports.md", "codecs.md", "renderers.md", "history.md", "testing.md", "commands.md")


def blocks(page: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", (DOCS / page).read_text(encoding="utf-8"), re.S | re.M)


def module_from(page: str, name: str) -> types.ModuleType:
    """The page's first python block, as module ``name``."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(blocks(page, "python")[0], f"{page}:{name}", "exec"), module.__dict__)
    return module


WORDCOUNT = module_from("renderers.md", "aish_wordcount")
JSONTEXT = module_from("codecs.md", "aish_jsontext")


def test_the_index_lists_every_built_in_plugin() -> None:
    entry_points = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["entry-points"]
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for name, module in entry_points["aish.plugins"].items():
        assert f"| `{name}` | `{module}` |" in index, name


def test_the_index_links_every_guide() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in GUIDES:
        assert f"]({page})" in index, page


@pytest.mark.parametrize("page", GUIDES)
def test_toml_examples_are_valid_configuration(page: str) -> None:
    for block in blocks(page, "toml"):
        data = tomllib.loads(block)
        if "agents" in data or "settings" in data:
            parse_config(data)


@pytest.mark.parametrize(
    ("page", "example"),
    [("transports.md", "aish-ndjson"), ("history.md", "aish-history-dir"), ("commands.md", "aish-hello")],
)
def test_quoted_code_is_the_examples_code(page: str, example: str) -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "examples" / example).rglob("*.py"))
    quoted = [b for b in blocks(page, "python") if "Contract" not in b]
    assert quoted
    for block in quoted:
        assert block in sources, block


def _registered(module: types.ModuleType, hook: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    getattr(module, hook)(register=lambda name, factory, **_kw: found.append((name, factory)))
    return found


def test_guide_plugins_register_their_component() -> None:
    assert [n for n, _f in _registered(WORDCOUNT, "aish_register_renderers")] == ["wordcount"]
    assert [n for n, _f in _registered(JSONTEXT, "aish_register_codecs")] == ["jsontext"]


class TestWordCountGuide(RendererContract):
    def make_renderer(self, target: RenderTarget) -> Renderer:
        renderer: Renderer = WORDCOUNT.WordCountRenderer(target)
        return renderer


def _index_shout() -> types.ModuleType:
    """index.md's ``ShoutRenderer`` (the python block that defines it)."""
    module = types.ModuleType("aish_shout_renderer")
    block = next(b for b in blocks("index.md", "python") if "class ShoutRenderer" in b)
    exec(compile(block, "index.md:aish_shout.renderer", "exec"), module.__dict__)
    return module


SHOUT = _index_shout()


class TestShoutGuide(RendererContract):
    """The index's renderer changes the text (capitals): the suite takes it with ``exact_text = False``."""

    exact_text = False

    def make_renderer(self, target: RenderTarget) -> Renderer:
        renderer: Renderer = SHOUT.ShoutRenderer(target)
        return renderer


class TestJsonTextGuide(CodecContract):
    def make_codec(self, agent: AgentConfig) -> Codec:
        codec: Codec = JSONTEXT.JsonTextCodec(agent)
        return codec


def test_wordcount_counts_on_a_terminal() -> None:
    import io

    from aish.events import StreamEnd, TextDelta

    out, err = io.StringIO(), io.StringIO()
    renderer = WORDCOUNT.WordCountRenderer(RenderTarget(out=out, err=err, tty=True))
    for event in (TextDelta("two wo"), TextDelta("rds  and\nmore"), StreamEnd()):
        renderer.feed(event)
    assert out.getvalue() == "two words  and\nmore" and err.getvalue() == "\n[4 words]\n"


class _ShoutPlugin:
    @hookimpl
    def aish_register_renderers(self, register: Any) -> None:
        register("shout", SHOUT.ShoutRenderer)


def test_testing_guides_401_example_holds_for_the_index_renderer(aish_app: Any, aish_agent: Any, aish_run: Any) -> None:
    """testing.md's ``test_a_401_is_one_line``, with index.md's renderer: the error is aish's one line, not repeated."""
    import aish_openai
    import aish_sse

    app = aish_app(
        ("sse", aish_sse), ("openai", aish_openai), ("shout", _ShoutPlugin()),
        agents=[aish_agent("bot", fault={"status": 401})],
    )  # fmt: skip
    outcome = aish_run("bot hi", app=app, renderer="shout")
    assert outcome.status == 5 and outcome.err.startswith("aish: bot: authentication failed")
    assert len(outcome.err.splitlines()) == 1, outcome.err
