"""Hooks are called through pluggy: wrappers, tryfirst/trylast, specname and firstresult work as pluggy
documents, while each ``register`` callback knows its plugin and a failing plugin fails alone."""

from __future__ import annotations

from collections.abc import Generator

import pluggy
import pytest

from aish import (
    App,
    PluginError,
    RegisterCommand,
    RegisterRenderer,
    RegisterTransport,
    Renderer,
    RenderTarget,
    hookimpl,
)
from aish.app import build_app
from aish.config import Config
from aish.hookspecs import hookspec
from aish.plugins import PluginHost, make_plugin_manager

EVENTS: list[str] = []


def _renderer(target: RenderTarget) -> Renderer:
    raise AssertionError("never built in these tests")


def app_with(*plugins: tuple[str, object]) -> App:
    EVENTS.clear()
    return build_app(Config(), extra_plugins=plugins, entry_points=False)


class Inner:
    @hookimpl
    def aish_register_renderers(self, register: RegisterRenderer) -> None:
        EVENTS.append("inner")
        register("inner", _renderer)


class Wrapping:
    @hookimpl(wrapper=True)
    def aish_register_renderers(self, register: RegisterRenderer) -> Generator[None, None, None]:
        EVENTS.append("wrapper: before")
        register("before", _renderer)
        result = yield
        EVENTS.append("wrapper: after")
        register("after", _renderer)
        return result


def test_a_wrapper_wraps_the_other_plugins_and_keeps_its_provenance() -> None:
    app = app_with(("wrapping", Wrapping()), ("inner", Inner()))
    assert EVENTS == ["wrapper: before", "inner", "wrapper: after"]
    table = app.components["renderer"]
    assert {name: reg.plugin for name, reg in table.items()} == {
        "before": "wrapping",
        "inner": "inner",
        "after": "wrapping",
    }
    assert app.host.plugins["wrapping"].registered == [("renderer", "before"), ("renderer", "after")]


class StartupWrapper:
    @hookimpl(wrapper=True)
    def aish_startup(self, app: App) -> Generator[None, None, None]:
        EVENTS.append("startup: before")
        yield
        EVENTS.append(f"startup: after, {app.host.plugins['plain'].status}")


class PlainStartup:
    @hookimpl
    def aish_startup(self) -> None:
        EVENTS.append("startup: plain")


def test_lifecycle_hooks_take_wrappers_too() -> None:
    app = app_with(("wrapper", StartupWrapper()), ("plain", PlainStartup()))
    app.startup()
    assert EVENTS == ["startup: before", "startup: plain", "startup: after, loaded"]


def _orderly(label: str, **opts: bool) -> object:
    class Plugin:
        @hookimpl(**opts)
        def aish_register_commands(self, register: RegisterCommand) -> None:
            EVENTS.append(label)
            register("same", lambda _inv: 0, summary=f"Registered by {label}.")

    return Plugin()


def test_tryfirst_and_trylast_order_the_calls_and_the_first_name_wins() -> None:
    app = app_with(
        ("last", _orderly("last", trylast=True)),
        ("middle", _orderly("middle")),
        ("first", _orderly("first", tryfirst=True)),
    )
    assert EVENTS == ["first", "middle", "last"]
    assert app.commands["same"].plugin == "first"
    for loser in ("middle", "last"):
        info = app.host.plugins[loser]
        assert info.status == "failed"
        assert info.error == (
            "aish_register_commands raised PluginError: command 'same' is already registered by plugin 'first'"
        )


class Renamed:
    @hookimpl(specname="aish_register_transports")
    def transports(self, register: RegisterTransport) -> None:
        register("renamed", lambda agent: None)  # type: ignore[arg-type,return-value]


def test_specname_names_the_hook() -> None:
    app = app_with(("renamed", Renamed()))
    assert app.components["transport"]["renamed"].plugin == "renamed"


class OldStyle:
    @hookimpl(hookwrapper=True)
    def aish_register_renderers(self, register: RegisterRenderer) -> Generator[None, None, None]:
        yield


