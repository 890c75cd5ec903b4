"""The HTTP side of the reference server: routing, recording, streaming.

:class:`RefServer` owns a :class:`http.server.ThreadingHTTPServer` (HTTP/1.1,
keep-alive, one daemon thread per connection). Streamed replies use chunked
transfer encoding and reach the socket event by event, paced by a deadline
schedule; with no pacing, many events are written per system call.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseServer, TCPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from .demo_text import MODELS
from .log import RecordedRequest, RequestLog
from .protocol import (
    DONE_EVENT,
    ApiError,
    ChatRequest,
    ChunkEncoder,
    completion_object,
    model_object,
    models_list,
    parse_chat_request,
)

MAX_BODY_BYTES = 32 * 1024 * 1024
"""Largest request body accepted (413 beyond it)."""

BATCH_BYTES = 64 * 1024
"""With no pacing, events are gathered into writes of about this size."""

_DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class _StreamAborted(Exception):
    """The server is stopping while a reply is being streamed."""


def _frame(data: bytes) -> bytes:
    """``data`` as one chunk of chunked transfer encoding."""
    return b"%x\r\n%b\r\n" % (len(data), data)


_LAST_FRAME = b"0\r\n\r\n"


class _Handler(BaseHTTPRequestHandler):
    """Serves one connection; see :class:`RefServer` for the API."""

    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "aish-refserver/1"
    disable_nagle_algorithm = True
    timeout = 120.0

    # -- plumbing -----------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        self.server.owner._track(self.connection, add=False)
        with contextlib.suppress(OSError):
            super().finish()

    def version_string(self) -> str:
        """The ``Server`` header: no Python version suffix."""
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: no request log on stderr."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer protocol-level errors with a JSON body and close."""
        short = self.responses.get(code, ("Error", ""))[0]
        self.close_connection = True
        error = ApiError(code, message or short, code="http_error")
        self._send_json(code, error.body(), close=True)

    def _send_json(
        self,
        status: int,
        obj: object,
        *,
        close: bool = False,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked_body()
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise ApiError(400, "Invalid Content-Length.", code="invalid_request") from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise ApiError(413, "Request body too large.", code="request_too_large")
        return self.rfile.read(length)

    def _read_chunked_body(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ApiError(400, "Invalid chunked body.", code="invalid_request") from None
            total += size
            if total > MAX_BODY_BYTES:
                raise ApiError(413, "Request body too large.", code="request_too_large")
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    # -- dispatch -----------------------------------------------------------

    def do_GET(self) -> None:
        """Handle GET."""
        self._dispatch()

    def do_POST(self) -> None:
        """Handle POST."""
        self._dispatch()

    def do_PUT(self) -> None:
        """Handle PUT (always an error)."""
        self._dispatch()

    def do_DELETE(self) -> None:
        """Handle DELETE (always an error)."""
        self._dispatch()

    def do_PATCH(self) -> None:
        """Handle PATCH (always an error)."""
        self._dispatch()

    def _dispatch(self) -> None:
        owner = self.server.owner
        owner._busy(+1)
        try:
            self._handle_request()
        except _DISCONNECTS:
            self.close_connection = True
        finally:
            owner._busy(-1)

    def _handle_request(self) -> None:
        try:
            raw = self._read_body()
        except ApiError as error:
            self.close_connection = True
            self._send_json(error.status, error.body(), close=True)
            return
        body: Any = None
        body_error: ApiError | None = None
        if raw:
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError) as exc:
                body_error = ApiError(
                    400,
                    f"We could not parse the JSON body of your request: {exc}",
                    code="invalid_json",
                )
        self.server.owner.requests.append(
            RecordedRequest(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                raw_body=raw,
            )
        )
        try:
            self._route(body, body_error)
        except ApiError as error:
            self._send_json(error.status, error.body())

    def _route(self, body: Any, body_error: ApiError | None) -> None:
        path = urlsplit(self.path).path
        if path != "/":
            path = path.rstrip("/")
        if path == "/v1/models":
            self._require("GET")
            self._send_json(200, models_list())
        elif path.startswith("/v1/models/"):
            self._require("GET")
            name = path.removeprefix("/v1/models/")
            if name not in MODELS:
                raise ApiError(404, f"The model '{name}' does not exist.", code="model_not_found")
            self._send_json(200, model_object(name))
        elif path == "/v1/chat/completions":
            self._require("POST")
            if body_error is not None:
                raise body_error
            request = parse_chat_request(body)
            if request.stream:
                self._stream(request)
            else:
                self._send_json(200, completion_object(request))
        else:
            raise ApiError(
                404,
                f"Unknown request URL: {self.command} {self.path}.",
                code="unknown_url",
            )

    def _require(self, method: str) -> None:
        if self.command != method:
            raise ApiError(
                405,
                f"Method {self.command} not allowed for {self.path}; use {method}.",
                code="method_not_allowed",
            )

    # -- streaming ----------------------------------------------------------

    def _stream(self, request: ChatRequest) -> None:
        """Send the reply as Server-Sent Events.

        HTTP/1.1 clients get chunked transfer encoding (the connection stays
        usable); HTTP/1.0 clients get a body delimited by closing.
        """
        owner = self.server.owner
        pace = owner.pace if request.pace is None else request.pace
        encoder = ChunkEncoder(request.model)
        chunked = self.request_version != "HTTP/1.0"
        frame: Callable[[bytes], bytes] = _frame if chunked else bytes
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        write = self.wfile.write
        write(frame(encoder.role_event()))
        tokens = request.plan.tokens()
        try:
            if pace > 0:
                self._stream_paced(tokens, encoder, frame, pace)
                pending: list[bytes] = []
            else:
                pending = self._stream_batched(tokens, encoder, frame)
        except _StreamAborted:
            self.close_connection = True
            return
        pending.append(frame(encoder.finish_event(request.plan.finish_reason)))
        if request.include_usage:
            pending.append(frame(encoder.usage_event(request.usage)))
        pending.append(frame(DONE_EVENT))
        if chunked:
            pending.append(_LAST_FRAME)
        write(b"".join(pending))

    def _stream_paced(
        self,
        tokens: Iterator[str],
        encoder: ChunkEncoder,
        frame: Callable[[bytes], bytes],
        pace: float,
    ) -> None:
        """Write one content event per token, ``pace`` seconds apart."""
        stopping = self.server.owner._stopping
        write = self.wfile.write
        start = time.monotonic()
        for i, token in enumerate(tokens, 1):
            delay = start + i * pace - time.monotonic()
            if (delay > 0 and stopping.wait(delay)) or stopping.is_set():
                raise _StreamAborted
            write(frame(encoder.content_event(token)))

    def _stream_batched(
        self,
        tokens: Iterator[str],
        encoder: ChunkEncoder,
        frame: Callable[[bytes], bytes],
    ) -> list[bytes]:
        """Write content events in large batches; return the unwritten rest."""
        stopping = self.server.owner._stopping
        write = self.wfile.write
        event = encoder.content_event
        batch: list[bytes] = []
        size = 0
        for token in tokens:
            data = frame(event(token))
            batch.append(data)
            size += len(data)
            if size >= BATCH_BYTES:
                if stopping.is_set():
                    raise _StreamAborted
                write(b"".join(batch))
                batch.clear()
                size = 0
        return batch


class _HTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its :class:`RefServer` and stays quiet."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 stalls bursts of new connections

    def __init__(self, address: tuple[str, int], owner: RefServer) -> None:
        self.owner = owner
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without the reverse DNS lookup HTTPServer does (it can be slow)."""
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Swallow clients that hang up; report anything else."""
        if isinstance(sys.exc_info()[1], (*_DISCONNECTS, TimeoutError)):
            return
        BaseServer.handle_error(self, request, client_address)


class RefServer:
    """aish's reference OpenAI-compatible agent server, for tests and demos.

    ``RefServer(host="127.0.0.1", port=0, pace=0.025)`` binds at once (port 0
    picks a free port, see :attr:`port`); :meth:`start` serves in a background
    thread. ``pace`` is the default number of seconds between streamed tokens
    and may be changed at any time; a request can override it with the
    ``aish_pace`` extension field. Every request is recorded in
    :attr:`requests`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, pace: float = 0.025) -> None:
        self.host = host
        self.pace = pace
        self.requests = RequestLog()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._httpd = _HTTPServer((host, port), self)

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, e.g. ``http://127.0.0.1:8000/v1``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def start(self) -> Self:
        """Serve in a background daemon thread; return ``self``."""
        if self._closed:
            raise RuntimeError("RefServer was stopped; create a new one")
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"aish-refserver:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: end streams, close every connection and the socket."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled; ``False`` on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RefServer({self.base_url!r}, pace={self.pace})"

    # -- used by the handler ------------------------------------------------

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if not add:
                self._connections.discard(conn)
                return
            self._connections.add(conn)
        if self._stopping.is_set():  # accepted while stop() was running
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def _busy(self, delta: int) -> None:
        with self._idle:
            self._in_flight += delta
            if self._in_flight == 0:
                self._idle.notify_all()
