"""The application object: configuration, plugins, and the components they registered.

Built by :func:`build_app`; the CLI, the REPL and tests all go through it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from aish.agents import AgentConfig, AgentPreparer
from aish.commands import CommandFunc, CommandSpec, Completer, SecretWords, check_registration, typed_secrets
from aish.config import Config, load_config
from aish.contracts import (
    Codec,
    CodecFactory,
    HistoryBackend,
    HistoryFactory,
    Renderer,
    RendererFactory,
    RenderTarget,
    StreamExtension,
    StreamExtensionFactory,
    Transport,
    TransportFactory,
)
from aish.errors import PluginError, UnknownAgentError, UnknownNameError, UsageError
from aish.plugins import LOADED, PluginHost, load_plugins
from aish.records import FrozenRecord, Record, freeze
from aish.stream.extensions import with_extensions

KINDS = ("transport", "codec", "renderer", "history", "extension")
_HOOKS = {
    "transport": "aish_register_transports",
    "codec": "aish_register_codecs",
    "renderer": "aish_register_renderers",
    "history": "aish_register_history_backends",
    "extension": "aish_register_stream_extensions",
}
_OPTIONS = {"transport": (), "codec": (), "renderer": ("default", "parallel"), "history": ("default",), "extension": ()}
"""The options of ``register`` each kind of component takes (``default=True``...)."""


class Registration(FrozenRecord):
    """A named component and the plugin that registered it."""

    __slots__ = ("kind", "name", "factory", "plugin", "description", "default", "parallel")
    kind: str
    name: str
    factory: Callable[..., object]
    """A :data:`aish.TransportFactory`, :data:`aish.CodecFactory`... as ``kind`` says."""
    plugin: str
    description: str
    default: bool
    parallel: bool
    """A renderer offered for parallel groups (lanes) on a terminal."""

    def __init__(
        self,
        kind: str,
        name: str,
        factory: Callable[..., object],
        plugin: str,
        description: str = "",
        default: bool = False,
        parallel: bool = False,
    ) -> None:
        freeze(
            self,
            kind=kind,
            name=name,
            factory=factory,
            plugin=plugin,
            description=description,
            default=default,
            parallel=parallel,
        )


class _PluginAgent(Record):
    __slots__ = ("agent", "demo", "plugin", "prepare")
    agent: AgentConfig
    plugin: str
    prepare: AgentPreparer | None
    demo: bool

    def __init__(
        self, agent: AgentConfig, plugin: str, prepare: AgentPreparer | None = None, demo: bool = False
    ) -> None:
        self.agent = agent
        self.plugin = plugin
        self.prepare = prepare
        self.demo = demo


class App(Record):
    """Everything a run needs. Components are created on demand, by name."""

    __slots__ = ("config", "host", "components", "commands", "_plugin_agents", "_prepared")
    config: Config
    host: PluginHost
    components: dict[str, dict[str, Registration]]
    commands: dict[str, CommandSpec]
    """Every command by name (``agents``, ``history``...; see :mod:`aish.commands`)."""
    _plugin_agents: dict[str, _PluginAgent]
    _prepared: dict[str, AgentConfig]

    def __init__(
        self,
        config: Config,
        host: PluginHost,
        components: dict[str, dict[str, Registration]] | None = None,
        commands: dict[str, CommandSpec] | None = None,
        _plugin_agents: dict[str, _PluginAgent] | None = None,
        _prepared: dict[str, AgentConfig] | None = None,
    ) -> None:
        self.config = config
        self.host = host
        self.components = {} if components is None else components
        self.commands = {} if commands is None else commands
        self._plugin_agents = {} if _plugin_agents is None else _plugin_agents
        self._prepared = {} if _prepared is None else _prepared

    # ------------------------------------------------------------ registration
    def collect(self) -> None:
        """Ask every plugin for its components, agents and commands (each hook one pluggy call)."""
        for kind in KINDS:
            self.components.setdefault(kind, {})
            self.host.call(_HOOKS[kind], register=self._registrar(kind))
        self.host.call("aish_register_agents", register=self._register_agent, app=self)
        self.host.call("aish_register_commands", register=self._register_command)
        self._drop_failed()

    def refresh_agents(self) -> None:
        """Ask the plugins for their agents again: a key stored by ``keys set`` may make one appear."""
        self._plugin_agents.clear()
        self._prepared.clear()
        for info in self.host.plugins.values():
            info.registered[:] = [entry for entry in info.registered if entry[0] != "agent"]
        self.host.call("aish_register_agents", register=self._register_agent, app=self)
        self._drop_failed()

    def _drop_failed(self) -> None:
        """Forget what a plugin registered before one of its hooks failed."""
        failed = {name for name, info in self.host.plugins.items() if info.status != "loaded"}
        for table in self.components.values():
            for name in [n for n, reg in table.items() if reg.plugin in failed]:
                del table[name]
        for name in [n for n, pa in self._plugin_agents.items() if pa.plugin in failed]:
            del self._plugin_agents[name]
        for name in [n for n, spec in self.commands.items() if spec.plugin in failed]:
            del self.commands[name]

    def _registrar(self, kind: str) -> Callable[..., None]:
        """The ``register`` callback of ``kind``'s hook; it records the calling plugin."""

        def register(
            name: str,
            factory: Callable[..., object],
            *,
            description: str = "",
            default: bool = False,
            parallel: bool = False,
        ) -> None:
            info = self.host.calling()
            table = self.components[kind]
            if not isinstance(name, str) or not name:
                raise PluginError(f"plugin {info.name!r} registered a {kind} with no name")
            for option, value in (("default", default), ("parallel", parallel)):
                if value and option not in _OPTIONS[kind]:
                    raise PluginError(f"plugin {info.name!r}: {kind} {name!r}: a {kind} takes no {option}=True")
            if not callable(factory):
                raise PluginError(f"plugin {info.name!r}: {kind} {name!r}: {type(factory).__name__} is not a factory")
            if name in table:
                raise PluginError(f"{kind} {name!r} is already registered by plugin {table[name].plugin!r}")
            table[name] = Registration(kind, name, factory, info.name, description, default, parallel)
            info.registered.append((kind, name))

        return register

    def _register_agent(self, agent: AgentConfig, *, prepare: AgentPreparer | None = None, demo: bool = False) -> None:
        """The ``register`` callback of ``aish_register_agents``."""
        info = self.host.calling()
        if agent.name in self._plugin_agents:
            other = self._plugin_agents[agent.name].plugin
            raise PluginError(f"agent {agent.name!r} is already registered by plugin {other!r}")
        self._plugin_agents[agent.name] = _PluginAgent(agent, info.name, prepare, demo is True)
        info.registered.append(("agent", agent.name))

    def _register_command(
        self,
        name: str,
        func: CommandFunc,
        *,
        summary: str,
        usage: str = "",
        complete: Completer | None = None,
        raw: bool | str = False,
        mends_config: str | None = None,
        expands: bool = False,
        secret_words: SecretWords | None = None,
    ) -> None:
        """The ``register`` callback of ``aish_register_commands``."""
        info = self.host.calling()
        problem = check_registration(name, func, summary, info.name, mends_config, raw, secret_words)
        if problem is not None:
            raise PluginError(problem)
        if name in self.commands:
            raise PluginError(f"command {name!r} is already registered by plugin {self.commands[name].plugin!r}")
        self.commands[name] = CommandSpec(
            name,
            func,
            info.name,
            summary.strip(),
            usage,
            complete,
            raw if isinstance(raw, str) else bool(raw),
            mends_config,
            expands is True,
            secret_words,
        )
        info.registered.append(("command", name))

    def replace_config(self, config: Config) -> None:
        """Use ``config`` from now on (the shell read its file again): agents are prepared afresh."""
        self.config = config
        self._prepared.clear()

    # ----------------------------------------------------------------- agents
    def agents(self) -> dict[str, AgentConfig]:
        """Every agent by name: the configuration's, then plugin agents it does not shadow."""
        found: dict[str, AgentConfig] = {}
        if self.config.settings.plugin_agents:
            found.update({name: pa.agent for name, pa in self._plugin_agents.items()})
        found.update(self.config.agents)
        return dict(sorted(found.items()))

    def secrets(self) -> list[str]:
        """What must never be shown or recorded: every agent's API key and URL credentials."""
        return [secret for agent in self.agents().values() for secret in agent.secrets()]

    def typed_secrets(self, line: str) -> list[str]:
        """The secrets typed on ``line`` as a command's words (``keys set NAME KEY``: ``KEY``), which
        the command registered as secret (``secret_words``)."""
        return typed_secrets(line, self.commands)

    def is_demo(self, name: str) -> bool:
        """Whether agent ``name`` is one to try aish with (a plugin registered it with ``demo=True``,
        and the configuration file has no agent of that name)."""
        offered = self._plugin_agents.get(name)
        return offered is not None and offered.demo and name not in self.config.agents

    def example_agent(self) -> str | None:
        """The agent that examples and hints name: the default agent, else the configuration
        file's first that is no demo, else the first (None without agents)."""
        agents = self.agents()
        default = self.config.settings.default_agent
        if default in agents:
            return default
        real = [name for name in agents if not self.is_demo(name)]
        in_order = [name for name in self.config.agents if name in real]  # the file's order, not the alphabet's
        names = in_order or real or list(agents)
        return names[0] if names else None

    def is_agent(self, name: str) -> bool:
        return name in self.config.agents or (self.config.settings.plugin_agents and name in self._plugin_agents)

    def agent(self, name: str) -> AgentConfig:
        """The agent called ``name``, prepared for use (raises UnknownAgentError)."""
        if name in self._prepared:
            return self._prepared[name]
        if name in self.config.agents:
            agent = self.config.agents[name]
        elif self.config.settings.plugin_agents and name in self._plugin_agents:
            pa = self._plugin_agents[name]
            agent = pa.prepare(pa.agent) if pa.prepare else pa.agent
        else:
            raise UnknownAgentError(name, list(self.agents()))
        for kind, value in (("transport", agent.transport), ("codec", agent.codec), ("renderer", agent.renderer)):
            if value is not None and value not in self.components.get(kind, {}):
                known = ", ".join(sorted(self.components.get(kind, {}))) or "none"
                where = agent.source or "configuration"
                raise UnknownNameError(kind, value).reworded(  # exit 3, as docs/usage.md says
                    f"{where}: agent {name!r}: {kind}: unknown {kind} {value!r} (known: {known}; see 'aish plugins')"
                )
        self._prepared[name] = agent
        return agent

    # ------------------------------------------------------------- components
    def registration(self, kind: str, name: str, offered: list[str] | None = None) -> Registration:
        """The registration of ``name``; unknown, an error listing the registered names (or ``offered``)."""
        table = self.components.get(kind, {})
        if name not in table:
            error = UnknownNameError(kind, name, list(table) if offered is None else offered)
            idle = sorted(n for n, info in self.host.plugins.items() if info.status != LOADED)
            if idle and error.suggestion is None:  # it may be a plugin's that is not loaded
                listed = ", ".join(idle[:4]) + (f" and {len(idle) - 4} more" if len(idle) > 4 else "")
                error.args = (f"{error}; not loaded: {listed} (see 'aish plugins')",)
            raise error
        return table[name]

    def default_name(self, kind: str) -> str:
        """The one component of ``kind`` registered with ``default=True``."""
        claims = sorted(name for name, reg in self.components.get(kind, {}).items() if reg.default)
        if len(claims) == 1:
            return claims[0]
        setting = "renderer" if kind == "renderer" else kind
        if not claims:
            raise UsageError(f"no default {kind}: choose one with [settings] {setting} (see 'aish plugins')")
        raise UsageError(f"several {kind}s claim to be the default ({', '.join(claims)}): set [settings] {setting}")

    def transport(self, agent: AgentConfig) -> Transport:
        """The agent's transport, its connections wrapped by every stream extension."""
        factory = cast(TransportFactory, self.registration("transport", agent.transport).factory)
        transport = factory(agent)
        return with_extensions(transport, self.stream_extensions(agent))

    def stream_extensions(self, agent: AgentConfig) -> list[StreamExtension]:
        """The registered stream extensions that apply to ``agent``, in name order."""
        table = self.components.get("extension", {})
        made = (cast(StreamExtensionFactory, table[name].factory)(agent) for name in sorted(table))
        return [extension for extension in made if extension is not None]

    def codec(self, agent: AgentConfig) -> Codec:
        factory = cast(CodecFactory, self.registration("codec", agent.codec).factory)
        return factory(agent)

    def renderer(self, name: str, target: RenderTarget) -> Renderer:
        factory = cast(RendererFactory, self.registration("renderer", name).factory)
        return factory(target)

    def history(self, name: str, options: Mapping[str, Any] | None = None) -> HistoryBackend:
        factory = cast(HistoryFactory, self.registration("history", name).factory)
        return factory(options or {})

    # -------------------------------------------------------------- lifecycle
    def startup(self) -> None:
        """Call ``aish_startup`` (one pluggy call); a plugin that raises is marked failed, the rest go on."""
        self.host.call("aish_startup", app=self)

    def shutdown(self) -> None:
        """Call ``aish_shutdown`` (one pluggy call), whatever happened before."""
        self.host.call("aish_shutdown", app=self)


def build_app(
    config: Config | None = None,
    *,
    extra_plugins: Iterable[tuple[str, object]] = (),
    entry_points: bool = True,
) -> App:
    """Load configuration (unless given) and plugins, and collect registrations."""
    config = config if config is not None else load_config()
    s = config.settings
    host = load_plugins(disabled=s.disable_plugins, allow=s.plugins, extra=extra_plugins, entry_points=entry_points)
    app = App(config=config, host=host)
    app.collect()
    return app
