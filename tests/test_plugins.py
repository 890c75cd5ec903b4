"""The plugin system: discovery, isolation of broken plugins, provenance, turning plugins off."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import aish
from aish import AgentConfig, hookimpl
from aish.app import App, build_app
from aish.config import Config, Settings
from aish.errors import UnknownNameError, UsageError
from aish.plugins import DISABLED, FAILED, LOADED, load_plugins, make_plugin_manager
from aish.testing import run_aish

ROOT = Path(__file__).resolve().parent.parent
BUILTINS = {"sse": ("transport", "sse"), "openai": ("codec", "openai-chat"), "plain": ("renderer", "plain")}


class GoodPlugin:
    @hookimpl
    def aish_register_codecs(self, register: Any) -> None:
        register("upper", object, description="test codec")


class BadSignature:
    @hookimpl
    def aish_register_codecs(self, register: Any, colour: str) -> None:  # not in the spec
        raise AssertionError("never called")


class UnknownHook:
    @hookimpl
    def aish_register_widgets(self, register: Any) -> None:
        raise AssertionError("never called")


class Raises:
    @hookimpl
    def aish_register_renderers(self, register: Any) -> None:
        register("half", object)
        raise RuntimeError("boom")


class Duplicate:
    @hookimpl
    def aish_register_codecs(self, register: Any) -> None:
        register("upper", object)


class TestComponents:
    """Registers the transport "t" and codec "c" that the hand-made agents below use."""

    @hookimpl
    def aish_register_transports(self, register: Any) -> None:
        register("t", object)

    @hookimpl
    def aish_register_codecs(self, register: Any) -> None:
        register("c", object)


def app_with(*plugins: tuple[str, object], settings: Settings | None = None) -> App:
    return build_app(Config(settings=settings or Settings()), extra_plugins=plugins, entry_points=False)


def test_factory_makes_independent_managers() -> None:
    assert make_plugin_manager() is not make_plugin_manager()
    a, b = app_with(("good", GoodPlugin())), app_with()
    assert "upper" in a.components["codec"] and "upper" not in b.components["codec"]


def test_builtins_are_discovered_through_entry_points() -> None:
    app = build_app(Config())
    for plugin, registered in BUILTINS.items():
        info = app.host.plugins[plugin]
        assert info.status == LOADED, info.error
        assert registered in info.registered
        assert info.distribution is not None and info.distribution[0] == "aish"
    assert {"apollo", "athena", "hermes"} <= set(app.agents())


def test_plugins_reads_which_distribution_holds_what_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found on a tour: ``plugins`` took 1.5-2.5 s, reading every installed distribution's file
    list once per plugin (18 times) to name each one's distribution."""
    import importlib.metadata

    from aish.listing import list_plugins

    reads: list[int] = []
    packages = importlib.metadata.packages_distributions()
    monkeypatch.setattr(importlib.metadata, "packages_distributions", lambda: reads.append(1) or packages)
    app = build_app(Config())
    out = io.StringIO()
    list_plugins(app, out)
    assert len(reads) == 1
    rows = {line.split()[0]: line.split()[1:3] for line in out.getvalue().splitlines()[1:]}
    assert all(rows[name] == ["aish", aish.__version__] for name in BUILTINS), rows


class Unmarked:
    def aish_register_codecs(self, register: Any) -> None:
        raise AssertionError("never called")

    def aish_helper(self) -> None:  # not a hook's name: none of aish's business
        raise AssertionError("never called")


def test_a_hook_without_hookimpl_fails_its_plugin_naming_the_hook() -> None:
    app = app_with(("unmarked", Unmarked()), ("good", GoodPlugin()))
    info = app.host.plugins["unmarked"]
    assert info.status == FAILED
    assert info.error == (
        "bad hook: PluginError: plugin 'unmarked': aish_register_codecs is not marked @hookimpl"
        " (from aish import hookimpl), so it would never be called"
    )
    assert app.host.plugins["good"].status == LOADED


