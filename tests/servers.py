"""Raw-socket HTTP test servers: byte-exact responses with controlled framing and timing.

:class:`RawHTTPServer` listens on 127.0.0.1 (any free port) and serves every
connection in its own daemon thread: it reads one request, records it in
:attr:`RawHTTPServer.requests`, and hands an :class:`Exchange` to the test's
handler, which writes exactly the bytes it wants (``respond`` for a status line
and headers, ``send`` for framed body pieces, ``write`` for anything raw),
pauses, ends the body, closes cleanly or resets the connection. When the
handler returns, the connection is closed (one request per connection), so a
handler that never ends a chunked or Content-Length body makes the server
"close mid-stream".

Pauses wait on the server's stop event, so :meth:`RawHTTPServer.stop` ends
every handler at once and tests never wait for a stalled server.

:func:`script` builds the usual handler from a list of steps: bytes are sent
(framed), floats are pauses.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

Framing = Literal["chunked", "close", "length", "raw"]

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class RawRequest:
    """One request as it reached the server (header names lower-cased)."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)


class ClientGone(Exception):
    """The client closed the connection while the handler was writing."""


@dataclass
class Exchange:
    """One request and its response, as a handler sees them."""

    sock: socket.socket
    request: RawRequest
    stopping: threading.Event
    framing: Framing = "raw"
    marks: dict[str, float] = field(default_factory=dict)
    """Named ``time.monotonic()`` instants a handler records (see :meth:`mark`)."""
    _open: bool = True

    # -- writing ----------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Write ``data`` to the socket exactly as given."""
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise ClientGone(str(exc)) from None

    def respond(
        self,
        status: int = 200,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        *,
        framing: Framing = "chunked",
        length: int | None = None,
        reason: str | None = None,
        keep_alive: bool = False,
    ) -> None:
        """Write the status line and headers for ``framing``.

        ``chunked``: HTTP/1.1 with ``Transfer-Encoding: chunked``; ``close``:
        HTTP/1.0 and no length, the body ends when the connection closes;
        ``length``: HTTP/1.1 with ``Content-Length: length``; ``raw``: HTTP/1.1
        with only the given headers (the body is written as is). ``Connection:
        close`` is sent unless ``keep_alive`` (the server still closes when the
        handler returns).
        """
        self.framing = framing
        version = "HTTP/1.0" if framing == "close" else "HTTP/1.1"
        lines = [f"{version} {status} {reason if reason is not None else REASONS.get(status, 'Status')}"]
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        lines += [f"{name}: {value}" for name, value in pairs]
        if framing == "chunked":
            lines.append("Transfer-Encoding: chunked")
        elif framing == "length":
            if length is None:
                raise ValueError("framing='length' needs length=")
            lines.append(f"Content-Length: {length}")
        if not keep_alive:
            lines.append("Connection: close")
        self.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send(self, data: bytes) -> None:
        """Write one piece of the body, framed as announced by :meth:`respond`."""
        if self.framing == "chunked":
            if data:
                self.write(b"%x\r\n%b\r\n" % (len(data), data))
        else:
            self.write(data)

    def end(self) -> None:
        """End the body properly (the last chunk for chunked framing) and close."""
        if self.framing == "chunked":
            self.write(b"0\r\n\r\n")
        self.close()

    def close(self) -> None:
        """Close the connection cleanly (FIN)."""
        if self._open:
            self._open = False
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_WR)
            self.sock.close()

    def abort(self) -> None:
        """Reset the connection (RST): an abrupt close."""
        if self._open:
            self._open = False
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()

    # -- timing -----------------------------------------------------------------

    def pause(self, seconds: float) -> bool:
        """Sleep ``seconds``; False (at once) when the server is stopping."""
        return not self.stopping.wait(seconds)

    def hang(self, limit: float = 30.0) -> None:
        """Send nothing more until the server stops (at most ``limit`` seconds)."""
        self.stopping.wait(limit)

    def mark(self, name: str) -> float:
        """Record the current monotonic time under ``name`` and return it."""
        now = self.marks[name] = time.monotonic()
        return now


Handler = Callable[[Exchange], None]


