"""A real third-party plugin distribution, installed with pip, is found and used with no change to aish.

``examples/aish-elapsed`` is an ordinary distribution (its own ``pyproject.toml``,
an ``aish.plugins`` entry point, only ``from aish import ...``). The module-scoped
``installed`` fixture pip-installs it into the running interpreter's environment
and uninstalls it afterwards; the tests then run ``python -m aish`` as a
subprocess with fresh XDG directories (aish caches entry points under
``XDG_CACHE_HOME``). The renderer's own behaviour is unit-tested in-process.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from example_dists import example_installed

from aish import (
    AishError,
    Heartbeat,
    Renderer,
    RenderTarget,
    StreamEnd,
    StreamError,
    StreamStart,
    TextDelta,
    Usage,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "aish-elapsed"
DIST = "aish-elapsed"
PREFIX = re.compile(r"\[ *\d+\.\d\ds\] ")
TIMEOUT = 120


# ------------------------------------------------------------------ install


@pytest.fixture(scope="module")
def installed() -> Iterator[None]:
    """``aish-elapsed`` installed in this interpreter's environment for the module's tests.

    Built from a temporary copy, offline when possible, uninstalled at the end
    unless the user had installed it beforehand (see ``tests/example_dists.py``).
    """
    with example_installed(DIST):
        yield


def aish(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m aish ARGS`` with fresh XDG dirs and none of the caller's AISH_* settings."""
    cache, config = tmp_path / "cache", tmp_path / "config"
    cache.mkdir(exist_ok=True)
    config.mkdir(exist_ok=True)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AISH_")}
    full_env.update(XDG_CACHE_HOME=str(cache), XDG_CONFIG_HOME=str(config), AISH_DEMO_PACE="0")
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "aish", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=TIMEOUT,
    )


def _plugin_row(listing: str, name: str) -> str:
    rows = [line for line in listing.splitlines() if line.split()[:1] == [name]]
    assert len(rows) == 1, listing
    return rows[0]


