"""The configuration file parsed, from a cache that keeps the text it was parsed from.

Reading a configuration costs a one-shot process 3-5 ms, nearly all of it
importing ``tomllib`` (its regular expressions compiled, ``datetime``), for a
file that rarely changes. The cache (``$XDG_CACHE_HOME/aish/toml.json``) keeps,
for each file, the text it parsed and what that gave: when the file's text is
the same, so is the result, and ``tomllib`` is not imported (decision 108).
The whole text is compared, not a modification time: an edit is never missed,
however fast or however small. What JSON cannot give back as it was (a TOML
date or time) is not cached: such a file is parsed every time. Text that does
not parse is never cached, so its error is reported every time.

The cache file is its owner's only (a configuration names URLs and headers), in
a directory of the owner's only; one that cannot be read or written is not used.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from aish.private_dirs import cache_file, write_cache

CACHE_FILE = "toml.json"
_FORMAT = 1
_PYTHON = "{}.{}".format(*sys.version_info[:2])
"""Whose ``tomllib`` parsed what is kept: another Python's may read a text otherwise (TOML 1.1)."""
_KEPT = 8
"""Files kept: a user's configuration, and those that ``--config`` and ``$AISH_CONFIG`` name."""
_SCALARS = (str, int, float, bool)


def cache_path(environ: Mapping[str, str] | None = None) -> str:
    """``$XDG_CACHE_HOME/aish/toml.json`` (``~/.cache/aish/toml.json``)."""
    return cache_file(CACHE_FILE, environ)


def loads(text: str, path: str, *, cache: str | None = None) -> dict[str, Any]:
    """``tomllib.loads(text)`` (raising its ``TOMLDecodeError``), from the cache when ``path``'s text
    was parsed before. ``cache``: the cache file (default :func:`cache_path`); ``""``: none."""
    where = cache_path() if cache is None else cache
    files = _files(where) if where else {}
    kept = files.get(path)
    if isinstance(kept, dict) and kept.get("text") == text:
        data: object = kept.get("data")
        if isinstance(data, dict):
            return data
    import tomllib

    parsed = tomllib.loads(text)
    if where and _json_exact(parsed):
        files.pop(path, None)
        files[path] = {"text": text, "data": parsed}
        write_cache(where, {"version": _FORMAT, "python": _PYTHON, "files": dict(list(files.items())[-_KEPT:])})
    return parsed


def _files(where: str) -> dict[str, Any]:
    try:
        with open(where, encoding="utf-8") as file:
            loaded = json.load(file)
    except (OSError, ValueError):  # none yet, or damaged: parse
        return {}
    ours = isinstance(loaded, dict) and loaded.get("version") == _FORMAT and loaded.get("python") == _PYTHON
    files: object = loaded.get("files") if ours else None
    return files if isinstance(files, dict) else {}


def _json_exact(value: object) -> bool:
    """Whether JSON gives ``value`` back as it is: tables, arrays, strings, numbers, booleans."""
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, dict):
        return all(_json_exact(item) for item in value.values())
    if isinstance(value, list):
        return all(_json_exact(item) for item in value)
    return False  # a date, a time, a date-time
