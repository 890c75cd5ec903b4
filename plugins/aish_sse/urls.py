"""Splitting an ``http(s)://`` URL into what a request needs, as :func:`urllib.parse.urlsplit` splits it.

Why not ``urlsplit`` itself: ``urllib.parse`` (with the ``ipaddress`` it now
imports) costs 2.5-6 ms to import, on every run, for four fields of one URL.
:func:`split_url` gives the same scheme, host name, port, path and query as
``urlsplit`` for every URL (``tests/plugins/test_urls.py`` compares them);
the transport uses it both to connect and to decide whether a redirect
leaves the origin, so the two can never disagree about the host.
"""

from __future__ import annotations

import _socket

_STRIP = "".join(map(chr, range(0x21)))  # C0 controls and space, stripped at the start as urlsplit does
_HEX = frozenset("0123456789abcdefABCDEF")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")


class URLParts:
    """The parts of a URL a request needs: ``scheme``, ``host`` (lower case, no brackets), ``port``, ``target``,
    and ``userinfo`` (``user:password`` as written, None when the URL has no ``@``)."""

    __slots__ = ("host", "port", "scheme", "target", "userinfo")

    def __init__(self, scheme: str, host: str, port: int | None, target: str, userinfo: str | None = None) -> None:
        self.scheme, self.host, self.port, self.target, self.userinfo = scheme, host, port, target, userinfo

    @property
    def origin(self) -> tuple[str, str, int]:
        """Scheme, host and port (the scheme's default when none is given): what "the same origin" compares."""
        return self.scheme, self.host, self.port or (443 if self.scheme == "https" else 80)


def split_url(url: str) -> URLParts:
    """``url``'s parts; ValueError when its port is not a number from 0 to 65535 or a bracket is unbalanced.

    ``host`` is ``""`` when there is none and ``target`` is the path (``/``
    when empty) and the query, without the fragment.
    """
    url = url.lstrip(_STRIP)
    for char in "\t\r\n":
        url = url.replace(char, "")
    scheme = ""
    colon = url.find(":")
    if colon > 0 and url[0].isascii() and url[0].isalpha() and _SCHEME_CHARS.issuperset(url[:colon]):
        scheme, url = url[:colon].lower(), url[colon + 1 :]
    netloc = ""
    if url[:2] == "//":
        end = len(url)
        for char in "/?#":
            found = url.find(char, 2)
            if found >= 0:
                end = min(end, found)
        netloc, url = url[2:end], url[end:]
        if ("[" in netloc) != ("]" in netloc):
            raise ValueError("Invalid IPv6 URL")
        if "[" in netloc:
            _check_bracketed(netloc.partition("[")[2].partition("]")[0])
    url = url.partition("#")[0]
    path, mark, query = url.partition("?")
    target = (path or "/") + (f"?{query}" if mark and query else "")
    userinfo, at, hostinfo = netloc.rpartition("@")
    host, port = _host_port(hostinfo)
    return URLParts(scheme, host, port, target, userinfo if at else None)


def basic_authorization(userinfo: str) -> str:
    """``Authorization`` for a URL's ``user:password`` (percent-encoded), as curl and requests send it."""
    import base64
    from urllib.parse import unquote  # only for a URL with credentials

    user, _, password = userinfo.partition(":")
    return "Basic " + base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")


def _check_bracketed(host: str) -> None:
    """ValueError unless ``host`` (what a URL has in brackets) is an IPv6 address or an IPvFuture literal."""
    if host.startswith("v"):
        version, dot, rest = host[1:].partition(".")
        if not (version and dot and rest and version.isascii() and _HEX.issuperset(version)) or "\n" in rest:
            raise ValueError("IPvFuture address is invalid")
        return
    address, percent, zone = host.partition("%")
    if percent and (not zone or "%" in zone):
        raise ValueError(f"{host!r} does not appear to be an IPv6 address")
    try:
        _socket.inet_pton(_socket.AF_INET6, address)
    except (OSError, ValueError):
        raise ValueError(f"{host!r} does not appear to be an IPv6 address") from None


def _host_port(hostinfo: str) -> tuple[str, int | None]:
    _, bracket, bracketed = hostinfo.partition("[")
    if bracket:
        host, _, rest = bracketed.partition("]")
        _, _, port = rest.partition(":")
    else:
        host, _, port = hostinfo.partition(":")
    name, percent, zone = host.partition("%")  # an IPv6 zone keeps its case
    host = name.lower() + percent + zone
    if not port:
        return host, None
    if not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError(f"Port could not be cast to integer value as {port!r}")
    return host, int(port)
