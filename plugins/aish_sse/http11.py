"""A lean HTTP/1.1 client for one streamed request, written on :mod:`socket`.

Why its own: ``http.client`` costs ~15 ms to import (the ``email`` parser,
``calendar``, ``locale``, and ``ssl`` even for ``http://``), requests 50-65
ms and urllib3 35-40 ms, before the first byte of every ``aish -c`` run,
against a start-up target of 1.3x a minimal standard-library client
(``benchmarks/http_stack.py``, decisions 16 and 26 in ``docs/decisions.md``).
One request per connection needs little: write the request, read the head
(:mod:`aish_sse.head`: bounded line length and field count, one phrase naming
what a server got wrong), then the body by ``Content-Length``, chunked
(:class:`Dechunker`, one network read is one batch whatever the framing) or
until the connection closes. What requests adds is here and beside it, the
way requests does it: proxies from the environment with credentials
(:mod:`aish_sse.proxies`, plain absolute-form requests for ``http``, a
``CONNECT`` tunnel for ``https``), CA bundles from
``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` and the reason a certificate was
refused (:mod:`aish_sse.tls`), gzip and deflate with or without its zlib
header (:mod:`aish_sse.inflate`), a ``User-Agent``; redirects are followed by
the transport. ``ssl``, ``zlib`` and the proxy module are imported only when
a URL, an answer or the environment needs them.

:meth:`HTTPStream.cancel` shuts the socket down from any thread: a TCP
connect (on Linux), a TLS handshake, a tunnel, a read of the head or of the
body blocked on it returns at once. Connecting is bounded by
``connect_timeout``; every later wait by ``idle_timeout``.
"""

from __future__ import annotations

import _socket  # the C core of :mod:`socket`, whose Python layer (its enums, selectors) costs ~2 ms to import
import contextlib
import os
import threading

from aish import ConfigError, ConnectionFailure, HTTPStatusError, IdleTimeout, RemoteError, __version__, shown_url
from aish_sse.chunked import Dechunker
from aish_sse.head import BadHead, Head, HeadCut, Headers, read_head
from aish_sse.urls import basic_authorization, split_url

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: the transport need not import typing
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from aish import Body
    from aish_sse.inflate import Inflater
    from aish_sse.proxies import Proxy

USER_AGENT = f"aish/{__version__}"
SEND_WHOLE = 65536  # a body up to this size goes out in the same write as the head
SEND_PIECE = 1 << 20  # a larger one in pieces of this size
_NO_BODY = frozenset({204, 304})
_NOT_SENT = frozenset({"host", "content-length", "transfer-encoding"})
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _pieces(body: bytes | Body) -> Iterator[bytes | memoryview]:
    """A large body in pieces of at most SEND_PIECE bytes (a Body: as it makes them), never copied."""
    if not isinstance(body, bytes):
        yield from body
        return
    view = memoryview(body)
    for start in range(0, len(body), SEND_PIECE):
        yield view[start : start + SEND_PIECE]


class Cancelled(Exception):
    """The stream was cancelled while connecting or waiting (internal to the transport)."""


