"""A reference server for the ``aish-ndjson`` example: newline-delimited JSON over TCP.

The protocol of Tekton's old sockets: the client sends one line,
``{"type": "chat", "content": ..., "model": ..., "options": {...}}`` (or
``{"type": "resume", "stream": SID, "after": SEQ, "request": {...}}`` on a new
connection, or ``{"type": "cancel"}`` while an answer streams); the server
answers with ``{"type": "stream_chunk", "content": ..., "seq": N}`` lines (with
``"stream": SID`` when it can resume), ``{"type": "ping"}`` while quiet, then
``{"type": "stream_end", ...}`` or ``{"type": "error", "status": ..., ...}``.

It is :class:`aish_refserver.RefServer` with one more listener, and shares its
demo answers, fault injection (``options.aish_fault``), request log and
``wait_idle``, so the transport contract suite runs against it unchanged.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct
import threading
import time
from collections.abc import Iterator
from itertools import islice
from typing import Any, Self

from .demo_text import MODELS, plan_reply
from .faults import Faults, parse_faults
from .log import RecordedRequest
from .protocol import ApiError
from .server import RefServer


class _Stop(Exception):
    """The client cancelled or went away, or the server stops."""


class NDJSONRefServer(RefServer):
    """:class:`RefServer` that also speaks NDJSON over TCP at :attr:`ndjson_url`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, pace: float = 0.025) -> None:
        super().__init__(host, port, pace)
        self._listener = socket.create_server((host, 0))
        self._accepter: threading.Thread | None = None
        self._clients: set[socket.socket] = set()

    @property
    def ndjson_url(self) -> str:
        return f"tcp://{self.host}:{self._listener.getsockname()[1]}"

    def start(self) -> Self:
        super().start()
        if self._accepter is None:
            self._accepter = threading.Thread(target=self._accept, name="ndjson-refserver", daemon=True)
            self._accepter.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for conn in list(self._clients):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._accepter is not None:
            self._accepter.join(2)
        super().stop()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _addr = self._listener.accept()
            except OSError:
                return
            self._clients.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            while not self._stopping.is_set():
                line = reader.readline()
                if not line:
                    return
                text = line.decode("utf-8", "replace").strip()
                try:
                    message = json.loads(text)
                except ValueError:
                    message = None
                self.requests.append(RecordedRequest("NDJSON", "/", {}, message, line))
                if not isinstance(message, dict) or message.get("type") not in ("chat", "resume", "cancel"):
                    _send(conn, _error(400, "expected a chat, resume or cancel message"))
                    continue
                if message["type"] == "cancel":
                    continue
                self._busy(1)
                try:
                    if not self._answer(conn, reader, message):
                        return
                except (_Stop, OSError):
                    return
                finally:
                    self._busy(-1)
        except OSError:
            return
        finally:
            self._clients.discard(conn)
            with contextlib.suppress(OSError):
                reader.close()
                conn.close()

    def _answer(self, conn: socket.socket, reader: Any, message: dict[str, Any]) -> bool:
        resume = message if message["type"] == "resume" else None
        request = message.get("request") if resume is not None else message
        if not isinstance(request, dict):
            _send(conn, _error(400, "resume needs the original request"))
            return True
        raw_options = request.get("options")
        options: dict[str, Any] = raw_options if isinstance(raw_options, dict) else {}
        model, prompt = str(request.get("model") or ""), str(request.get("content") or "")
        try:
            faults = parse_faults(options.get("aish_fault"))
            if model not in MODELS:
                raise ApiError(404, f"The model '{model}' does not exist.")
            if self.faults.should_fail(faults, json.dumps(request, sort_keys=True)):
                status = faults.status or 500
                _send(conn, _error(status, f"injected fault: HTTP {status}", faults.retry_after))
                return True
            plan = plan_reply(model, prompt, exact_tokens=options.get("aish_tokens"))
        except ApiError as exc:
            _send(conn, _error(exc.status, exc.message))
            return True
        start, sid = 0, ""
        if faults.tagged:
            point = None
            if resume is not None and faults.resume:
                point = self.faults.resume_point(f"{resume.get('stream')}:{resume.get('after')}")
            if point is not None:
                sid, start = point
                self.log_fault("resume")
            else:
                sid = self.faults.new_answer(plan.count + 1)
        end = {"finish_reason": plan.finish_reason, "usage": {"output_tokens": plan.count}}
        lines = _lines(plan.tokens(), plan.count, end, start, sid)
        pace = float(options.get("aish_pace", self.pace))
        return _Writer(self, conn, faults, pace).write(lines)


