"""The WebSocket side of the reference server: the demo agents in the aish WebSocket protocol.

Served at ``ws://HOST:PORT/v1/ws`` (:attr:`RefServer.ws_url`) by the
``websockets`` library's synchronous server in a thread, imported only when a
test asks for it. The text is the same as over HTTP (:mod:`.demo_text`) and
the faults are the same (:mod:`.faults`, from the request's
``options.aish_fault`` or the handshake's ``X-Aish-Fault`` header), applied to
messages instead of events: ``drop_after`` cuts the TCP connection without a
close frame, ``heartbeats`` sends ``heartbeat`` messages, ``malformed_after``
one text frame that is not JSON, ``drip`` fragments each message,
``status`` answers with an ``error`` message carrying that status (a
handshake ``X-Aish-Fault`` status refuses the upgrade), ``ids`` names the
answer's ``stream`` but ignores ``resume``, and ``resume`` honours it. ``retry`` has no
WebSocket meaning and is ignored. A ``cancel`` message stops the answer at
once (``fault_log`` records ``cancel``); after an answer the connection
stays open for the next request.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator, Mapping
from itertools import islice
from json.encoder import encode_basestring_ascii as _quote
from typing import TYPE_CHECKING, Any

from .demo_text import MODELS, plan_reply
from .faults import Faults, parse_faults
from .log import RecordedRequest
from .protocol import ApiError
from .streaming import BATCH_BYTES

if TYPE_CHECKING:
    from websockets.http11 import Request, Response
    from websockets.sync.server import Server, ServerConnection

    from .server import RefServer

PATH = "/v1/ws"
POLL_EVERY = 32
"""Unpaced answers with faults look for a ``cancel`` message every this many messages (the
others before each write of about 64 KiB)."""

_LOG = logging.getLogger("aish_refserver.ws")
_LOG.addHandler(logging.NullHandler())
_LOG.propagate = False


class _Stop(Exception):
    """The answer ends early: cancelled, dropped, or the server is stopping."""


class WSServer:
    """Serves WebSocket connections for ``owner`` until :meth:`stop`."""

    def __init__(self, owner: RefServer, host: str) -> None:
        from websockets.sync.server import serve

        self.owner = owner
        self._connections: set[ServerConnection] = set()
        self._lock = threading.Lock()
        self.accepted = 0
        """Connections accepted so far."""
        self.server: Server = serve(
            self._handle,
            host,
            0,
            compression=None,
            process_request=self._check,
            ping_interval=None,
            server_header="aish-refserver/1",
            logger=_LOG,
        )
        self.thread = threading.Thread(target=self.server.serve_forever, name="aish-refserver-ws", daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.socket.getsockname()[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.drop_all()
        self.thread.join(5)

    def drop_all(self) -> int:
        """Shut down every open connection's socket; how many there were."""
        with self._lock:
            connections = list(self._connections)
        for ws in connections:
            with contextlib.suppress(OSError):
                ws.socket.shutdown(socket.SHUT_RDWR)
        return len(connections)

    # -- the handshake -------------------------------------------------------

    def _check(self, ws: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?")[0] != PATH:
            return ws.respond(404, f"no WebSocket endpoint at {request.path}; use {PATH}\n")
        try:
            faults = parse_faults(None, request.headers.get("X-Aish-Fault"))
        except ApiError as exc:
            return ws.respond(400, f"{exc.message}\n")
        if self.owner.faults.should_fail(faults, "ws:" + request.path):
            response = ws.respond(faults.status or 500, f"injected fault: HTTP {faults.status}\n")
            if faults.retry_after is not None:
                response.headers["Retry-After"] = f"{faults.retry_after:g}"
            return response
        return None

    # -- a connection --------------------------------------------------------

    def _handle(self, ws: ServerConnection) -> None:
        from websockets.exceptions import ConnectionClosed

        owner = self.owner
        with self._lock:
            self._connections.add(ws)
            self.accepted += 1
        try:
            while not owner._stopping.is_set():
                raw = ws.recv()
                text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                try:
                    message = json.loads(text)
                except ValueError:
                    message = None
                headers = {k.lower(): v for k, v in ws.request.headers.raw_items()} if ws.request else {}
                owner.requests.append(RecordedRequest("WS", PATH, headers, message, text.encode()))
                if not isinstance(message, dict) or message.get("type") not in ("request", "resume", "cancel"):
                    _send(ws, _error(400, "bad_request", "expected a request, resume or cancel message"))
                    continue
                if message["type"] == "cancel":
                    continue  # nothing is running
                owner._busy(1)
                try:
                    if not self._answer(ws, message):
                        return
                finally:
                    owner._busy(-1)
        except ConnectionClosed:
            return
        finally:
            with self._lock:
                self._connections.discard(ws)

    def _answer(self, ws: ServerConnection, message: Mapping[str, Any]) -> bool:
        """Stream one answer; False when the connection was dropped."""
        owner = self.owner
        resume = message if message["type"] == "resume" else None
        request = message.get("request") if resume is not None else message
        if not isinstance(request, dict):
            _send(ws, _error(400, "bad_request", "resume needs the original request"))
            return True
        raw_options = request.get("options")
        options: dict[str, Any] = raw_options if isinstance(raw_options, dict) else {}
        model, prompt = str(request.get("model") or ""), str(request.get("input") or "")
        faults: Faults | None = None
        try:
            faults = parse_faults(options.get("aish_fault"))
            if model not in MODELS:
                raise ApiError(404, f"The model '{model}' does not exist.", code="model_not_found")
            key = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
            if owner.faults.should_fail(faults, key):
                status = faults.status or 500
                raise ApiError(status, f"injected fault: HTTP {status}", code="injected_fault")
            cap, exact = options.get("max_tokens"), options.get("aish_tokens")
            plan = plan_reply(model, prompt, max_tokens=cap, exact_tokens=exact)
        except ApiError as exc:
            after = faults.retry_after if faults is not None and exc.code == "injected_fault" else None
            _send(ws, _error(exc.status, exc.code or "invalid_request", exc.message, after))
            return True
        except (TypeError, ValueError) as exc:
            _send(ws, _error(400, "invalid_request", str(exc)))
            return True
        start, sid = 0, ""
        if faults.tagged:
            point = None
            if resume is not None and faults.resume:
                point = owner.faults.resume_point(f"{resume.get('stream')}:{resume.get('after')}")
            if point is not None:
                sid, start = point
                owner.log_fault("resume")
            else:
                sid = owner.faults.new_answer(plan.count + 1)
        usage = {"input_tokens": len(prompt.split()), "output_tokens": plan.count}
        done = {"type": "done", "finish_reason": plan.finish_reason, "usage": usage}
        pace = float(options.get("aish_pace", owner.pace))
        try:
            return _Writer(ws, owner, faults, pace).write(_messages(plan.tokens(), plan.count, done, start, sid))
        except _Stop:
            return True


def _messages(tokens: Iterator[str], count: int, done: dict[str, Any], start: int, sid: str) -> Iterator[str]:
    """The answer's messages, exactly as ``json.dumps`` writes them (deltas without its per-call cost)."""
    tag = f'"stream": {_quote(sid)}, ' if sid else ""
    quote = _quote
    for seq, token in enumerate(islice(tokens, start, None), start):
        yield f'{{"type": "delta", "seq": {seq}, {tag}"text": {quote(token)}}}'
    extra = {"stream": sid} if sid else {}
    yield json.dumps({"type": "done", "seq": count, **extra, **{k: v for k, v in done.items() if k != "type"}})


def _frame(payload: bytes) -> bytes:
    """``payload`` as one unmasked, final text frame (RFC 6455 section 5.2)."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


class _Writer:
    """Sends one answer's messages with its faults, pacing, and an ear for ``cancel``."""

    def __init__(self, ws: ServerConnection, owner: RefServer, faults: Faults, pace: float) -> None:
        self.ws, self.owner, self.faults, self.pace = ws, owner, faults, pace

    def write(self, messages: Iterator[str]) -> bool:
        faults, ws = self.faults, self.ws
        if faults.heartbeats > 0:
            until = time.monotonic() + faults.heartbeats
            while time.monotonic() < until:
                self._send('{"type": "heartbeat"}')
                self._listen(min(faults.heartbeat_every, until - time.monotonic()))
        if self.pace <= 0 and not _per_message(faults):
            return self._batched(messages)
        began, malformed, stalled = time.monotonic(), False, False
        for written, data in enumerate(messages):
            if faults.drop_after is not None and written >= faults.drop_after:
                self._drop()
                return False
            if faults.malformed_after is not None and written >= faults.malformed_after and not malformed:
                self._send('{"type": "delta", "seq": ')
                malformed = True
            if faults.stall > 0 and written >= faults.stall_after and not stalled:
                self._listen(faults.stall)
                stalled = True
            if self.pace > 0:
                self._listen(began + written * self.pace - time.monotonic())
            elif written % POLL_EVERY == 0:
                self._listen(0)
            if faults.drip > 0:
                ws.send(self._drip(data))
            else:
                ws.send(data)
        return True

    def _batched(self, messages: Iterator[str]) -> bool:
        """Unpaced: many messages per write (about 64 KiB, as the SSE side), a look for ``cancel`` before each."""
        pending: list[bytes] = []
        size = 0
        for data in messages:
            frame = _frame(data.encode())
            pending.append(frame)
            size += len(frame)
            if size >= BATCH_BYTES:
                self._listen(0)
                self._write(b"".join(pending))
                pending.clear()
                size = 0
        self._listen(0)
        self._write(b"".join(pending))
        return True

    def _write(self, frames: bytes) -> None:
        """Write ready-made frames under the connection's lock (websockets writes one frame per call)."""
        with self.ws.send_context():
            self.ws.socket.sendall(frames)

    def _send(self, data: str) -> None:
        if self.owner._stopping.is_set():
            raise _Stop
        self.ws.send(data)

    def _drip(self, data: str) -> Iterator[str]:
        step = self.faults.drip_bytes
        for i in range(0, len(data), step):
            if i:
                time.sleep(self.faults.drip)
            yield data[i : i + step]

    def _listen(self, seconds: float) -> None:
        """Wait up to ``seconds`` (0: just look); stop on a ``cancel`` message or when the server stops."""
        deadline = time.monotonic() + max(seconds, 0.0)
        while True:
            if self.owner._stopping.is_set():
                raise _Stop
            try:
                raw = self.ws.recv(timeout=max(deadline - time.monotonic(), 0.0))
            except TimeoutError:
                return
            if '"cancel"' in str(raw):
                self.owner.log_fault("cancel")
                raise _Stop

    def _drop(self) -> None:
        self.owner.log_fault("drop")
        sock = self.ws.socket
        with contextlib.suppress(OSError):
            if self.faults.drop_mode == "reset":  # RST: linger 0, wake the reader, close
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RD)
                sock.close()
            else:  # FIN, and no close frame
                sock.shutdown(socket.SHUT_RDWR)


def _per_message(faults: Faults) -> bool:
    """Whether ``faults`` act between messages (so an unpaced answer cannot be batched)."""
    return faults.drop_after is not None or faults.malformed_after is not None or faults.stall > 0 or faults.drip > 0


def _send(ws: ServerConnection, data: str) -> None:
    ws.send(data)


def _error(status: int, code: str, message: str, retry_after: float | None = None) -> str:
    body: dict[str, Any] = {"type": "error", "status": status, "code": code, "message": message}
    if retry_after is not None:
        body["retry_after"] = retry_after
    return json.dumps(body)
