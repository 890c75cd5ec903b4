"""Configuration: a TOML file of settings and agents.

Found at ``--config PATH``, else ``$AISH_CONFIG``, else
``$XDG_CONFIG_HOME/aish/config.toml`` (``~/.config/aish/config.toml``). A
missing default file is not an error: aish then runs on the demo agents.
Every error names the file, and the agent and key when there is one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aish import validate
from aish.agents import (
    DEFAULT_BACKOFF_INITIAL,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_CONVERSATION_CHARS,
    DEFAULT_CONVERSATION_TURNS,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    AgentConfig,
)
from aish.errors import ConfigError, closest, visible
from aish.records import Record

if TYPE_CHECKING:
    from pathlib import Path

RESERVED_NAMES = frozenset(
    {"echo", "cat", "agents", "plugins", "help", "quit", "exit", "history", "set", "shell", "alias", "macro"}
    | {"team-chat", "new", "conversations"}
)
"""Names an agent cannot take: built-in stages and shell commands would shadow it."""

ENV_CONFIG = "AISH_CONFIG"
ENV_DISABLE = "AISH_DISABLE_PLUGINS"
ENV_ALLOW = "AISH_PLUGINS"

_AGENT_STR_KEYS = ("transport", "url", "codec", "model", "api_key_env", "renderer", "description")
_AGENT_SECONDS_KEYS = ("connect_timeout", "idle_timeout", "backoff_initial", "backoff_max")
_AGENT_COUNT_KEYS = ("max_retries", "conversation_turns", "conversation_chars")
MAX_BUDGET = 100_000_000
"""The largest conversation budget (turns or characters) a config may set."""
_AGENT_KEYS = {*_AGENT_STR_KEYS, *_AGENT_SECONDS_KEYS, *_AGENT_COUNT_KEYS, "headers", "resume", "session", "options"}


class Settings(Record):
    """The ``[settings]`` table."""

    __slots__ = (
        "renderer",
        "history",
        "history_path",
        "disable_plugins",
        "plugins",
        "plugin_agents",
        "debug",
        "stats",
        "parallel_renderer",
        "default_agent",
        "wrap",
    )
    renderer: str | None
    """None: the renderer a plugin registered with ``default=True``."""
    history: str | None
    """A history backend's name, ``"off"``, or None: the backend a plugin registered as default."""
    history_path: str | None
    """The history file (``~`` expanded); None: the backend's file in ``$XDG_DATA_HOME/aish``."""
    disable_plugins: list[str]
    plugins: list[str] | None
    """Allow-list: when set, only these plugins load."""
    plugin_agents: bool
    """False hides agents offered by plugins (such as the offline demo agents)."""
    debug: bool
    stats: bool
    """True: after each pipeline, per-stage time to first token, duration, tokens and tokens/s on stderr."""
    parallel_renderer: str | None
    """The renderer for parallel groups on a terminal; None: the one a plugin registered with ``parallel=True``."""
    default_agent: str | None
    """The agent ``aish TEXT...`` asks when its first word names nothing (``aish what is a monad``)."""
    wrap: bool
    """False: answers on a terminal are not broken between words (the terminal breaks them where it must)."""

    def __init__(
        self,
        renderer: str | None = None,
        history: str | None = None,
        history_path: str | None = None,
        disable_plugins: list[str] | None = None,
        plugins: list[str] | None = None,
        plugin_agents: bool = True,
        debug: bool = False,
        stats: bool = False,
        parallel_renderer: str | None = None,
        default_agent: str | None = None,
        wrap: bool = True,
    ) -> None:
        self.renderer = renderer
        self.history = history
        self.history_path = history_path
        self.disable_plugins = [] if disable_plugins is None else disable_plugins
        self.plugins = plugins
        self.plugin_agents = plugin_agents
        self.debug = debug
        self.stats = stats
        self.parallel_renderer = parallel_renderer
        self.default_agent = default_agent
        self.wrap = wrap


_SETTINGS_KEYS = frozenset(Settings.__slots__)


