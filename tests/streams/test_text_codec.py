"""The ``text`` codec: input as the body, every event's data is text, the end of the stream is the end."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from servers import script, serving, sse
from streamkit import Run, agent, answer

from aish import Context, Prompt, StreamEnd, TextDelta, WireMessage
from aish_refserver import RefServer
from aish_text.codec import TextCodec, TextDecoder


@pytest.fixture
def server() -> Iterator[RefServer]:
    with RefServer(pace=0.0) as srv:
        yield srv


def test_the_input_is_the_body(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_TEXT_KEY", "k-123")
    codec = TextCodec(agent("http://h/stream?x=1", codec="text", api_key_env="T_TEXT_KEY", headers={"X-A": "b"}))
    request = codec.encode(Prompt("héllo\nworld", Context("p")))
    assert (request.url, request.method, request.body) == ("http://h/stream?x=1", "POST", "héllo\nworld".encode())
    assert request.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert request.headers["Authorization"] == "Bearer k-123" and request.secrets == ("k-123",)
    assert request.headers["X-A"] == "b"


def test_get_sends_no_body() -> None:
    request = TextCodec(agent("http://h/events", codec="text", options={"method": "get"})).encode(
        Prompt("ignored", Context("p"))
    )
    assert (request.method, request.body) == ("GET", b"")
    assert "Content-Type" not in request.headers


def test_every_event_is_text_and_the_end_is_the_end() -> None:
    decoder = TextDecoder()
    assert decoder.decode(WireMessage("a\nb", event="update")) == (TextDelta("a\nb"),)
    assert decoder.decode(WireMessage("")) == ()
    assert decoder.finish() == (StreamEnd("stop"),)
    assert decoder.decode(WireMessage('{"whole": 1}', event="response")) == (
        TextDelta('{"whole": 1}'),
        StreamEnd("stop"),
    )


def test_any_event_stream_can_be_read() -> None:
    steps = [b": hello\n\n", sse("first "), b"event: tick\ndata: second\ndata: line\n\n", sse("!"), b"id: 7\n\n"]
    with serving(script(steps)) as raw:
        run = Run(agent(raw.url + "/anything", codec="text"))
    assert run.r.status == "complete" and run.r.text == "first second\nline!"
    texts = [e for e in run.events if type(e) is TextDelta]  # three pieces, joined when one read brought them
    assert [k for k in run.kinds if k != "TextDelta"] == ["StreamStart", "Heartbeat", "StreamEnd"]
    assert run.kinds.index("TextDelta") == 2 and sum(e.pieces for e in texts) == 3
    assert raw.requests[0].body == b"tell me about owls"


def test_the_reference_servers_text_endpoint(server: RefServer) -> None:
    run = Run(agent(server.base_url + "/text/athena?tokens=15", codec="text"))
    assert run.r.status == "complete" and run.r.text == answer(15)
    assert server.requests[0].raw_body == b"tell me about owls"


def test_echo_over_text_resumes_after_a_drop(server: RefServer) -> None:
    the_agent = agent(
        server.base_url + "/text/echo?tokens=9", codec="text", headers={"X-Aish-Fault": "drop_after=4; resume=1"}
    )
    run = Run(the_agent, "one two three")
    assert run.r.status == "complete", run.r.error
    assert run.r.text == "one two three one two three one two three"
    assert run.r.meta["resumes"] == 2


def test_a_drop_without_ids_is_partial_not_complete(server: RefServer) -> None:
    the_agent = agent(server.base_url + "/text/echo?tokens=9", codec="text", headers={"X-Aish-Fault": "drop_after=4"})
    run = Run(the_agent, "one two three")
    assert run.r.status == "partial" and run.r.text == "one two three one"
    assert json.dumps(str(run.r.error)).count("not resumed") == 1


def test_a_restarted_answer_with_fresh_ids_is_caught_by_its_numbering(server: RefServer) -> None:
    """The text dialect has no start marker: ids that start a new numbering give the restart away."""
    fault = {"X-Aish-Fault": "drop_after=4, ids=1"}
    run = Run(agent(server.base_url + "/text/echo?tokens=9", codec="text", headers=fault), "one two three")
    assert run.r.status == "partial" and run.r.text == "one two three one"
    assert str(run.r.error).endswith("; not resumed: the server started the answer over")
    assert server.requests[1].header("Last-Event-ID") == "s1:3"
