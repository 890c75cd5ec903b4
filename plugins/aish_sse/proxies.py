"""Which forward proxy a request goes through, from the environment, as curl and requests read it.

``http_proxy`` / ``HTTP_PROXY`` for ``http://`` URLs, ``https_proxy`` /
``HTTPS_PROXY`` for ``https://`` URLs (tunnelled with ``CONNECT``), and
``all_proxy`` / ``ALL_PROXY`` for both when the scheme's own variable is
unset; the lower-case name wins, as in both tools. ``no_proxy`` /
``NO_PROXY`` lists hosts reached directly. Credentials in the proxy's URL
(``http://user:pass@host:port``, percent-encoded) are sent as
``Proxy-Authorization: Basic``; they never appear in a message: a proxy is
shown as ``http://host:port (from HTTPS_PROXY)``.

This module is imported only when some ``*_proxy`` variable is set.
"""

from __future__ import annotations

import base64
import os
import urllib.request
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from aish import ConfigError


@dataclass(frozen=True)
class Proxy:
    """A forward proxy: where it is, which variable named it, and its credentials' header."""

    host: str
    port: int
    source: str
    authorization: str | None = None

    @property
    def shown(self) -> str:
        """``http://host:port (from VAR)``: the proxy as messages name it, without credentials."""
        return f"http://{self.host}:{self.port} (from {self.source})"


def proxy_for(scheme: str, host: str) -> Proxy | None:
    """The proxy for a request to ``scheme://host``, or None to connect directly."""
    env = os.environ
    for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY", "all_proxy", "ALL_PROXY"):
        value = env.get(name, "").strip()
        if value:
            break
    else:
        return None
    if urllib.request.proxy_bypass_environment(host):  # type: ignore[attr-defined]
        return None
    return parse_proxy(value, name)


def parse_proxy(value: str, source: str) -> Proxy:
    """A proxy URL (``[http://][user:pass@]host[:port]``) as a :class:`Proxy`; ConfigError if unusable."""
    parts = urlsplit(value if "://" in value else f"http://{value}")
    where = f"{source}={parts.scheme}://{parts.hostname or ''}"
    if parts.scheme != "http":
        raise ConfigError(f"{where}: aish reaches proxies over http:// only (not {parts.scheme}://)")
    try:
        port = parts.port or 80
    except ValueError:
        raise ConfigError(f"{where}: invalid port") from None
    if not parts.hostname:
        raise ConfigError(f"{source}: no host in the proxy's URL")
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    return Proxy(parts.hostname, port, source, authorization)
