"""The HTTP side of the reference server: routing, recording, streaming.

:class:`RefServer` owns a :class:`http.server.ThreadingHTTPServer` (HTTP/1.1,
keep-alive, one daemon thread per connection). Streamed replies use chunked
transfer encoding and reach the socket event by event, paced by a deadline
schedule; with no pacing, many events are written per system call.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from http.server import ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from . import anthropic, dialects
from .bodies import MAX_BODY_BYTES, read_body
from .demo_text import MODELS
from .faults import FaultBook
from .log import RecordedRequest, RequestLog
from .protocol import ApiError, completion_object, model_object, models_list, parse_chat_request
from .replies import anthropic_reply, openai_reply
from .sending import ReplySender

__all__ = ["MAX_BODY_BYTES", "RefServer"]

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class _Handler(ReplySender):
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
        return read_body(self.rfile, self.headers)

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
            else:
                if _SURROGATE_ESCAPE.search(raw) and _lone_surrogate(body):
                    body, body_error = (
                        None,
                        ApiError(
                            400,
                            "The JSON body of your request holds a lone surrogate (\\udXXX).",
                            code="invalid_unicode",
                        ),
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
        self._error_body: Callable[[ApiError], object] = ApiError.body
        try:
            self._route(body, body_error, raw)
        except ApiError as error:
            self._send_json(error.status, self._error_body(error), headers=error.headers)

    def _route(self, body: Any, body_error: ApiError | None, raw: bytes) -> None:
        path = urlsplit(self.path).path
        if path != "/":
            path = path.rstrip("/")
        if path == "/v1/models":
            self._require("GET")
            anthropic_shape = bool(self.headers.get("anthropic-version"))
            self._send_json(200, anthropic.models_list() if anthropic_shape else models_list())
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
            faults = self._faults(body, raw)
            request = parse_chat_request(body)
            if request.stream:
                self._stream(openai_reply(request), request.pace, faults)
            else:
                self._send_json(200, completion_object(request))
        elif path == "/v1/messages":
            self._error_body = anthropic.error_body
            self._require("POST")
            if body_error is not None:
                raise body_error
            faults = self._faults(body, raw)
            messages = anthropic.parse_messages_request(body, self.headers.get("anthropic-version"))
            if messages.stream:
                self._stream(anthropic_reply(messages), messages.pace, faults)
            else:
                self._send_json(200, anthropic.message_object(messages))
        elif (path.startswith("/api/chat/") and path.endswith("/stream")) or path == "/v1/envelope":
            self._require("POST")
            if body_error is not None:
                raise body_error
            faults = self._faults(body, raw)
            if path == "/v1/envelope":
                reply = dialects.envelope_reply(body)
            else:
                reply = dialects.rhetor_reply(path.removeprefix("/api/chat/").removesuffix("/stream"), body)
            self._stream(reply, None, faults)
        elif path.startswith("/v1/text/"):
            if self.command not in ("GET", "POST"):
                self._require("POST")
            self._text(path.removeprefix("/v1/text/"), raw)
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
        """Swallow clients that hang up; report anything else in one line (the demo runs inside aish)."""
        error = sys.exc_info()[1]
        if error is None or isinstance(error, (*_DISCONNECTS, TimeoutError)):
            return
        sys.stderr.write(f"aish reference server: {type(error).__name__}: {ascii(str(error))[1:-1]}\n")


def _lone_surrogate(body: Any) -> bool:
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


POLL = 5.0
"""Seconds between the serve loop's looks at a stop request when nothing wakes it (:meth:`RefServer.stop`
does): an idle demo server inside the shell no longer wakes 20 times a second."""


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
        self.faults = FaultBook()
        self.fault_log: list[tuple[str, float]] = []
        """``(kind, time.monotonic())`` of every injected ``drop`` and served ``resume``."""
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._httpd = _HTTPServer((host, port), self)
        self._ws: Any = None  # the WebSocket side (.ws.WSServer), started by ws_url

    @property
    def ws_url(self) -> str:
        """The aish WebSocket protocol endpoint, ``ws://HOST:PORT/v1/ws`` (started on first use).

        It needs the ``websockets`` package (the ``test`` extra).
        """
        with self._lock:
            if self._ws is None:
                if self._closed:
                    raise RuntimeError("RefServer was stopped; create a new one")
                from .ws import WSServer

                self._ws = WSServer(self, self.host)
            port = self._ws.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{port}/v1/ws"

    @property
    def ws_connections(self) -> int:
        """WebSocket connections accepted so far (0 before :attr:`ws_url` was used)."""
        return 0 if self._ws is None else int(self._ws.accepted)

    def drop_ws_connections(self) -> int:
        """Cut every open WebSocket connection (FIN, no close frame); how many were open."""
        return 0 if self._ws is None else int(self._ws.drop_all())

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
                kwargs={"poll_interval": POLL},
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
            self._shut_down()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        if self._ws is not None:
            self._ws.stop()

    def _shut_down(self) -> None:
        """End the serve loop now: ``shutdown()`` asks it to end and waits, and a connection of this
        thread's wakes the loop's ``select`` (which looks at the request every :data:`POLL` seconds)."""
        closer = threading.Thread(target=self._httpd.shutdown, name="aish-refserver-stop", daemon=True)
        closer.start()
        host, port = self._httpd.server_address[:2]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(str(host), str(host))
        while closer.is_alive():
            with contextlib.suppress(OSError):
                socket.create_connection((host, int(port)), timeout=1).close()
            closer.join(0.01)

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

    def log_fault(self, kind: str) -> None:
        self.fault_log.append((kind, time.monotonic()))

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