def _lines(tokens: Iterator[str], count: int, end: dict[str, Any], start: int, sid: str) -> Iterator[str]:
    tag = {"stream": sid} if sid else {}
    for seq, token in enumerate(islice(tokens, start, None), start):
        yield json.dumps({"type": "stream_chunk", "seq": seq, **tag, "content": token})
    yield json.dumps({"type": "stream_end", "seq": count, **tag, **end})


class _Writer:
    """Sends one answer's lines with its faults and pacing, listening for ``cancel`` or a hang-up."""

    def __init__(self, owner: NDJSONRefServer, conn: socket.socket, faults: Faults, pace: float) -> None:
        self.owner, self.conn, self.faults, self.pace = owner, conn, faults, pace

    def write(self, lines: Iterator[str]) -> bool:
        faults = self.faults
        if faults.heartbeats > 0:
            until = time.monotonic() + faults.heartbeats
            while time.monotonic() < until:
                _send(self.conn, '{"type": "ping"}')
                self._listen(min(faults.heartbeat_every, until - time.monotonic()))
        began, malformed, stalled = time.monotonic(), False, False
        for written, line in enumerate(lines):
            if faults.drop_after is not None and written >= faults.drop_after:
                self._drop()
                return False
            if faults.malformed_after is not None and written >= faults.malformed_after and not malformed:
                _send(self.conn, '{"type": "stream_chunk", "seq": ')
                malformed = True
            if faults.stall > 0 and written >= faults.stall_after and not stalled:
                self._listen(faults.stall)
                stalled = True
            self._listen(began + written * self.pace - time.monotonic())
            if faults.drip > 0:
                data = (line + "\n").encode()
                for i in range(0, len(data), faults.drip_bytes):
                    if i:
                        time.sleep(faults.drip)
                    self.conn.sendall(data[i : i + faults.drip_bytes])
            else:
                _send(self.conn, line)
        return True

    def _listen(self, seconds: float) -> None:
        """Wait up to ``seconds``; stop on ``cancel``, a hang-up, or when the server stops."""
        deadline = time.monotonic() + max(seconds, 0.0)
        while True:
            if self.owner._stopping.is_set():
                raise _Stop
            readable, _, _ = select.select([self.conn], [], [], max(deadline - time.monotonic(), 0.0))
            if readable:
                data = self.conn.recv(4096, socket.MSG_PEEK)
                if not data or b'"cancel"' in data:
                    self.owner.log_fault("cancel")
                    raise _Stop
                time.sleep(max(deadline - time.monotonic(), 0.0))  # not for us mid-answer: just wait
            if time.monotonic() >= deadline:
                return

    def _drop(self) -> None:
        self.owner.log_fault("drop")
        with contextlib.suppress(OSError):
            if self.faults.drop_mode == "reset":  # RST when the socket closes: linger 0
                self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:  # FIN now
                self.conn.shutdown(socket.SHUT_RDWR)


def _send(conn: socket.socket, line: str) -> None:
    conn.sendall((line + "\n").encode())


def _error(status: int, message: str, retry_after: float | None = None) -> str:
    body: dict[str, Any] = {"type": "error", "status": status, "message": message}
    if retry_after is not None:
        body["retry_after"] = retry_after
    return json.dumps(body)
