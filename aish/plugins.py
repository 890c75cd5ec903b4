"""Plugin discovery (cached entry points), registration and calls (pluggy), and provenance.

The ``aish.plugins`` entry-point group is read through :mod:`aish.entry_points`
(a scan cached until something is installed or uninstalled) and its modules are
imported one at a time, so a plugin that fails to import is reported and
skipped; pluggy registers them and calls their hooks. Nothing here is global:
every :class:`PluginHost` is built by :func:`load_plugins`, and tests build
fresh ones.

Hooks are called through pluggy's hook callers (:meth:`PluginHost.call`), so
``wrapper=True``, ``tryfirst``/``trylast`` and ``specname`` behave as pluggy
documents. Each plugin is registered as a proxy whose hook implementations are
the plugin's own, guarded: while one runs, :meth:`PluginHost.calling` names
its plugin (the provenance the ``register`` callbacks record), and one that
raises marks its plugin failed and unregisters it while the other plugins
go on (isolation). Old-style ``hookwrapper=True`` is refused at registration.
"""

from __future__ import annotations

import functools
import inspect
import threading
import types
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any

import pluggy

from aish import hookspecs
from aish.errors import PluginError
from aish.records import Record

ENTRY_POINT_GROUP = "aish.plugins"

ESSENTIAL = {"commands": "aish_commands"}
"""Built-in plugins (entry-point name: module) loaded whatever the allow- and deny-lists say:
``plugins enable`` is one of their commands."""

LOADED = "loaded"
DISABLED = "disabled"
FAILED = "failed"


class PluginInfo(Record):
    """What ``aish plugins`` shows about one plugin."""

    __slots__ = ("name", "module", "status", "error", "registered")
    name: str
    module: str
    status: str
    error: str | None
    registered: list[tuple[str, str]]
    """(kind, name) pairs this plugin registered, e.g. ("transport", "ndjson-tcp")."""

    def __init__(
        self,
        name: str,
        module: str,
        status: str = LOADED,
        error: str | None = None,
        registered: list[tuple[str, str]] | None = None,
    ) -> None:
        self.name = name
        self.module = module
        self.status = status
        self.error = error
        self.registered = [] if registered is None else registered

    @property
    def distribution(self) -> tuple[str, str] | None:
        """(distribution name, version) the plugin's module comes from, if installed
        (:func:`distributions` for several plugins at once)."""
        return distributions([self])[0]


def distributions(infos: Iterable[PluginInfo]) -> list[tuple[str, str] | None]:
    """(distribution name, version) each plugin's module comes from, if installed. Which
    distribution holds a module is found by reading every installed one's file list
    (``importlib.metadata.packages_distributions``: 60-140 ms with a hundred installed), so
    it is read once for them all."""
    import importlib.metadata  # only ``aish plugins`` asks: ~15 ms nobody else pays

    packages = importlib.metadata.packages_distributions()
    return [_distribution_of(info.module, packages) for info in infos]


def _distribution_of(module: str, packages: Mapping[str, list[str]]) -> tuple[str, str] | None:
    import importlib.metadata

    dists = packages.get(module.split(".", 1)[0])
    if not dists:
        return None
    name = dists[0]
    try:
        return name, importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - racing uninstall
        return name, "?"


_HOOK_NAMES = frozenset(name for name in vars(hookspecs.AishHookSpecs) if name.startswith("aish_"))
_HOOKABLE = (types.FunctionType, types.MethodType, classmethod, staticmethod)
_NAMESPACES = (types.ModuleType, types.SimpleNamespace)


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager, quicker to register a module: pluggy looks at every name a plugin
    module holds with ``inspect.getattr_static`` (its imports too: ~20 per module, 0.3 ms;
    a namespace's ~27 dunders, 0.1 ms); an attribute that is not a function or method
    can hold no hook and is skipped here. Everything else is pluggy's own decision."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> pluggy.HookimplOpts | None:
        # a module, or the namespace of guarded hooks aish registers for it (:meth:`PluginHost.add`):
        # only what it holds itself can be a hook, not what its type has (a namespace's ~27 dunders)
        if type(plugin) in _NAMESPACES and not isinstance(vars(plugin).get(name), _HOOKABLE):
            return None
        return super().parse_hookimpl_opts(plugin, name)


def make_plugin_manager() -> pluggy.PluginManager:
    """A fresh pluggy manager that knows aish's hook specs and no plugins."""
    pm = _PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs.AishHookSpecs)
    return pm


