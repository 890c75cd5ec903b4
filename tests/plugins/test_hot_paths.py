"""The fast paths of the stream's hot loop give exactly what the one-at-a-time paths give.

The de-chunker takes whole runs of chunks with C-level calls, and the
openai-chat decoder decodes a batch with ``decode_many``; both must agree with
the careful paths on every input (speed is measured in benchmarks/, not here).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aish import AishError, Event, StreamEnd, TextDelta, WireComment, WireItem, WireMessage
from aish_openai.codec import ChunkDecoder
from aish_sse.chunked import Dechunker

# ------------------------------------------------------------------ de-chunker
payloads = st.binary(min_size=1, max_size=40) | st.sampled_from([b"data: x\r\n\r\n", b"\r\n", b"a\r\nb", b"\r"])


@st.composite
def chunked_bodies(draw: Any) -> tuple[bytes, bytes]:
    """A chunked body (sizes in varied spellings, sometimes an extension) and its payload."""
    pieces = draw(st.lists(payloads, max_size=12))
    body = b""
    for piece in pieces:
        size = format(len(piece), draw(st.sampled_from(["x", "X", "03x"])))
        ext = draw(st.sampled_from([b"", b"", b";ext=1"]))
        body += size.encode() + ext + b"\r\n" + piece + b"\r\n"
    return body + b"0\r\n\r\n", b"".join(pieces)


def dechunk(pieces: list[bytes]) -> tuple[bytes, bool]:
    d = Dechunker()
    return b"".join(d.feed(p) for p in pieces), d.done


@settings(max_examples=300, deadline=None)
@given(chunked_bodies(), st.lists(st.integers(min_value=0, max_value=400), max_size=4))
def test_dechunking_in_runs_equals_byte_by_byte(body_payload: tuple[bytes, bytes], cuts: list[int]) -> None:
    body, payload = body_payload
    bounds = sorted({0, len(body), *(c % (len(body) + 1) for c in cuts)})
    pieces = [body[a:b] for a, b in itertools.pairwise(bounds)]
    assert dechunk(pieces) == (payload, True)
    assert dechunk([body[i : i + 1] for i in range(len(body))]) == (payload, True)  # never two chunks at once


@pytest.mark.parametrize(
    "body", [b"3\r\nabc\r\n+3\r\nabc\r\n", b"3\r\nabc\r\n-3\r\nabc\r\n", b"3\r\nabc\r\nzz\r\nab\r\n"]
)
def test_a_bad_size_after_good_chunks_is_still_malformed(body: bytes) -> None:
    with pytest.raises(AishError, match="invalid chunked encoding"):
        Dechunker().feed(body)


# --------------------------------------------------------------------- decoder
def chunk(content: Any = "x", finish: Any = None, **extra: Any) -> str:
    choice: dict[str, Any] = {"index": 0, "delta": {"content": content}, "finish_reason": finish}
    return json.dumps({"id": "c1", "object": "chat.completion.chunk", "choices": [choice], **extra})


DATA = [
    chunk("hello"),
    chunk(" wörld\n"),
    chunk(""),
    chunk(None),
    chunk("end", finish="stop"),
    chunk(None, finish="length"),
    chunk("u", usage={"prompt_tokens": 1, "completion_tokens": 2}),
    json.dumps({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}}),
    json.dumps({"error": {"message": "boom"}}),
    json.dumps({"choices": [{"delta": {"content": 5}}]}),
    json.dumps({"choices": "abc"}),
    json.dumps([1, 2]),
    " " + chunk("padded") + " ",
    chunk("a") + ", " + chunk("b"),
    '{"choices": [{"delta": {"content": "cut',
    '"}}]}',
    chunk('x"y').replace("x", "\u0078", 1),
    chunk("z") + " ",
    chunk("q")[:-1],
    '\0"x"\0',
    '"content":"x"',
    "[DONE]",
]


def items() -> Any:
    message = st.builds(WireMessage, st.sampled_from(DATA))
    other = st.sampled_from([WireComment("ping"), WireMessage(chunk("whole"), event="response")])
    return st.lists(message | other, max_size=8)


def one_by_one(decoder: ChunkDecoder, batch: list[WireItem]) -> tuple[list[Event], bool]:
    """What the stream layer does without decode_many: events until StreamEnd, and whether it raised."""
    events: list[Event] = []
    try:
        for item in batch:
            if type(item) is WireMessage:
                for event in decoder.decode(item):
                    events.append(event)
                    if type(event) is StreamEnd:
                        return events, False
    except AishError:
        return events, True
    return events, False


def joined(events: list[Event]) -> list[Event]:
    """``events`` with each run of TextDeltas as one, its ``pieces`` counting them (as decode_many gives them)."""
    out: list[Event] = []
    for event in events:
        last = out[-1] if out else None
        if type(event) is TextDelta and type(last) is TextDelta:
            out[-1] = TextDelta(last.text + event.text, pieces=last.pieces + event.pieces)
        else:
            out.append(event)
    return out


def fields(events: list[Event]) -> list[tuple[Any, ...]]:
    return [(type(e).__name__, *(getattr(e, f) for f in e.__slots__)) for e in events]  # type: ignore[union-attr]


@settings(max_examples=600, deadline=None)
@given(items(), items(), st.sampled_from([None, "stop"]))
def test_decode_many_is_decode_one_by_one_or_declines(
    first: list[WireItem], batch: list[WireItem], before: str | None
) -> None:
    fast, slow = ChunkDecoder(), ChunkDecoder()
    fast.finish_reason = slow.finish_reason = before
    if fast.decode_many(first) is None:  # an earlier batch leaves its state behind (the chunks' shape)
        return
    _, raised = one_by_one(slow, first)
    assert not raised
    before = slow.finish_reason
    got = fast.decode_many(batch)
    expected, raised = one_by_one(slow, batch)
    if got is None:
        assert fast.finish_reason == before  # declined: nothing changed
        return
    assert not raised
    assert fields(got) == fields(joined(expected))
    assert fast.finish_reason == slow.finish_reason


def test_a_plain_stream_is_taken_whole() -> None:
    batch: list[WireItem] = [WireMessage(chunk("a")), WireMessage(chunk("b", finish="stop")), WireMessage("[DONE]")]
    events = ChunkDecoder().decode_many(batch)
    assert events is not None
    assert events == [TextDelta("ab", pieces=2), StreamEnd("stop")]  # the text joined, its pieces counted
