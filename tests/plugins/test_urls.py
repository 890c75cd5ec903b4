"""The SSE client splits a URL exactly as ``urllib.parse.urlsplit`` does (without importing it)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aish_sse.urls import split_url


def expected(url: str) -> tuple[str, str, int | None, str] | str:
    """What urlsplit makes of ``url``: scheme, host, port, target; or "ValueError"."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "ValueError"
    path = parts.path or "/"
    return parts.scheme, parts.hostname or "", port, f"{path}?{parts.query}" if parts.query else path


def got(url: str) -> tuple[str, str, int | None, str] | str:
    try:
        parts = split_url(url)
    except ValueError:
        return "ValueError"
    return parts.scheme, parts.host, parts.port, parts.target


CASES = [
    "http://127.0.0.1:8080/v1/chat/completions",
    "https://API.Example.COM/v1?x=1&y=2#frag",
    "HTTP://host",
    "http://host:/p",
    "http://host:0/p",
    "http://host:65535/p",
    "http://host:65536/p",
    "http://host:-1/p",
    "http://host:\uff18\uff10/p",  # full-width digits: isdigit() but not ASCII
    "http://host:abc/p",
    "http://user:pa:ss@host:81/p",
    "http://good.example\\@evil.example/",
    "http://a@b@c:82/",
    "http://[::1]:8080/x",
    "http://[::1]/x",
    "http://[::1/x",
    "http://::1]/x",
    "http://x[::1]:5/y",
    "http://[fe80::1%25Eth0]:80/",
    "http:///path",
    "http:path",
    "//host/path",
    "not a url",
    "nonsense/chat/completions",
    "  \x00 http://host/p",
    "http://ho\tst/p\n?q\r=1",
    "http://host/path with space ",
    "http://host?q",
    "http://host#f?not-query",
    "http://host/?",
    "http://host/p?#",
    "ftp://x/y",
    "1http://host/",
    "h+t.t-p://host/",
    "http://héllo.example/ü?ä",
    "http://host:8080",
    "",
]


@pytest.mark.parametrize("url", CASES)
def test_the_same_parts_as_urlsplit(url: str) -> None:
    assert got(url) == expected(url)


ALPHABET = "hHtTpPsS:/?#@[]%.-+_ 1234567890aAbz\t\n\x00é"


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40), st.sampled_from(["", "http://", "https://", "HTTPS://", "//", "http:"]))
def test_any_text_splits_as_urlsplit_splits_it(tail: str, head: str) -> None:
    url = head + tail
    assert got(url) == expected(url)


@settings(max_examples=1000, deadline=None)
@given(
    st.text(alphabet=":0123456789abcdefABCDEF%.vz", max_size=45),
    st.sampled_from(["", ":", ":80", ":x"]),
    st.sampled_from(["http://", "http://u@", "http://a[b@"]),
)
def test_bracketed_hosts_are_checked_as_urlsplit_checks_them(inside: str, port: str, head: str) -> None:
    url = f"{head}[{inside}]{port}/p"
    assert got(url) == expected(url)