class Config(Record):
    """A loaded configuration."""

    __slots__ = ("path", "settings", "agents", "raw", "groups")
    path: str | None
    """The file it was read from (a string: pathlib costs 1-2 ms of every start-up), or None."""
    settings: Settings
    agents: dict[str, AgentConfig]
    raw: Mapping[str, Any]
    groups: dict[str, tuple[str, ...]]
    """``[groups]``: named lists of agents for ``team-chat --group NAME``."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        settings: Settings | None = None,
        agents: dict[str, AgentConfig] | None = None,
        raw: Mapping[str, Any] | None = None,
        groups: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.path = None if path is None else os.fspath(path)
        self.settings = Settings() if settings is None else settings
        self.agents = {} if agents is None else agents
        self.raw = {} if raw is None else raw
        self.groups = {} if groups is None else groups


def default_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/aish/config.toml`` with the XDG fallback."""
    from pathlib import Path

    return Path(_default(os.environ if environ is None else environ))


def _default(env: Mapping[str, str]) -> str:
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "aish", "config.toml")


def config_file(config: Config, environ: Mapping[str, str] | None = None) -> Path:
    """The file that settings commands edit (``plugins enable|disable``): the one loaded, else the default."""
    from pathlib import Path

    return Path(config.path) if config.path else default_path(environ)


def _locate(explicit: str | None, env: Mapping[str, str]) -> tuple[str, bool]:
    if explicit:
        return explicit, True
    if env.get(ENV_CONFIG):
        return env[ENV_CONFIG], True
    return _default(env), False


def load_config(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Load the configuration, applying the plugin environment variables."""
    env = os.environ if environ is None else environ
    path, required = _locate(explicit, env)
    if not os.path.exists(path):
        if required:
            raise ConfigError(f"{path}: configuration file not found")
        config = Config()
    else:
        config = parse_config(_read(path), path)
    _apply_env(config.settings, env)
    return config


def unread_config(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """The configuration a session works with while its file is invalid: no agents or settings of
    the file, only its path (so ``agents edit`` opens it) and the environment's plugin lists."""
    env = os.environ if environ is None else environ
    config = Config(_locate(explicit, env)[0])
    _apply_env(config.settings, env)
    return config


def _read(path: str) -> dict[str, Any]:
    from aish import toml_cache  # tomllib only for a file whose text was not parsed before

    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        at, line = exc.start, data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}: not UTF-8: byte 0x{data[at]:02x} at offset {at} (line {line})") from None
    try:
        return toml_cache.loads(text, path)
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: arrays or tables nested too deeply") from None


def _apply_env(settings: Settings, env: Mapping[str, str]) -> None:
    if env.get(ENV_DISABLE):
        settings.disable_plugins = [*settings.disable_plugins, *_names(env[ENV_DISABLE])]
    if env.get(ENV_ALLOW):
        settings.plugins = _names(env[ENV_ALLOW])


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def parse_config(data: Mapping[str, Any], path: str | os.PathLike[str] | None = None) -> Config:
    """Validate a parsed TOML document into a :class:`Config`."""
    where = str(path) if path else "<config>"
    unknown = set(data) - {"settings", "agents", "groups"}
    if unknown:
        raise ConfigError(f"{where}: {_misplaced(sorted(unknown)[0], data)}")
    settings = _parse_settings(_table(data, "settings", where), where)
    agents_table = _table(data, "agents", where)
    tables = {name: _table(agents_table, name, where, f"agents.{name}") for name in agents_table}
    agents = {name: parse_agent(name, _extended(name, tables, where), where) for name in tables}
    groups = _parse_groups(_table(data, "groups", where), where)
    return Config(path=path, settings=settings, agents=agents, raw=data, groups=groups)