def _assert_renderer_unavailable(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 3, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("aish: ") and "'elapsed'" in lines[0], lines[0]
    assert "renderer" in lines[0], lines[0]


# --------------------------------------------------------- discovery and use


@pytest.mark.usefixtures("installed")
class TestInstalledPlugin:
    def test_listed_with_its_distribution_and_renderer(self, tmp_path: Path) -> None:
        result = aish(tmp_path, "plugins")
        assert result.returncode == 0, result.stderr
        row = _plugin_row(result.stdout, "elapsed")
        assert re.fullmatch(r"elapsed\s+aish-elapsed 0\.1\.0\s+loaded\s+renderer elapsed", row), row
        # the built-in plugins are still there, untouched
        assert re.search(r"^plain\s+aish 0\.1\.0\s+loaded\s+renderer plain$", result.stdout, re.M)

    def test_renders_an_answer(self, tmp_path: Path) -> None:
        result = aish(tmp_path, "--renderer", "elapsed", "-c", "athena hello")
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        assert result.stdout.endswith("\n")
        lines = result.stdout.splitlines()
        assert lines
        for line in lines:
            assert PREFIX.match(line), line
        text = "".join(PREFIX.sub("", line, count=1) for line in lines)
        assert text.startswith("Athena (offline demo):")
        assert "hello" in text

    def test_same_answer_as_plain_once_prefixes_are_removed(self, tmp_path: Path) -> None:
        plain = aish(tmp_path, "--renderer", "plain", "-c", "hermes one two three")
        elapsed = aish(tmp_path, "--renderer", "elapsed", "-c", "hermes one two three")
        assert plain.returncode == elapsed.returncode == 0
        unprefixed = "".join(PREFIX.sub("", line, count=1) for line in elapsed.stdout.splitlines(True))
        assert unprefixed.rstrip("\n") == plain.stdout.rstrip("\n")

    def test_disabled_by_environment(self, tmp_path: Path) -> None:
        env = {"AISH_DISABLE_PLUGINS": "elapsed"}
        listing = aish(tmp_path, "plugins", env=env)
        assert listing.returncode == 0, listing.stderr
        row = _plugin_row(listing.stdout, "elapsed")
        assert re.fullmatch(r"elapsed\s+aish-elapsed 0\.1\.0\s+disabled\s+.*", row), row
        _assert_renderer_unavailable(aish(tmp_path, "--renderer", "elapsed", "-c", "athena hello", env=env))

    def test_disabled_by_config_file(self, tmp_path: Path) -> None:
        config = tmp_path / "aish.toml"
        config.write_text('[settings]\ndisable_plugins = ["elapsed"]\n', encoding="utf-8")
        listing = aish(tmp_path, "--config", str(config), "plugins")
        assert listing.returncode == 0, listing.stderr
        row = _plugin_row(listing.stdout, "elapsed")
        assert re.fullmatch(r"elapsed\s+aish-elapsed 0\.1\.0\s+disabled\s+.*", row), row
        _assert_renderer_unavailable(
            aish(tmp_path, "--config", str(config), "--renderer", "elapsed", "-c", "athena hello")
        )

    def test_left_out_of_an_allow_list(self, tmp_path: Path) -> None:
        env = {"AISH_PLUGINS": "sse,openai,plain,demo"}
        listing = aish(tmp_path, "plugins", env=env)
        assert listing.returncode == 0, listing.stderr
        row = _plugin_row(listing.stdout, "elapsed")
        assert re.fullmatch(r"elapsed\s+aish-elapsed 0\.1\.0\s+disabled\s+.*", row), row
        assert re.search(r"^plain\s+aish 0\.1\.0\s+loaded\s+renderer plain$", listing.stdout, re.M)
        _assert_renderer_unavailable(aish(tmp_path, "--renderer", "elapsed", "-c", "athena hello", env=env))


# ------------------------------------------------------- the renderer itself


@pytest.fixture
def elapsed_pkg(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The example's package, imported from its source (no installation needed)."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # leave no __pycache__ in examples/
    names = ("aish_elapsed", "aish_elapsed.renderer")
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    try:
        yield importlib.import_module("aish_elapsed")
    finally:
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


class Clock:
    """A hand-driven clock."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def make(elapsed_pkg: ModuleType) -> Callable[..., tuple[Any, io.StringIO, Clock]]:
    renderer_mod = importlib.import_module("aish_elapsed.renderer")

    def build(now: float = 100.0) -> tuple[Any, io.StringIO, Clock]:
        out, clock = io.StringIO(), Clock(now)
        return renderer_mod.ElapsedRenderer(RenderTarget(out=out, err=io.StringIO()), clock=clock), out, clock

    return build


def test_plugin_registers_a_renderer_factory(elapsed_pkg: ModuleType) -> None:
    registered: list[tuple[str, Any, str]] = []

    def register(name: str, factory: Any, *, description: str = "") -> None:
        registered.append((name, factory, description))

    elapsed_pkg.aish_register_renderers(register=register)
    [(name, factory, description)] = registered
    assert name == "elapsed" and description
    out = io.StringIO()
    renderer = factory(RenderTarget(out=out, err=io.StringIO()))
    assert isinstance(renderer, Renderer)
    renderer.feed(StreamStart(agent="a"))
    renderer.feed(TextDelta("hi", agent="a"))
    renderer.close()
    assert re.fullmatch(r"\[  0\.\d\ds\] hi\n", out.getvalue()), out.getvalue()


def test_prefix_on_each_line(make: Callable[..., tuple[Any, io.StringIO, Clock]]) -> None:
    renderer, out, clock = make()
    renderer.feed(StreamStart())
    clock.now = 100.42
    renderer.feed(TextDelta("first line\n"))
    clock.now = 101.5
    renderer.feed(TextDelta("second line\n"))
    clock.now = 112.3
    renderer.feed(TextDelta("third"))
    renderer.feed(StreamEnd())
    renderer.close()
    assert out.getvalue() == "[  0.42s] first line\n[  1.50s] second line\n[ 12.30s] third\n"


def test_text_split_across_deltas(make: Callable[..., tuple[Any, io.StringIO, Clock]]) -> None:
    renderer, out, clock = make()
    renderer.feed(StreamStart())
    clock.now = 101.0
    renderer.feed(TextDelta("hel"))
    assert out.getvalue() == "[  1.00s] hel"  # written as it arrives
    clock.now = 102.0
    renderer.feed(TextDelta("lo"))
    assert out.getvalue() == "[  1.00s] hello"  # no prefix mid-line
    clock.now = 103.0
    renderer.feed(TextDelta("\n"))
    assert out.getvalue() == "[  1.00s] hello\n"  # the next prefix waits for the next line's text
    clock.now = 104.0
    renderer.feed(TextDelta("wor"))
    renderer.feed(TextDelta("ld\n"))
    renderer.close()
    assert out.getvalue() == "[  1.00s] hello\n[  4.00s] world\n"  # no extra newline at close


def test_multiple_lines_in_one_delta(make: Callable[..., tuple[Any, io.StringIO, Clock]]) -> None:
    renderer, out, clock = make()
    renderer.feed(StreamStart())
    clock.now = 100.25
    renderer.feed(TextDelta("a\nb\n\nc"))
    renderer.close()
    assert out.getvalue() == "[  0.25s] a\n[  0.25s] b\n[  0.25s] \n[  0.25s] c\n"


def test_other_events_write_nothing(make: Callable[..., tuple[Any, io.StringIO, Clock]]) -> None:
    renderer, out, _clock = make()
    for event in (StreamStart(model="m"), Heartbeat(), Usage(1, 2), TextDelta(""), StreamEnd("stop")):
        renderer.feed(event)
    renderer.close()
    assert out.getvalue() == ""


def test_failed_stream_still_ends_with_a_newline(make: Callable[..., tuple[Any, io.StringIO, Clock]]) -> None:
    renderer, out, _clock = make()
    renderer.feed(StreamStart())
    renderer.feed(TextDelta("partial"))
    renderer.feed(StreamError(AishError("boom"), partial=True))
    renderer.close()
    assert out.getvalue() == "[  0.00s] partial\n"


def test_clock_starts_at_first_text_without_stream_start(
    make: Callable[..., tuple[Any, io.StringIO, Clock]],
) -> None:
    renderer, out, clock = make()
    renderer.feed(TextDelta("x\n"))
    clock.now = 102.0
    renderer.feed(TextDelta("y"))
    renderer.close()
    assert out.getvalue() == "[  0.00s] x\n[  2.00s] y\n"


def test_a_new_stream_starts_on_its_own_line(make: Callable[..., tuple[Any, io.StringIO, Clock]]) -> None:
    renderer, out, clock = make()
    renderer.feed(StreamStart())
    clock.now = 101.0
    renderer.feed(TextDelta("one"))
    renderer.feed(StreamEnd())
    clock.now = 200.0
    renderer.feed(StreamStart())
    clock.now = 200.5
    renderer.feed(TextDelta("two"))
    renderer.close()
    assert out.getvalue() == "[  1.00s] one\n[  0.50s] two\n"


def test_flush_and_close_flush_the_target(make: Callable[..., tuple[Any, io.StringIO, Clock]]) -> None:
    class Recording(io.StringIO):
        def __init__(self) -> None:
            super().__init__()
            self.flushed: list[str] = []

        def flush(self) -> None:
            self.flushed.append(self.getvalue())

    renderer, _out, _clock = make()
    out = renderer.out = Recording()
    renderer.feed(TextDelta("a"))
    assert out.flushed == []  # buffering is the target's business; flush() makes it visible
    renderer.flush()
    renderer.close()
    assert out.flushed == ["[  0.00s] a", "[  0.00s] a\n"]
