"""aish's own HTTP/1.1 client against raw loopback servers that answer with malformed or unusual heads.

No real server sends most of these, so the server here writes the exact
bytes; every failure must be one line naming what the server got wrong.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
from servers import Exchange, serving

from aish import ConfigError, ConnectionFailure, HTTPStatusError, IdleTimeout, MalformedEvent, RemoteError
from aish_sse.head import MAX_HEADERS, MAX_LINE
from aish_sse.http11 import Cancelled, HTTPStream


def stream(url: str, idle: float = 5.0) -> HTTPStream:
    return HTTPStream(url, connect_timeout=2.0, idle_timeout=idle)


def raw(answer: bytes, then: str = "close") -> Callable[[Exchange], None]:
    """A handler writing ``answer`` as is, then closing (or hanging)."""

    def handle(ex: Exchange) -> None:
        ex.write(answer)
        if then == "hang":
            ex.hang(10)

    return handle


def fails(answer: bytes, then: str = "close") -> BaseException:
    with serving(raw(answer, then)) as server:
        s = stream(server.url + "/v1", idle=5)
        started = time.monotonic()
        with pytest.raises((RemoteError, ConnectionFailure)) as info:
            s.open("POST", b"{}", {})
        s.close()
    assert time.monotonic() - started < 2  # never waits for the idle timeout
    assert "\n" not in str(info.value)
    return info.value


def opened(answer: bytes) -> tuple[HTTPStream, bytes]:
    with serving(raw(answer)) as server:
        s = stream(server.url)
        s.open("GET", b"", {})
        body = s.read_all()
        s.close()
    return s, body


# ---------------------------------------------------------------- status line


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (b"HTTP/1.1 abc OK\r\n\r\n", "a malformed status line b'HTTP/1.1 abc OK' (no 3-digit status code)"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "a malformed status line b'HTTP/1.1 2000 OK' (no 3-digit status code)"),
        (b"HTTP/1.1\r\n\r\n", "a malformed status line b'HTTP/1.1' (no 3-digit status code)"),
        (
            b"HTTP/2 200\r\n\r\n",
            "an HTTP version aish does not speak in its status line b'HTTP/2 200' (expected HTTP/1.x)",
        ),
        (b"HTTPS 200 OK\r\n\r\n", "an answer that is not HTTP (it starts with b'HTTPS 200 OK"),
    ],
)
def test_a_malformed_status_line_is_named(answer: bytes, said: str) -> None:
    err = fails(answer)
    assert isinstance(err, RemoteError)
    assert said in str(err)
    assert str(err).startswith("http://127.0.0.1:")


def test_a_server_that_is_not_http_fails_at_once_without_a_line_end() -> None:
    err = fails(b"SSH-2.0-OpenSSH_9.2", then="hang")
    assert "the server sent an answer that is not HTTP (it starts with b'SSH-2.0-OpenSSH_9.2')" in str(err)


def test_a_tls_server_on_an_http_url_is_named() -> None:
    err = fails(b"\x15\x03\x03\x00\x02\x02\x46", then="hang")  # a TLS alert record
    assert "the server sent a TLS record, not HTTP (use an https:// URL)" in str(err)


def test_a_status_line_too_long() -> None:
    err = fails(b"HTTP/1.1 200 " + b"O" * (MAX_LINE + 10), then="hang")
    assert f"a status line longer than {MAX_LINE} bytes" in str(err)


# --------------------------------------------------------------- header fields


def test_a_header_line_too_long() -> None:
    err = fails(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (MAX_LINE + 10) + b"\r\n\r\n")
    assert f"the server sent a header line longer than {MAX_LINE} bytes" in str(err)


def test_a_header_line_too_long_without_its_end_fails_at_once() -> None:
    err = fails(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (MAX_LINE + 10), then="hang")
    assert f"a header line longer than {MAX_LINE} bytes" in str(err)


def test_too_many_headers() -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(MAX_HEADERS + 1))
    err = fails(b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n")
    assert f"the server sent more than {MAX_HEADERS} header lines" in str(err)


def test_as_many_headers_as_allowed() -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(MAX_HEADERS - 1))
    s, body = opened(b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Length: 2\r\n\r\nok")
    assert (s.status, len(s.headers), body) == (200, MAX_HEADERS, b"ok")


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (b"no colon here", "a malformed header line b'no colon here'"),
        (b": no name", "a malformed header line b': no name'"),
        (b"Bad Name: x", "a malformed header line b'Bad Name: x'"),
        (b" folded: first", "(a continuation with nothing before it)"),
    ],
)
def test_a_malformed_header_line_is_named(line: bytes, said: str) -> None:
    err = fails(b"HTTP/1.1 200 OK\r\n" + line + b"\r\nContent-Length: 0\r\n\r\n")
    assert said in str(err)


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        (b"Content-Length: ten\r\n", "an invalid Content-Length 'ten'"),
        (b"Content-Length: -1\r\n", "an invalid Content-Length '-1'"),
        (b"Content-Length: 2\r\nContent-Length: 3\r\n", "two different Content-Length fields ('2' and '3')"),
        (b"Transfer-Encoding: gzip, chunked\r\n", "transfer-coded as 'gzip, chunked', which aish cannot decode"),
    ],
)
def test_a_body_length_aish_cannot_trust_is_named(fields: bytes, said: str) -> None:
    err = fails(b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n", then="hang")
    assert said in str(err)


def test_bare_line_feeds_folded_lines_and_repeated_fields_are_read() -> None:
    s, body = opened(
        b"HTTP/1.0 200 Fine\nX-Folded: one\n  two\nX-Twice: a\nx-twice: b\n"
        b"Content-Type:text/event-stream\n\ndata: x\n\n"
    )
    assert (s.status, s.reason, body) == (200, "Fine", b"data: x\n\n")
    assert (s.headers["x-folded"], s.headers["X-TWICE"], s.headers.get("Content-Type")) == (
        "one two",
        "a, b",
        "text/event-stream",
    )


def test_interim_answers_are_skipped() -> None:
    s, body = opened(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    )
    assert (s.status, "link" in s.headers, body) == (200, False, b"hello")


@pytest.mark.parametrize("status", [204, 304])
def test_an_answer_without_a_body_does_not_wait(status: int) -> None:
    with serving(raw(b"HTTP/1.1 %d Nothing\r\n\r\n" % status, then="hang")) as server:
        s = stream(server.url, idle=5)
        s.open("GET", b"", {})
        started = time.monotonic()
        assert s.read() == b""
        assert time.monotonic() - started < 0.5
        s.close()


# ------------------------------------------------------------ the connection


def test_a_server_closing_mid_headers() -> None:
    err = fails(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-")
    assert isinstance(err, ConnectionFailure) and not isinstance(err, IdleTimeout)
    assert str(err).endswith("/v1: the server closed the connection in the middle of its headers")


def test_a_server_closing_without_answering() -> None:
    err = fails(b"")
    assert str(err).endswith("/v1: the server closed the connection without answering")


def test_a_server_resetting_without_answering() -> None:
    with serving(lambda ex: ex.abort()) as server, pytest.raises(ConnectionFailure, match="without answering"):
        stream(server.url).open("POST", b"{}", {})


@pytest.mark.parametrize(
    "body",
    [b"zz\r\nab\r\n0\r\n\r\n", b"-3\r\nabc\r\n0\r\n\r\n", b"3\r\nabc\r\n+3\r\nabc\r\n0\r\n\r\n", b"1" * 5000],
    ids=["not-hex", "negative", "signed", "size-line-too-long"],
)
def test_bad_chunk_sizes_are_malformed(body: bytes) -> None:
    with serving(raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body, then="hang")) as server:
        s = stream(server.url)
        s.open("GET", b"", {})
        with pytest.raises(MalformedEvent, match="invalid chunked encoding"):
            s.read_all()
        s.close()


def test_a_body_that_came_with_the_head_is_not_lost() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    _, body = opened(head + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    assert body == b"hello world"


def test_a_large_body_is_sent_whole() -> None:
    payload = bytes(range(256)) * 10240  # 2.5 MiB: the head, then three pieces
    with serving(raw(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) as server:
        s = stream(server.url)
        s.open("POST", payload, {"Content-Type": "application/octet-stream"})
        s.close()
    assert server.requests[0].body == payload


def test_the_request_head() -> None:
    with serving(raw(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) as server:
        port = server.url.rsplit(":", 1)[1]
        s = stream(f"http://127.0.0.1:{port}/v1/chat/compl%C3%A9tions?a=1&b=é#frag")
        s.open("POST", b"{}", {"X-Api-Key": "k", "Content-Length": "999", "User-Agent": "mine/1"})
        s.close()
    request = server.requests[0]
    assert (request.method, request.target, request.version) == (
        "POST",
        "/v1/chat/compl%C3%A9tions?a=1&b=%C3%A9",
        "HTTP/1.1",
    )
    assert request.headers == {
        "host": f"127.0.0.1:{port}",
        "x-api-key": "k",
        "accept-encoding": "identity",
        "user-agent": "mine/1",
        "content-length": "2",
    }


@pytest.mark.parametrize(("name", "value"), [("X-Key", "a\r\nInjected: yes"), ("X-Key", "a\nb"), ("Bad Name", "v")])
def test_a_header_that_would_break_the_request_is_refused_without_its_value(name: str, value: str) -> None:
    with (
        serving(raw(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) as server,
        pytest.raises(ConfigError, match=f"header {name!r}") as info,
    ):
        stream(server.url).open("POST", b"", {name: value})
    assert "Injected" not in str(info.value) and server.requests == []


def test_ipv6_loopback() -> None:
    try:
        listener = socket.create_server(("::1", 0), family=socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    port = listener.getsockname()[1]
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            got.append(data)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with listener:
        s = stream(f"http://[::1]:{port}/x")
        s.open("GET", b"", {})
        assert s.read_all() == b"v6"
        s.close()
        thread.join(5)
    assert f"Host: [::1]:{port}\r\n".encode() in got[0]


@pytest.mark.skipif(sys.platform != "linux", reason="shutdown() ends a pending connect on Linux")
def test_cancel_unblocks_a_tcp_connect() -> None:
    """A listener whose accept queue is full drops SYNs: a connect to it waits in SYN_SENT."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    queued = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        queued.append(filler)
    try:
        probe = socket.socket()
        probe.settimeout(0.3)
        try:
            probe.connect(("127.0.0.1", port))
            pytest.skip("this kernel accepts past a full backlog")
        except TimeoutError:
            pass  # the connect waits in SYN_SENT, as wanted
        except OSError:
            pytest.skip("this kernel refuses past a full backlog (tcp_abort_on_overflow)")
        finally:
            probe.close()
        s = HTTPStream(f"http://127.0.0.1:{port}/v1", connect_timeout=10, idle_timeout=10)
        thread = threading.Thread(target=lambda: (time.sleep(0.3), s.cancel()))
        thread.start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            s.open("POST", b"{}", {})
        assert time.monotonic() - started < 2
        thread.join()
        s.close()
    finally:
        for sock in (*queued, listener):
            sock.close()


