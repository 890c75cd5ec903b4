"""API keys stored by ``keys set NAME`` (decision 91), for a variable the environment leaves unset.

An agent's key is the environment variable its ``api_key_env`` names; when that
variable is unset or empty, the key stored under the same name is used. The
store is ``$XDG_CONFIG_HOME/aish/keys.json`` (else ``~/.config/aish/keys.json``),
beside the configuration file but never in it: a JSON object of variable name
to key, mode 0600 in a 0700 directory, replaced whole (a private temporary file
renamed over it), as llm keeps its ``keys.json``. A key is read when a request
is built, like a variable, and is scrubbed from errors and history like one.

A file that is not a JSON object of strings counts as holding no key; ``keys``
says so, and ``keys set`` refuses to replace it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

FILE_NAME = "keys.json"

_cache: dict[str, tuple[tuple[int, int], dict[str, str]]] = {}
"""Per path: the file's (mtime_ns, size) and its keys, so that a request reads the file once per change."""


class KeyStoreError(ValueError):
    """The store cannot be read as keys, or written."""


def keys_path(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "aish", FILE_NAME)


def api_key(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The key for variable ``name``: the environment's, else the stored one; None when neither has one."""
    env = os.environ if environ is None else environ
    return env.get(name) or stored_key(name, environ)


def stored_key(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The key stored for variable ``name``, or None (no store, no key, or a store that is not one)."""
    try:
        return stored_keys(environ).get(name) or None
    except KeyStoreError:
        return None


def stored_keys(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every stored key by variable name ({} without a store). Raises :class:`KeyStoreError` for a
    file that is not a JSON object of strings."""
    path = keys_path(environ)
    try:
        stat = os.stat(path)
    except OSError:
        return {}
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return dict(cached[1])
    keys = _read(path)
    _cache[path] = (stamp, keys)
    return dict(keys)


def _read(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError) as exc:
        raise KeyStoreError(f"{path}: not a keys file ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise KeyStoreError(f"{path}: not a keys file (expected a JSON object of names to keys)")
    return data


def store_key(name: str, value: str | None, environ: Mapping[str, str] | None = None) -> str:
    """Store ``value`` under ``name`` (None removes it); return the file's path. Raises
    :class:`KeyStoreError` (with the reason) when the file cannot be read or written."""
    from pathlib import Path

    from aish.kit.history import write_atomically
    from aish.private_dirs import make_private_dirs

    path = keys_path(environ)
    keys = stored_keys(environ)
    if value is None:
        keys.pop(name, None)
    else:
        keys[name] = value
    try:
        make_private_dirs(os.path.dirname(path))
        write_atomically(Path(path), json.dumps(dict(sorted(keys.items())), indent=2) + "\n")  # 0600, renamed
    except OSError as exc:
        raise KeyStoreError(f"{path}: {exc.strerror or exc}") from None
    _cache.pop(path, None)
    return path
