"""Tests of aish's reference agent server over real loopback HTTP."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3

from aish_refserver import RefServer

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 10.0
PROMPT = "Explain quantum entanglement to a curious student"


@pytest.fixture(scope="module")
def server() -> Iterator[RefServer]:
    """One unpaced server for the whole module."""
    with RefServer(pace=0.0) as srv:
        yield srv


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A keep-alive session, closed after the test."""
    with requests.Session() as session:
        yield session


def body_for(model: str = "athena", prompt: str = PROMPT, **extra: Any) -> dict[str, Any]:
    """A chat completions request body."""
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}


def post(srv: RefServer, http: requests.Session, body: object, *, stream: bool = False) -> requests.Response:
    """POST a body to the chat completions endpoint."""
    return http.post(srv.base_url + "/chat/completions", json=body, stream=stream, timeout=TIMEOUT)


def parse_sse(raw: bytes) -> list[Any]:
    """Split a complete SSE body into decoded ``data:`` payloads (``"[DONE]"`` kept)."""
    assert raw.endswith(b"\n\n"), raw[-200:]
    events: list[Any] = []
    for block in raw.decode().split("\n\n")[:-1]:
        assert block.startswith("data: "), block
        assert "\n" not in block, block  # one data line per event
        payload = block.removeprefix("data: ")
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def stream_events(srv: RefServer, http: requests.Session, body: dict[str, Any]) -> list[Any]:
    """Stream a request and return its decoded events."""
    with post(srv, http, {**body, "stream": True}, stream=True) as resp:
        assert resp.status_code == 200, resp.text
        return parse_sse(resp.raw.read())


def content_tokens(events: list[Any]) -> list[str]:
    """The ``delta.content`` of every content chunk, in order."""
    return [
        e["choices"][0]["delta"]["content"]
        for e in events
        if isinstance(e, dict) and e["choices"] and "content" in e["choices"][0]["delta"]
    ]


def finish_reason(events: list[Any]) -> str | None:
    """The finish reason of the stream's finish chunk."""
    reasons = [
        e["choices"][0]["finish_reason"]
        for e in events
        if isinstance(e, dict) and e["choices"] and e["choices"][0]["finish_reason"]
    ]
    assert len(reasons) == 1, reasons
    return reasons[0]  # type: ignore[no-any-return]


def test_models_list(server: RefServer, http: requests.Session) -> None:
    resp = http.get(server.base_url + "/models", timeout=TIMEOUT)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    data = resp.json()
    assert data["object"] == "list"
    assert [m["id"] for m in data["data"]] == ["apollo", "athena", "hermes", "echo"]
    assert all(m["object"] == "model" for m in data["data"])


def test_base_url_and_port(server: RefServer) -> None:
    assert server.port > 0
    assert server.base_url == f"http://127.0.0.1:{server.port}/v1"


def test_streamed_chunk_format(server: RefServer, http: requests.Session) -> None:
    with post(server, http, body_for(stream=True), stream=True) as resp:
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == "text/event-stream"
        assert resp.headers["Transfer-Encoding"] == "chunked"
        assert resp.raw.version == 11
        events = parse_sse(resp.raw.read())
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert chunks[0]["choices"] == [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]
    assert chunks[-1]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert {c["id"] for c in chunks} == {chunks[0]["id"]}
    assert chunks[0]["id"].startswith("chatcmpl-")
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert {c["model"] for c in chunks} == {"athena"}
    assert all(isinstance(c["created"], int) for c in chunks)
    assert not any("usage" in c for c in chunks)
    tokens = content_tokens(events)
    assert len(tokens) == len(chunks) - 2  # every middle chunk carries one token
    assert 40 <= len(tokens) <= 90
    assert tokens[0] == "Athena"
    assert all(re.fullmatch(r" \S+", t) for t in tokens[1:]), tokens
    text = "".join(tokens)
    assert text.startswith("Athena (offline demo): ")
    assert "quantum entanglement" in text
    assert text.endswith(".")


