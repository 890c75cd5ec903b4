"""The entry points of one group, from a cache that notices installs and uninstalls.

Scanning installed distributions (``importlib.metadata``) costs 15-25 ms on
every start, most of it importing ``importlib.metadata`` itself (email,
zipfile, csv...). The result is kept in ``$XDG_CACHE_HOME/aish/entry-points.json``
for each interpreter and ``sys.path`` (:func:`path_key`), with a stamp taken
before the scan: the modification time of every ``sys.path`` entry, the
``*.dist-info``/``*.egg-info`` directories in it and the modification time of
each one's ``entry_points.txt``. Installing or uninstalling a distribution
changes its directory's listing and so its modification time; editing an
entry point changes its file's. Either makes the stamp differ, and the next
start scans again (what stevedore's cache key holds).

Checking the stamp is a ``stat`` per ``sys.path`` entry and per
``entry_points.txt``: a directory is listed again only when its modification
time is too close to the stamp's for the time to tell (:data:`RACY_NS`: a
timestamp is only as fine as the file system's clock). Nothing is cached in
the process, so a plugin installed while aish runs is seen by the next
:func:`load_plugins <aish.plugins.load_plugins>`.
"""

from __future__ import annotations

import os
import sys
import time

CACHE_FILE = "entry-points.json"
_META_SUFFIXES = (".dist-info", ".egg-info")
_FORMAT = 2
_KEYS_KEPT = 8
"""Keys kept in the file: ``aish`` and ``python -m aish`` (from several directories) differ in ``sys.path``."""
RACY_NS = 2_000_000_000
"""A directory modified this close before its stamp was taken may change again with the same modification
time (coarse or 2-second file system clocks), so its listing is compared too (git's "racy clean" rule)."""

Stamp = list[list[object]]
"""``[path entry, its mtime, [[distribution metadata directory, its entry_points.txt's mtime], ...]]`` each."""


def cache_path(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """Where the scan is cached: ``$XDG_CACHE_HOME/aish/entry-points.json``."""
    from aish.private_dirs import cache_file

    return cache_file(CACHE_FILE, environ)


def path_key(path: list[str] | None = None) -> str:
    """Whose scan it is: the interpreter and ``sys.path`` (the stamp says whether it is still right)."""
    return "\n".join([sys.executable, sys.prefix, *(sys.path if path is None else path)])


def stamp(path: list[str] | None = None) -> Stamp:
    """What installing, uninstalling or editing an entry point changes, for each entry of ``path``."""
    entries = []
    for entry in sys.path if path is None else path:
        where = entry or "."
        metas = [[name, _mtime(os.path.join(where, name, "entry_points.txt"))] for name in _metas(where)]
        entries.append([entry, _mtime(where), metas])
    return entries


def unchanged(old: Stamp, taken: int, path: list[str] | None = None) -> bool:
    """Whether :func:`stamp` would still say ``old``, taken at ``taken`` (``time.time_ns()``), without listing
    directories whose modification time alone tells."""
    entries = sys.path if path is None else path
    if len(old) != len(entries):
        return False
    for entry, (was, mtime, metas) in zip(entries, old, strict=True):
        where = entry or "."
        if was != entry or _mtime(where) != mtime or not isinstance(metas, list):
            return False
        if isinstance(mtime, int) and mtime >= taken - RACY_NS and _metas(where) != [m[0] for m in metas]:
            return False
        for name, ep_mtime in metas:
            if _mtime(os.path.join(where, name, "entry_points.txt")) != ep_mtime:
                return False
    return True


def _metas(where: str) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(where) if e.name.endswith(_META_SUFFIXES))
    except OSError:  # a zip file, a missing directory
        return []


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
    stamps: dict[str, list[object]] = {}
    groups: dict[str, list[list[str]]] = {}
    try:
        with open(where, encoding="utf-8") as f:
            loaded = json.load(f)
        if isinstance(loaded, dict) and loaded.get("version") == _FORMAT:
            entries, stamps = loaded["entries"], loaded["stamps"]
        taken, old = stamps[key]
        if not isinstance(taken, int) or not isinstance(old, list) or not unchanged(old, taken):
            raise LookupError(key)
        groups = entries[key]
        found = groups[group]
        return [(str(name), str(value)) for name, value in found]
    except (OSError, ValueError, LookupError, TypeError, AttributeError):
        pass  # no cache yet, another key or group, a stale stamp or a damaged file: scan
    if not groups:  # a new stamp, taken before the scan: what changes during it is seen next time
        stamps[key] = [time.time_ns(), stamp()]
    scanned = _scan(group)
    groups = dict(groups)
    groups[group] = [[name, value] for name, value in scanned]
    kept = {k: v for k, v in entries.items() if k != key and isinstance(v, dict) and k in stamps}
    kept = dict(list(kept.items())[-(_KEYS_KEPT - 1) :])  # e.g. ``aish`` and ``python -m aish``
    kept[key] = groups
    from aish.private_dirs import write_cache

    write_cache(where, {"version": _FORMAT, "entries": kept, "stamps": {k: stamps[k] for k in kept}})
    return scanned


def _scan(group: str) -> list[tuple[str, str]]:
    import importlib.metadata

    return [(ep.name, ep.value) for ep in importlib.metadata.entry_points(group=group)]


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


__all__ = ["RACY_NS", "cache_path", "entry_points", "load", "module_of", "path_key", "stamp", "unchanged"]
