"""``plugins enable NAME`` / ``plugins disable NAME``: persisted in ``[settings] disable_plugins``.

The change is written to the configuration file (created when missing) and
takes effect when aish next starts; a running process keeps its plugins.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from aish.config import ENV_ALLOW, ENV_DISABLE
from aish.config_edit import read_config_text, set_settings_list, write_config_text
from aish.errors import ConfigError, UnknownNameError, UsageError
from aish.plugins import ESSENTIAL

USAGE = "usage: plugins [enable NAME | disable NAME]"
KEY = "disable_plugins"


def plugins_command(
    words: Sequence[str],
    *,
    known: Iterable[str],
    path: Path,
    out: TextIO,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run ``plugins enable|disable NAME`` against the config file at ``path``; return the exit status."""
    if len(words) != 2 or words[0] not in ("enable", "disable"):
        raise UsageError(USAGE)
    action, name = words
    known_names = sorted(known)
    if name not in known_names:
        raise UnknownNameError("plugin", name, known_names)
    if action == "disable" and name in ESSENTIAL:
        raise UsageError(f"plugins: {name} is essential to aish and cannot be disabled")
    env = os.environ if environ is None else environ
    disabled = set_disabled(path, name, disabled=action == "disable")
    verb = "disabled" if action == "disable" else "enabled"
    note = ""
    if action == "enable" and name in _env_names(env.get(ENV_DISABLE, "")):
        note = f" ({ENV_DISABLE} still disables it)"
    elif action == "enable" and env.get(ENV_ALLOW) and name not in _env_names(env[ENV_ALLOW]):
        note = f" ({ENV_ALLOW} leaves it out)"
    state = ", ".join(disabled) or "none"
    from aish.wordwrap import say

    say(out, f"plugin {name} {verb} in {path}; takes effect when aish next starts{note} (disabled: {state})")
    return 0


def set_disabled(path: Path, name: str, *, disabled: bool) -> list[str]:
    """Add ``name`` to, or remove it from, ``disable_plugins`` in ``path``; the new list."""
    where = str(path)
    text = read_config_text(path)
    current = _current(text, where)
    names = [n for n in current if n != name] + ([name] if disabled else [])
    if names == current and path.exists():
        return names
    write_config_text(path, set_settings_list(text, KEY, names, where=where))
    return names


def _current(text: str, where: str) -> list[str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None
    settings = data.get("settings", {})
    value = settings.get(KEY, []) if isinstance(settings, dict) else []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: settings.{KEY}: expected a list of strings")
    return value


def _env_names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]