@pytest.mark.parametrize(
    ("model", "label"),
    [
        ("apollo", "Apollo (offline demo): "),
        ("athena", "Athena (offline demo): "),
        ("hermes", "Hermes (offline demo): "),
    ],
)
def test_personas_label_their_answers(server: RefServer, http: requests.Session, model: str, label: str) -> None:
    events = stream_events(server, http, body_for(model))
    assert "".join(content_tokens(events)).startswith(label)
    assert finish_reason(events) == "stop"


def test_tokens_arrive_progressively(server: RefServer, http: requests.Session) -> None:
    body = body_for(stream=True, aish_tokens=5, aish_pace=0.05)
    arrivals: list[float] = []  # when each content token was first seen
    buffer = b""
    with post(server, http, body, stream=True) as resp:
        start = time.monotonic()
        while chunk := resp.raw.read1(65536):
            buffer += chunk
            seen = buffer.count(b'"delta":{"content":')
            arrivals += [time.monotonic() - start] * (seen - len(arrivals))
    assert len(arrivals) == 5
    # Paced every 50 ms: the first token is on the wire long before the last.
    assert arrivals[-1] - arrivals[0] >= 0.12, arrivals
    assert len(set(arrivals)) >= 4, arrivals  # separate reads, not one burst
    assert arrivals[0] < 0.2, arrivals


def test_constructor_pace_is_the_default() -> None:
    with RefServer(pace=0.04) as paced, requests.Session() as http:
        start = time.monotonic()
        events = stream_events(paced, http, body_for(aish_tokens=5))
        paced_time = time.monotonic() - start
        start = time.monotonic()
        stream_events(paced, http, body_for(aish_tokens=5, aish_pace=0))
        unpaced_time = time.monotonic() - start
    assert len(content_tokens(events)) == 5
    assert paced_time >= 0.18
    assert unpaced_time < 0.15


def test_same_request_same_text(server: RefServer, http: requests.Session) -> None:
    first = content_tokens(stream_events(server, http, body_for("apollo")))
    second = content_tokens(stream_events(server, http, body_for("apollo")))
    assert first == second
    other = content_tokens(stream_events(server, http, body_for("apollo", "Will it rain?")))
    assert other != first
    assert "rain" in "".join(other)


def test_text_depends_on_last_user_message(server: RefServer, http: requests.Session) -> None:
    base = body_for("hermes", "Send the report to finance")
    longer = {
        **base,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Something else entirely"},
            {"role": "assistant", "content": "Noted."},
            *base["messages"],
        ],
    }
    assert content_tokens(stream_events(server, http, base)) == content_tokens(stream_events(server, http, longer))


def test_max_tokens_cuts_with_length(server: RefServer, http: requests.Session) -> None:
    full = content_tokens(stream_events(server, http, body_for()))
    events = stream_events(server, http, body_for(max_tokens=7))
    assert content_tokens(events) == full[:7]
    assert finish_reason(events) == "length"
    roomy = stream_events(server, http, body_for(max_tokens=1000))
    assert content_tokens(roomy) == full
    assert finish_reason(roomy) == "stop"


def test_aish_tokens_forces_exact_count(server: RefServer, http: requests.Session) -> None:
    events = stream_events(server, http, body_for(aish_tokens=123))
    assert len(content_tokens(events)) == 123
    assert finish_reason(events) == "stop"
    capped = stream_events(server, http, body_for(aish_tokens=123, max_tokens=10))
    assert content_tokens(capped) == content_tokens(events)[:10]
    assert finish_reason(capped) == "length"
    assert content_tokens(stream_events(server, http, body_for(aish_tokens=0))) == []


def test_aish_finish_chooses_the_finish_reason(server: RefServer, http: requests.Session) -> None:
    events = stream_events(server, http, body_for(aish_tokens=3, aish_finish="content_filter"))
    assert len(content_tokens(events)) == 3
    assert finish_reason(events) == "content_filter"
    assert finish_reason(stream_events(server, http, body_for(aish_finish="length"))) == "length"
    assert_error(post(server, http, body_for(aish_finish="")), 400, "invalid_request")
    assert_error(post(server, http, body_for(aish_finish=3)), 400, "invalid_request")


