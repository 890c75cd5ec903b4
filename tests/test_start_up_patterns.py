"""The checks that replaced regular expressions compiled at import say exactly what those expressions said.

Compiling a pattern costs 30-300 us, paid by every ``aish -c`` when it happens at
import (decision 32). Checks every run makes became character sets; the others
are compiled on first use. Each property compares a check with the expression
it replaced, on text drawn from the characters that matter and from anywhere.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from aish import validate
from aish.commands import check_registration
from aish.encoding import REPLACEMENT, clean, first_bad
from aish.scrub import _WORDISH

NEAR = "aZ09_-.*!#$%&'+^`|~\t\r\n\x00\x1f\x7f \u2022\u00b7\u2026é\ud800"
"""Characters on both sides of every set's edge, and a lone surrogate."""
TEXT = st.one_of(st.text(alphabet=NEAR, max_size=12), st.text(max_size=12))


@settings(max_examples=2000, deadline=None)
@given(TEXT)
def test_header_names_and_values(text: str) -> None:
    token = re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", text)
    bad_value = re.search(r"[\x00-\x08\x0a-\x1f\x7f]", text)
    named = validate.header_problem(text, "v")
    valued = validate.header_problem("X-Key", text)
    assert (named is None) == bool(token)
    assert (valued is None) == (not bad_value)


@settings(max_examples=2000, deadline=None)
@given(TEXT)
def test_environment_variable_names(text: str) -> None:
    assert (validate.env_name_problem(text) is None) == bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text))


@settings(max_examples=2000, deadline=None)
@given(TEXT)
def test_urls_with_blanks_or_controls(text: str) -> None:
    problem = validate.url_problem(f"http://host/{text}")
    blank = "a URL may not hold spaces or control characters"
    assert (problem == blank) == bool(re.search(r"[\x00-\x20\x7f]", text))


def test_numbers_of_seconds_and_json_floats() -> None:
    for value in (float("inf"), float("-inf"), float("nan"), 0, -1, 86_401, 10**400, -(10**400)):
        assert validate.seconds_problem(value) == "expected a positive number of seconds, at most 86400"
    assert validate.seconds_problem(86_400) is None
    assert validate.seconds_problem(0.5) is None
    for value in (float("inf"), float("-inf"), float("nan")):
        assert validate.json_problem({"t": value}) == f"t: {value} is not a finite number"
    assert validate.json_problem({"t": 1e308, "n": 10**400}) is None


@settings(max_examples=2000, deadline=None)
@given(TEXT)
def test_command_names(text: str) -> None:
    refused = check_registration(text, print, "a summary", "p") or ""
    assert ("bad name" in refused) == (not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", text))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=NEAR, min_size=1, max_size=1) | st.characters())
def test_what_a_masked_secret_is_made_of(char: str) -> None:
    """The word a scrubber holds back: mask and key characters, and what ``re.IGNORECASE`` takes for
    an ASCII letter (U+0130, U+0131, U+212A, U+017F: a short secret's pattern reads ``\\u0130abc`` as one word)."""
    assert (char in _WORDISH) == bool(re.match(r"[*\u2022\u00b7\u2026.A-Za-z0-9_\-]", char, re.IGNORECASE))


@settings(max_examples=2000, deadline=None)
@given(TEXT)
def test_lone_surrogates(text: str) -> None:
    first = re.search("[\ud800-\udfff]", text)
    assert first_bad(text) == (None if first is None else len(text[: first.start()].encode("utf-8")))
    assert clean(text) == re.sub("[\ud800-\udfff]", REPLACEMENT, text)