class PluginHost(Record):
    """The plugin manager plus what was loaded, skipped and broken."""

    __slots__ = ("pm", "plugins", "unmatched")
    pm: pluggy.PluginManager
    plugins: dict[str, PluginInfo]
    unmatched: dict[str, str]
    """Names in the allow-list or the disable list that no plugin has (a typo, an uninstalled
    plugin), each with the list it is in: ``aish plugins`` and the unknown-agent error say so."""

    def __init__(
        self,
        pm: pluggy.PluginManager,
        plugins: dict[str, PluginInfo] | None = None,
        unmatched: dict[str, str] | None = None,
    ) -> None:
        self.pm = pm
        self.plugins = {} if plugins is None else plugins
        self.unmatched = {} if unmatched is None else unmatched

    def add(self, name: str, plugin: object, module: str | None = None) -> PluginInfo:
        """Register ``plugin`` (a module or object with hook impls) under ``name``.

        A plugin with a bad hook (unknown name, wrong arguments, an option aish
        does not support) is reported as failed, naming the hook, and left
        unregistered.
        """
        info = PluginInfo(name=name, module=module or str(getattr(plugin, "__name__", name)))
        first = self.plugins.get(name)
        if first is not None and first.status == LOADED:
            if first.module == info.module and (module is not None or isinstance(plugin, types.ModuleType)):
                return first  # the same module twice (installed, and given to a test as well): loaded once
            reason = f"another plugin is named {name!r} (module {first.module}), loaded first"
            info.status, info.error = FAILED, reason
            self.plugins[f"{name} ({info.module})"] = info  # the first one stays as it is
            return info
        self.plugins[name] = info
        try:
            proxy = self._guarded(plugin, info)
            self.pm.register(proxy, name=name)
            _check_hook_names(self.pm, proxy)
        except (pluggy.PluginValidationError, PluginError, ValueError) as exc:
            if self.pm.get_plugin(name) is not None:
                self.pm.unregister(name=name)
            info.status, info.error = FAILED, f"bad hook: {_one_line(exc)}"
        return info

    def culprit(self, exc: BaseException) -> str | None:
        """The plugin whose code raised ``exc``: the one owning the innermost frame of its
        traceback that is a loaded plugin's module (or a module inside it); None: no plugin's."""
        owners = {info.module: name for name, info in self.plugins.items() if info.status == LOADED}
        found = None
        tb = exc.__traceback__
        while tb is not None:
            module = str(tb.tb_frame.f_globals.get("__name__", ""))
            while module:
                if module in owners:
                    found = owners[module]
                    break
                module = module.rpartition(".")[0]
            tb = tb.tb_next
        return found

    def fail(self, name: str, module: str, reason: str, status: str = FAILED) -> None:
        """Record a plugin that was not loaded (failed, or disabled by the user)."""
        self.plugins[name] = PluginInfo(name=name, module=module, status=status, error=reason)

    def call(self, hook_name: str, **kwargs: object) -> object:
        """Call ``hook_name`` through pluggy's hook caller: every loaded plugin's implementation,
        in pluggy's order, wrappers around the rest. Returns pluggy's result (the list of
        non-None results; the first one for a ``firstresult`` hook)."""
        caller: Callable[..., object] = getattr(self.pm.hook, hook_name)
        return caller(**kwargs)

    def hook_names(self, name: str) -> list[str]:
        """The hooks plugin ``name`` implements, sorted (none when it is not loaded)."""
        plugin = self.pm.get_plugin(name)
        callers = self.pm.get_hookcallers(plugin) if plugin is not None else None
        return sorted(caller.name for caller in callers or ())

    def calling(self) -> PluginInfo:
        """The plugin whose hook implementation is running (what a ``register`` callback records).

        :raises PluginError: no hook implementation is running (a callback kept and called later).
        """
        info = _CALLING.get()
        if info is None:
            raise PluginError("a register callback was called outside the hook it was given to")
        return info

    def _failed(self, info: PluginInfo, hook_name: str, exc: BaseException) -> None:
        """Mark ``info``'s plugin failed and unregister it: it takes no part in later calls."""
        if info.status == LOADED:
            info.status, info.error = FAILED, f"{hook_name} raised {_one_line(exc)}"
        if self.pm.get_plugin(info.name) is not None:
            self.pm.unregister(name=info.name)

    def _guarded(self, plugin: object, info: PluginInfo) -> object:
        """A proxy of ``plugin``: the same hook implementations and options, each guarded."""
        proxy = types.SimpleNamespace(__name__=info.module)
        marker = f"{hookspecs.PROJECT}_impl"
        for attr in dir(plugin):
            opts = self.pm.parse_hookimpl_opts(plugin, attr)
            if opts is None:
                if attr in _HOOK_NAMES and callable(getattr(plugin, attr, None)):
                    # pluggy would skip it without a word, and the plugin would load having registered nothing
                    raise PluginError(
                        f"plugin {info.name!r}: {attr} is not marked @hookimpl (from aish import hookimpl), "
                        "so it would never be called"
                    )
                continue
            function: Callable[..., object] = getattr(plugin, attr)
            if opts.get("hookwrapper"):
                raise PluginError(
                    f"plugin {info.name!r}: {attr}: old-style hookwrapper=True is not supported; "
                    "use @hookimpl(wrapper=True)"
                )
            guarded: Callable[..., object]
            if opts.get("wrapper"):
                if not inspect.isgeneratorfunction(inspect.unwrap(function)):
                    raise PluginError(f"plugin {info.name!r}: {attr}: a wrapper=True hook must yield once")
                guarded = self._guard_wrapper(function, info, attr)
            else:
                guarded = self._guard(function, info, attr)
            setattr(guarded, marker, dict(opts))
            setattr(proxy, attr, guarded)
        return proxy

    def _guard(self, function: Callable[..., object], info: PluginInfo, hook: str) -> Callable[..., object]:
        @functools.wraps(function)
        def guarded(*args: object) -> object:
            token = _CALLING.set(info)
            try:
                return function(*args)
            except Exception as exc:  # a broken plugin must not break the others
                self._failed(info, hook, exc)
                return None
            finally:
                _CALLING.reset(token)

        return guarded

    def _guard_wrapper(
        self, function: Callable[..., object], info: PluginInfo, hook: str
    ) -> Callable[..., Generator[None, object, object]]:
        @functools.wraps(function)
        def guarded(*args: object) -> Generator[None, object, object]:
            token = _CALLING.set(info)
            gen: Any = None
            try:
                gen = function(*args)
                next(gen)
            except Exception as exc:  # failed before its yield: the others run without it
                self._failed(info, hook, exc if not isinstance(exc, StopIteration) else PluginError("never yielded"))
                gen = None
            finally:
                _CALLING.reset(token)
            try:
                result = yield
            except BaseException as exc:
                if gen is None:
                    raise
                token = _CALLING.set(info)
                try:
                    gen.throw(exc)
                except StopIteration as stop:
                    return stop.value
                finally:
                    _CALLING.reset(token)
                raise
            if gen is None:
                return result
            token = _CALLING.set(info)
            try:
                gen.send(result)
            except StopIteration as stop:
                return stop.value
            except Exception as exc:
                self._failed(info, hook, exc)
                return result
            finally:
                _CALLING.reset(token)
            self._failed(info, hook, PluginError("yielded more than once"))
            return result

        return guarded

    def shutdown(self) -> None:
        """Unregister every plugin."""
        for plugin in list(self.pm.get_plugins()):
            self.pm.unregister(plugin)


class _Calling(threading.local):
    """The plugin whose hook implementation is running in this thread.

    What a ``ContextVar`` would hold for hooks, which are synchronous: ``contextvars`` loads a shared
    library of its own (~0.2 ms of every start-up), ``threading`` is loaded anyway.
    """

    info: PluginInfo | None = None

    def get(self) -> PluginInfo | None:
        return self.info

    def set(self, info: PluginInfo) -> PluginInfo | None:
        """Make ``info`` the running plugin; returns the one before, for :meth:`reset`."""
        before, self.info = self.info, info
        return before

    def reset(self, before: PluginInfo | None) -> None:
        self.info = before


_CALLING = _Calling()


def _check_hook_names(pm: pluggy.PluginManager, plugin: object) -> None:
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
    if entry_points:
        for name in sorted(disabled_set - host.plugins.keys()):
            host.unmatched[name] = "disable list"
        for name in sorted((allow_set or set()) - host.plugins.keys()):
            host.unmatched[name] = "allow-list"
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