def test_aish_finish_in_the_anthropic_dialect(server: RefServer, http: requests.Session) -> None:
    def stop_reason(**extra: Any) -> str:
        body = {"model": "athena", "max_tokens": 500, "stream": True, **extra}
        body["messages"] = [{"role": "user", "content": PROMPT}]
        resp = http.post(
            server.base_url + "/messages", json=body, headers={"anthropic-version": "2023-06-01"}, timeout=TIMEOUT
        )
        assert resp.status_code == 200, resp.text
        datas = [line[6:] for line in resp.text.splitlines() if line.startswith("data: ")]
        deltas = [json.loads(d) for d in datas if '"message_delta"' in d]
        return str(deltas[0]["delta"]["stop_reason"])

    assert stop_reason() == "end_turn"
    assert stop_reason(aish_finish="length") == "max_tokens"
    assert stop_reason(aish_finish="refusal") == "refusal"


def test_echo_model(server: RefServer, http: requests.Session) -> None:
    events = stream_events(server, http, body_for("echo", "hello  wide\nworld"))
    assert content_tokens(events) == ["hello", "  wide", "\nworld"]  # the prompt's own blanks and breaks
    repeated = stream_events(server, http, body_for("echo", "hello wide world", aish_tokens=7))
    assert "".join(content_tokens(repeated)) == "hello wide world hello wide world hello"


def test_usage_chunk_only_when_asked(server: RefServer, http: requests.Session) -> None:
    plain = stream_events(server, http, body_for(aish_tokens=9))
    assert not any(isinstance(e, dict) and "usage" in e for e in plain)
    asked = stream_events(server, http, body_for(aish_tokens=9, stream_options={"include_usage": True}))
    assert asked[-1] == "[DONE]"
    usage_chunk = asked[-2]
    assert usage_chunk["choices"] == []
    usage = usage_chunk["usage"]
    assert usage["completion_tokens"] == 9
    assert usage["prompt_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + 9
    assert asked[-3]["choices"][0]["finish_reason"] == "stop"  # usage after finish
    assert sum(1 for e in asked if isinstance(e, dict) and "usage" in e) == 1


@pytest.mark.parametrize("stream_field", [{}, {"stream": False}])
def test_non_streaming_json(server: RefServer, http: requests.Session, stream_field: dict[str, bool]) -> None:
    resp = post(server, http, {**body_for("apollo", max_tokens=12), **stream_field})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    data = resp.json()
    assert data["object"] == "chat.completion"
    assert data["model"] == "apollo"
    (choice,) = data["choices"]
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] == "length"
    streamed = content_tokens(stream_events(server, http, body_for("apollo", max_tokens=12)))
    assert choice["message"]["content"] == "".join(streamed)
    assert data["usage"]["completion_tokens"] == 12
    assert data["usage"]["total_tokens"] == data["usage"]["prompt_tokens"] + 12


def assert_error(resp: requests.Response, status: int, code: str) -> None:
    """The response is an OpenAI-shaped error."""
    assert resp.status_code == status
    assert resp.headers["Content-Type"] == "application/json"
    error = resp.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]


