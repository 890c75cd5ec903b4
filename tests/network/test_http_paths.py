"""Redirects, compression, content types and the User-Agent, against real loopback servers."""

from __future__ import annotations

import json
import zlib
from typing import Any

import pytest
from servers import DONE, Exchange, chunk, json_reply, serving

from aish_refserver import RefServer, plan_reply

ANSWER = plan_reply("athena", "hi", exact_tokens=8).text()
KEY = "sk-test-0123456789"
STREAM = chunk(role="assistant") + chunk("Hello") + chunk(", world", finish="stop") + DONE


def redirecting(status: int, location: str) -> Any:
    def handle(ex: Exchange) -> None:
        ex.respond(status, {"Location": location}, framing="length", length=0)
        ex.end()

    return handle


@pytest.mark.parametrize("status", [307, 308])
def test_307_and_308_keep_the_method_and_the_body(status: int, aish: Any, refserver: RefServer) -> None:
    refserver.requests.clear()
    target = f"http://127.0.0.1:{refserver.port}/v1/chat/completions"
    with serving(redirecting(status, target)) as hop:
        run = aish(hop.url + "/v1")
    assert (run.returncode, run.stdout.strip(), run.stderr) == (0, ANSWER, "")
    first, second = hop.requests[0], refserver.requests.snapshot()[-1]
    assert (second.method, second.raw_body) == ("POST", first.body)
    assert second.body["messages"][-1] == {"role": "user", "content": "hi"}
    assert first.header("authorization") == f"Bearer {KEY}"
    assert second.header("authorization") is None  # another origin: the key is not passed on


def test_a_relative_redirect_on_the_same_origin_keeps_the_key(aish: Any) -> None:
    def handle(ex: Exchange) -> None:
        if ex.request.target.startswith("/old/"):
            ex.respond(308, {"Location": "/v1/chat/completions"}, framing="length", length=0)
            ex.end()
            return
        ex.respond(200, {"Content-Type": "text/event-stream"})
        ex.send(STREAM)
        ex.end()

    with serving(handle) as server:
        run = aish(server.url + "/old")
    assert (run.returncode, run.stdout.strip()) == (0, "Hello, world"), run.stderr
    assert [r.target for r in server.requests] == ["/old/chat/completions", "/v1/chat/completions"]
    assert server.requests[1].header("authorization") == f"Bearer {KEY}"
    assert server.requests[1].body == server.requests[0].body


def test_303_turns_the_post_into_a_get(aish: Any) -> None:
    def handle(ex: Exchange) -> None:
        if ex.request.method == "POST":
            ex.respond(303, {"Location": "/answer"}, framing="length", length=0)
            ex.end()
            return
        ex.respond(200, {"Content-Type": "text/event-stream"})
        ex.send(STREAM)
        ex.end()

    with serving(handle) as server:
        run = aish(server.url + "/v1")
    assert run.returncode == 0, run.stderr
    assert [(r.method, r.body, r.header("content-type")) for r in server.requests][1] == ("GET", b"", None)


def test_a_redirect_loop_ends_in_one_line(aish: Any) -> None:
    with serving(redirecting(307, "/again")) as server:
        run = aish(server.url + "/v1")
    assert run.returncode == 5
    assert "more than 10 redirects" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert len(server.requests) == 11


def compressed(encoding: str, wbits: int) -> Any:
    def handle(ex: Exchange) -> None:
        packer = zlib.compressobj(wbits=wbits)
        ex.respond(200, {"Content-Type": "text/event-stream", "Content-Encoding": encoding})
        for piece in (chunk(role="assistant"), chunk("Hello"), chunk(", world", finish="stop"), DONE):
            ex.send(packer.compress(piece) + packer.flush(zlib.Z_SYNC_FLUSH))
        ex.send(packer.flush())
        ex.end()

    return handle


@pytest.mark.parametrize(
    ("encoding", "wbits"), [("deflate", -15), ("deflate", 15), ("gzip", 31)], ids=["raw-deflate", "zlib", "gzip"]
)
def test_compressed_streams(encoding: str, wbits: int, aish: Any) -> None:
    with serving(compressed(encoding, wbits)) as server:
        run = aish(server.url + "/v1")
    assert (run.returncode, run.stdout.strip(), run.stderr) == (0, "Hello, world", "")


def test_an_unknown_compression_is_named(aish: Any) -> None:
    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": "text/event-stream", "Content-Encoding": "br"})
        ex.send(b"\x1b\x00")
        ex.end()

    with serving(handle) as server:
        run = aish(server.url + "/v1")
    assert run.returncode == 5
    assert "compressed as 'br', which aish cannot decode" in run.stderr


def test_a_user_agent_is_sent(aish: Any, refserver: RefServer) -> None:
    refserver.requests.clear()
    run = aish(f"http://127.0.0.1:{refserver.port}/v1")
    assert run.returncode == 0, run.stderr
    assert (refserver.requests.snapshot()[-1].header("user-agent") or "").startswith("aish/")


def page(content_type: str, body: bytes) -> Any:
    def handle(ex: Exchange) -> None:
        ex.respond(200, {"Content-Type": content_type}, framing="length", length=len(body))
        ex.send(body)
        ex.end()

    return handle


@pytest.mark.parametrize(
    ("content_type", "said"),
    [
        ("text/html; charset=utf-8", "the server sent a web page, not an event stream"),
        ("text/x-bogus", "the server sent 'text/x-bogus', not an event stream"),
        ("text/plain", "the server sent 'text/plain', not an event stream"),
    ],
)
def test_an_answer_that_is_not_an_event_stream_fails(content_type: str, said: str, aish: Any) -> None:
    body = b"<html><body>Sign in to the network</body></html>" if "html" in content_type else STREAM
    with serving(page(content_type, body)) as server:
        run = aish(server.url + "/v1")
    assert (run.returncode, run.stdout) == (5, "")
    assert said in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_a_json_answer_is_read_whole(aish: Any) -> None:
    body = json.dumps(
        {"choices": [{"message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}]}
    ).encode()
    with serving(page("application/json", body)) as server:
        run = aish(server.url + "/v1")
    assert (run.returncode, run.stdout.strip()) == (0, "whole"), run.stderr


@pytest.mark.parametrize(
    ("codec", "path"), [("openai-chat", "/v1/chat/completions"), ("anthropic-messages", "/v1/messages")]
)
def test_a_query_in_the_agents_url_stays_after_the_endpoints_path(codec: str, path: str, aish: Any) -> None:
    """``url = "https://x.openai.azure.com/openai/deployments/d?api-version=2024-06-01"``: the codec's
    path goes before the query, as a client library builds it (it was appended after it)."""
    with serving(json_reply(404, {"error": {"message": "no"}})) as server:
        aish(server.url + "/v1?api-version=2024-06-01#top", codec=codec)
        aish(server.url + "/v1/?api-version=2024-06-01", "models bot", codec=codec)
    assert [r.target for r in server.requests] == [
        f"{path}?api-version=2024-06-01",
        "/v1/models?api-version=2024-06-01" + ("&limit=1000" if codec == "anthropic-messages" else ""),
    ]
