"""A lean HTTP/1.1 client for one streamed request, on the standard library.

Why not requests here: importing requests costs 50-65 ms (urllib3, charset
normalizer, idna, ssl) before the first byte of every ``aish -c`` run, which
alone breaks aish's start-up and end-to-end targets (measured in
``benchmarks/``, recorded in ``docs/decisions.md``). ``http.client`` sends the
request and parses the status line and headers; the body is read from the
buffered socket as bytes arrive and de-chunked by :class:`Dechunker`, so one
network read is one batch whatever the framing. ``ssl`` is imported only for
``https`` URLs and ``urllib.request`` only when a proxy variable is set.

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
from typing import IO, Any
from urllib.parse import urlsplit

from aish import ConfigError, ConnectionFailure, IdleTimeout
from aish_sse.chunked import Dechunker


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
        self._via_proxy = False

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
                f"cannot connect to {self.url}: no answer within {self.connect_timeout:g}s"
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
        encoding = (response.getheader("Content-Encoding") or "identity").lower()
        if encoding in ("gzip", "deflate"):
            self._inflate = zlib.decompressobj(47)  # gzip or zlib header, detected

    def _connection(self) -> http.client.HTTPConnection:
        parts = self._parts
        host, port = parts.hostname or "", parts.port
        proxy = _proxy_for(parts.scheme, host)
        if parts.scheme == "https":
            import ssl

            context = ssl.create_default_context()
            if proxy:
                conn = http.client.HTTPSConnection(*_host_port(proxy), timeout=self.connect_timeout, context=context)
                conn.set_tunnel(host, port or 443)
                return conn
            return http.client.HTTPSConnection(host, port, timeout=self.connect_timeout, context=context)
        if proxy:
            self._via_proxy = True
            return http.client.HTTPConnection(*_host_port(proxy), timeout=self.connect_timeout)
        return http.client.HTTPConnection(host, port, timeout=self.connect_timeout)

    def _target(self) -> str:
        if self._via_proxy:
            return self.url
        path = self._parts.path or "/"
        return f"{path}?{self._parts.query}" if self._parts.query else path

    def _connect_error(self, exc: OSError) -> ConnectionFailure:
        if isinstance(exc, socket.gaierror):
            reason = "unknown host"
        elif isinstance(exc, ConnectionRefusedError):
            reason = "connection refused"
        elif type(exc).__module__ == "ssl" or "SSL" in type(exc).__name__ or "CERTIFICATE" in str(exc):
            reason = f"TLS handshake failed ({getattr(exc, 'reason', None) or exc})"
        else:
            reason = exc.strerror or str(exc) or type(exc).__name__
        return ConnectionFailure(f"cannot connect to {self.url}: {reason}")

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


def _host_port(proxy: str) -> tuple[str, int | None]:
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return parts.hostname or "", parts.port


def _proxy_for(scheme: str, host: str) -> str | None:
    """The proxy the environment asks for (``https_proxy``, ``no_proxy``, ...), if any."""
    if not any(key.lower().endswith("_proxy") for key in os.environ):
        return None
    import urllib.request

    if urllib.request.proxy_bypass_environment(host):  # type: ignore[attr-defined]
        return None
    return urllib.request.getproxies_environment().get(scheme)
