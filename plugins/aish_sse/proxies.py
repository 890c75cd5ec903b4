"""Which forward proxy a request goes through, from the environment, as curl and requests read it.

``http_proxy`` / ``HTTP_PROXY`` for ``http://`` URLs, ``https_proxy`` /
``HTTPS_PROXY`` for ``https://`` URLs (tunnelled with ``CONNECT``), and
``all_proxy`` / ``ALL_PROXY`` for both when the scheme's own variable is
unset; the lower-case name wins, as in both tools. ``no_proxy`` /
``NO_PROXY`` (lower case first) lists what is reached directly, separated by
commas or spaces:

* ``*`` alone: every host;
* a domain (``example.com``, ``.example.com`` or ``*.example.com``): that host
  and every host under it (``api.example.com``, not ``badexample.com``);
* an IP address (``10.1.2.3``, ``::1`` or ``[::1]``), or a network in CIDR form
  (``10.0.0.0/8``, ``fd00::/8``) for URLs whose host is an IP address;
* any of these with ``:PORT``: only requests to that port.

Credentials in the proxy's URL (``http://user:pass@host:port``,
percent-encoded) are sent as ``Proxy-Authorization: Basic``; they never appear
in a message: a proxy is shown as ``http://host:port (from HTTPS_PROXY)``.

This module is imported only when some ``*_proxy`` variable is set; it reads
the variables itself (``urllib.request`` costs more to import than all of
aish's HTTP client).
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from aish import ConfigError

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: typing need not be imported to run
if TYPE_CHECKING:
    from ipaddress import IPv4Address, IPv6Address


class Proxy:
    """A forward proxy: where it is, which variable named it, and its credentials' header."""

    __slots__ = ("authorization", "host", "port", "source")

    def __init__(self, host: str, port: int, source: str, authorization: str | None = None) -> None:
        self.host, self.port, self.source, self.authorization = host, port, source, authorization

    @property
    def shown(self) -> str:
        """``http://host:port (from VAR)``: the proxy as messages name it, without credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port} (from {self.source})"

    def __repr__(self) -> str:
        return (
            f"Proxy({self.host!r}, {self.port}, {self.source!r}, authorization={'...' if self.authorization else None})"
        )


def proxy_for(scheme: str, host: str, port: int | None = None) -> Proxy | None:
    """The proxy for a request to ``scheme://host:port``, or None to connect directly."""
    env = os.environ
    for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY", "all_proxy", "ALL_PROXY"):
        value = env.get(name, "").strip()
        if value:
            break
    else:
        return None
    no_proxy = env.get("no_proxy", "").strip() or env.get("NO_PROXY", "").strip()
    if no_proxy and bypassed(host, port or (443 if scheme == "https" else 80), no_proxy):
        return None
    return parse_proxy(value, name)


def bypassed(host: str, port: int, no_proxy: str) -> bool:
    """Whether ``no_proxy`` (its value) sends a request to ``host:port`` direct."""
    host = host.lower().strip("[]").rstrip(".")
    ip = _ip(host)
    for entry in no_proxy.replace(",", " ").split():
        if entry == "*":
            return True
        name, want = _split_port(entry.lower())
        if want is not None and want != port:
            continue
        if "/" in name:
            if ip is not None and _in_network(ip, name):
                return True
            continue
        if ip is not None or _ip(name) is not None:
            if ip is not None and _ip(name) == ip:
                return True
            continue
        name = name.removeprefix("*").lstrip(".").rstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    """``host:port``, ``[v6]:port``, ``v6``, ``host`` as the name and the port (None: any)."""
    if entry.startswith("["):
        name, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        name, _, port = entry.partition(":")
    else:
        name, port = entry, ""
    return name, int(port) if port.isdigit() else None


def _ip(text: str) -> IPv4Address | IPv6Address | None:
    """``text`` as an IP address object, or None when it is a host name."""
    if not text or not (text[0].isdigit() or ":" in text):
        return None
    import ipaddress

    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _in_network(ip: IPv4Address | IPv6Address, cidr: str) -> bool:
    import ipaddress

    try:
        return ip in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


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
        import base64

        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    return Proxy(parts.hostname, port, source, authorization)
