"""Checks at aish's boundary: values from a config file, a plugin or the environment.

Each check returns a short description of what is wrong (``None`` when the
value is fine); callers put it after the file, agent and key they name. Header
values are never quoted in a problem: they may hold an API key.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from aish.errors import visible

MAX_SECONDS = 86_400.0
"""The largest timeout or back-off a config may set (one day)."""
MAX_RETRIES = 1_000
MAX_OPTION_DEPTH = 32
"""How deep ``options`` may nest (lists and tables); a request body is built from them."""

_INF = float("inf")
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
"""What an HTTP field name (RFC 9110 ``token``) is made of."""
_BAD_VALUE = frozenset(map(chr, [*range(0x09), *range(0x0A, 0x20), 0x7F]))
"""What an HTTP field value may not hold: controls other than tab (CR and LF would start a new header)."""
_BAD_URL = frozenset(map(chr, [*range(0x21), 0x7F]))
_ENV_START = frozenset("_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ENV_CHARS = _ENV_START | frozenset("0123456789")
# Sets of characters where regular expressions were: compiling five at import cost every start-up ~0.4 ms.


@functools.cache
def _plain_url() -> re.Pattern[str]:
    """``scheme://host[:port][/path]``, an ASCII host and no user part: a URL ``urlsplit`` takes, told apart
    without importing ``urllib.parse`` (2-6 ms with the ``ipaddress`` it imports). Anything else is split.
    Compiled on first use: only a configuration file's URLs need it."""
    return re.compile(
        r"[A-Za-z][A-Za-z0-9+.\-]*://[A-Za-z0-9\-._~!$&'()*+,;=%]+(?::([0-9]{1,5}))?(?:[/?#][^\x00-\x20\x7f]*)?"
    )


def seconds_problem(value: object) -> str | None:
    """A timeout or back-off: a finite number of seconds, above 0 and at most :data:`MAX_SECONDS`."""
    wrong = isinstance(value, bool) or not isinstance(value, int | float)
    if wrong or not 0 < value <= MAX_SECONDS:  # type: ignore[operator]  # inf and nan fail it too
        return f"expected a positive number of seconds, at most {MAX_SECONDS:.0f}"
    return None


def retries_problem(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES:
        return f"expected a whole number >= 0, at most {MAX_RETRIES}"
    return None


_NETWORK_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})
"""The WHATWG URL standard's special schemes whose URLs always have a host (``file`` is the other one)."""


def url_problem(url: str) -> str | None:
    """An absolute URL (``scheme://host[:port]/path``) with a port in 1-65535 and no blanks or controls.

    A scheme other than http(s), ws(s) and ftp may instead name a local path, ``scheme:///PATH``
    (``file:///tmp/answers.txt``, ``unix:///run/llm.sock``): the agent's transport decides what it means.
    """
    if not _BAD_URL.isdisjoint(url):
        return "a URL may not hold spaces or control characters"
    if (plain := _plain_url().fullmatch(url)) and (plain[1] is None or 0 < int(plain[1]) <= 65535):
        return None
    return _split_problem(url)


def _split_problem(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        if "out of range" in str(exc) or "invalid literal" in str(exc) or "Port could not" in str(exc):
            return "the port must be a number from 1 to 65535"
        return f"not a URL ({exc})"
    local = parts.scheme.lower() not in _NETWORK_SCHEMES and url[len(parts.scheme) :].startswith(":///")
    if local and len(parts.path) > 1:
        return None  # file:///PATH, unix:///run/llm.sock: a plugin's transport for a local resource
    if not parts.scheme or not parts.netloc or not parts.hostname:
        return "expected an absolute URL such as http://127.0.0.1:8080/v1"
    if port == 0:
        return "the port must be a number from 1 to 65535"
    return None


def header_problem(name: str, value: object) -> str | None:
    """An HTTP header: a token name and a string value without CR, LF, NUL or other controls."""
    if not name or not _TOKEN.issuperset(name):
        return "a header name may hold only letters, digits and !#$%&'*+-.^_`|~"
    if not isinstance(value, str):
        return f"expected a string value, got {_kind(value)}"
    if not _BAD_VALUE.isdisjoint(value):
        return "a header value may not hold CR, LF, NUL or other control characters"
    return None


def headers_problem(headers: Mapping[str, object]) -> str | None:
    """The first problem of a table of headers, naming the header (never its value)."""
    for name, value in headers.items():
        problem = header_problem(name, value)
        if problem is not None:
            return f"header {name!r}: {problem}"
    return None


def env_name_problem(name: str) -> str | None:
    if name[:1] not in _ENV_START or not _ENV_CHARS.issuperset(name):
        return "expected an environment variable name (letters, digits and '_')"
    return None


def json_problem(value: Any, path: str = "", depth: int = 0) -> str | None:
    """Can ``value`` go into a JSON request body? Strings, finite numbers, booleans, lists, tables."""
    if depth > MAX_OPTION_DEPTH:
        return f"{path or 'value'}: nested more than {MAX_OPTION_DEPTH} deep"
    if isinstance(value, str | bool | int):
        return None
    if isinstance(value, float):
        return None if -_INF < value < _INF else f"{path or 'value'}: {value} is not a finite number"
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = json_problem(item, f"{path}[{index}]", depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = visible(str(key))  # a TOML key may hold any character, a newline too
            problem = json_problem(item, f"{path}.{name}" if path else name, depth + 1)
            if problem:
                return problem
        return None
    return f"{path or 'value'}: a {_kind(value)} cannot be sent (use a string)"


def _kind(value: object) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "table"}
    return names.get(type(value), type(value).__name__)


__all__ = [
    "MAX_OPTION_DEPTH",
    "MAX_RETRIES",
    "MAX_SECONDS",
    "env_name_problem",
    "header_problem",
    "headers_problem",
    "json_problem",
    "retries_problem",
    "seconds_problem",
    "url_problem",
]
