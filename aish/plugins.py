"""Plugin discovery (cached entry points), registration and calls (pluggy), and provenance.

The ``aish.plugins`` entry-point group is read through :mod:`aish.entry_points`
(a scan cached until something is installed or uninstalled) and its modules are
imported one at a time, so a plugin that fails to import is reported and
skipped; pluggy registers them and calls their hooks. Nothing here is global:
every :class:`PluginHost` is built by :func:`load_plugins`, and tests build
fresh ones.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from aish import hookspecs
from aish.errors import PluginError

ENTRY_POINT_GROUP = "aish.plugins"

ESSENTIAL = {"commands": "aish_commands"}
"""Built-in plugins (entry-point name: module) loaded whatever the allow- and deny-lists say:
``plugins enable`` is one of their commands."""

LOADED = "loaded"
DISABLED = "disabled"
FAILED = "failed"


@dataclass
class PluginInfo:
    """What ``aish plugins`` shows about one plugin."""

    name: str
    module: str
    status: str = LOADED
    error: str | None = None
    registered: list[tuple[str, str]] = field(default_factory=list)
    """(kind, name) pairs this plugin registered, e.g. ("transport", "ndjson-tcp")."""

    @property
    def distribution(self) -> tuple[str, str] | None:
        """(distribution name, version) the plugin's module comes from, if installed."""
        return _distribution_of(self.module)


def _distribution_of(module: str) -> tuple[str, str] | None:
    import importlib.metadata  # only ``aish plugins`` asks: ~15 ms nobody else pays

    top = module.split(".", 1)[0]
    dists = importlib.metadata.packages_distributions().get(top)
    if not dists:
        return None
    name = dists[0]
    try:
        return name, importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - racing uninstall
        return name, "?"


_HOOKABLE = (types.FunctionType, types.MethodType, classmethod, staticmethod)


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager, quicker to register a module: pluggy looks at every name a plugin
    module holds with ``inspect.getattr_static`` (its imports too: ~20 per module, 0.3 ms);
    a module attribute that is not a function or method can hold no hook and is skipped
    here. Everything else is pluggy's own decision."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> pluggy.HookimplOpts | None:
        if type(plugin) is types.ModuleType and not isinstance(vars(plugin).get(name), _HOOKABLE):
            return None
        return super().parse_hookimpl_opts(plugin, name)


def make_plugin_manager() -> pluggy.PluginManager:
    """A fresh pluggy manager that knows aish's hook specs and no plugins."""
    pm = _PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs.AishHookSpecs)
    return pm


@dataclass
class PluginHost:
    """The plugin manager plus what was loaded, skipped and broken."""

    pm: pluggy.PluginManager
    plugins: dict[str, PluginInfo] = field(default_factory=dict)

    def add(self, name: str, plugin: object, module: str | None = None) -> PluginInfo:
        """Register ``plugin`` (a module or object with hook impls) under ``name``.

        A plugin with a bad hook (unknown name, wrong arguments) is reported as
        failed and left unregistered.
        """
        info = PluginInfo(name=name, module=module or str(getattr(plugin, "__name__", name)))
        try:
            self.pm.register(plugin, name=name)
            _check_hook_names(self.pm, plugin, name)
        except (pluggy.PluginValidationError, PluginError, ValueError) as exc:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            info.status, info.error = FAILED, f"bad hook: {_one_line(exc)}"
        self.plugins[name] = info
        return info

    def fail(self, name: str, module: str, reason: str, status: str = FAILED) -> None:
        """Record a plugin that was not loaded (failed, or disabled by the user)."""
        self.plugins[name] = PluginInfo(name=name, module=module, status=status, error=reason)

    def call_each(self, hook_name: str, make_kwargs: Callable[[PluginInfo], dict[str, Any]]) -> None:
        """Call ``hook_name`` on each plugin separately, with its own arguments.

        Registration hooks go through here so each ``register`` callback knows
        which plugin calls it. A plugin whose hook raises is marked failed;
        the others go on.
        """
        hook = getattr(self.pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            info = self.plugins.get(impl.plugin_name)
            if info is None or info.status != LOADED:
                continue
            kwargs = make_kwargs(info)
            try:
                impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            except Exception as exc:  # a broken plugin must not break start-up
                info.status, info.error = FAILED, f"{hook_name} raised {_one_line(exc)}"
                self.pm.unregister(impl.plugin)

    def shutdown(self) -> None:
        """Unregister every plugin."""
        for plugin in list(self.pm.get_plugins()):
            self.pm.unregister(plugin)


def _check_hook_names(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    for hook_caller in pm.get_hookcallers(plugin) or []:
        if not hook_caller.has_spec():
            raise PluginError(f"{hook_caller.name} is not an aish hook")


def _one_line(exc: BaseException) -> str:
    text = "; ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    return f"{type(exc).__name__}: {text[:400]}".rstrip(": ")


def load_plugins(
    *,
    disabled: Iterable[str] = (),
    allow: Iterable[str] | None = None,
    extra: Iterable[tuple[str, object]] = (),
    entry_points: bool = True,
) -> PluginHost:
    """Discover, filter and register plugins.

    :param disabled: plugin names not to load (not even import).
    :param allow: if given, only these plugin names are loaded.
    :param extra: (name, plugin) pairs registered as well, e.g. by tests.
    :param entry_points: set False to skip discovery altogether.
    """
    host = PluginHost(make_plugin_manager())
    disabled_set = set(disabled)
    allow_set = None if allow is None else set(allow)
    if entry_points:
        for ep_name, module, loaded, error in _discover(disabled_set, allow_set):
            if loaded is None:
                status = DISABLED if error in (_DISABLED, _NOT_ALLOWED) else FAILED
                host.fail(ep_name, module, error, status)
            else:
                host.add(ep_name, loaded, module)
    for name, plugin in extra:
        host.add(name, plugin)
    return host


_DISABLED = "disabled by configuration"
_NOT_ALLOWED = "not in the allow-list"


def _discover(disabled: set[str], allow: set[str] | None) -> list[tuple[str, str, object | None, str]]:
    """(name, module, loaded plugin or None, reason) for each entry point, sorted by name.

    Disabled and not-allowed names are skipped before their module is imported;
    a module that fails to import is recorded with the error and the others go on.
    """
    from aish.entry_points import entry_points, load, module_of

    found: list[tuple[str, str, object | None, str]] = []
    for name, value in entry_points(ENTRY_POINT_GROUP):
        module = module_of(value)
        essential = ESSENTIAL.get(name) == module
        if name in disabled and not essential:
            found.append((name, module, None, _DISABLED))
        elif allow is not None and name not in allow and not essential:
            found.append((name, module, None, _NOT_ALLOWED))
        else:
            try:
                found.append((name, module, load(value), ""))
            except Exception as exc:  # a broken plugin must not break start-up
                found.append((name, module, None, f"import failed: {_one_line(exc)}"))
    return sorted(found, key=lambda item: item[0])
