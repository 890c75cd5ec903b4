"""The entry points of one group, from a cache that notices installs and uninstalls.

Scanning installed distributions (``importlib.metadata``) costs 15-25 ms on
every start, most of it importing ``importlib.metadata`` itself (email,
zipfile, csv...). The result is kept in ``$XDG_CACHE_HOME/aish/entry-points.json``
under a key made of the interpreter, ``sys.path``, the modification time of
every ``sys.path`` entry and of every ``*.dist-info``/``*.egg-info``
``entry_points.txt`` in them: installing or uninstalling a distribution
changes its directory, editing an entry point changes its file, and either
makes the key differ, so the next start scans again (the same key stevedore
uses). Computing the key is a few ``stat`` calls; nothing is cached in the
process, so a plugin installed while aish runs is seen by the next
:func:`load_plugins <aish.plugins.load_plugins>`.
"""

from __future__ import annotations

import os
import sys

CACHE_FILE = "entry-points.json"
_META_SUFFIXES = (".dist-info", ".egg-info")
_FORMAT = 1
_KEYS_KEPT = 8
"""Keys kept in the file: ``aish`` and ``python -m aish`` (from several directories) differ in ``sys.path``."""


def cache_path(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """Where the scan is cached: ``$XDG_CACHE_HOME/aish/entry-points.json``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aish", CACHE_FILE)


def path_key(path: list[str] | None = None) -> str:
    """What the cache is valid for: interpreter, ``sys.path`` and the mtimes that change on (un)install."""
    parts = [sys.executable, sys.prefix]
    for entry in sys.path if path is None else path:
        where = entry or "."
        parts.append(f"{entry}\0{_mtime(where)}")
        try:
            names = sorted(e.name for e in os.scandir(where) if e.name.endswith(_META_SUFFIXES))
        except OSError:  # a zip file, a missing directory
            continue
        for name in names:
            parts.append(f"{name}\0{_mtime(os.path.join(where, name, 'entry_points.txt'))}")
    return "\n".join(parts)


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def entry_points(group: str, *, cache: str | None = None) -> list[tuple[str, str]]:
    """(name, value) of each entry point in ``group``, in ``importlib.metadata``'s order.

    :param cache: the cache file (default :func:`cache_path`); ``""`` scans without a cache.
    """
    import json

    where = cache_path() if cache is None else cache
    if not where:
        return _scan(group)
    key = path_key()
    entries: dict[str, dict[str, list[list[str]]]] = {}
    try:
        with open(where, encoding="utf-8") as f:
            loaded = json.load(f)
        if isinstance(loaded, dict) and loaded.get("version") == _FORMAT:
            entries = loaded["entries"]
        found = entries[key][group]
        return [(str(name), str(value)) for name, value in found]
    except (OSError, ValueError, LookupError, TypeError, AttributeError):
        pass  # no cache yet, another key or group, or a damaged file: scan
    scanned = _scan(group)
    groups = dict(entries.get(key) or {})
    groups[group] = [[name, value] for name, value in scanned]
    kept = {k: v for k, v in entries.items() if k != key and isinstance(v, dict)}
    kept = dict(list(kept.items())[-(_KEYS_KEPT - 1) :])  # e.g. ``aish`` and ``python -m aish``
    kept[key] = groups
    _write(where, {"version": _FORMAT, "entries": kept})
    return scanned


def _scan(group: str) -> list[tuple[str, str]]:
    import importlib.metadata

    return [(ep.name, ep.value) for ep in importlib.metadata.entry_points(group=group)]


def _write(where: str, data: object) -> None:
    """Replace the cache file atomically; a cache that cannot be written is simply not kept."""
    import json

    tmp = f"{where}.{os.getpid()}.tmp"
    try:
        from aish.private_dirs import make_private_dirs

        make_private_dirs(os.path.dirname(where))
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, where)
    except OSError:
        import contextlib

        with contextlib.suppress(OSError):
            os.unlink(tmp)


def load(value: str) -> object:
    """Import an entry point's object: ``module``, or ``module:attr.attr`` (extras ignored)."""
    import importlib

    module, _, attrs = value.split("[", 1)[0].strip().partition(":")
    obj: object = importlib.import_module(module.strip())
    for attr in filter(None, attrs.strip().split(".")):
        obj = getattr(obj, attr)
    return obj


def module_of(value: str) -> str:
    """The module part of an entry point's value."""
    return value.split("[", 1)[0].partition(":")[0].strip()


__all__ = ["cache_path", "entry_points", "load", "module_of", "path_key"]
