"""Scrubbing is fast on long texts and exactly as careful as the regular expressions it stands for;
short keys are replaced only as whole words; streamed text is held back no more than needed."""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aish import scrub
from aish.scrub import MASK, MIN_SUBSTRING, Scrubber, fold, mask_runs
from aish.testing import run_aish

KEY = "sk-testsecret-0123456789"
ODD = "".join(scrub._FOLDS)  # not ASCII, yet letters of a key under re.IGNORECASE
TEXT = st.text(alphabet="sSkK-tTeE0189 .*\u2022\u00b7\u2026x" + ODD, max_size=60)


def careful(scrubber: Scrubber, text: str) -> str:
    """What the scrubber stands for: its regular expressions over the whole text, no pre-check."""
    assert scrubber._exact is not None
    text = scrubber._exact.sub(MASK, text)
    out, done = [], 0
    for run in scrub._mask_run().finditer(text):
        if run.start() < done:
            continue
        start, end = run.start(), run.end()
        while start > done and text[start - 1] in scrub._KEYISH:
            start -= 1
        while end < len(text) and text[end] in scrub._KEYISH:
            end += 1
        if scrubber._masks_a_secret(text[start : run.start()], text[run.end() : end]):
            out += [text[done:start], MASK]
            done = end
    return "".join([*out, text[done:]])


def test_fold_lowers_exactly_the_characters_that_ignorecase_matches_with_ascii() -> None:
    """Every character but the four folds lowers to no ASCII at all; the four match their letter."""
    for code in range(0x80, sys.maxunicode + 1):
        char = chr(code)
        if char in scrub._FOLDS:
            assert re.fullmatch(scrub._FOLDS[char], char, re.IGNORECASE)
            assert fold(char) == scrub._FOLDS[char]
        elif char.lower().isascii() or not fold(char).isascii():
            assert not any(c.isascii() for c in fold(char)), hex(code)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.sampled_from(["sk-testsecret-0123456789", "SK-TestSecret", "Kiss-the-sky-1234"]))
def test_the_pre_check_never_misses_a_secret(text: str, secret: str) -> None:
    scrubber = Scrubber([secret])
    assert scrubber._exact is not None
    for form in (text, text + secret.upper() + text, text.replace("s", "\u017f") + secret.swapcase()):
        if scrubber._exact.search(form):
            assert scrubber.may_hold_secret(form), form


def test_the_pre_check_looks_across_its_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scrub, "CHUNK", 8)
    scrubber = Scrubber([KEY])
    for start in range(30):
        text = "x" * start + KEY.upper().replace("S", "\u017f") + "y" * 5
        assert scrubber.may_hold_secret(text) and scrubber(text) == "x" * start + MASK + "y" * 5
    assert not scrubber.may_hold_secret("x" * 100 + KEY[:-1])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab*.\u2022\u00b7\u2026 ", max_size=40))
def test_mask_runs_are_the_regular_expression_s(text: str) -> None:
    assert [m.span() for m in mask_runs(text)] == [m.span() for m in scrub._mask_run().finditer(text)]


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT, st.sampled_from(["", KEY, KEY.upper(), "sk-TESTS****6789", "...456789", "SK-TE*****"]))
def test_scrubbing_is_the_careful_scrub(before: str, after: str, form: str) -> None:
    scrubber = Scrubber([KEY, "abc"])
    text = before + form + after
    assert scrubber(text) == careful(scrubber, text)


def test_a_long_text_without_a_secret_is_returned_as_is() -> None:
    text = "lorem ipsum dolor sit amet " * 40_000 + "... **bold** and \u2026"
    assert Scrubber([KEY])(text) is text


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("echo abcdef and tabc | athena", "echo abcdef and tabc | athena"),
        ("key abc rejected", "key *** rejected"),
        ("Incorrect API key provided: ABC.", "Incorrect API key provided: ***."),
        ("'abc'", "'***'"),
        ("abc***", "******"),
    ],
)
def test_a_short_key_is_replaced_only_as_a_whole_word(text: str, scrubbed: str) -> None:
    assert Scrubber(["abc"])(text) == scrubbed


