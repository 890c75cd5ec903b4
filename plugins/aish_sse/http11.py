"""A lean HTTP/1.1 client for one streamed request, on the standard library.

Why not requests here: importing requests costs 50-65 ms (urllib3, charset
normalizer, idna, ssl) and urllib3 alone 35-40 ms, before the first byte of
every ``aish -c`` run, which breaks aish's start-up target (measured in
``benchmarks/http_stack.py``, decision 16 in ``docs/decisions.md``).
``http.client`` sends the request and parses the status line and headers; the
body is read from the buffered socket as bytes arrive and de-chunked by
:class:`Dechunker`, so one network read is one batch whatever the framing.
What requests would add is written here and beside it, the way requests does
it: proxies from the environment with credentials (:mod:`aish_sse.proxies`),
CA bundles from ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` and the reason a
certificate was refused (:mod:`aish_sse.tls`), gzip and deflate with or
without its zlib header, a ``User-Agent``; redirects are followed by the
transport. ``ssl`` is imported only for ``https`` URLs and the proxy module
only when a proxy variable is set.

:meth:`HTTPStream.cancel` shuts the socket down from any thread: a read
blocked on it (body or headers) returns at once.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import threading
import zlib
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aish import ConfigError, ConnectionFailure, HTTPStatusError, IdleTimeout, RemoteError, __version__
from aish_sse.chunked import Dechunker

if TYPE_CHECKING:
    from aish_sse.proxies import Proxy

USER_AGENT = f"aish/{__version__}"


class Cancelled(Exception):
    """The stream was cancelled while connecting or waiting (internal to the transport)."""


class HTTPStream:
    """One request with a streamed response."""

    def __init__(self, url: str, *, connect_timeout: float, idle_timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"invalid url {url!r} (expected http:// or https://)")
        self.url = url
        self._parts = parts
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.status = 0
        self.reason = ""
        self.headers: Mapping[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None
        self._response: http.client.HTTPResponse | None = None
        self._sock: socket.socket | None = None
        self._fp: IO[bytes] | None = None
        self._dechunk: Dechunker | None = None
        self._remaining: int | None = None
        self._inflate: Any = None
        self._lock = threading.Lock()
        self._cancelled = False
        self._proxy: Proxy | None = None
        self._via_proxy = False  # plain http through a proxy: absolute-form targets

    # ----------------------------------------------------------------- request
    def open(self, method: str, body: bytes, headers: Mapping[str, str]) -> None:
        """Connect, send the request and read the response head."""
        conn = self._connection()
        with self._lock:
            if self._cancelled:
                raise Cancelled
            self._conn = conn
        try:
            conn.connect()
        except TimeoutError as exc:
            raise ConnectionFailure(
                f"cannot connect to {self.where}: no answer within {self.connect_timeout:g}s"
            ) from exc
        except OSError as exc:
            raise self._connect_error(exc) from exc
        sock = conn.sock
        assert sock is not None
        sock.settimeout(self.idle_timeout)
        with self._lock:
            self._sock = sock  # http.client drops conn.sock when the server says "Connection: close"
            cancelled = self._cancelled  # checked under the lock: a cancel() from now on sees the socket
        if cancelled:
            raise Cancelled
        path = self._target()
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            sent = {k.lower() for k in headers}
            for name, value in headers.items():
                conn.putheader(name, value)
            if "accept-encoding" not in sent:
                conn.putheader("Accept-Encoding", "identity")
            if "user-agent" not in sent:
                conn.putheader("User-Agent", USER_AGENT)
            if self._via_proxy and self._proxy is not None and self._proxy.authorization:
                conn.putheader("Proxy-Authorization", self._proxy.authorization)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
        except TimeoutError as exc:
            raise IdleTimeout(f"{self.url} sent nothing for {self.idle_timeout:g}s") from exc
        except (http.client.HTTPException, OSError) as exc:
            if self._cancelled:
                raise Cancelled from exc
            raise ConnectionFailure(f"{self.url}: the server closed the connection without answering") from exc
        self.status, self.reason = response.status, response.reason
        self.headers = response.headers  # type: ignore[assignment]
        self._response = response  # keep it alive: its finaliser would close fp
        self._fp = response.fp
        if response.chunked:
            self._dechunk = Dechunker()
        else:
            self._remaining = response.length
        encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            self._inflate = Inflater(encoding)
        elif encoding not in ("identity", "") and self.status < 300:
            raise RemoteError(f"{self.url}: the answer is compressed as {encoding!r}, which aish cannot decode")
        if self.status == 407 and self._via_proxy and self._proxy is not None:
            raise HTTPStatusError(407, self.reason, f"the proxy {self._proxy.shown}")

    def _connection(self) -> http.client.HTTPConnection:
        parts = self._parts
        host, port = parts.hostname or "", parts.port
        proxy = self._proxy = _proxy_for(parts.scheme, host)
        if parts.scheme == "https":
            from aish_sse.tls import client_context

            context = client_context()
            if proxy is not None:
                conn = http.client.HTTPSConnection(
                    proxy.host, proxy.port, timeout=self.connect_timeout, context=context
                )
                tunnel_headers = {"User-Agent": USER_AGENT}
                if proxy.authorization:
                    tunnel_headers["Proxy-Authorization"] = proxy.authorization
                conn.set_tunnel(host, port or 443, headers=tunnel_headers)
                return conn
            return http.client.HTTPSConnection(host, port, timeout=self.connect_timeout, context=context)
        if proxy is not None:
            self._via_proxy = True
            return http.client.HTTPConnection(proxy.host, proxy.port, timeout=self.connect_timeout)
        return http.client.HTTPConnection(host, port, timeout=self.connect_timeout)

    @property
    def where(self) -> str:
        """What a connection failure names: the URL, and the proxy when there is one."""
        return self.url if self._proxy is None else f"{self.url} through the proxy {self._proxy.shown}"

    def _target(self) -> str:
        if self._via_proxy:
            return self.url
        path = self._parts.path or "/"
        return f"{path}?{self._parts.query}" if self._parts.query else path

    def _connect_error(self, exc: OSError) -> ConnectionFailure | HTTPStatusError:
        proxy = self._proxy
        tunnel = str(exc).startswith("Tunnel connection failed:")
        if proxy is not None and tunnel:  # http.client: "Tunnel connection failed: 407 Proxy Authentication Required"
            code, _, reason = str(exc).partition(":")[2].strip().partition(" ")
            target = f"{self._parts.hostname}:{self._parts.port or 443}"
            where = f"the proxy {proxy.shown}, tunnelling to {target}"
            return HTTPStatusError(int(code), reason, where) if code.isdigit() else ConnectionFailure(f"{where}: {exc}")
        tls = None
        if type(exc).__module__ == "ssl" or "SSL" in type(exc).__name__:
            from aish_sse.tls import failure_reason

            tls = failure_reason(exc)
        if tls is not None:
            return ConnectionFailure(f"cannot connect to {self.url}: {tls}")
        if isinstance(exc, socket.gaierror):
            reason = "unknown host"
        elif isinstance(exc, ConnectionRefusedError):
            reason = "connection refused"
        else:
            reason = exc.strerror or str(exc) or type(exc).__name__
        if proxy is not None and not (tunnel or self._sock):
            return ConnectionFailure(f"cannot connect to the proxy {proxy.shown}: {reason}")
        return ConnectionFailure(f"cannot connect to {self.where}: {reason}")

    # -------------------------------------------------------------------- body
    def read(self, size: int = 65536) -> bytes:
        """The next payload bytes as soon as any arrive; ``b""`` at the end of the body.

        Raises :class:`IdleTimeout` after ``idle_timeout`` of silence and
        :class:`ConnectionFailure` when the body is cut short.
        """
        fp = self._fp
        if fp is None:
            return b""
        while True:
            want = size if self._remaining is None else min(size, self._remaining)
            if want == 0:
                return self._finish(b"")
            try:
                data: bytes = fp.read1(want)  # type: ignore[attr-defined]
            except TimeoutError as exc:
                raise IdleTimeout(f"nothing arrived for {self.idle_timeout:g}s") from exc
            except (OSError, ValueError) as exc:
                if self._cancelled:
                    return b""
                raise ConnectionFailure("connection lost: the server reset the connection") from exc
            if not data:
                if self._cancelled or (self._dechunk is None and self._remaining is None):
                    return self._finish(b"")
                raise ConnectionFailure("connection lost: the server closed the connection mid-answer")
            if self._remaining is not None:
                self._remaining -= len(data)
            if self._dechunk is not None:
                data = self._dechunk.feed(data)
                if self._dechunk.done:
                    if self._inflate is not None:  # the last compressed bytes came with the last chunk
                        data = bytes(self._inflate.decompress(data))
                    return self._finish(data)
            if self._inflate is not None:
                data = bytes(self._inflate.decompress(data))
            if data:
                return data

    def _finish(self, data: bytes) -> bytes:
        self._fp = None
        if self._inflate is not None:
            data += bytes(self._inflate.flush())
            self._inflate = None
        return data

    def read_all(self, limit: int = 1 << 20) -> bytes:
        """The rest of the body (at most ``limit`` bytes)."""
        parts: list[bytes] = []
        total = 0
        while total < limit:
            data = self.read(min(65536, limit - total))
            if not data:
                break
            parts.append(data)
            total += len(data)
        return b"".join(parts)

    # --------------------------------------------------------------- lifecycle
    def cancel(self) -> None:
        """Stop from any thread: unblock a pending connect-wait, header or body read."""
        with self._lock:
            self._cancelled = True
            sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def close(self) -> None:
        self._fp = None
        if self._response is not None:
            self._response.close()
        if self._conn is not None:
            self._conn.close()


def _proxy_for(scheme: str, host: str) -> Proxy | None:
    """The proxy the environment asks for (``https_proxy``, ``all_proxy``, ``no_proxy``, ...), if any."""
    if not any(key.lower().endswith("_proxy") for key in os.environ):
        return None
    from aish_sse.proxies import proxy_for

    return proxy_for(scheme, host)


class Inflater:
    """Decodes a gzip or deflate body as it arrives.

    ``deflate`` is meant to carry a zlib header (RFC 9110), but servers also
    send raw DEFLATE data: like urllib3, the first bytes decide. Concatenated
    gzip members are decoded one after another.
    """

    __slots__ = ("_gzip", "_obj", "_raw_tried", "_seen")

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding != "deflate"
        self._obj: Any = zlib.decompressobj(31 if self._gzip else 15)
        self._raw_tried = False
        self._seen = b""  # deflate: the first bytes, to try again as raw DEFLATE

    def decompress(self, data: bytes) -> bytes:
        try:
            if not self._gzip and not self._raw_tried:
                self._seen += data
            out = bytes(self._obj.decompress(data))
        except zlib.error as exc:
            if self._gzip or self._raw_tried:
                raise RemoteError(f"the server sent a damaged compressed body ({exc})") from None
            self._raw_tried = True  # no zlib header: raw DEFLATE
            self._obj = zlib.decompressobj(-15)
            seen, self._seen = self._seen, b""
            return self.decompress(seen)
        if not self._gzip and not self._raw_tried and out:
            self._raw_tried, self._seen = True, b""  # the header was right: settled
        if self._gzip and self._obj.eof and self._obj.unused_data:
            rest = self._obj.unused_data
            self._obj = zlib.decompressobj(31)
            out += self.decompress(rest)
        return out

    def flush(self) -> bytes:
        return bytes(self._obj.flush())
