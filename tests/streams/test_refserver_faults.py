"""The reference server's faults at the HTTP level (requests as the client, no aish in the way)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from aish_refserver import RefServer, plan_reply
from aish_refserver.faults import NO_FAULTS, FaultBook, Faults, parse_faults
from aish_refserver.protocol import ApiError
from aish_refserver.streaming import Reply


@pytest.fixture(scope="module")
def server() -> Iterator[RefServer]:
    with RefServer(pace=0.0) as srv:
        yield srv


def body(tokens: int = 6, model: str = "athena", **fault: Any) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": "owls"}],
        "stream": True,
        "aish_tokens": tokens,
        "aish_fault": fault,
    }


def post(server: RefServer, payload: object, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(server.base_url + "/chat/completions", json=payload, headers=headers, timeout=10)


def until_dropped(server: RefServer, payload: object, how: str = "ended prematurely") -> str:
    """What a stream sent before the server dropped it (``how`` is in the client's error)."""
    got = b""
    with requests.post(server.base_url + "/chat/completions", json=payload, stream=True, timeout=10) as response:
        try:
            for piece in response.raw.stream(65536, decode_content=True):
                got += piece
        except Exception as exc:
            assert how in str(exc), exc
        else:
            raise AssertionError("the stream was not dropped")
    return got.decode()


def blocks(text: str) -> list[str]:
    return [b for b in text.split("\n\n") if b]


# -------------------------------------------------------------------- parsing


def test_faults_from_the_body_and_the_header() -> None:
    assert parse_faults() is NO_FAULTS and not NO_FAULTS.shaping
    faults = parse_faults({"drop_after": 3, "resume": True}, "stall=1.5; drop_after=9, ids")
    assert faults == Faults(drop_after=3, resume=True, stall=1.5, ids=True)
    assert faults.tagged and faults.shaping
    assert parse_faults(None, "status=429, retry_after=2, times=1") == Faults(status=429, retry_after=2.0, times=1)
    assert parse_faults({"resume": "no"}).resume is False


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"explode": 1}, "unknown fault 'explode'"),
        ({"drop_after": "soon"}, "fault 'drop_after': bad value 'soon'"),
        ({"drop_after": True}, "fault 'drop_after': bad value True"),
        ({"stall": -1}, "fault 'stall': must be positive"),
        ({"drip_bytes": 0}, "fault 'drip_bytes': must be positive"),
        ({"drop_mode": "explode"}, "drop_mode must be 'close' or 'reset'"),
        ({"status": 200}, "status must be an HTTP error status"),
        ([1], "'aish_fault' must be an object"),
    ],
)
def test_bad_faults_are_refused(field: Any, message: str) -> None:
    with pytest.raises(ApiError, match=message) as info:
        parse_faults(field)
    assert info.value.status == 400


def test_bad_fault_over_http_is_a_400_naming_it(server: RefServer) -> None:
    response = post(server, body(explode=1))
    assert response.status_code == 400
    assert "unknown fault 'explode'" in response.json()["error"]["message"]


def test_reply_events_start_anywhere() -> None:
    reply = Reply([b"h"], lambda t: t.encode(), lambda: iter(["a", "b", "c"]), 3, [b"t1", b"t2"])
    assert reply.total == 6
    assert [e for _, _, e in reply.events()] == [b"h", b"a", b"b", b"c", b"t1", b"t2"]
    assert list(reply.events(3)) == [(3, True, b"c"), (4, False, b"t1"), (5, False, b"t2")]
    assert list(reply.events(5)) == [(5, False, b"t2")]
    assert list(reply.events(6)) == []


def test_fault_book_counts_and_remembers_answers() -> None:
    book = FaultBook(limit=2)
    twice = Faults(status=503, times=2)
    assert [book.should_fail(twice, "k") for _ in range(3)] == [True, True, False]
    assert book.should_fail(Faults(status=503), "k") and not book.should_fail(NO_FAULTS, "k")
    sid = book.new_answer(10)
    assert book.resume_point(f"{sid}:3") == (sid, 4)
    assert book.resume_point(f"{sid}:10") is None  # no such event
    assert book.resume_point("s999:1") is None and book.resume_point("garbage") is None
    book.new_answer(1)
    book.new_answer(1)
    assert book.resume_point(f"{sid}:3") is None  # forgotten beyond the limit


# ----------------------------------------------------------------- over HTTP


def test_ids_tag_every_event_in_order(server: RefServer) -> None:
    text = post(server, body(3, ids=True)).text
    ids = [b.split("\n", 1)[0] for b in blocks(text)]
    sid = ids[0].removeprefix("id: ").split(":")[0]
    assert ids == [f"id: {sid}:{n}" for n in range(6)]  # role, 3 tokens, finish, [DONE]


