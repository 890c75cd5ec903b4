"""A recording HTTP proxy for tests: forwards POSTs to a server, streams the answers back, and logs both.

Each request's JSON body, its arrival time, the answer's ``delta.content``
text (OpenAI chat-completion SSE) and the time the answer ended (when its end marker
was relayed, before the client could see it) are kept in
:attr:`RecordingProxy.exchanges`, so a test can see what a pipeline stage
sent and when, against a real server.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Exchange:
    """One proxied request and its answer."""

    path: str
    body: Any
    arrived: float
    answer: list[str] = field(default_factory=list)
    ended: float | None = None

    @property
    def text(self) -> str:
        return "".join(self.answer)


class RecordingProxy:
    """``http://127.0.0.1:PORT/v1`` in front of ``target`` (a base URL such as ``http://h:p/v1``)."""

    def __init__(self, target: str) -> None:
        self.target = urlsplit(target)
        self.exchanges: list[Exchange] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.target.path}"

    def __enter__(self) -> RecordingProxy:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class _Handler(BaseHTTPRequestHandler):
    owner: RecordingProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        owner = self.owner
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        exchange = Exchange(self.path, json.loads(raw or b"null"), time.monotonic())
        with owner.lock:
            owner.exchanges.append(exchange)
        upstream = http.client.HTTPConnection(owner.target.hostname or "127.0.0.1", owner.target.port, timeout=60)
        try:
            upstream.request("POST", self.path, raw, {"Content-Type": "application/json"})
            response = upstream.getresponse()
            self.send_response(response.status)
            self.send_header("Content-Type", response.getheader("Content-Type") or "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for line in response:
                _record(exchange, line)
                if line.strip() == b"data: [DONE]":  # before the client can see the end: it may go on at once
                    exchange.ended = time.monotonic()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        finally:
            if exchange.ended is None:
                exchange.ended = time.monotonic()
            upstream.close()


def _record(exchange: Exchange, line: bytes) -> None:
    if not line.startswith(b"data: ") or line.strip() == b"data: [DONE]":
        return
    try:
        event = json.loads(line[6:])
    except ValueError:
        return
    for choice in event.get("choices", []):
        content = (choice.get("delta") or {}).get("content")
        if content:
            exchange.answer.append(content)