def test_registration_records_which_plugin_registered_what() -> None:
    app = app_with(("good", GoodPlugin()))
    reg = app.registration("codec", "upper")
    assert (reg.plugin, reg.description) == ("good", "test codec")
    assert app.host.plugins["good"].registered == [("codec", "upper")]


def test_bad_hook_signature_is_isolated_and_reported() -> None:
    app = app_with(("bad", BadSignature()), ("good", GoodPlugin()))
    assert app.host.plugins["bad"].status == FAILED
    assert "colour" in (app.host.plugins["bad"].error or "")
    assert app.host.plugins["good"].status == LOADED


def test_unknown_hook_name_is_reported() -> None:
    app = app_with(("odd", UnknownHook()))
    info = app.host.plugins["odd"]
    assert info.status == FAILED and "aish_register_widgets is not an aish hook" in (info.error or "")
    assert not app.host.pm.is_registered(UnknownHook)


def test_a_hook_that_raises_fails_its_plugin_and_drops_its_registrations() -> None:
    app = app_with(("raises", Raises()), ("good", GoodPlugin()))
    info = app.host.plugins["raises"]
    assert info.status == FAILED and "RuntimeError: boom" in (info.error or "")
    assert "half" not in app.components["renderer"]
    assert "upper" in app.components["codec"]


def test_duplicate_names_are_refused_naming_the_first_plugin() -> None:
    app = app_with(("a-first", GoodPlugin()), ("b-second", Duplicate()))
    # pluggy calls later registrations first; whichever comes second is refused
    infos = [app.host.plugins["a-first"], app.host.plugins["b-second"]]
    failed = [i for i in infos if i.status == FAILED]
    assert len(failed) == 1
    assert "codec 'upper' is already registered by plugin" in (failed[0].error or "")
    assert app.registration("codec", "upper").plugin in {"a-first", "b-second"}


def test_a_second_plugin_of_the_same_name_is_refused_and_the_first_kept() -> None:
    app = app_with(("dup", GoodPlugin()), ("dup", Raises()))
    assert app.host.plugins["dup"].status == LOADED and "upper" in app.components["codec"]
    (second,) = [info for key, info in app.host.plugins.items() if key.startswith("dup (")]
    assert second.status == FAILED and second.error == "another plugin is named 'dup' (module dup), loaded first"


def test_an_installed_module_given_again_as_an_extra_plugin_is_loaded_once() -> None:
    import aish_plain

    app = build_app(Config(), extra_plugins=[("plain", aish_plain)])
    assert app.host.plugins["plain"].status == LOADED
    assert app.host.plugins["plain"].registered == [("renderer", "plain")]
    assert not [key for key in app.host.plugins if key.startswith("plain (")]


def test_unknown_component_names_list_what_exists() -> None:
    app = app_with(("good", GoodPlugin()))
    with pytest.raises(UnknownNameError, match=r"unknown codec 'nope' \(known: upper\)"):
        app.registration("codec", "nope")


def test_default_renderer_is_claimed_not_named() -> None:
    class Plain:
        @hookimpl
        def aish_register_renderers(self, register: Any) -> None:
            register("mine", object, default=True)

    class Rival:
        @hookimpl
        def aish_register_renderers(self, register: Any) -> None:
            register("theirs", object, default=True)

    assert app_with(("p", Plain())).default_name("renderer") == "mine"
    with pytest.raises(UsageError, match="several renderers claim to be the default"):
        app_with(("p", Plain()), ("r", Rival())).default_name("renderer")
    with pytest.raises(UsageError, match="no default renderer"):
        app_with().default_name("renderer")


def test_disabled_and_allow_listed_plugins_are_not_loaded() -> None:
    host = load_plugins(disabled=["demo"])
    assert host.plugins["demo"].status == DISABLED
    assert host.plugins["sse"].status == LOADED
    host = load_plugins(allow=["sse"])
    assert host.plugins["sse"].status == LOADED
    assert {host.plugins[n].status for n in ("openai", "plain", "demo")} == {DISABLED}
    assert "allow-list" in (host.plugins["plain"].error or "")