def extends_chain(name: str, tables: Mapping[str, Mapping[str, Any]], where: str = "<config>") -> list[str]:
    """``[NAME, BASE, BASE's base, ...]``: the agents ``[agents.NAME]``'s ``extends`` leads through
    (``help AGENT`` shows it); :class:`ConfigError` for a cycle, a name not in ``tables``, a non-string."""
    chain = [name]
    table = tables[name]
    while "extends" in table:
        base = table["extends"]
        prefix = f"{where}: agent {chain[-1]!r}: extends"
        if not isinstance(base, str):
            raise ConfigError(f"{prefix}: expected the name of another agent of this file")
        if base in chain:
            raise ConfigError(f"{prefix} {base!r}: a cycle ({' -> '.join([*chain, base])})")
        if base not in tables:
            close = closest(base, sorted(tables))
            hint = f", did you mean {close!r}?" if close else f" (agents here: {', '.join(sorted(tables))})"
            raise ConfigError(f"{prefix} {base!r}: no such agent in this file{hint}")
        chain.append(base)
        table = tables[base]
    return chain


def _extended(name: str, tables: Mapping[str, Mapping[str, Any]], where: str) -> Mapping[str, Any]:
    """``[agents.NAME]`` with ``extends = "BASE"`` resolved: BASE's table (itself resolved), then this
    one's keys over it; ``options`` and ``headers`` merge key by key, ``description`` is not inherited.

    An agent that only changes another's system prompt, model or options (a role, as aichat and
    llm's templates have) then needs no copy of its URL, key variable or timeouts.
    """
    chain = extends_chain(name, tables, where)
    merged: dict[str, Any] = {}
    for link in reversed(chain):  # the furthest base first, then each agent over it
        own = tables[link]
        for key, value in own.items():
            if key in ("options", "headers") and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
                merged[key] = {**merged[key], **value}
            elif key != "extends":
                merged[key] = value
        if link != name:
            merged.pop("description", None)
    return merged


def _agent_key_hint(agent: str, key: str) -> str:
    """What an unknown key of ``[agents.NAME]`` might have meant."""
    if "key" in key:
        return " (put keys in the environment and name it with api_key_env)"
    close = closest(key, sorted({*_AGENT_KEYS, "extends"}), 0.7)
    if close:
        return f", did you mean {close!r}?"
    return f" (a request option such as temperature goes under [agents.{agent}.options])"


def _misplaced(key: str, data: Mapping[str, Any]) -> str:
    """What is wrong with ``key`` at the top of a config file: a setting outside ``[settings]``,
    a misspelt table, or a key that belongs nowhere."""
    if key in _SETTINGS_KEYS and not isinstance(data[key], Mapping):
        return f"{key!r} is a setting: put it under [settings] ('{key} = ...' after a line '[settings]')"
    close = closest(key, ("settings", "agents", "groups"), 0.7)
    guess = f", did you mean {close!r}?" if close else " (expected settings, agents, groups)"
    kind = "table" if isinstance(data[key], Mapping) else "key"
    return f"unknown {kind} {visible(key)!r}{guess}"


