"""The SSE transport: a streaming POST with requests, parsed by :mod:`aish_sse.parser`.

Every network read is handed on at once (``raw.read1``), whatever the transfer
framing, as one batch of parsed items. A plain JSON answer (a server or proxy
that does not stream) becomes one ``WireMessage(event="response")`` holding
the whole body, for the codec to read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import requests
import urllib3.exceptions

from aish import (
    AgentConfig,
    ConfigError,
    ConnectionFailure,
    HTTPStatusError,
    IdleTimeout,
    Request,
    WireItem,
    WireMessage,
)
from aish_sse.chunked import Dechunker
from aish_sse.parser import SSEParser

READ_SIZE = 65536
ERROR_BODY_LIMIT = 65536


class SSETransport:
    """One requests session per agent; :meth:`open` starts one stream."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent
        self._session: requests.Session | None = None

    def open(self, request: Request) -> SSEConnection:
        if self._session is None:
            self._session = requests.Session()
        timeout = (self.agent.connect_timeout, self.agent.idle_timeout)
        try:
            response = self._session.request(
                request.method,
                request.url,
                data=request.body,
                headers=dict(request.headers),
                stream=True,
                timeout=timeout,
            )
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as exc:
            raise ConfigError(f"{self.agent.name}: invalid url {request.url!r}") from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise ConnectionFailure(
                f"cannot connect to {request.url}: no answer within {self.agent.connect_timeout:g}s"
            ) from exc
        except requests.exceptions.ReadTimeout as exc:
            raise IdleTimeout(f"{request.url} sent nothing for {self.agent.idle_timeout:g}s") from exc
        except requests.exceptions.SSLError as exc:
            raise ConnectionFailure(f"cannot connect to {request.url}: TLS handshake failed") from exc
        except requests.exceptions.ConnectionError as exc:
            raise ConnectionFailure(f"cannot connect to {request.url}: {_reason(exc)}") from exc
        if response.status_code >= 400:
            raise _status_error(response, request.url)
        return SSEConnection(response, self.agent)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


class SSEConnection:
    """Iterates batches of parsed SSE items from one response."""

    def __init__(self, response: requests.Response, agent: AgentConfig) -> None:
        self.response = response
        self.agent = agent
        self.parser = SSEParser()
        self._cancelled = False

    def __iter__(self) -> Iterator[Sequence[WireItem]]:
        content_type = self.response.headers.get("Content-Type", "")
        if "json" in content_type and "event-stream" not in content_type:
            body = self._read_all()
            if body.strip():
                yield [WireMessage(body, event="response")]
            return
        read, dechunk = _body_reader(self.response)
        feed = self.parser.feed
        while True:
            try:
                chunk = read(READ_SIZE)
            except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
                if self._cancelled:
                    return
                raise IdleTimeout(f"nothing arrived for {self.agent.idle_timeout:g}s") from exc
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if self._cancelled:
                    return
                raise ConnectionFailure(f"connection lost: {_reason(exc)}") from exc
            if not chunk:
                if dechunk is not None and not self._cancelled:
                    raise ConnectionFailure("connection lost: the server closed the connection mid-answer")
                return
            if dechunk is not None:
                chunk = dechunk.feed(chunk)
                if dechunk.done:
                    items = feed(chunk)
                    if items:
                        yield items
                    return
            items = feed(chunk)
            if items:
                yield items

    def _read_all(self) -> str:
        try:
            data = self.response.raw.read(decode_content=True)
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
            raise IdleTimeout(f"nothing arrived for {self.agent.idle_timeout:g}s") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ConnectionFailure(f"connection lost: {_reason(exc)}") from exc
        return data.decode("utf-8", errors="replace")

    def cancel(self) -> None:
        self._cancelled = True
        with contextlib.suppress(AttributeError, OSError, RuntimeError, ValueError):  # released or closed
            self.response.raw.shutdown()

    def close(self) -> None:
        self.response.close()


def _body_reader(response: requests.Response) -> tuple[Callable[[int], bytes], Dechunker | None]:
    """How to read the body: whatever the socket has, de-chunked by us when chunked.

    Falls back to urllib3's own ``read1`` whenever the response is not a plain,
    untouched chunked body (compressed, already partly read, unexpected internals).
    """
    raw = response.raw
    fp = getattr(raw, "_fp", None)  # http.client.HTTPResponse
    sock_file = getattr(fp, "fp", None)  # its buffered socket reader
    plain = response.headers.get("Content-Encoding", "identity").lower() in ("identity", "")
    if (
        plain
        and getattr(fp, "chunked", False)
        and getattr(fp, "chunk_left", 0) is None
        and callable(getattr(sock_file, "read1", None))
    ):
        return sock_file.read1, Dechunker()  # type: ignore[union-attr]
    return lambda n: raw.read1(n, decode_content=True), None


def _status_error(response: requests.Response, url: str) -> HTTPStatusError:
    try:
        body = response.raw.read(ERROR_BODY_LIMIT, decode_content=True).decode("utf-8", errors="replace")
    except (urllib3.exceptions.HTTPError, OSError):
        body = ""
    finally:
        response.close()
    retry_after: float | None = None
    value = response.headers.get("Retry-After")
    if value:
        try:
            retry_after = float(value)
        except ValueError:
            retry_after = None
    return HTTPStatusError(response.status_code, response.reason or "", url, body, retry_after)


def _reason(exc: BaseException) -> str:
    """The innermost readable cause, e.g. 'connection refused'."""
    text = str(exc)
    for marker, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("Temporary failure in name resolution", "unknown host"),
        ("No route to host", "no route to host"),
        ("Connection reset", "connection reset by peer"),
        ("IncompleteRead", "the server closed the connection mid-answer"),
        ("Connection broken", "the server closed the connection mid-answer"),
        ("timed out", "timed out"),
    ):
        if marker in text:
            return reason
    return text.splitlines()[0][:200] if text else type(exc).__name__