def test_agent_with_an_unregistered_transport_names_file_agent_and_key() -> None:
    from aish.errors import EXIT_UNKNOWN, UnknownNameError

    agent = AgentConfig(name="bot", transport="nope", url="u", codec="c", source="/etc/aish.toml")
    app = build_app(Config(agents={"bot": agent}), extra_plugins=[("c", TestComponents())], entry_points=False)
    with pytest.raises(UnknownNameError) as info:  # exit 3, as docs/usage.md says
        app.agent("bot")
    assert info.value.exit_code == EXIT_UNKNOWN
    assert str(info.value) == (
        "/etc/aish.toml: agent 'bot': transport: unknown transport 'nope' (known: t; see 'aish plugins')"
    )


def test_disabling_the_demo_plugin_removes_the_demo_agents() -> None:
    app = build_app(Config(settings=Settings(disable_plugins=["demo"])))
    assert "athena" not in app.agents()


def test_plugin_agents_yield_to_configured_ones() -> None:
    class Agents:
        @hookimpl
        def aish_register_agents(self, register: Any) -> None:
            register(AgentConfig(name="bot", transport="t", url="plugin-url", codec="c"))

    configured = AgentConfig(name="bot", transport="t", url="config-url", codec="c")
    plugins = [("agents", Agents()), ("components", TestComponents())]
    app = build_app(Config(agents={"bot": configured}), extra_plugins=plugins, entry_points=False)
    assert app.agent("bot").url == "config-url"


def test_plugin_agent_is_prepared_once_on_first_use() -> None:
    calls: list[str] = []

    def prepare(agent: AgentConfig) -> AgentConfig:
        calls.append(agent.name)
        return AgentConfig(name=agent.name, transport="t", url="http://started", codec="c")

    class Agents:
        @hookimpl
        def aish_register_agents(self, register: Any) -> None:
            register(AgentConfig(name="lazy", transport="t", url="", codec="c"), prepare=prepare)

    app = app_with(("agents", Agents()), ("components", TestComponents()))
    assert calls == [] and app.agents()["lazy"].url == ""
    assert app.agent("lazy").url == "http://started"
    app.agent("lazy")
    assert calls == ["lazy"]


# ------------------------------------------------- real entry points, real imports


def fake_distribution(site: Path, name: str, module_source: str) -> None:
    """A real installed distribution (dist-info + module) on a sys.path entry."""
    dist = site / f"{name}-1.2.3.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text(f"[aish.plugins]\n{name.replace('_', '-')} = {name}\n")
    (dist / "top_level.txt").write_text(f"{name}\n")
    (dist / "RECORD").write_text("")
    (site / f"{name}.py").write_text(textwrap.dedent(module_source))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    marker = tmp_path / "imported"
    fake_distribution(site, "aish_broken", "import no_such_module_for_aish\n")
    fake_distribution(
        site,
        "aish_marker",
        f"""
        import pathlib
        pathlib.Path({str(marker)!r}).write_text("imported")
        from aish import hookimpl

        @hookimpl
        def aish_register_codecs(register):
            register("marker", object)
        """,
    )
    fake_distribution(
        site,
        "aish_badsig",
        """
        from aish import hookimpl

        @hookimpl
        def aish_register_transports(register, surprise):
            pass
        """,
    )
    fake_distribution(  # @hookimpl forgotten: pluggy alone would skip it, and the plugin would load empty
        site,
        "aish_unmarked",
        """
        def aish_register_renderers(register):
            register("unmarked", object)
        """,
    )
    return site


def plugins_listing(site: Path, **env: str) -> str:
    result = run_aish("plugins", env={"PYTHONPATH": str(site), **env})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def row(listing: str, name: str) -> str:
    return next(line for line in listing.splitlines() if line.startswith(name + " "))