class NotAGenerator:
    @hookimpl(wrapper=True)
    def aish_register_renderers(self, register: RegisterRenderer) -> None:
        register("never", _renderer)


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (OldStyle(), "old-style hookwrapper=True is not supported; use @hookimpl(wrapper=True)"),
        (NotAGenerator(), "a wrapper=True hook must yield once"),
    ],
)
def test_unsupported_options_are_refused_at_registration_naming_the_plugin(plugin: object, message: str) -> None:
    app = app_with(("odd", plugin), ("inner", Inner()))
    info = app.host.plugins["odd"]
    assert info.status == "failed"
    assert info.error == f"bad hook: PluginError: plugin 'odd': aish_register_renderers: {message}"
    assert EVENTS == ["inner"] and set(app.components["renderer"]) == {"inner"}


class FailsBefore:
    @hookimpl(wrapper=True)
    def aish_register_renderers(self, register: RegisterRenderer) -> Generator[None, None, None]:
        register("half", _renderer)
        raise RuntimeError("before its yield")
        yield  # type: ignore[unreachable]


class FailsAfter:
    @hookimpl(wrapper=True)
    def aish_register_renderers(self, register: RegisterRenderer) -> Generator[None, None, None]:
        yield
        raise RuntimeError("after its yield")


class Fails:
    @hookimpl
    def aish_register_renderers(self, register: RegisterRenderer) -> None:
        register("half", _renderer)
        raise RuntimeError("plainly")

    @hookimpl
    def aish_startup(self) -> None:
        EVENTS.append("a failed plugin is called again")


@pytest.mark.parametrize(
    ("plugin", "reason"),
    [(FailsBefore(), "before its yield"), (FailsAfter(), "after its yield"), (Fails(), "plainly")],
)
def test_a_failing_implementation_fails_its_plugin_alone(plugin: object, reason: str) -> None:
    app = app_with(("broken", plugin), ("inner", Inner()))
    info = app.host.plugins["broken"]
    assert (info.status, info.error) == ("failed", f"aish_register_renderers raised RuntimeError: {reason}")
    assert set(app.components["renderer"]) == {"inner"}  # what the failed plugin registered is forgotten
    assert EVENTS == ["inner"]
    app.startup()
    assert EVENTS == ["inner"]  # it takes no part in later calls


class BadOption:
    @hookimpl
    def aish_register_transports(self, register: RegisterTransport) -> None:
        register("odd", lambda agent: None, default=True)  # type: ignore[call-arg,arg-type,return-value]


def test_an_option_a_kind_does_not_take_fails_the_plugin() -> None:
    app = app_with(("bad", BadOption()))
    assert app.host.plugins["bad"].error == (
        "aish_register_transports raised PluginError: plugin 'bad': transport 'odd': a transport takes no default=True"
    )


def test_a_register_callback_kept_for_later_refuses() -> None:
    kept: list[RegisterRenderer] = []

    class Keeper:
        @hookimpl
        def aish_register_renderers(self, register: RegisterRenderer) -> None:
            kept.append(register)

    app_with(("keeper", Keeper()))
    with pytest.raises(PluginError, match="outside the hook it was given to"):
        kept[0]("late", _renderer)


class FirstResultSpecs:
    @hookspec(firstresult=True)
    def aish_pick(self, options: list[str]) -> str | None:  # a test-only hook
        """Pick one."""


def test_firstresult_stops_at_the_first_answer_and_skips_a_failing_plugin() -> None:
    pm: pluggy.PluginManager = make_plugin_manager()
    pm.add_hookspecs(FirstResultSpecs)
    host = PluginHost(pm)
    calls: list[str] = []

    class Broken:
        @hookimpl(tryfirst=True)
        def aish_pick(self, options: list[str]) -> str:
            calls.append("broken")
            raise ValueError("no")

    class Picks:
        @hookimpl
        def aish_pick(self, options: list[str]) -> str:
            calls.append("picks")
            return options[0]

    class Never:
        @hookimpl(trylast=True)
        def aish_pick(self, options: list[str]) -> str:
            calls.append("never")
            return options[-1]

    for name, plugin in (("never", Never()), ("picks", Picks()), ("broken", Broken())):
        host.add(name, plugin)
    assert host.call("aish_pick", options=["a", "z"]) == "a"
    assert calls == ["broken", "picks"]
    assert host.plugins["broken"].status == "failed"
