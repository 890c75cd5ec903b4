"""Tests for aish.kit.sse: the WHATWG event-stream interpretation.

Every rule of the spec section is pinned by an explicit case; then the same
results must come out however the stream is cut into chunks (exhaustively for
one- and two-way cuts, and with hypothesis against an independent, deliberately
naive reference implementation written from the spec text below).
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    HAVE_HYPOTHESIS = True
except ImportError:  # the property tests are skipped; the exhaustive ones still run
    HAVE_HYPOTHESIS = False

from aish.kit.sse import SSEParser
from aish.wire import WireComment, WireMessage

Item = WireMessage | WireComment
BOM = b"\xef\xbb\xbf"


def parse(*chunks: bytes, close: bool = True) -> list[Item]:
    parser = SSEParser()
    out: list[Item] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    if close:
        out += parser.close()
    return out


def run(chunks: Iterable[bytes]) -> tuple[list[Item], str, int | None]:
    """Items, final last_event_id and retry after feeding ``chunks`` and closing."""
    parser = SSEParser()
    out: list[Item] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    out += parser.close()
    return out, parser.last_event_id, parser.retry


def msg(data: str, event: str = "message", id: str | None = None) -> WireMessage:
    return WireMessage(data=data, event=event, id=id)


# --- basic fields -------------------------------------------------------------


def test_single_event() -> None:
    assert parse(b"data: hello\n\n") == [msg("hello")]


def test_openai_style_chunks() -> None:
    chunk = b'data: {"choices":[{"delta":{"content":"x"}}]}\n\n'
    out = parse(chunk * 3 + b"data: [DONE]\n\n")
    assert out == [msg('{"choices":[{"delta":{"content":"x"}}]}')] * 3 + [msg("[DONE]")]


def test_multiple_data_lines_joined_with_lf() -> None:
    assert parse(b"data: a\ndata: b\ndata:\ndata: c\n\n") == [msg("a\nb\n\nc")]


def test_data_without_colon_is_empty_value() -> None:
    assert parse(b"data\n\n") == [msg("")]
    assert parse(b"data\ndata\n\n") == [msg("\n")]


def test_data_colon_without_space() -> None:
    assert parse(b"data:x\n\n") == [msg("x")]


def test_only_one_leading_space_removed() -> None:
    assert parse(b"data:  two\n\n") == [msg(" two")]
    assert parse(b"data: trailing \n\n") == [msg("trailing ")]


def test_value_split_at_first_colon_only() -> None:
    assert parse(b"data: a:b: c\n\n") == [msg("a:b: c")]
    assert parse(b"event: x:y\ndata: 1\n\n") == [msg("1", event="x:y")]


def test_spec_example_empty_data_fields() -> None:
    # From the spec: fires "" then "\n"; the last "data:" has no blank line.
    assert parse(b"data\n\ndata\ndata\n\ndata:") == [msg(""), msg("\n")]


def test_blank_line_without_data_dispatches_nothing() -> None:
    assert parse(b"\n\n\n") == []
    assert parse(b"event: x\n\ndata: y\n\n") == [msg("y")]


def test_event_type_set_and_reset_after_dispatch() -> None:
    out = parse(b"event: delta\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n")
    assert out == [msg("1", event="delta"), msg("2"), msg("3")]


def test_last_event_field_wins() -> None:
    assert parse(b"event: a\nevent: b\ndata: x\n\n") == [msg("x", event="b")]


def test_unknown_fields_ignored() -> None:
    out = parse(b"foo: bar\nDATA: no\ndata : no\nevent-type: no\ndata: yes\nx\n\n")
    assert out == [msg("yes")]


def test_field_names_are_exact() -> None:
    # "data " (trailing space) and "Data" are not the data field.
    assert parse(b"data \n\nData: x\n\n") == []


# --- comments (aish extension: surfaced as WireComment) ------------------------


def test_comment_emitted_with_one_leading_space_removed() -> None:
    out = parse(b": ping\n:pong\n:  two\n:\n")
    assert out == [
        WireComment("ping"),
        WireComment("pong"),
        WireComment(" two"),
        WireComment(""),
    ]


def test_comment_inside_event_does_not_break_it() -> None:
    out = parse(b"data: a\n: keep-alive\ndata: b\n\n")
    assert out == [WireComment("keep-alive"), msg("a\nb")]


def test_comment_text_decoded_with_replacement() -> None:
    assert parse(b": caf\xc3\xa9 \xff\n") == [WireComment("café \ufffd")]


def test_unterminated_comment_discarded() -> None:
    assert parse(b": ping") == []


# --- id / last event id ---------------------------------------------------------


def test_id_attached_and_persists_to_later_events() -> None:
    out, last, _ = run([b"id: 7\ndata: a\n\ndata: b\n\n"])
    assert out == [msg("a", id="7"), msg("b", id="7")]
    assert last == "7"


def test_id_only_block_updates_last_event_id() -> None:
    parser = SSEParser()
    assert parser.last_event_id == ""
    assert parser.feed(b"id: 42\n\n") == []
    assert parser.last_event_id == "42"
    assert parser.feed(b"data: x\n\n") == [msg("x", id="42")]


def test_last_event_id_only_changes_on_dispatch() -> None:
    parser = SSEParser()
    parser.feed(b"id: 1\ndata: a\n")
    assert parser.last_event_id == ""
    parser.feed(b"\n")
    assert parser.last_event_id == "1"


def test_empty_id_resets_last_event_id() -> None:
    out, last, _ = run([b"id: 1\ndata: a\n\nid\ndata: b\n\nid:\ndata: c\n\n"])
    assert out == [msg("a", id="1"), msg("b"), msg("c")]
    assert last == ""


def test_id_with_nul_ignored() -> None:
    out, last, _ = run([b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n"])
    assert out == [msg("a", id="1"), msg("b", id="1")]
    assert last == "1"


def test_id_with_nul_first_leaves_no_id() -> None:
    out, last, _ = run([b"id: \x00\ndata: a\n\n"])
    assert out == [msg("a")]
    assert last == ""


def test_unterminated_id_not_applied() -> None:
    assert run([b"id: 1\ndata: a\n\nid: 2\n"])[1] == "1"


# --- retry --------------------------------------------------------------------


def test_retry_only_block_sets_retry_and_emits_nothing() -> None:
    out, _, retry = run([b"retry: 3000\n\n"])
    assert out == []
    assert retry == 3000


def test_retry_applies_without_dispatch() -> None:
    parser = SSEParser()
    assert parser.retry is None
    parser.feed(b"retry: 10\n")
    assert parser.retry == 10


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"abc",
        b"12a",
        b"-1",
        b"+1",
        b"1.5",
        b" 1",
        b"1 ",
        b"\xd9\xa1\xd9\xa2",
        b"\xff",
    ],
)
def test_invalid_retry_ignored(value: bytes) -> None:
    out, _, retry = run([b"retry: 500\n\nretry: " + value + b"\ndata: x\n\n"])
    assert out == [msg("x")]
    assert retry == 500


def test_retry_zero_and_last_valid_wins() -> None:
    assert run([b"retry: 100\nretry: 0\n"])[2] == 0


def test_retry_beyond_int_digit_limit_ignored() -> None:
    assert run([b"retry: 5\nretry: " + b"9" * 10_000 + b"\ndata: x\n\n"])[2] == 5


# --- line endings ---------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_each_line_ending(eol: bytes) -> None:
    stream = eol.join([b"event: e", b"data: a", b"data: b", b"", b"data: c", b"", b""])
    assert parse(stream) == [msg("a\nb", event="e"), msg("c")]


@pytest.mark.parametrize("blank", [b"\n\r\n", b"\r\r\n", b"\r\n\r", b"\n\r", b"\r\n\n"])
def test_mixed_endings_make_a_blank_line(blank: bytes) -> None:
    assert parse(b"data: a" + blank + b"data: b\n\n") == [msg("a"), msg("b")]


def test_lf_cr_is_two_line_endings() -> None:
    # "\n\r" is LF then CR, not one ending: a blank line in between.
    assert parse(b"data: a\n\rdata: b\r\r") == [msg("a"), msg("b")]


def test_crlf_split_across_chunks_is_one_line_ending() -> None:
    # If the LF were counted again it would be a blank line and dispatch "a".
    assert parse(b"data: a\r", b"\ndata: b\r\n\r\n") == [msg("a\nb")]


def test_crlf_split_with_empty_chunk_between() -> None:
    assert parse(b"data: a\r", b"", b"", b"\ndata: b\r", b"\n\r", b"\n") == [msg("a\nb")]


def test_cr_at_chunk_end_then_cr_is_blank_line() -> None:
    assert parse(b"data: a\r", b"\rdata: b\r", b"\r") == [msg("a"), msg("b")]


def test_cr_at_chunk_end_then_data() -> None:
    assert parse(b"data: a\r", b"data: b\r\r") == [msg("a\nb")]


def test_events_returned_when_their_blank_line_arrives() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\n") == []
    assert parser.feed(b"\r") == [msg("a")]
    assert parser.feed(b"\n") == []  # the LF of that CRLF, not another blank line
    assert parser.feed(b"data: b\n\n") == [msg("b")]


# --- BOM and UTF-8 -------------------------------------------------------------


def test_leading_bom_stripped() -> None:
    assert parse(BOM + b"data: a\n\n") == [msg("a")]


@pytest.mark.parametrize("cut", [1, 2])
def test_bom_split_across_chunks(cut: int) -> None:
    assert parse(BOM[:cut], BOM[cut:] + b"data: a\n\n") == [msg("a")]
    assert parse(BOM[:cut], BOM[cut:], b"data: a\n\n") == [msg("a")]


def test_bom_split_one_byte_per_chunk() -> None:
    assert parse(b"\xef", b"\xbb", b"\xbf", b"d", b"ata: a\n", b"\n") == [msg("a")]


def test_bom_stripped_only_once() -> None:
    # A second BOM is part of the first field name, "\ufeffdata", unknown.
    assert parse(BOM + BOM + b"data: a\n\ndata: b\n\n") == [msg("b")]
    assert parse(BOM, BOM + b"data: a\n\ndata: b\n\n") == [msg("b")]


def test_bom_later_in_stream_not_stripped() -> None:
    assert parse(b"data: a\n\n" + BOM + b"data: b\n\ndata: c\n\n") == [
        msg("a"),
        msg("c"),
    ]
    assert parse(b"data: " + BOM + b"x\n\n") == [msg("\ufeffx")]


def test_partial_bom_then_other_bytes_not_stripped() -> None:
    # b"\xef\xbb" is not a BOM: it stays in the (now unknown) field name.
    assert parse(b"\xef\xbb", b"data: a\n\ndata: b\n\n") == [msg("b")]


def test_stream_shorter_than_bom() -> None:
    assert parse(b"\xef\xbb") == []
    assert parse(b"\n") == []


def test_non_ascii_text() -> None:
    text = "héllo €uro 🙂 日本"
    out = parse(("event: ü\nid: é\ndata: " + text + "\n\n").encode())
    assert out == [msg(text, event="ü", id="é")]


def test_invalid_utf8_replaced_and_stream_survives() -> None:
    out = parse(b"data: a\xffb\xc3\ndata: \xe2\x82\n\ndata: ok\n\n")
    assert out == [msg("a\ufffdb\ufffd\n\ufffd"), msg("ok")]


def test_invalid_utf8_in_event_and_id() -> None:
    out, last, _ = run([b"event: \xfe\nid: \xc0\xaf\ndata: x\n\n"])
    assert out == [msg("x", event="\ufffd", id="\ufffd\ufffd")]
    assert last == "\ufffd\ufffd"


@pytest.mark.parametrize("char", ["é", "€", "🙂"])
def test_multibyte_char_split_across_chunks(char: str) -> None:
    stream = ("data: <" + char + ">\n\n").encode()
    start = len(b"data: <")
    for cut in range(start + 1, start + len(char.encode())):
        assert parse(stream[:cut], stream[cut:]) == [msg("<" + char + ">")], cut


# --- end of stream ----------------------------------------------------------------


def test_unterminated_event_discarded_at_close() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\n\ndata: b\n") == [msg("a")]
    assert parser.close() == []


def test_partial_line_discarded_at_close() -> None:
    assert parse(b"data: a\n\ndata: b") == [msg("a")]
    assert parse(b"data: a\r\n\r\ndata: b\r") == [msg("a")]


def test_close_returns_empty_after_complete_stream() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\n\n: ping\n") == [msg("a"), WireComment("ping")]
    assert parser.close() == []


def test_close_then_new_stream() -> None:
    parser = SSEParser()
    parser.feed(b"retry: 9\nid: 5\ndata: a\n\nevent: e\nid: 6\ndata: lost")
    assert parser.close() == []
    assert (parser.last_event_id, parser.retry) == ("5", 9)
    # A new stream: BOM stripped again, nothing of the lost event leaks in.
    assert parser.feed(BOM + b"data: b\n\n") == [msg("b", id="5")]


def test_close_forgets_pending_cr() -> None:
    parser = SSEParser()
    parser.feed(b"data: a\r")
    parser.close()
    assert parser.feed(b"\ndata: b\n\n") == [msg("b")]


def test_parser_uses_slots() -> None:
    parser = SSEParser()
    assert not hasattr(parser, "__dict__")
    with pytest.raises(AttributeError):
        parser.other = 1  # type: ignore[attr-defined]


# --- the nine sseclient-py 1.9 deviations (docs/decisions.md) ---------------------


def test_deviation_1_mixed_ending_blank_line() -> None:
    assert parse(b"data: a\n\r\ndata: b\r\r\ndata: c\n\n") == [
        msg("a"),
        msg("b"),
        msg("c"),
    ]


def test_deviation_2_retry_validated_and_retry_only_event_kept() -> None:
    out, _, retry = run([b"retry: 1500\n\nretry: soon\ndata: x\n\n"])
    assert out == [msg("x")]
    assert retry == 1500


def test_deviation_3_last_event_id_carries_over() -> None:
    out = parse(b"id: 1\ndata: a\n\ndata: b\n\nevent: e\ndata: c\n\n")
    assert [m.id for m in out if isinstance(m, WireMessage)] == ["1", "1", "1"]


def test_deviation_4_id_only_event_sets_id() -> None:
    out, last, _ = run([b"data: a\n\nid: 9\n\ndata: b\n\n"])
    assert out == [msg("a"), msg("b", id="9")]
    assert last == "9"


def test_deviation_5_id_with_nul_ignored() -> None:
    assert run([b"id: a\x00b\n\n"])[1] == ""


def test_deviation_6_bom_stripped() -> None:
    assert parse(BOM + b"data: first\n\ndata: second\n\n") == [
        msg("first"),
        msg("second"),
    ]


def test_deviation_7_invalid_utf8_does_not_raise() -> None:
    assert parse(b"data: \xff\xfe\n\ndata: next\n\n") == [
        msg("\ufffd\ufffd"),
        msg("next"),
    ]


def test_deviation_8_unterminated_event_discarded() -> None:
    assert parse(b"data: complete\n\ndata: cut off mid-ev") == [msg("complete")]
    assert parse(b"data: complete\n\ndata: cut off\n") == [msg("complete")]


def test_deviation_9_state_and_comments_visible() -> None:
    parser = SSEParser()
    out = parser.feed(b": hb\nretry: 250\nid: x\ndata: d\n\n")
    assert out == [WireComment("hb"), msg("d", id="x")]
    assert (parser.last_event_id, parser.retry) == ("x", 250)


# --- chunking invariance ------------------------------------------------------------

MIXED_STREAM = (
    BOM
    + b": hello\r\n"
    + b"retry: 1000\r"
    + b"id: 1\n"
    + b"event: first\r\n"
    + b"data: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82\r"
    + b"data\n"
    + b"data:no-space\r\n"
    + b"\r\n"
    + b"id: 2\x00\n"
    + b"data: bad \xff\xc3 utf8\r\r"
    + b"id: 3\n\n"
    + b"unknown: field\n"
    + b":\r"
    + b"data: after\n\r\n"
    + b"retry: x\r\n"
    + b"data: \xef\xbb\xbfinner bom\r\n\r\n"
    + b"event: lost\ndata: unterminated\r"
)

MIXED_EXPECTED: list[Item] = [
    WireComment("hello"),
    msg("café € 🙂\n\nno-space", event="first", id="1"),
    msg("bad \ufffd\ufffd utf8", id="1"),
    WireComment(""),
    msg("after", id="3"),
    msg("\ufeffinner bom", id="3"),
]


def test_mixed_stream_whole() -> None:
    assert run([MIXED_STREAM]) == (MIXED_EXPECTED, "3", 1000)


def test_mixed_stream_one_byte_at_a_time() -> None:
    chunks = [MIXED_STREAM[i : i + 1] for i in range(len(MIXED_STREAM))]
    assert run(chunks) == (MIXED_EXPECTED, "3", 1000)


def test_mixed_stream_every_two_way_split() -> None:
    for cut in range(len(MIXED_STREAM) + 1):
        got = run([MIXED_STREAM[:cut], MIXED_STREAM[cut:]])
        assert got == (MIXED_EXPECTED, "3", 1000), cut


def test_short_streams_every_three_way_split() -> None:
    stream = BOM + b"data: \xc3\xa9\r\n\r\nid: 1\r\r: c\r\ndata: b\r\n\r"
    expected = run([stream])
    assert expected == ([msg("é"), WireComment("c"), msg("b", id="1")], "1", None)
    for i in range(len(stream) + 1):
        for j in range(i, len(stream) + 1):
            assert run([stream[:i], stream[i:j], stream[j:]]) == expected, (i, j)


# --- property test against a naive reference implementation -----------------------


def reference(stream: bytes) -> tuple[list[Item], str, int | None]:
    """The spec, transcribed literally on the whole decoded text (not incremental)."""
    text = stream.decode("utf-8-sig", "replace")  # strips one leading BOM
    lines = re.split("\r\n|\r|\n", text)[:-1]  # the last piece has no line ending
    out: list[Item] = []
    data = event = id_buffer = last_id = ""
    retry: int | None = None
    for line in lines:
        if line == "":
            last_id = id_buffer
            if data == "":
                event = ""
                continue
            data = data.removesuffix("\n")
            out.append(WireMessage(data, event or "message", last_id or None))
            data = event = ""
            continue
        if line.startswith(":"):
            out.append(WireComment(line[2:] if line.startswith(": ") else line[1:]))
            continue
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            event = value
        elif field == "data":
            data += value + "\n"
        elif field == "id":
            if "\0" not in value:
                id_buffer = value
        elif field == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return out, last_id, retry


def test_reference_agrees_on_mixed_stream() -> None:
    assert reference(MIXED_STREAM) == (MIXED_EXPECTED, "3", 1000)


def split_at(stream: bytes, cuts: Sequence[int]) -> list[bytes]:
    points = [0, *sorted(cuts), len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(points)]


# Fragments chosen so that random concatenations hit every rule and edge.
FRAGMENTS = [
    b"\n", b"\r", b"\r\n", b"\n\n", b"\r\r\n", b"data", b"data:", b"data: ", b"event",
    b"event: ", b"id", b"id: ", b"retry: ", b"retry:", b":", b": ", b" ", b"x", b"ab",
    b"7", b"12", b"\x00", b"\xff", b"\xc3", b"\xa9", b"\xe2\x82\xac", b"\xf0\x9f",
    b"\x99\x82", BOM, b"\xef", b"foo:", b"DATA: ",
]  # fmt: skip

if HAVE_HYPOTHESIS:

    @given(
        parts=st.lists(st.sampled_from(FRAGMENTS), max_size=40),
        cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
    )
    @settings(max_examples=500, deadline=None)
    def test_any_chunking_matches_reference(parts: list[bytes], cuts: list[int]) -> None:
        stream = b"".join(parts)
        cuts = [c for c in cuts if c <= len(stream)]
        assert run(split_at(stream, cuts)) == reference(stream)

    @given(stream=st.binary(max_size=200), cut=st.integers(min_value=0))
    @settings(max_examples=300, deadline=None)
    def test_arbitrary_bytes_match_reference(stream: bytes, cut: int) -> None:
        cut %= len(stream) + 1
        assert run([stream]) == reference(stream)
        assert run([stream[:cut], stream[cut:]]) == reference(stream)

else:

    @pytest.mark.skip(reason="hypothesis not installed")
    def test_any_chunking_matches_reference() -> None: ...


# --- the benchmark's conformance table stays honest -----------------------------


def test_conformance_cases_all_pass_for_our_parser() -> None:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "sse_conformance.py"
    spec = importlib.util.spec_from_file_location("sse_conformance", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    assert len(module.CASES) >= 20
    for case in module.CASES:
        assert module.observe_ours(case) == case.expected, case.name