def test_cancel_unblocks_a_tls_handshake() -> None:
    with serving(lambda ex: ex.hang(10)) as server:  # takes the TCP connection, never answers the TLS hello
        s = stream(server.url.replace("http://", "https://"), idle=10)
        thread = threading.Thread(target=lambda: (time.sleep(0.2), s.cancel()))
        thread.start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            s.open("GET", b"", {})
        assert time.monotonic() - started < 1
        thread.join()
        s.close()


# --------------------------------------------------------------- what it costs

IMPORTS = """
import sys
import aish_sse
from aish import AgentConfig, Request, SSEParser, ConfigError, HTTPStatusError, MalformedEvent
before = set(sys.modules)
from aish_sse.transport import SSETransport
transport = SSETransport(AgentConfig(name="t", transport="sse", url=sys.argv[1], codec="openai-chat", model="m"))
conn = transport.open(Request(url=sys.argv[1], body=b"{}"))
print(b"".join(item.data.encode() for batch in conn for item in batch).decode())
conn.close()
print(" ".join(sorted(set(sys.modules) - before)))
"""


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_a_plain_http_stream_imports_no_http_library_nor_tls(encoding: str) -> None:
    """``http.client`` would pull ``email``, ``calendar``, ``locale`` and ``ssl`` in; ``urllib.request`` more."""
    import gzip

    body = b"data: streamed\n\n"
    sent = gzip.compress(body) if encoding == "gzip" else body
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: %s\r\n" % encoding.encode()
    with serving(raw(answer + b"Content-Length: %d\r\n\r\n" % len(sent) + sent)) as server:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        run = subprocess.run(
            [sys.executable, "-c", IMPORTS, server.url + "/v1"], capture_output=True, text=True, env=env, timeout=30
        )
    assert run.returncode == 0, run.stderr
    text, modules = run.stdout.splitlines()
    assert text == "streamed"
    added = set(modules.split())
    assert "aish_sse.http11" in added
    never = {"http.client", "email", "urllib.request", "ssl", "_ssl", "calendar", "locale", "encodings.idna", "socket"}
    never |= {"aish_sse.tls", "aish_sse.proxies", "base64", "dataclasses", "typing", "urllib.parse", "ipaddress"}
    assert not added & never, added & never
    assert ("aish_sse.inflate" in added) is (encoding == "gzip")  # zlib only for a compressed answer
    if encoding == "identity":
        assert "zlib" not in added


