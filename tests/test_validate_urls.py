"""aish.validate.url_problem: its quick check of plain URLs agrees with ``urlsplit``."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from aish import validate

URLISH = st.text(alphabet="hHtTpPsS:/.[]@%?#-_~+0123456789abcxyzé!$&'()*,;=", max_size=40)


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(st.one_of(URLISH, st.builds(lambda rest: "http://" + rest, URLISH)))
@example("http://127.0.0.1:8080/v1")
@example("http://localhost:0/")
@example("http://localhost:65536/")
@example("http://[::1]:80/")
@example("http://user@host/")
@example("http://hé/")
@example("http://:80/")
def test_the_quick_check_accepts_only_what_urlsplit_accepts(url: str) -> None:
    quick = validate._plain_url().fullmatch(url)
    if quick and (quick[1] is None or 0 < int(quick[1]) <= 65535):
        assert validate._split_problem(url) is None, url
    assert validate.url_problem(url) == (
        "a URL may not hold spaces or control characters"
        if re.search(r"[\x00-\x20\x7f]", url)
        else validate._split_problem(url)
    )


def test_plain_urls_are_told_apart_without_urllib() -> None:
    assert validate.url_problem("http://127.0.0.1:8080/v1/chat") is None
    assert validate.url_problem("https://api.example.com") is None
    assert validate.url_problem("http://localhost:0/") == "the port must be a number from 1 to 65535"
    assert validate.url_problem("localhost:8080") == "expected an absolute URL such as http://127.0.0.1:8080/v1"


def test_a_local_path_url_is_left_to_its_transport() -> None:
    """``scheme:///PATH`` names a local resource for a plugin's transport (a file, a Unix socket); the
    schemes whose URLs always have a host still need one, so ``http:///v1`` stays a typo."""
    for url in ("file:///tmp/answers.txt", "unix:///run/llm.sock", "FILE:///a"):
        assert validate.url_problem(url) is None, url
    for url in ("http:///v1", "https:///v1", "ws:///x", "WSS:///x", "file:///", "file://", "file:/tmp/a", "file:tmp"):
        assert validate.url_problem(url) == "expected an absolute URL such as http://127.0.0.1:8080/v1", url
