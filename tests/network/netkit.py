"""Real network parts for the HTTP tests, all on 127.0.0.1: a TLS terminator and a forward proxy.

:class:`TLSFront` is Python's ``ssl`` in front of a plain server (the way
nginx or stunnel terminate TLS): it accepts TLS with a certificate from a
test CA made at test time (trustme) and copies bytes both ways to the
target. :class:`ForwardProxy` runs proxy.py (a maintained pure-Python
forward proxy from PyPI, with ``--basic-auth``) as a child process.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aish.testing import free_port, stop_process


class _Listener:
    """A server on a free port of 127.0.0.1 that serves each connection on a thread of its own
    (:meth:`_serve`); leaving it closes the listener and every socket it kept (:meth:`_keep`)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # ends the pending accept (close alone does not, on Linux)
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()
        self._thread.join(5)

    def _keep(self, *socks: socket.socket) -> None:
        with self._lock:
            self._sockets += socks

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self._keep(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError


class TLSFront(_Listener):
    """TLS on ``127.0.0.1:port`` with ``cert`` (a ``trustme.LeafCert``), forwarded to ``target``."""

    def __init__(self, cert: Any, target: tuple[str, int]) -> None:
        super().__init__()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(self.context)
        self.target = target
        self.handshakes_failed = 0

    def url(self, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}"

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshakes_failed += 1
            conn.close()
            return
        tls.settimeout(None)
        upstream = socket.create_connection(self.target, timeout=10)
        upstream.settimeout(None)
        self._keep(tls, upstream)
        threading.Thread(target=_pipe, args=(upstream, tls), daemon=True).start()
        _pipe(tls, upstream)


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class ForwardProxy:
    """proxy.py on a free port of 127.0.0.1; ``auth`` (``user:password``) makes it require Basic credentials."""

    def __init__(self, log: Path, auth: str | None = None) -> None:
        self.auth = auth
        self.log = log
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, credentials: str | None = None) -> str:
        who = f"{credentials}@" if credentials else ""
        return f"http://{who}127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        for _ in range(3):  # a free port can be taken between the probe and the bind
            self.port = free_port()
            cmd = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", str(self.port)]
            cmd += ["--num-workers", "1", "--num-acceptors", "1", "--timeout", "30"]
            if self.auth:
                cmd += ["--basic-auth", self.auth]
            with self.log.open("ab") as log:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            if self._ready():
                return self
            stop_process(self.proc)
        raise RuntimeError(f"proxy.py did not start:\n{self.log.read_text(errors='replace')[-2000:]}")

    def _ready(self) -> bool:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
            time.sleep(0.05)
        return False

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc is not None:
            stop_process(self.proc)


class TunnelOnce(_Listener):
    """A forward proxy on ``127.0.0.1:port`` that tunnels the first ``CONNECT`` and answers every
    later one with ``status`` (a proxy whose origin went away after the answer started)."""

    def __init__(self, status: str = "502 Bad Gateway", tunnels: int = 1) -> None:
        super().__init__()
        self.status = status
        self.tunnels = tunnels
        """How many ``CONNECT``s it tunnels before it answers with ``status`` (0: it refuses the first)."""
        self.connects: list[str] = []

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        head = b""
        while b"\r\n\r\n" not in head and (data := conn.recv(65536)):
            head += data
        target = head.split(b" ", 2)[1].decode("ascii")
        self.connects.append(target)
        if len(self.connects) > self.tunnels:
            conn.sendall(f"HTTP/1.1 {self.status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            conn.close()
            return
        host, _, port = target.rpartition(":")
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self._keep(upstream)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        conn.settimeout(None)
        upstream.settimeout(None)
        threading.Thread(target=_pipe, args=(upstream, conn), daemon=True).start()
        _pipe(conn, upstream)