class RawHTTPServer:
    """A threaded raw-socket HTTP server on 127.0.0.1; see the module docstring."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[RawRequest] = []
        self.errors: list[BaseException] = []
        self.marks: dict[str, float] = {}
        self.stopping = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = int(self._listener.getsockname()[1])
        self._threads: list[threading.Thread] = []
        self._socks: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._acceptor: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._acceptor = threading.Thread(target=self._accept, name=f"raw-http:{self.port}", daemon=True)
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """End every handler, close every connection and the listener."""
        self.stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._acceptor is not None:
            self._acceptor.join(2)
        for thread in list(self._threads):
            thread.join(2)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- serving ----------------------------------------------------------------

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._socks.add(sock)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            request = _read_request(sock)
            if request is None:
                return
            self.requests.append(request)
            exchange = Exchange(sock, request, self.stopping, marks=self.marks)
            with contextlib.suppress(ClientGone):
                self.handler(exchange)
            exchange.close()
        except BaseException as exc:  # surfaced by tests that look at .errors
            self.errors.append(exc)
        finally:
            with self._lock:
                self._socks.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()


def _read_request(sock: socket.socket) -> RawRequest | None:
    sock.settimeout(10)
    buf = b""
    while b"\r\n\r\n" not in buf:
        try:
            data = sock.recv(65536)
        except OSError:
            return None
        if not data:
            return None
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            break
        rest += data
    sock.settimeout(None)
    return RawRequest(method, target, version, headers, rest[:length])


# ------------------------------------------------------------------------ helpers


def sse(data: object, event: str | None = None) -> bytes:
    """One SSE event: ``data`` as compact UTF-8 JSON (a ``str`` is sent as is)."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return (head + "".join(f"data: {line}\n" for line in text.split("\n")) + "\n").encode()


def chunk(content: str | None = None, *, role: str | None = None, finish: str | None = None) -> bytes:
    """An OpenAI ``chat.completion.chunk`` event."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return sse(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "model": "test-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
    )


def usage_chunk(prompt: int, completion: int) -> bytes:
    """The ``include_usage`` event: no choices, only usage."""
    return sse(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "model": "test-model",
            "choices": [],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }
    )


DONE = b"data: [DONE]\n\n"


def openai_stream(*tokens: str, finish: str = "stop", usage: tuple[int, int] | None = None) -> list[bytes]:
    """The events of a complete OpenAI stream answering ``tokens``."""
    events = [chunk(role="assistant"), *(chunk(t) for t in tokens), chunk(finish=finish)]
    if usage is not None:
        events.append(usage_chunk(*usage))
    events.append(DONE)
    return events


Step = bytes | float | Callable[[], object]


def script(
    steps: Iterable[Step],
    *,
    framing: Framing = "chunked",
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    finish: Literal["end", "close", "abort", "hang"] = "end",
) -> Handler:
    """A handler that sends ``steps`` (bytes are sent, floats are pauses, callables are called:
    say, to wait until the client has seen what was sent).

    ``finish``: ``end`` ends the body properly; ``close`` closes the connection
    without ending a chunked body; ``abort`` resets it; ``hang`` sends nothing
    more until the server stops. With ``framing="length"`` the Content-Length
    is the total of the steps' bytes.
    """
    steps = list(steps)
    head = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    head.update(headers or {})

    def handle(ex: Exchange) -> None:
        length = sum(len(s) for s in steps if isinstance(s, bytes)) if framing == "length" else None
        ex.respond(status, head, framing=framing, length=length)
        for step in steps:
            if isinstance(step, bytes):
                ex.send(step)
            elif callable(step):
                step()
            elif not ex.pause(step):
                return
        if finish == "end":
            ex.end()
        elif finish == "close":
            ex.close()
        elif finish == "abort":
            ex.abort()
        else:
            ex.hang()

    return handle


def json_reply(
    status: int, body: object, headers: Mapping[str, str] | None = None, content_type: str = "application/json"
) -> Handler:
    """A handler answering ``status`` with ``body`` (JSON unless bytes/str) and a Content-Length."""
    data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()

    def handle(ex: Exchange) -> None:
        ex.respond(status, {"Content-Type": content_type, **(headers or {})}, framing="length", length=len(data))
        ex.send(data)
        ex.end()

    return handle


@contextlib.contextmanager
def serving(handler: Handler) -> Iterator[RawHTTPServer]:
    """``with serving(handler) as server:`` a started :class:`RawHTTPServer`."""
    server = RawHTTPServer(handler).start()
    try:
        yield server
    finally:
        server.stop()


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