def _parse_groups(table: Mapping[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    """``NAME = ["one", "two"]``: non-empty lists of agent names (checked against agents when used)."""
    groups: dict[str, tuple[str, ...]] = {}
    for name, members in table.items():
        if not isinstance(members, list) or not members or not all(isinstance(m, str) and m for m in members):
            raise ConfigError(f"{where}: group {name!r}: expected a non-empty list of agent names")
        if len(set(members)) != len(members):
            raise ConfigError(f"{where}: group {name!r}: an agent is listed twice")
        groups[name] = tuple(members)
    return groups


def _table(data: Mapping[str, Any], key: str, where: str, label: str | None = None) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: [{visible(label or key)}] must be a table")
    return value


def _parse_settings(table: Mapping[str, Any], where: str) -> Settings:
    s = Settings()
    for key, value in table.items():
        if key not in _SETTINGS_KEYS:
            close = closest(key, sorted(_SETTINGS_KEYS), 0.7)
            raise ConfigError(
                f"{where}: settings: unknown key {key!r}" + (f", did you mean {close!r}?" if close else "")
            )
        if key in ("renderer", "history", "history_path", "parallel_renderer", "default_agent"):
            setattr(s, key, _expect(value, str, where, f"settings.{key}"))
            if "\x00" in value:
                raise ConfigError(f"{where}: settings.{key}: may not hold a NUL character")
        elif key in ("plugin_agents", "debug", "stats", "wrap"):
            setattr(s, key, _expect(value, bool, where, f"settings.{key}"))
        else:
            items = _expect(value, list, where, f"settings.{key}")
            setattr(s, key, [_expect(v, str, where, f"settings.{key}") for v in items])
    return s


def _check(prefix: str, key: str, problem: str | None) -> None:
    if problem is not None:
        raise ConfigError(f"{prefix}: {key}: {problem}")


def _expect(value: Any, kind: type, where: str, key: str) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{where}: {key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def parse_agent(name: str, table: Mapping[str, Any], where: str) -> AgentConfig:
    """One ``[agents.NAME]`` table. Errors name the file, the agent and the key."""
    prefix = f"{where}: agent {name!r}"
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"{prefix}: names may hold letters, digits, '-' and '_' only")
    if name in RESERVED_NAMES:
        raise ConfigError(f"{prefix}: {name!r} is a built-in command; choose another name")
    unknown = set(table) - _AGENT_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"{prefix}: unknown key {key!r}{_agent_key_hint(name, key)}")
    for key in ("transport", "url", "codec"):
        if key not in table:
            raise ConfigError(f"{prefix}: missing key {key!r}")
    values: dict[str, Any] = {}
    for key in _AGENT_STR_KEYS:
        if key in table:
            values[key] = _expect(table[key], str, where, f"agent {name!r}: {key}")
    for key in _AGENT_SECONDS_KEYS:
        if key in table:
            _check(prefix, key, validate.seconds_problem(table[key]))
            values[key] = float(table[key])
    if "max_retries" in table:
        _check(prefix, "max_retries", validate.retries_problem(table["max_retries"]))
        values["max_retries"] = table["max_retries"]
    for key in ("conversation_turns", "conversation_chars"):
        if key in table:
            v = table[key]
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_BUDGET:
                raise ConfigError(f"{prefix}: {key}: expected a whole number >= 0, at most {MAX_BUDGET}")
            values[key] = v
    for key in ("resume", "session"):
        if key in table:
            values[key] = _expect(table[key], bool, where, f"agent {name!r}: {key}")
    _check(prefix, "url", validate.url_problem(values["url"]))
    if "api_key_env" in values:
        _check(prefix, "api_key_env", validate.env_name_problem(values["api_key_env"]))
    headers = table.get("headers", {})
    if not isinstance(headers, Mapping) or not all(isinstance(v, str) for v in headers.values()):
        raise ConfigError(f"{prefix}: headers: expected a table of strings")
    _check(prefix, "headers", validate.headers_problem(headers))
    options = table.get("options", {})
    if not isinstance(options, Mapping):
        raise ConfigError(f"{prefix}: options: expected a table")
    _check(prefix, "options", validate.json_problem(options))
    return AgentConfig(
        name=name,
        transport=values["transport"],
        url=values["url"],
        codec=values["codec"],
        model=values.get("model"),
        headers=dict(headers),
        api_key_env=values.get("api_key_env"),
        connect_timeout=values.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT),
        idle_timeout=values.get("idle_timeout", DEFAULT_IDLE_TIMEOUT),
        max_retries=values.get("max_retries", DEFAULT_MAX_RETRIES),
        backoff_initial=values.get("backoff_initial", DEFAULT_BACKOFF_INITIAL),
        backoff_max=values.get("backoff_max", DEFAULT_BACKOFF_MAX),
        resume=values.get("resume", True),
        session=values.get("session", False),
        conversation_turns=values.get("conversation_turns", DEFAULT_CONVERSATION_TURNS),
        conversation_chars=values.get("conversation_chars", DEFAULT_CONVERSATION_CHARS),
        renderer=values.get("renderer"),
        description=values.get("description", ""),
        options=dict(options),
        source=where,
    )