def test_resume_continues_the_same_answer_after_the_id(server: RefServer) -> None:
    first = blocks(until_dropped(server, body(5, resume=True, drop_after=3)))
    assert len(first) == 3
    last_id = first[-1].split("\n", 1)[0].removeprefix("id: ")
    second = blocks(post(server, body(5, resume=True), {"Last-Event-ID": last_id}).text)
    sid, index = last_id.split(":")
    assert second[0].startswith(f"id: {sid}:{int(index) + 1}\n")
    texts = [json.loads(b.split("data: ", 1)[1])["choices"][0]["delta"].get("content", "") for b in first + second[:-2]]
    assert "".join(texts) == plan_reply("athena", "owls", exact_tokens=5).text()


def test_without_resume_a_reconnection_starts_over(server: RefServer) -> None:
    first = blocks(post(server, body(4, ids=True)).text)
    last_id = first[-1].split("\n", 1)[0].removeprefix("id: ")
    again = blocks(post(server, body(4, ids=True), {"Last-Event-ID": last_id}).text)
    assert again[0].split("\n", 1)[0] != f"id: {last_id}" and '"role":"assistant"' in again[0]


def test_status_with_retry_after_for_the_first_requests(server: RefServer) -> None:
    payload = body(2, status=429, retry_after=1.5, times=2, key="status-test")
    first, second, third = (post(server, payload) for _ in range(3))
    assert first.status_code == second.status_code == 429 and third.status_code == 200
    assert first.headers["Retry-After"] == "1.5"
    assert first.json()["error"]["message"] == "injected fault: HTTP 429"


def test_header_faults_and_drop_over_http(server: RefServer) -> None:
    drops = len([k for k, _ in server.fault_log if k == "drop"])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        post(server, body(20), {"X-Aish-Fault": "drop_after=2"})
    assert len(blocks(until_dropped(server, body(20, drop_after=4, drop_mode="reset"), "reset by peer"))) <= 4
    drops += 1
    assert len([k for k, _ in server.fault_log if k == "drop"]) == drops + 1


def test_retry_and_heartbeats_come_first(server: RefServer) -> None:
    started = time.monotonic()
    text = post(server, body(2, retry=250, heartbeats=0.3, heartbeat_every=0.1)).text
    assert time.monotonic() - started >= 0.3
    parts = blocks(text)
    assert parts[0] == "retry: 250"
    assert parts[1:4] == [": ping"] * 3 and parts[4].startswith("data: ")


def test_malformed_event_is_inserted(server: RefServer) -> None:
    parts = blocks(post(server, body(4, malformed_after=2)).text)
    assert parts[2] == 'data: {"choices": [{"delta": '
    assert len(parts) == 7 + 1  # role, 4 tokens, finish, [DONE]: every real event is still sent


def test_drip_writes_an_event_in_many_pieces(server: RefServer) -> None:
    with requests.post(
        server.base_url + "/chat/completions", json=body(1, drip=0.001, drip_bytes=16), stream=True, timeout=10
    ) as response:
        pieces = list(response.raw.stream(65536, decode_content=True))
    assert len(pieces) > 20
    assert b"".join(pieces).endswith(b"data: [DONE]\n\n")


def test_anthropic_endpoint_validation(server: RefServer) -> None:
    url = server.base_url + "/messages"
    ok = {"model": "athena", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    missing = requests.post(url, json=ok, timeout=10)
    assert missing.status_code == 400 and missing.json()["error"]["type"] == "invalid_request_error"
    headers = {"anthropic-version": "2023-06-01"}
    assert requests.post(url, json={**ok, "max_tokens": 0}, headers=headers, timeout=10).status_code == 400
    assert requests.post(url, json={**ok, "model": "nope"}, headers=headers, timeout=10).json()["error"]["type"] == (
        "not_found_error"
    )
    whole = requests.post(url, json=ok, headers=headers, timeout=10).json()
    assert whole["type"] == "message" and whole["stop_reason"] == "max_tokens"


def test_text_endpoint_get_and_bad_query(server: RefServer) -> None:
    got = requests.get(server.base_url + "/text/echo?q=a+b&tokens=3", timeout=10).text
    assert blocks(got) == ["data: a", "data:  b", "data:  a"]
    assert requests.get(server.base_url + "/text/echo?tokens=many", timeout=10).status_code == 400
    assert requests.get(server.base_url + "/text/nobody", timeout=10).status_code == 404