def test_error_bodies(server: RefServer, http: requests.Session) -> None:
    url = server.base_url + "/chat/completions"
    assert_error(post(server, http, body_for("zeus", stream=True)), 404, "model_not_found")
    bad_json = http.post(
        url,
        data=b'{"model": "athena", "messages": [',
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert_error(bad_json, 400, "invalid_json")
    assert_error(http.get(server.base_url + "/nowhere", timeout=TIMEOUT), 404, "unknown_url")
    assert_error(post(server, http, {"model": "athena"}), 400, "invalid_request")
    assert_error(post(server, http, body_for(aish_tokens=-1)), 400, "invalid_request")
    # The keep-alive connection is still in sync after all those errors.
    assert post(server, http, body_for(max_tokens=3)).status_code == 200


def test_requests_are_recorded(server: RefServer, http: requests.Session) -> None:
    server.requests.clear()
    body = body_for("hermes", max_tokens=2)
    http.post(
        server.base_url + "/chat/completions",
        json=body,
        headers={"Authorization": "Bearer sk-test"},
        timeout=TIMEOUT,
    )
    http.get(server.base_url + "/models?x=1", timeout=TIMEOUT)
    first, second = server.requests
    assert (first.method, first.path, first.body) == (
        "POST",
        "/v1/chat/completions",
        body,
    )
    assert first.header("authorization") == "Bearer sk-test"
    assert first.headers["authorization"] == "Bearer sk-test"
    assert (second.method, second.path, second.body) == ("GET", "/v1/models?x=1", None)


def test_client_disconnect_mid_stream(
    server: RefServer, http: requests.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    # One unpaced stream far too long to finish, one paced stream; both dropped.
    for extra in ({"aish_tokens": 2_000_000}, {"aish_tokens": 1000, "aish_pace": 0.01}):
        with requests.post(
            server.base_url + "/chat/completions",
            json=body_for(stream=True, **extra),
            stream=True,
            timeout=TIMEOUT,
        ) as resp:
            assert resp.status_code == 200
            assert resp.raw.read1(1024)
        # Leaving the block closes the connection while the server is writing.
    assert server.wait_idle(5.0)
    time.sleep(0.05)
    assert capsys.readouterr().err == ""
    events = stream_events(server, http, body_for(aish_tokens=3))
    assert len(content_tokens(events)) == 3


def test_fifty_thousand_tokens_unpaced(server: RefServer, http: requests.Session) -> None:
    start = time.monotonic()
    events = stream_events(server, http, body_for(aish_tokens=50_000, aish_pace=0))
    elapsed = time.monotonic() - start
    assert len(content_tokens(events)) == 50_000
    assert events[-1] == "[DONE]"
    assert elapsed < 10.0


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_stop_wakes_the_serve_loop_instead_of_waiting_for_its_next_look(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop looks at a stop request every POLL seconds (5: an idle demo server inside the shell
    woke 20 times a second at 0.05); stop() wakes it with a connection of its own."""
    from aish_refserver import server as server_module

    monkeypatch.setattr(server_module, "POLL", 120.0)
    srv = RefServer(host=host).start()
    time.sleep(0.05)  # the loop is in its select
    stopper = threading.Thread(target=srv.stop, daemon=True)
    stopper.start()
    stopper.join(20)
    assert not stopper.is_alive()  # without the wake-up: 120 s


def test_stop_ends_a_paced_stream() -> None:
    srv = RefServer(pace=1.0).start()
    resp = requests.post(
        srv.base_url + "/chat/completions",
        json=body_for(stream=True),
        stream=True,
        timeout=TIMEOUT,
    )
    try:
        assert b'"role":"assistant"' in resp.raw.read1(65536)
        start = time.monotonic()
        srv.stop()
        assert time.monotonic() - start < 1.5
        try:
            rest = b"".join(iter(lambda: resp.raw.read1(65536), b""))
        except urllib3.exceptions.ProtocolError:
            rest = b""  # the truncated chunked body
        assert b"[DONE]" not in rest
    finally:
        resp.close()
        srv.stop()


def _readline_with_timeout(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    out: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout
    threading.Thread(target=lambda: out.put(stdout.readline()), daemon=True).start()
    return out.get(timeout=timeout)


def test_module_cli_serves_until_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aish_refserver", "--port", "0", "--pace", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = _readline_with_timeout(proc, TIMEOUT)
        match = re.fullmatch(r"aish reference server listening on (http://127\.0\.0\.1:(\d+)/v1)\n", line)
        assert match, line
        base_url = match.group(1)
        resp = requests.post(base_url + "/chat/completions", json=body_for(max_tokens=4), timeout=TIMEOUT)
        assert resp.status_code == 200
        assert resp.json()["choices"][0]["message"]["content"].startswith("Athena")
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0
        assert stdout == ""
        assert stderr == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