class HTTPStream:
    """One request with a streamed response."""

    def __init__(self, url: str, *, connect_timeout: float, idle_timeout: float) -> None:
        try:
            parts = split_url(url)
        except ValueError:
            parts = None
        if "@" in url:  # credentials are sent (as Basic auth), never shown
            url = shown_url(url)
        if parts is None or parts.scheme not in ("http", "https") or not parts.host:
            raise ConfigError(f"invalid url {url!r} (expected http:// or https://)")
        port = parts.port
        self.url = url
        self._userinfo = parts.userinfo
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.status = 0
        self.reason = ""
        self.headers: Mapping[str, str] = Headers()
        self._https = parts.scheme == "https"
        self._host = parts.host
        self._port = port or (443 if self._https else 80)
        self._explicit_port = port is not None and port != (443 if self._https else 80)
        self._path = parts.target
        self._sock: _socket.socket | None = None  # an ssl.SSLSocket for https
        self._buf = b""  # received, not yet handed on
        self._dechunk: Dechunker | None = None
        self._remaining: int | None = None  # body bytes still due (Content-Length), None: until close
        self._done = False
        self._inflate: Inflater | None = None
        self._lock = threading.Lock()
        self._cancelled = False
        self._proxy: Proxy | None = None

    # ----------------------------------------------------------------- request
    def open(
        self, method: str, body: bytes | Body, headers: Mapping[str, str], sent: Callable[[], None] | None = None
    ) -> None:
        """Connect, send the request and read the response head; ``sent`` is called between the two
        (:attr:`aish.Request.sent`: aish's own work while the server makes its answer).

        A :class:`aish.Body` goes out piece by piece, each made as it is sent (decision 27).
        """
        with self._lock:
            if self._cancelled:
                raise Cancelled
        proxy = self._proxy = _proxy_for("https" if self._https else "http", self._host, self._port)
        request = self._request(method, body, headers)  # before connecting: a bad header is a ConfigError
        self._connect()
        if self._https:
            if proxy is not None:
                self._tunnel(proxy)
            self._handshake()
        sock = self._sock
        assert sock is not None
        sock.settimeout(self.idle_timeout)
        try:
            if isinstance(body, bytes) and len(body) <= SEND_WHOLE:
                sock.sendall(request + body)
            else:  # no copy of a large body; TCP_NODELAY keeps its last segment from waiting
                sock.sendall(request)
                for piece in _pieces(body):  # idle_timeout bounds each piece, not the whole
                    sock.sendall(piece)
        except TimeoutError as exc:
            raise IdleTimeout(f"{self.where} sent nothing for {self.idle_timeout:g}s") from exc
        except OSError as exc:
            if self._cancelled:
                raise Cancelled from exc
            # the server may have answered (and closed) before taking the whole body: read what it said
        if sent is not None:
            sent()
        head = self._read_head()
        self.status, self.reason, self.headers = head.status, head.reason, head.headers
        self._framing(head, method)
        if self.status == 407 and proxy is not None and not self._https:
            raise HTTPStatusError(407, self.reason, f"the proxy {proxy.shown}")

    def _request(self, method: str, body: bytes | Body, headers: Mapping[str, str]) -> bytes:
        """The request line and header fields, encoded."""
        proxy = self._proxy
        plain_proxy = proxy is not None and not self._https
        target = (
            f"{'https' if self._https else 'http'}://{self._host_port()}{self._path}" if plain_proxy else self._path
        )
        if not target.isascii():
            target = _percent_encode(target)
        if any(c <= " " or c == "\x7f" for c in target):
            raise ConfigError(f"invalid url {self.url!r} (a space or a control character in it)")
        lines = [f"{method} {target} HTTP/1.1"]
        sent = {name.lower() for name in headers}
        if "host" not in sent:
            lines.append(f"Host: {self._host_port()}")
        for name, value in headers.items():
            if name.lower() in _NOT_SENT - {"host"}:
                continue
            if not name or not _TOKEN.issuperset(name):
                raise ConfigError(f"header {name[:40]!r}: not a valid header name")
            if "\r" in value or "\n" in value or "\0" in value:
                raise ConfigError(f"header {name!r}: a line break or NUL in its value")
            lines.append(f"{name}: {value}")
        if "accept-encoding" not in sent:
            lines.append("Accept-Encoding: identity")
        if "user-agent" not in sent:
            lines.append(f"User-Agent: {USER_AGENT}")
        if self._userinfo and "authorization" not in sent:  # the agent's own key wins, as a header given to curl
            lines.append(f"Authorization: {basic_authorization(self._userinfo)}")
        if plain_proxy and proxy is not None and proxy.authorization:
            lines.append(f"Proxy-Authorization: {proxy.authorization}")
        lines.append(f"Content-Length: {len(body)}")
        text = "\r\n".join(lines) + "\r\n\r\n"
        try:
            return text.encode("latin-1")
        except UnicodeEncodeError:
            return text.encode("utf-8")

    def _host_port(self, *, always: bool = False) -> str:
        """The origin's ``host[:port]`` as the ``Host`` field has it (the port only when not the default)."""
        host = self._host
        if ":" in host:
            host = f"[{host}]"
        elif not host.isascii():
            host = host.encode("idna").decode("ascii")
        return f"{host}:{self._port}" if always or self._explicit_port else host

    def _connect(self) -> None:
        """A TCP connection to the origin or the proxy, published for :meth:`cancel` before connecting."""
        proxy = self._proxy
        host, port = (proxy.host, proxy.port) if proxy is not None else (self._host, self._port)
        # bytes, so that getaddrinfo need not import the idna codec for an ASCII name
        address = host.encode("ascii") if host.isascii() else host.encode("idna")
        try:
            sock = self._first_to_answer(address, port)
        except TimeoutError as exc:
            raise ConnectionFailure(
                f"cannot connect to {self._first_hop()}: no answer within {self.connect_timeout:g}s"
            ) from exc
        except OSError as exc:
            raise ConnectionFailure(f"cannot connect to {self._first_hop()}: {_reason(exc)}") from exc
        with contextlib.suppress(OSError):
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)

    def _first_to_answer(self, host: bytes, port: int) -> _socket.socket:
        """The first address of ``host`` that accepts, as :func:`socket.create_connection` finds it.

        Each address is tried within ``connect_timeout``; when none answers,
        the first failure is raised. Each socket is published before it
        connects: :meth:`cancel` shuts it down, which ends a pending connect at
        once (Linux; elsewhere the connect runs to its timeout).
        """
        failures: list[OSError] = []
        for family, kind, proto, _, address in _socket.getaddrinfo(host, port, 0, _socket.SOCK_STREAM):
            sock = _socket.socket(family, kind, proto)
            self._publish(sock)
            try:
                sock.settimeout(self.connect_timeout)
                sock.connect(address)
            except OSError as exc:
                if self._cancelled:
                    raise Cancelled from exc
                sock.close()
                failures.append(exc)
                continue
            return sock
        raise failures[0] if failures else OSError("no address")

    def _first_hop(self) -> str:
        return self.url if self._proxy is None else f"the proxy {self._proxy.shown}"

    def _publish(self, sock: _socket.socket) -> None:
        with self._lock:
            self._sock = sock
            cancelled = self._cancelled  # checked under the lock: a cancel() from now on sees the socket
        if cancelled:
            raise Cancelled

    def _tunnel(self, proxy: Proxy) -> None:
        """``CONNECT`` through the proxy to the origin (https): the proxy's refusal names it.

        A 5xx answer (502: the proxy could not reach the origin) is a :class:`ConnectionFailure`,
        as curl (exit 56) and requests (``ProxyError``) take it: the stream layer fails at once on
        the first attempt, as for a refused connection, and retries only while reconnecting after
        a drop. Any other refusal is the proxy's :class:`HTTPStatusError`: 407 and 403 are never retried.
        """
        sock = self._sock
        assert sock is not None
        target = self._host_port(always=True)
        where = f"the proxy {proxy.shown}, tunnelling to {self._host}:{self._port}"
        lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}", f"User-Agent: {USER_AGENT}"]
        if proxy.authorization:
            lines.append(f"Proxy-Authorization: {proxy.authorization}")
        try:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
            head, rest = read_head(self._recv_head)
        except TimeoutError as exc:
            raise ConnectionFailure(f"cannot connect to {where}: no answer within {self.connect_timeout:g}s") from exc
        except (OSError, HeadCut) as exc:
            if self._cancelled:
                raise Cancelled from exc
            raise ConnectionFailure(f"cannot connect to {where}: the proxy closed the connection") from exc
        except BadHead as exc:
            raise RemoteError(f"{where}: the proxy sent {exc}") from None
        if head.status >= 500:  # the proxy could not reach the origin (or is failing): a connection failure
            reason = f"HTTP {head.status} {head.reason}".rstrip()
            raise ConnectionFailure(f"cannot connect to {where}: the proxy answered {reason}")
        if not 200 <= head.status < 300:  # 407, 403: the proxy's refusal, never retried
            raise HTTPStatusError(head.status, head.reason, where, proxy=True)
        if rest:
            raise RemoteError(f"{where}: the proxy sent data before the TLS handshake")

    def _handshake(self) -> None:
        """TLS over the connection (the tunnel, when there is one); the certificate's reason when refused."""
        import socket  # ssl imports it anyway; ssl wraps only its sockets

        from aish_sse.tls import client_context, failure_reason

        context = client_context()
        raw = self._sock
        assert raw is not None
        sock = socket.socket(raw.family, raw.type, raw.proto, raw.detach())
        self._publish(sock)
        sock.settimeout(self.connect_timeout)  # also puts the descriptor back in the mode the timeout needs
        try:
            tls = context.wrap_socket(sock, server_hostname=self._host, do_handshake_on_connect=False)
        except OSError as exc:
            raise ConnectionFailure(f"cannot connect to {self.url}: {_reason(exc)}") from exc
        self._publish(tls)
        try:
            tls.do_handshake()
        except TimeoutError as exc:  # connected, yet silent: a plain HTTP server waiting for a request line
            raise ConnectionFailure(
                f"cannot connect to {self.where}: connected, but no TLS answer within {self.connect_timeout:g}s"
                " (is it an http:// port?)"
            ) from exc
        except (OSError, ValueError, AttributeError) as exc:  # AttributeError: cancel() dropped the TLS object
            if self._cancelled:
                raise Cancelled from exc
            reason = failure_reason(exc)
            if reason is not None:
                raise ConnectionFailure(f"cannot connect to {self.url}: {reason}") from exc
            raise ConnectionFailure(f"cannot connect to {self.where}: {_reason(exc)}") from exc

    def _recv_head(self) -> bytes:
        sock = self._sock
        assert sock is not None
        return sock.recv(65536)

    def _read_head(self) -> Head:
        try:
            head, self._buf = read_head(self._recv_head, self._buf)
        except TimeoutError as exc:
            raise IdleTimeout(f"{self.where} sent nothing for {self.idle_timeout:g}s") from exc
        except (OSError, ValueError, HeadCut) as exc:
            if self._cancelled:
                raise Cancelled from exc
            if isinstance(exc, HeadCut) and exc.started:
                raise ConnectionFailure(
                    f"{self.url}: the server closed the connection in the middle of its headers"
                ) from None
            raise ConnectionFailure(f"{self.url}: the server closed the connection without answering") from exc
        except BadHead as exc:
            raise RemoteError(f"{self.url}: the server sent {exc}") from None
        return head

    def _framing(self, head: Head, method: str) -> None:
        """How the body ends (RFC 9112 6.3) and how it is encoded."""
        headers = head.headers
        if method == "HEAD" or head.status in _NO_BODY:
            self._remaining = 0
        elif "transfer-encoding" in headers:
            codings = [c.strip().lower() for c in headers["transfer-encoding"].split(",")]
            if codings[-1] == "chunked":
                if any(c not in ("chunked", "identity", "") for c in codings[:-1]):
                    raise RemoteError(
                        f"{self.url}: the answer is transfer-coded as {headers['transfer-encoding'][:60]!r},"
                        " which aish cannot decode"
                    )
                self._dechunk = Dechunker()
            # else: the body ends when the connection closes
        elif "content-length" in headers:
            value = headers["content-length"]
            if not value.isdigit() or not value.isascii():
                raise RemoteError(f"{self.url}: the server sent an invalid Content-Length {value[:40]!r}")
            self._remaining = int(value)
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            from aish_sse.inflate import Inflater

            self._inflate = Inflater(encoding)
        elif encoding not in ("identity", "") and self.status < 300:
            raise RemoteError(f"{self.url}: the answer is compressed as {encoding!r}, which aish cannot decode")

    @property
    def where(self) -> str:
        """What a connection failure names: the URL, and the proxy when there is one."""
        return self.url if self._proxy is None else f"{self.url} through the proxy {self._proxy.shown}"

    # -------------------------------------------------------------------- body
    def read(self, size: int = 65536) -> bytes:
        """The next payload bytes as soon as any arrive; ``b""`` at the end of the body.

        Raises :class:`IdleTimeout` after ``idle_timeout`` of silence (naming :attr:`where`) and
        :class:`ConnectionFailure` when the body is cut short.
        """
        sock = self._sock
        if sock is None or self._done:
            return b""
        while True:
            want = size if self._remaining is None else min(size, self._remaining)
            if want == 0:
                return self._finish(b"")
            if self._buf:
                data, self._buf = self._buf[:want], self._buf[want:]
            else:
                try:
                    data = sock.recv(want)
                except TimeoutError as exc:
                    raise IdleTimeout(f"{self.where}: nothing arrived for {self.idle_timeout:g}s") from exc
                except (OSError, ValueError) as exc:
                    if self._cancelled:
                        return self._finish(b"", clean=False)
                    raise ConnectionFailure(f"connection lost: {self.where} reset the connection") from exc
            if not data:
                if self._cancelled or (self._dechunk is None and self._remaining is None):
                    return self._finish(b"", clean=not self._cancelled)
                raise ConnectionFailure(f"connection lost: {self.where} closed the connection mid-answer")
            if self._remaining is not None:
                self._remaining -= len(data)
            if self._dechunk is not None:
                data = self._dechunk.feed(data)
                if self._dechunk.done:
                    if self._inflate is not None:  # the last compressed bytes came with the last chunk
                        data = self._inflate.decompress(data)
                    return self._finish(data)
            if self._inflate is not None:
                data = self._inflate.decompress(data)
            if data:
                return data

    def _finish(self, data: bytes, *, clean: bool = True) -> bytes:
        self._done = True
        if self._inflate is not None:
            if clean:
                data += self._inflate.flush()
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
        """Stop from any thread: unblock a pending connect, handshake, tunnel, header or body read."""
        with self._lock:
            self._cancelled = True
            sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sock.shutdown(_socket.SHUT_RDWR)

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def close(self) -> None:
        self._done = True
        with self._lock:
            sock = self._sock
        if sock is not None:
            sock.close()


def _proxy_for(scheme: str, host: str, port: int) -> Proxy | None:
    """The proxy the environment asks for (``https_proxy``, ``all_proxy``, ``no_proxy``, ...), if any."""
    if not any(key[-6:].lower() == "_proxy" for key in os.environ):
        return None
    from aish_sse.proxies import proxy_for

    return proxy_for(scheme, host, port)


def _reason(exc: Exception) -> str:
    if isinstance(exc, _socket.gaierror):
        return "unknown host"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__


def _percent_encode(text: str) -> str:
    """Non-ASCII characters of a request target as UTF-8 ``%XX`` escapes (as requests sends them)."""
    return "".join(c if c.isascii() else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in text)
