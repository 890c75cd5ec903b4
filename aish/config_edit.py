"""Edit the configuration file's text, leaving every byte the edit is not about alone.

``aish plugins enable/disable NAME`` persist ``[settings] disable_plugins``
with :func:`set_settings_list`; ``agents remove NAME`` drops ``[agents.NAME]``
with :func:`remove_table`. There is no TOML writer: a key's array value is
replaced in place (its trailing comment kept), inserted after the
``[settings]`` header, or a ``[settings]`` table is appended; a table goes with
its sub-tables and the comments right above each. Every result is parsed again
and compared with the original, so an edit that would change anything else is
refused.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aish.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

_HEADER = re.compile(r"^[ \t]*\[[ \t]*settings[ \t]*\][ \t]*(#.*)?$")
_ANY_HEADER = re.compile(r"^[ \t]*\[")


def toml_array(names: Sequence[str]) -> str:
    """``["a", "b"]``: JSON string escapes are valid TOML basic strings."""
    return "[" + ", ".join(json.dumps(name, ensure_ascii=False) for name in names) + "]"


def set_settings_list(text: str, key: str, values: Sequence[str], *, where: str = "<config>") -> str:
    """``text`` with ``[settings] KEY = [values]``; everything else byte for byte.

    :raises ConfigError: the file is not valid TOML, or the key is written in a
        form this editor does not touch (a dotted key, an inline table).
    """
    before = _parse(text, where)
    lines = text.splitlines(keepends=True)
    array = toml_array(values)
    for header in _settings_headers(lines):
        new = _edit_table(text, lines, header, key, array, where)
        if _verified(before, new, key, values):
            return new
    sep = "" if not text or text.endswith("\n") else "\n"
    blank = "\n" if text.strip() else ""
    new = f"{text}{sep}{blank}[settings]\n{key} = {array}\n"
    if not _verified(before, new, key, values):
        raise ConfigError(f"{where}: cannot edit settings.{key} safely; edit the file by hand")
    return new


def _edit_table(text: str, lines: list[str], header: int, key: str, array: str, where: str) -> str:
    found = _find_key(lines, header + 1, key)
    if found is None:
        lines = list(lines)
        head = lines[header]
        eol = "\r\n" if head.endswith("\r\n") else "\n"
        if not head.endswith("\n"):
            lines[header] = head + eol
        lines.insert(header + 1, f"{key} = {array}{eol}")
        return "".join(lines)
    offset = sum(len(line) for line in lines[:found])
    start = text.index("=", offset) + 1
    end = _value_end(text, start, where)
    return f"{text[:start]} {array}{text[end:]}"


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None


def _settings_headers(lines: list[str]) -> list[int]:
    """Lines that look like ``[settings]`` (one may sit inside a multi-line string)."""
    return [i for i, line in enumerate(lines) if _HEADER.match(line.rstrip("\r\n"))]


def _find_key(lines: list[str], first: int, key: str) -> int | None:
    pattern = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=")
    for i in range(first, len(lines)):
        if _ANY_HEADER.match(lines[i]):
            return None
        if pattern.match(lines[i]):
            return i
    return None


def _value_end(text: str, start: int, where: str) -> int:
    """The index just past the array value starting after ``start`` (strings and comments skipped)."""
    i = start
    while i < len(text) and text[i] in " \t":
        i += 1
    if i >= len(text) or text[i] != "[":
        raise ConfigError(f"{where}: settings: cannot edit a value that is not an array")
    depth = 0
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            i = _string_end(text, i, where)
            continue
        if ch == "#":
            i = text.find("\n", i)
            if i < 0:
                break
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ConfigError(f"{where}: settings: unterminated array")


def _string_end(text: str, i: int, where: str) -> int:
    quote = text[i]
    triple = text.startswith(quote * 3, i)
    closing = quote * 3 if triple else quote
    j = i + len(closing)
    while j < len(text):
        if quote == '"' and text[j] == "\\":
            j += 2
            continue
        if text.startswith(closing, j):
            return j + len(closing)
        j += 1
    raise ConfigError(f"{where}: settings: unterminated string")


def _verified(before: dict[str, Any], new: str, key: str, values: Sequence[str]) -> bool:
    """Does ``new`` parse to ``before`` with only ``settings.KEY`` set to ``values``?"""
    try:
        after = tomllib.loads(new)
    except tomllib.TOMLDecodeError:
        return False
    settings = before.get("settings", {})
    return isinstance(settings, dict) and after == {**before, "settings": {**settings, key: list(values)}}


def remove_table(text: str, keys: tuple[str, ...], *, where: str = "<config>") -> str:
    """``text`` without the table ``[KEYS]``, its sub-tables and the comment lines right above each.

    :raises ConfigError: the file is not valid TOML, the table is not there
        under a ``[...]`` header of its own, or it is also written in a form
        this editor does not touch (an inline table, a dotted key): the result
        would not be the same configuration less that table.
    """
    before = _parse(text, where)
    lines = text.splitlines(keepends=True)
    heads = [(i, got) for i, line in enumerate(lines) if _ANY_HEADER.match(line) and (got := _header(line))]
    drop: set[int] = set()
    for n, (i, got) in enumerate(heads):
        if got[: len(keys)] != keys:
            continue
        start = _comments_above(lines, i)
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        end = _comments_above(lines, end) if end < len(lines) else end  # the next table's own comments stay
        if end == len(lines):  # at the end: the blank lines before it go too
            while start > 0 and not lines[start - 1].strip():
                start -= 1
        elif start == 0 or not lines[start - 1].strip():  # one blank line where there were two
            while end < len(lines) and not lines[end].strip():
                end += 1
        drop.update(range(start, end))
    new = "".join(line for i, line in enumerate(lines) if i not in drop)
    try:
        after = tomllib.loads(new)
    except tomllib.TOMLDecodeError:
        after = None
    if not drop or after is None or _pruned(after) != _pruned(_without(before, keys)):
        raise ConfigError(f"{where}: cannot remove [{'.'.join(keys)}] safely; edit the file by hand")
    return new


def _header(line: str) -> tuple[str, ...] | None:
    """The keys of a ``[a.b]`` header line (``[[a]]`` ends in ``"[]"``), None if it is not one."""
    try:
        table: Any = tomllib.loads(line.strip() + "\n")
    except tomllib.TOMLDecodeError:
        return None
    keys: list[str] = []
    while isinstance(table, dict) and len(table) == 1:
        key, table = next(iter(table.items()))
        keys.append(key)
    if isinstance(table, list):
        keys.append("[]")
    return tuple(keys) if keys and table in ({}, [{}]) else None


def _comments_above(lines: list[str], i: int) -> int:
    """Where the comment lines directly above line ``i`` begin (``i`` if there are none)."""
    while i > 0 and lines[i - 1].lstrip().startswith("#"):
        i -= 1
    return i


def _without(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    if len(keys) == 1:
        return {k: v for k, v in data.items() if k != keys[0]}
    inner = data.get(keys[0])
    return {**data, keys[0]: _without(inner, keys[1:])} if isinstance(inner, dict) else data


def _pruned(data: Any) -> Any:
    """``data`` with empty tables left out: ``[agents]`` with no agent is no ``agents`` at all."""
    if not isinstance(data, dict):
        return data
    kept = {k: _pruned(v) for k, v in data.items()}
    return {k: v for k, v in kept.items() if v != {}}


def read_config_text(path: Path) -> str:
    """The configuration file's text ("" when there is none yet)."""
    try:
        return path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read: not UTF-8 (byte offset {exc.start})") from None


def write_config_text(path: Path, text: str) -> None:
    """Replace the configuration file ``path`` with ``text``: written whole beside it, its mode kept,
    then renamed over it, so a reader never sees half a file; its directory made private if new."""
    import os
    import shutil

    from aish.private_dirs import make_private_dirs

    try:
        make_private_dirs(path.parent)
        tmp = path.with_name(f".{path.name}.aish-tmp")
        tmp.write_text(text, encoding="utf-8", newline="")
        if path.exists():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror}") from None