# ------------------------------------------------------------ through a proxy


@pytest.mark.parametrize(
    ("answer", "error", "said"),
    [
        (
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n",
            ConnectionFailure,  # it could not reach the origin: a failure to connect, as curl and requests say
            "cannot connect to the proxy",
        ),
        (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", HTTPStatusError, "HTTP 403 Forbidden from the proxy"),
        (b"", ConnectionFailure, "the proxy closed the connection"),
        (b"HTTP/1.1 2xx Fine\r\n\r\n", RemoteError, "the proxy sent a malformed status line"),
    ],
)
def test_a_tunnel_the_proxy_does_not_open_names_the_proxy(
    answer: bytes, error: type[Exception], said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(raw(answer)) as proxy:
        port = int(proxy.url.rsplit(":", 1)[1])
        monkeypatch.setenv("https_proxy", f"http://user:s3cret@127.0.0.1:{port}")
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        s = stream("https://models.example.invalid/v1")
        with pytest.raises(error) as info:
            s.open("POST", b"{}", {})
        s.close()
    assert said in str(info.value)
    assert f"the proxy http://127.0.0.1:{port} (from https_proxy), tunnelling to models.example.invalid:443" in str(
        info.value
    )
    assert "s3cret" not in str(info.value)
    request = proxy.requests[0]
    assert (request.method, request.target) == ("CONNECT", "models.example.invalid:443")
    assert request.header("host") == "models.example.invalid:443"
    assert request.header("proxy-authorization") == "Basic dXNlcjpzM2NyZXQ="  # user:s3cret