def test_a_short_key_has_no_masked_forms() -> None:
    assert Scrubber(["abcdefgh"])("key abcd**** rejected") == "key abcd**** rejected"
    assert Scrubber(["abcdefgh" * 2])("key abcd**** rejected") == "key *** rejected"


def test_a_key_of_the_threshold_s_length_is_replaced_anywhere() -> None:
    key = "k" * MIN_SUBSTRING
    assert Scrubber([key])(f"x{key}y") == f"x{MASK}y"


def test_streaming_holds_back_only_what_may_be_a_secret() -> None:
    """An answer with nothing like the key in it is written up to its end (it trailed by the key's length)."""
    scrubber = Scrubber([KEY])
    assert scrubber.safe_cut("lorem ipsum dolor sit amet ") == len("lorem ipsum dolor sit amet ")
    assert scrubber.safe_cut("lorem ipsum dolor sit amet") == len("lorem ipsum dolor sit amet")
    assert scrubber.safe_cut("lorem ipsum sk-Te") == len("lorem ipsum ")  # may be the key arriving
    assert scrubber.safe_cut("lorem ipsum sk-TE**") == len("lorem ipsum ")  # may be its masked form
    assert scrubber.safe_cut("the end.") == len("the ")  # '.' may start a mask: '...456789'


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(
        [KEY, KEY.upper(), "sk-TESTS****6789", "sk-tests\u2022\u2022\u2022\u20226789", "...456789", "abc", ""]
    ),
    TEXT,
    TEXT,
    st.lists(st.integers(min_value=0, max_value=150), max_size=10),
)
@example(form="abc", before="\u0130", after="", cuts=[])  # 'İ' is a letter to re.IGNORECASE: one word
@example(form="abc", before="", after="\u212a", cuts=[3])
def test_streamed_pieces_scrubbed_are_the_whole_text_scrubbed(
    form: str, before: str, after: str, cuts: list[int]
) -> None:
    scrubber = Scrubber([KEY, "abc"])
    text = f"{before}{form}{after}"
    bounds = [0, *sorted(cuts), len(text)]
    held, written = "", []
    for a, b in itertools.pairwise(bounds):
        held += text[a:b]
        cut = scrubber.safe_cut(held)
        written.append(scrubber(held[:cut]))
        held = held[cut:]
    written.append(scrubber(held))
    assert "".join(written) == scrubber(text)


def test_a_short_key_does_not_mask_words_in_history(write_config: Callable[[str], Path], tmp_path: Path) -> None:
    """TOURB_KEY=abc recorded 'echo ***def and t*** | athena'."""
    agent = '[agents.other]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "http://127.0.0.1:9/v1"\n'
    config = write_config(agent + 'api_key_env = "TOURB_KEY"\n')
    env = {"TOURB_KEY": "abc", "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state")}
    ran = run_aish("--config", str(config), "-c", "echo abcdef and tabc, key abc | athena", env=env)
    assert ran.returncode == 0, ran.stderr
    exported = run_aish("--config", str(config), "history", "export", "--json", env=env)
    runs = json.loads(exported.stdout)
    assert runs[0]["line"] == "echo abcdef and tabc, key *** | athena"
    assert runs[0]["stages"][0]["input"] == "abcdef and tabc, key ***\n"


def test_one_scrubber_serves_the_same_secrets_everywhere() -> None:
    """The recorder asks for a scrubber on the run's thread and on the writer's (decision 106): the same
    secrets give the same one, made once, and others another."""
    first = scrub.scrubber([KEY, "tok"])
    assert scrub.scrubber([KEY, "tok"]) is first and scrub.scrubber((KEY, "tok")) is first
    assert first(f"x {KEY.upper()} tok y") == f"x {MASK} {MASK} y"
    other = scrub.scrubber([KEY])
    assert other is not first and other("tok") == "tok"
