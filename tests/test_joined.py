"""aish.Joined: text made of pieces of other strings, written and compared without joining them (decision 31)."""

from __future__ import annotations

import json
import random

import pytest

from aish import Context, Joined, Prompt, json_body, json_chunks
from aish.joined import LONG, join_text, rstripped, text_of
from aish.jsonbody import json_line
from aish.pipeline.agent import prompt_text


def test_a_joined_text_is_its_parts_each_cut_at_its_end() -> None:
    joined = Joined(("abc  \n", 3), "\n\n", Joined("x", ("yz", 9)))
    assert str(joined) == "abc\n\nxyz" and len(joined) == 8
    assert joined == "abc\n\nxyz" and joined == Joined("abc\n\nxyz") and joined != "abc\n\nxyZ"
    assert joined.parts == (("abc  \n", 3), ("\n\n", 2), ("x", 1), ("yz", 2))
    assert hash(joined) == hash("abc\n\nxyz") and joined.isascii() and not Joined("é").isascii()
    assert list(Joined(("abcdefg", 5), "h").pieces(2)) == ["ab", "cd", "e", "h"]
    assert str(Joined()) == "" and Joined(("abc", 0)).parts == ()


def test_a_single_whole_part_is_that_string_not_a_copy() -> None:
    text = "x" * (LONG + 1)
    assert str(Joined(text)) is text and text_of(text) is text


def test_joining_gives_a_str_up_to_long_and_a_joined_beyond() -> None:
    assert join_text("a", "b") == "ab" and type(join_text("a", "b")) is str
    long = "y" * LONG
    assert isinstance(join_text(long, "z"), Joined) and type(join_text(long)) is str
    assert Joined.join("--", ["a", Joined("b"), "c"]) == "a--b--c"
    assert Joined.join("\n", [long]) is long


@pytest.mark.parametrize("piped", ["text\n", "text \n\n\t", "text", "a" * (LONG + 5) + "\n\n"])
def test_the_prompt_is_the_piped_input_a_blank_line_and_the_words(piped: str) -> None:
    prompt = prompt_text("athena", "summarize this", piped)
    assert prompt == piped.rstrip() + "\n\nsummarize this"
    assert isinstance(prompt, Joined) == (len(piped) > LONG)
    if isinstance(prompt, Joined):  # refers to the piped input: never a copy of it
        assert prompt.parts[0] == (piped, len(piped.rstrip())) and prompt.parts[0][0] is piped
        assert prompt.after(piped) == (len(piped.rstrip()), "\n\nsummarize this")
        assert prompt.after(piped.upper()) is None
    assert prompt_text("athena", "", piped) is piped


def test_a_prompt_in_pieces_gives_its_text_and_its_content() -> None:
    piped = "b" * (LONG + 1)
    content = prompt_text("athena", "why", piped)
    prompt = Prompt(content, Context("p"))
    assert prompt.content is content and prompt.text == piped + "\n\nwhy" and type(prompt.text) is str
    assert Prompt("hi", Context("p")).text == "hi"


def test_map_keeps_unchanged_parts_and_the_cut_of_a_changed_one() -> None:
    piped = "key sk-123 here\n\n"
    joined = Joined(rstripped(piped), "\n\n", "words")
    same = joined.map(lambda text: text)
    assert same.parts[0][0] is piped and same == joined
    masked = joined.map(lambda text: text.replace("sk-123", "***"))
    assert str(masked) == "key *** here\n\nwords"


@pytest.mark.parametrize("seed", range(20))
def test_json_writes_a_joined_text_as_the_json_of_its_text(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = 'ab\n"\\\x00\x1f\u00e9\u2028\U0001f600 '
    pieces = []
    for _ in range(rng.randint(1, 4)):
        text = "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 3, LONG, 300_000])))
        pieces.append((text, rng.randint(0, len(text))) if rng.random() < 0.5 else text)
    joined = Joined(*pieces)
    obj = {"messages": [{"role": "user", "content": joined}], "system": Joined("short ", "one"), "n": 1}
    plain = {"messages": [{"role": "user", "content": str(joined)}], "system": "short one", "n": 1}
    body = json_body(obj)
    assert bytes(body) == json.dumps(plain).encode() and len(body) == len(bytes(body))
    assert isinstance(body, bytes) or b"".join(body) == bytes(body)
    for ensure_ascii in (True, False):
        want = json.dumps(plain, ensure_ascii=ensure_ascii, separators=(",", ":")).encode()
        assert b"".join(json_chunks(obj, ensure_ascii=ensure_ascii, separators=(",", ":"))) == want
        line = json_line(obj, ensure_ascii=ensure_ascii, separators=(",", ":"))  # at once, or None: long
        assert line == (want if len(joined) <= LONG else None)


@pytest.mark.parametrize(
    "obj",
    ['a\u2028"b', 1.5, {"a": [1, None, True, float("nan"), "\u00e9", {"b": ()}], "c": {"d": 2**70}}, [], {}],
)
def test_a_line_is_what_json_dumps_gives(obj: object) -> None:
    """``json_line`` calls the C encoder itself (no check for cycles): the same text as ``json.dumps``."""
    for ensure_ascii, separators in ((True, None), (False, (",", ":"))):
        want = json.dumps(obj, ensure_ascii=ensure_ascii, separators=separators).encode()
        assert json_line(obj, ensure_ascii=ensure_ascii, separators=separators) == want


def test_a_body_holding_the_placeholders_mark_is_still_its_json() -> None:
    """The long strings' placeholders start with a mark drawn once per process; a body that holds it
    (by chance, or written to) is made in one piece, still exactly its JSON."""
    from aish.jsonbody import _mark

    long = "x" * (LONG + 1)
    for clash in (f"{_mark()}0", json.dumps(f"{_mark()}0")[1:-1]):
        obj = {"a": long, "b": clash, "c": Joined(long, "!")}
        plain = {"a": long, "b": clash, "c": long + "!"}
        assert bytes(json_body(obj)) == json.dumps(plain).encode()
        assert b"".join(json_chunks(obj, ensure_ascii=False)) == json.dumps(plain, ensure_ascii=False).encode()
