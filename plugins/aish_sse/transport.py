"""The SSE transport: a streaming POST (:mod:`aish_sse.http11`), parsed by :mod:`aish.kit.sse`.

Every network read is handed on at once, whatever the transfer framing, as
one batch of parsed items. A plain JSON answer (a server or proxy that does
not stream) becomes one ``WireMessage(event="response")`` holding the whole
body, for the codec to read.

What the stream layer needs to resume, the connection exposes as EventSource
keeps it: ``last_event_id`` (carried over from the request's, sent back as
``Last-Event-ID``) and ``retry_delay`` (the server's ``retry:``, in seconds).
The request's cancel token reaches a request still waiting for its headers.

Redirects are followed as requests follows them: 307 and 308 repeat the
request (method and body) at the new location, 301 and 302 turn a POST into a
GET, 303 always does; at most :data:`MAX_REDIRECTS`. A redirect to another
origin (scheme, host, port) drops the headers that carry credentials.

An answer is accepted when it is an event stream (``text/event-stream``) or
JSON (a whole answer at once); any other ``Content-Type`` fails the stream, as
the WHATWG EventSource does (a web page is said to be one: a login portal or
a wrong URL). An answer without a ``Content-Type`` is read as an event stream.
"""

from __future__ import annotations

from aish import (
    ConfigError,
    ConnectionFailure,
    HTTPStatusError,
    RemoteError,
    SSEParser,
    StreamFailure,
    WireMessage,
    shown_url,
)
from aish_sse.http11 import Cancelled, HTTPStream
from aish_sse.urls import split_url

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: the transport need not import typing
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from aish import AgentConfig, Body, Request, WireItem

READ_SIZE = 65536
ERROR_BODY_LIMIT = 65536
JSON_BODY_LIMIT = 64 * 1024 * 1024
MAX_REDIRECTS = 10
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key"})


class SSETransport:
    """Opens one HTTP connection per stream for an agent."""

    sends_pieces = True
    """A :class:`aish.Body` is sent piece by piece, never whole (decision 27)."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    def open(self, request: Request) -> SSEConnection:
        url, method, body = request.url, request.method, request.body
        headers = dict(request.headers)
        if request.last_event_id:
            headers["Last-Event-ID"] = request.last_event_id
        for _ in range(MAX_REDIRECTS + 1):
            stream = self._send(request, url, method, body, headers)
            location = stream.headers.get("Location") if stream.status in REDIRECTS else None
            if not location:
                return SSEConnection(stream, request.last_event_id)
            stream.close()
            from urllib.parse import urljoin  # only for a redirect

            target = urljoin(url, location.strip())
            if _origin(target)[0] not in ("http", "https"):
                raise RemoteError(
                    f"{shown_url(url)}: redirected to {shown_url(target)[:200]!r}, which is not an http(s) URL"
                )
            if stream.status == 303 or (stream.status in (301, 302) and method == "POST"):
                method, body = "GET", b""
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            if _origin(target) != _origin(url):
                headers = _without_credentials(headers, request.secrets)
            url = target
        raise RemoteError(f"{shown_url(request.url)}: more than {MAX_REDIRECTS} redirects")

    def _send(
        self, request: Request, url: str, method: str, body: bytes | Body, headers: Mapping[str, str]
    ) -> HTTPStream:
        """One request to ``url``; the opened stream, or a failure (an HTTP error, a refused content type)."""
        agent = self.agent
        try:
            stream = HTTPStream(url, connect_timeout=agent.connect_timeout, idle_timeout=agent.idle_timeout)
        except ConfigError as exc:
            raise ConfigError(f"{agent.name}: {exc}") from None
        unhook = request.cancel.on_cancel(stream.cancel) if request.cancel is not None else None
        try:
            stream.open(method, body, headers, request.sent)
            if stream.status >= 400:
                raise _status_error(stream, stream.where)
            if stream.status not in REDIRECTS:
                _check_content_type(stream)
        except Cancelled:
            stream.close()
            raise ConnectionFailure(f"cannot connect to {stream.url}: cancelled") from None
        except BaseException:
            stream.close()
            raise
        finally:
            if unhook is not None:
                unhook()  # from now on the stream layer cancels the connection itself
        return stream

    def close(self) -> None:
        """Nothing is pooled: each connection is closed by its stream."""


class SSEConnection:
    """Iterates batches of parsed SSE items from one response."""

    def __init__(self, stream: HTTPStream, last_event_id: str | None = None) -> None:
        self.stream = stream
        self.parser = SSEParser(last_event_id or "")

    @property
    def status(self) -> int:
        return self.stream.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self.stream.headers

    @property
    def where(self) -> str:
        """What a failure names: the URL (credentials as ``***``), and the proxy when there is one."""
        return self.stream.where

    @property
    def last_event_id(self) -> str | None:
        """The last event id received (or carried over), ``None`` when the server gave none."""
        return self.parser.last_event_id or None

    @property
    def retry_delay(self) -> float | None:
        """The server's reconnection time (``retry:``) in seconds, if it sent one."""
        retry = self.parser.retry
        return None if retry is None else retry / 1000

    def __iter__(self) -> Iterator[Sequence[WireItem]]:
        content_type = self.stream.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if content_type == "application/json" or content_type.endswith("+json"):
            body = self.stream.read_all(JSON_BODY_LIMIT).decode("utf-8", errors="replace")
            if body.strip():
                yield [WireMessage(body, event="response")]
            return
        read = self.stream.read
        feed = self.parser.feed
        while chunk := read(READ_SIZE):
            items = feed(chunk)
            if items:
                yield items
        self.parser.close()

    def cancel(self) -> None:
        self.stream.cancel()

    def close(self) -> None:
        self.stream.close()


