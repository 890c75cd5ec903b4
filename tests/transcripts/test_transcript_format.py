"""The transcript format: parsing, /regex/ parts and escaped slashes, comparison and diffs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aish.transcript import CONTINUATION, PROMPT, TranscriptError, expected_line, format_entry, parse, read
from aish.transcript.compare import check
from aish.transcript.format import VOLATILE, escape_output, output_lines

TEXT = """\
Anything before the first prompt is a comment.
aish> echo "hello"
hello
aish> echo "two
....> lines" | cat
two
lines

aish>
aish> athena hi
Athena: /.*/
"""


def test_parse_commands_continuations_and_expected_output() -> None:
    transcript = parse(TEXT, "t.transcript")
    assert [e.command for e in transcript.entries] == ['echo "hello"', 'echo "two\nlines" | cat', "", "athena hi"]
    assert [e.line for e in transcript.entries] == [2, 4, 9, 10]
    assert [e.output_line for e in transcript.entries] == [3, 6, 10, 11]
    assert [[x.source for x in e.expected] for e in transcript.entries] == [
        ["hello"],
        ["two", "lines", ""],
        [],
        ["Athena: /.*/"],
    ]


def test_prompts_match_the_shells() -> None:
    from aish.shell import CONTINUATION as SHELL_CONTINUATION
    from aish.shell import PROMPT as SHELL_PROMPT

    assert (PROMPT, CONTINUATION) == (SHELL_PROMPT, SHELL_CONTINUATION)


def test_a_continuation_only_follows_a_command() -> None:
    transcript = parse("aish> echo a\na\n....> looks like a continuation\n", "t")
    assert [x.source for x in transcript.entries[0].expected] == ["a", "....> looks like a continuation"]
    with pytest.raises(TranscriptError, match=r"^t:2: '\.\.\.\.>' continues nothing"):
        parse("comment\n....> x\naish> echo\n", "t")


def test_a_transcript_needs_a_command() -> None:
    with pytest.raises(TranscriptError, match=r"^empty\.transcript: no commands"):
        parse("just words\n", "empty.transcript")


def test_a_byte_order_mark_does_not_hide_the_first_command(tmp_path: Path) -> None:
    path = tmp_path / "bom.transcript"
    path.write_bytes(b"\xef\xbb\xbfaish> echo hi\nhi\naish> echo there\nthere\n")
    assert [e.command for e in read(path).entries] == ["echo hi", "echo there"]


def test_a_bad_regex_names_file_and_line() -> None:
    with pytest.raises(TranscriptError, match=r"^t:3: bad regular expression: "):
        parse("aish> x\nfine\nbroken /(/ here\n", "t")


# ----------------------------------------------------------------- expected lines


@pytest.mark.parametrize(
    ("line", "actual", "match"),
    [
        ("plain text", "plain text", True),
        ("plain text", "plain text!", False),
        ("[Complete - /\\d+\\.\\ds/, 64 tokens]", "[Complete - 12.5s, 64 tokens]", True),
        ("[Complete - /\\d+\\.\\ds/, 64 tokens]", "[Complete - 1.25s, 64 tokens]", False),
        ("id /[0-9a-f]{4}/ and /\\d+/", "id beef and 42", True),
        ("/.*/", "", True),
        ("a /b/", "a bbb", False),  # the whole line must match
        ("a /b+/", "a bbb", True),
        ("a.b (c)", "a.b (c)", True),  # regex characters outside slashes are literal
        ("a.b (c)", "axb (c)", False),
        ("http:\\/\\/host\\/v1", "http://host/v1", True),  # escaped slashes are literal
        ("http://host", "http:host", True),  # unescaped: // is an empty regex
        ("path a/b", "path a/b", True),  # one slash with no partner is literal
        ("/[^\\/]+/\\/end", "dir/end", True),  # \/ inside a regex
        ("/a\\/b/", "a/b", True),
        ("back\\slash", "back\\slash", True),
        ("back\\\\/x", "back\\/x", True),  # a backslash, then an escaped slash
    ],
)
def test_expected_lines(line: str, actual: str, match: bool) -> None:
    assert expected_line(line).matches(actual) is match


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r")))
def test_any_output_line_is_written_so_that_it_reads_back_as_itself(line: str) -> None:
    line = line.rstrip()
    assert expected_line(escape_output(line)).matches(line)


def test_output_that_looks_like_a_prompt_is_escaped() -> None:
    for line in ["aish> not a command", "aish>", "....> not a continuation"]:
        written = escape_output(line)
        assert not written.startswith(("aish>", "....>"))
        assert expected_line(written).matches(line)


def test_variable_parts_are_written_as_regexes() -> None:
    written = escape_output(
        "url http://127.0.0.1:40123/v1 in /tmp/sb-1/work",
        [("127.0.0.1:40123", "127.0.0.1:/\\d+/"), ("/tmp/sb-1", "/\\S+/")],
    )
    assert written == "url http:\\/\\/127.0.0.1:/\\d+/\\/v1 in /\\S+/\\/work"
    assert expected_line(written).matches("url http://127.0.0.1:555/v1 in /var/x/work")


def test_times_durations_rates_and_ids_are_written_as_regexes() -> None:
    """What differs on every run of the same session: aish --record writes it so that any run matches."""
    lines = {
        "    1  2026-12-03 11:54  complete     athena hi": "    1  /[-0-9]+ [0-9:]+/  complete     athena hi",
        "run 1  2026-12-03 11:55:39  complete  0.02s": "run 1  /[-0-9]+ [0-9:]+/  complete  /[0-9.]+/s",
        "[stats] hermes: first token 0.004s, total 0.005s, 61 tokens, 67415.3 tokens/s, complete": (
            "[stats] hermes: first token /[0-9.]+/s, total /[0-9.]+/s, 61 tokens, /[0-9.]+/ tokens\\/s, complete"
        ),
        "* 5048703bc067  2026-12-03 11:55  athena": "* /[0-9a-f]{12}/  /[-0-9]+ [0-9:]+/  athena",
        '"id": "chatcmpl-0123456789abcdef01234567"}': '"id": "chatcmpl-/[0-9a-f]+/"}',
        '"id": "msg_0123456789abcdef01234567"}': '"id": "msg_/[0-9a-f]+/"}',
        "64 words, 3 lines, 2026 is a year, deadbeef": "64 words, 3 lines, 2026 is a year, deadbeef",  # unchanged
    }
    for line, written in lines.items():
        assert escape_output(line) == written
        assert expected_line(written).matches(line)
    later = "run 1  2027-01-01 00:00:01  complete  12.50s"
    assert expected_line(escape_output("run 1  2026-12-03 11:55:39  complete  0.02s")).matches(later)


def test_format_entry_reads_back() -> None:
    text = format_entry('echo "a\nb" | cat', "a\nb  \n/x/\naish> y\n\n\n")
    assert text == 'aish> echo "a\n....> b" | cat\na\nb\n\\/x\\/\n/aish>/ y\n'
    entry = parse(text).entries[0]
    assert entry.command == 'echo "a\nb" | cat'
    assert check(entry, "a\nb\n/x/\naish> y\n", "t") == []


def test_output_lines_ignore_trailing_whitespace_and_blank_lines_at_the_end() -> None:
    assert output_lines("a  \n\n b\t\n\n \n") == ["a", "", " b"]
    assert output_lines("no newline") == ["no newline"]
    assert output_lines("") == []


# ------------------------------------------------------------------ comparing


def test_blank_lines_at_the_end_and_trailing_whitespace_do_not_matter() -> None:
    entry = parse("aish> x\none   \ntwo\n\n\n", "f").entries[0]
    assert check(entry, "one\ntwo", "f") == []
    assert check(entry, "one\ntwo   \n\n", "f") == []
    assert check(entry, "one\n\ntwo\n", "f") != []  # a blank line inside the output does
    assert check(entry, " one\ntwo\n", "f") != []  # and so does leading whitespace


def test_the_diff_is_numbered_with_the_transcripts_lines() -> None:
    text = "comment\naish> first\nx\naish> second\nline 1\nline /\\d/\nline 3\nline 4\n"
    entry = parse(text, "f.transcript").entries[1]
    diff = check(entry, "line 1\nline 7\nline three\nline 4\nline 5\n", "f.transcript")
    assert diff == [
        "--- f.transcript",
        "+++ f.transcript (actual output)",
        "@@ -5,4 +5,5 @@",
        " line 1",
        " line /\\d/",  # matched: shown as written
        "-line 3",
        "+line three",
        " line 4",
        "+line 5",
    ]


def test_the_diff_writes_actual_output_in_transcript_syntax() -> None:
    entry = parse("aish> agents\nurl http:\\/\\/a:/\\d+/\n", "f").entries[0]
    assert check(entry, "url http://a:80\n", "f") == []
    assert check(entry, "url http://b:80\n", "f")[-2:] == ["-url http:\\/\\/a:/\\d+/", "+url http:\\/\\/b:80"]


def test_missing_output_is_a_difference() -> None:
    entry = parse("aish> echo\nexpected\naish> next\n", "f").entries[0]
    assert check(entry, "", "f") == ["--- f", "+++ f (actual output)", "@@ -2 +1,0 @@", "-expected"]


def test_the_docs_list_what_record_writes_as_regexes() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "transcripts.md").read_text(encoding="utf-8")
    assert [written for _, written in VOLATILE if written not in docs] == []
