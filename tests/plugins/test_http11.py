"""The SSE transport's lean HTTP/1.1 client, against raw loopback servers."""

from __future__ import annotations

import gzip
import threading
import time

import pytest
from servers import Exchange, closed_port, json_reply, script, serving

from aish import ConfigError, ConnectionFailure, IdleTimeout
from aish_sse.http11 import Cancelled, HTTPStream


def stream(url: str, idle: float = 5.0) -> HTTPStream:
    return HTTPStream(url, connect_timeout=2.0, idle_timeout=idle)


def read_everything(s: HTTPStream) -> list[bytes]:
    pieces = []
    while data := s.read():
        pieces.append(data)
    return pieces


@pytest.mark.parametrize("framing", ["chunked", "close", "length"])
def test_body_is_read_whatever_the_framing(framing: str) -> None:
    with serving(script([b"data: a\n\n", 0.05, b"data: b\n\n"], framing=framing)) as server:  # type: ignore[arg-type]
        s = stream(server.url + "/v1/x")
        s.open("POST", b"{}", {"Content-Type": "application/json"})
        assert (s.status, s.headers["content-type"]) == (200, "text/event-stream")
        assert b"".join(read_everything(s)) == b"data: a\n\ndata: b\n\n"
        s.close()
    request = server.requests[0]
    assert (request.method, request.target, request.body) == ("POST", "/v1/x", b"{}")
    assert request.header("accept-encoding") == "identity"
    assert request.header("content-length") == "2"


@pytest.mark.parametrize("framing", ["chunked", "close", "length"])
def test_first_piece_arrives_before_the_server_pauses(framing: str) -> None:
    with serving(script([b"data: first\n\n", 0.4, b"data: second\n\n"], framing=framing)) as server:  # type: ignore[arg-type]
        s = stream(server.url)
        s.open("GET", b"", {})
        started = time.monotonic()
        assert s.read() == b"data: first\n\n"
        assert time.monotonic() - started < 0.3
        assert s.read() == b"data: second\n\n"


def test_many_chunks_come_in_few_reads() -> None:
    events = [b"data: %d\n\n" % i for i in range(2000)]

    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream"})
        ex.write(b"".join(b"%x\r\n%b\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n")
        ex.close()

    with serving(handle) as server:
        s = stream(server.url)
        s.open("GET", b"", {})
        pieces = read_everything(s)
    assert b"".join(pieces) == b"".join(events)
    assert len(pieces) < 100  # one read returns many chunks, not one chunk


def test_gzip_body_is_decoded() -> None:
    payload = b"data: compressed\n\n" * 50

    def handle(ex: Exchange) -> None:
        body = gzip.compress(payload)
        ex.respond(200, {"Content-Encoding": "gzip"}, framing="length", length=len(body))
        ex.send(body)
        ex.end()

    with serving(handle) as server:
        s = stream(server.url)
        s.open("GET", b"", {})
        assert s.read_all() == payload


def test_error_status_and_body() -> None:
    with serving(json_reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "3"})) as server:
        s = stream(server.url)
        s.open("POST", b"", {})
        assert (s.status, s.reason, s.headers["retry-after"]) == (429, "Too Many Requests", "3")
        assert b"slow down" in s.read_all()


def test_connection_refused_names_the_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(ConnectionFailure, match=f"cannot connect to {url}: connection refused"):
        stream(url).open("POST", b"", {})


def test_unknown_host() -> None:
    with pytest.raises(ConnectionFailure, match="unknown host"):
        stream("http://no-such-host.invalid/v1").open("POST", b"", {})


@pytest.mark.parametrize("url", ["ftp://x/y", "not a url", "http:///path"])
def test_invalid_urls(url: str) -> None:
    with pytest.raises(ConfigError, match="invalid url"):
        stream(url)


def test_silence_before_headers_is_an_idle_timeout() -> None:
    with serving(lambda ex: ex.hang(5)) as server:
        started = time.monotonic()
        with pytest.raises(IdleTimeout):
            stream(server.url, idle=0.3).open("GET", b"", {})
        assert time.monotonic() - started < 2


def test_silence_in_the_body_is_an_idle_timeout() -> None:
    with serving(script([b"data: a\n\n"], finish="hang")) as server:
        s = stream(server.url, idle=0.3)
        s.open("GET", b"", {})
        assert s.read() == b"data: a\n\n"
        with pytest.raises(IdleTimeout):
            s.read()


@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_body_cut_short_is_a_connection_failure(framing: str) -> None:
    steps = [b"data: a\n\n"]
    handler = script(steps, framing=framing, finish="close")  # type: ignore[arg-type]
    if framing == "length":

        def handler(ex: Exchange) -> None:
            ex.respond(200, {}, framing="length", length=100)
            ex.send(b"data: a\n\n")
            ex.close()

    with serving(handler) as server:
        s = stream(server.url)
        s.open("GET", b"", {})
        assert s.read() == b"data: a\n\n"
        with pytest.raises(ConnectionFailure, match="mid-answer"):
            s.read()


def cancel_soon(s: HTTPStream, delay: float = 0.2) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay), s.cancel()))
    thread.start()
    return thread


def test_cancel_unblocks_a_body_read() -> None:
    with serving(script([b"data: a\n\n"], finish="hang")) as server:
        s = stream(server.url, idle=10)
        s.open("GET", b"", {})
        s.read()
        thread = cancel_soon(s)
        started = time.monotonic()
        assert s.read() == b""
        assert time.monotonic() - started < 1 and s.cancelled
        thread.join()


def test_cancel_unblocks_the_wait_for_headers() -> None:
    with serving(lambda ex: ex.hang(10)) as server:
        s = stream(server.url, idle=10)
        thread = cancel_soon(s)
        started = time.monotonic()
        with pytest.raises(Cancelled):
            s.open("GET", b"", {})
        assert time.monotonic() - started < 1
        thread.join()


def test_cancel_before_open_never_connects() -> None:
    with serving(script([b"x"])) as server:
        s = stream(server.url)
        s.cancel()
        with pytest.raises(Cancelled):
            s.open("GET", b"", {})
    assert server.requests == []


def test_http_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(script([b"via proxy"])) as proxy:
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        s = stream("http://agents.example.invalid:8080/v1/chat?x=1")
        s.open("POST", b"{}", {})
        assert s.read_all() == b"via proxy"
    assert proxy.requests[0].target == "http://agents.example.invalid:8080/v1/chat?x=1"


def test_no_proxy_bypasses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(script([b"direct"])) as server:
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{closed_port()}")
        monkeypatch.setenv("no_proxy", "127.0.0.1")
        s = stream(server.url + "/v1")
        s.open("GET", b"", {})
        assert s.read_all() == b"direct"