def test_broken_plugins_never_break_start_up(site: Path) -> None:
    listing = plugins_listing(site)
    assert "failed" in row(listing, "aish-broken")
    assert "import failed: ModuleNotFoundError: No module named 'no_such_module_for_aish'" in row(
        listing, "aish-broken"
    )
    assert "bad hook" in row(listing, "aish-badsig") and "surprise" in row(listing, "aish-badsig")
    assert row(listing, "aish-unmarked").endswith(
        "failed  bad hook: PluginError: plugin 'aish-unmarked': aish_register_renderers is not marked"
        " @hookimpl (from aish import hookimpl), so it would never be called"
    )
    marker_row = row(listing, "aish-marker")
    assert "aish_marker 1.2.3" in marker_row and "loaded" in marker_row and "codec marker" in marker_row
    assert "transport sse" in row(listing, "sse")


def test_the_shells_banner_names_the_plugins_that_failed(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-shot run stays quiet about them (until what they offer is asked for); the shell says so once."""
    from aish.app import build_app
    from aish.config import load_config
    from aish.shell_start import banner

    monkeypatch.syspath_prepend(str(site))
    said = banner(build_app(load_config()))
    assert said.endswith("Plugins that failed to load: aish-badsig, aish-broken, aish-unmarked (see 'plugins').\n")
    monkeypatch.setenv("AISH_DISABLE_PLUGINS", "aish-badsig,aish-broken,aish-unmarked")
    assert "failed" not in banner(build_app(load_config()))


def test_a_disabled_plugin_is_not_even_imported(site: Path, tmp_path: Path) -> None:
    listing = plugins_listing(site, AISH_DISABLE_PLUGINS="aish-marker,aish-broken")
    assert "disabled" in row(listing, "aish-marker")
    assert "disabled" in row(listing, "aish-broken")
    assert not (tmp_path / "imported").exists()
    plugins_listing(site)
    assert (tmp_path / "imported").exists()


def test_allow_list_from_environment(site: Path) -> None:
    listing = plugins_listing(site, AISH_PLUGINS="sse,plain")
    assert "loaded" in row(listing, "sse") and "loaded" in row(listing, "plain")
    assert "not in the allow-list" in row(listing, "aish-marker")


def test_core_never_names_a_concrete_plugin() -> None:
    plugin_words = ["aish_sse", "aish_openai", "aish_plain", "aish_demo", '"sse"', '"openai-chat"', '"plain"']
    plugin_words += [f'"{n}"' for n in ("apollo", "athena", "hermes")]
    for path in (ROOT / "aish").rglob("*.py"):
        if "refserver" in path.parts or path.name == "testing.py":
            continue  # the reference server is a peer, the test kit describes test agents
        text = path.read_text()
        for word in plugin_words:
            assert word not in text, f"{path.relative_to(ROOT)} names {word}"


def test_plugins_import_only_the_public_api() -> None:
    for path in (ROOT / "plugins").rglob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("from aish.", "import aish.")):
                # the built-in commands are aish's own user interface over its internals (decision 19):
                # they import them inside each command, only when it runs
                own_ui = path.parent.name == "aish_commands" and line.startswith("    ")
                allowed = own_ui or stripped.startswith(("from aish_refserver", "import aish_refserver"))
                assert allowed, f"{path.relative_to(ROOT)}: {stripped}"


def test_make_app_fixture_builds_from_a_config_file(make_app: Callable[..., App]) -> None:
    app = make_app("[settings]\nplugin_agents = false\n")
    assert app.agents() == {}


def test_a_name_no_plugin_has_in_the_allow_or_disable_list_is_pointed_out() -> None:
    """``AISH_PLUGINS=sse,openai,plainn`` said only "unknown agent 'athena'"."""
    listed = run_aish("plugins", env={"AISH_PLUGINS": "sse,openai,plainn", "AISH_DISABLE_PLUGINS": "dmeo"})
    assert listed.returncode == 0
    assert listed.stderr.splitlines() == [
        "aish: warning: no plugin is named 'dmeo' (in the disable list); did you mean 'demo'?",
        "aish: warning: no plugin is named 'plainn' (in the allow-list); did you mean 'plain'?",
    ]
    asked = run_aish("-c", "athena hi", env={"AISH_PLUGINS": "sse,openai,plainn"})
    assert asked.returncode == 3
    assert asked.stderr.rstrip().endswith("no plugin is named 'plainn' (in the allow-list)")
    quiet = run_aish("plugins", env={"AISH_PLUGINS": "sse,openai,plain,demo"})
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_an_unknown_component_points_to_plugins_that_are_not_loaded() -> None:
    result = run_aish("--renderer", "markdown", "-c", "athena hi", env={"AISH_DISABLE_PLUGINS": "markdown"})
    assert result.returncode == 3
    assert result.stderr == (
        "aish: unknown renderer 'markdown' (known: jsonl, lanes, plain); not loaded: markdown (see 'aish plugins')\n"
    )
    typo = run_aish("--renderer", "mardown", "-c", "athena hi")
    assert typo.stderr.startswith("aish: unknown renderer 'mardown', did you mean 'markdown'? (known: ")
    assert "not loaded" not in typo.stderr


FILE_TRANSPORT = """
from aish import ConnectionFailure, WireMessage, hookimpl


class Connection:
    def __init__(self, handle):
        self.handle = handle

    def __iter__(self):
        for line in self.handle:
            yield [WireMessage(line)]

    def cancel(self):
        pass

    def close(self):
        self.handle.close()


class FileTransport:
    def __init__(self, agent):
        pass

    def open(self, request):
        try:
            return Connection(open(request.url.removeprefix("file://"), encoding="utf-8"))
        except OSError as exc:
            raise ConnectionFailure(f"cannot connect to {request.url}: {exc.strerror}") from None

    def close(self):
        pass


@hookimpl
def aish_register_transports(register):
    register("file", FileTransport)
"""


def test_a_plugins_transport_takes_a_file_url(tmp_path: Path) -> None:
    """A third-party transport for a local resource: ``url = "file:///PATH"`` passes the configuration's
    check (it asked for a host) and reaches the transport, which reads the path."""
    site = tmp_path / "site"
    site.mkdir()
    fake_distribution(site, "aish_filestream", FILE_TRANSPORT)
    story = tmp_path / "story.txt"
    story.write_text("line one\nthe end\n", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[agents.story]\ntransport = "file"\ncodec = "text"\nurl = "file://{story}"\n')
    result = run_aish("--config", str(config), "story", "go", env={"PYTHONPATH": str(site)})
    assert (result.returncode, result.stdout, result.stderr) == (0, "line one\nthe end\n", "")


class Offering:
    """A plugin offering one agent to work with and one to try aish with."""

    @hookimpl
    def aish_register_agents(self, register: Any) -> None:
        # the words "offline demo" say nothing to aish: the registration does
        register(
            AgentConfig(name="tryme", transport="sse", url="http://127.0.0.1:9/v1", codec="openai-chat"), demo=True
        )
        register(
            AgentConfig(
                name="anvil", transport="sse", url="http://127.0.0.1:9/v1", codec="openai-chat",
                description="offline demo of nothing: a real agent",
            )
        )  # fmt: skip


def test_an_agent_registered_as_a_demo_is_listed_apart_and_never_the_example() -> None:
    from aish.shell_start import banner

    app = app_with(("offering", Offering()))
    assert [app.is_demo(name) for name in ("tryme", "anvil", "nobody")] == [True, False, False]
    assert app.example_agent() == "anvil"
    assert banner(app).splitlines() == [
        "aish, the AI shell. Agents: anvil. Offline demo agents: tryme.",
        "Try: anvil hello  |  anvil alone to chat  |  help  |  quit",
    ]
    # an agent of the configuration file's is no demo, whatever a plugin offers under its name
    mine = AgentConfig(name="tryme", transport="sse", url="http://127.0.0.1:9/v1", codec="openai-chat")
    app = build_app(Config(agents={"tryme": mine}), extra_plugins=[("offering", Offering())], entry_points=False)
    assert not app.is_demo("tryme") and app.example_agent() == "tryme"
