"""Edit one key of the configuration file's ``[settings]`` table, leaving every other byte alone.

``aish plugins enable/disable NAME`` persist ``[settings] disable_plugins``
this way. There is no TOML writer: the key's array value is replaced in place
(its trailing comment kept), inserted after the ``[settings]`` header, or a
``[settings]`` table is appended. The result is parsed again and compared with
the original, so an edit that would change anything else is refused.
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