def _origin(url: str) -> tuple[str, str, int]:
    """Scheme, host and port, split as the client splits a URL to connect (``("", "", 0)`` when unusable)."""
    try:
        return split_url(url).origin
    except ValueError:
        return "", "", 0


def _without_credentials(headers: Mapping[str, str], secrets: Sequence[str]) -> dict[str, str]:
    """``headers`` less those that carry credentials (by name, or holding one of ``secrets``)."""
    found = [secret for secret in secrets if secret]
    return {
        name: value
        for name, value in headers.items()
        if name.lower() not in CREDENTIAL_HEADERS and not any(secret in value for secret in found)
    }


def _check_content_type(stream: HTTPStream) -> None:
    """Refuse an answer that is neither an event stream nor JSON, naming what it is."""
    content_type = stream.headers.get("Content-Type", "")
    kind = content_type.split(";", 1)[0].strip().lower()
    if not kind or kind == "text/event-stream" or kind == "application/json" or kind.endswith("+json"):
        return
    what = "a web page" if kind in ("text/html", "application/xhtml+xml") else f"{kind!r}"
    raise RemoteError(f"{stream.url}: the server sent {what}, not an event stream (Content-Type: {content_type[:80]})")


def _status_error(stream: HTTPStream, url: str) -> HTTPStatusError:
    try:
        body = stream.read_all(ERROR_BODY_LIMIT).decode("utf-8", errors="replace")
    except (StreamFailure, OSError):
        body = ""
    value = stream.headers.get("Retry-After")
    return HTTPStatusError(stream.status, stream.reason or "", url, body, _retry_after(value) if value else None)


def _retry_after(value: str) -> float | None:
    """``Retry-After`` in seconds: a number, or an HTTP date (RFC 9110 10.2.3; a past date is now)."""
    try:
        return float(value)
    except ValueError:
        pass
    import time
    from email.utils import parsedate_to_datetime  # only for a date, which few servers send

    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # not GMT as the RFC asks: read as UTC
        import datetime

        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - time.time())
