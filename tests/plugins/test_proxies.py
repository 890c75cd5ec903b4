"""Which requests skip the proxy: ``no_proxy`` read as curl and requests read it (no urllib.request)."""

from __future__ import annotations

import pytest

from aish import ConfigError
from aish_sse.proxies import bypassed, parse_proxy, proxy_for


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "direct"),
    [
        ("api.example.com", 443, "*", True),
        ("api.example.com", 443, "example.com", True),
        ("example.com", 443, "example.com", True),
        ("api.example.com", 443, ".example.com", True),
        ("api.example.com", 443, "*.example.com", True),
        ("API.Example.COM", 443, "example.com", True),
        ("badexample.com", 443, "example.com", False),
        ("example.com.evil", 443, "example.com", False),
        ("api.example.com", 443, "other.org, example.com", True),
        ("api.example.com", 443, "other.org example.com", True),
        ("api.example.com", 443, "example.com:443", True),
        ("api.example.com", 8443, "example.com:443", False),
        ("127.0.0.1", 8080, "127.0.0.1", True),
        ("127.0.0.1", 8080, "127.0.0.1:8080", True),
        ("127.0.0.1", 8081, "127.0.0.1:8080", False),
        ("127.0.0.2", 80, "127.0.0.1", False),
        ("10.1.2.3", 80, "10.0.0.0/8", True),
        ("11.1.2.3", 80, "10.0.0.0/8", False),
        ("::1", 80, "::1", True),
        ("::1", 80, "[::1]", True),
        ("::1", 80, "[::1]:80", True),
        ("::1", 81, "[::1]:80", False),
        ("0:0::1", 80, "::1", True),
        ("fd00::5", 80, "fd00::/8", True),
        ("127.0.0.1", 80, "fd00::/8", False),
        ("localhost", 80, "127.0.0.1", False),
        ("api.example.com", 443, "", False),
        ("api.example.com", 443, ",,", False),
        ("api.example.com", 443, "*.", False),
        ("api.example.com", 443, "10.0.0.0/not", False),
    ],
)
def test_no_proxy(host: str, port: int, no_proxy: str, direct: bool) -> None:
    assert bypassed(host, port, no_proxy) is direct


def clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_the_scheme_variable_wins_over_all_proxy_and_lower_case_over_upper(monkeypatch: pytest.MonkeyPatch) -> None:
    clean(monkeypatch)
    monkeypatch.setenv("ALL_PROXY", "http://all:1")
    monkeypatch.setenv("HTTPS_PROXY", "http://upper:2")
    monkeypatch.setenv("https_proxy", "lower:3")
    proxy = proxy_for("https", "api.example.com", 443)
    assert proxy is not None and (proxy.host, proxy.port, proxy.source) == ("lower", 3, "https_proxy")
    proxy = proxy_for("http", "api.example.com", 80)
    assert proxy is not None and (proxy.host, proxy.source) == ("all", "ALL_PROXY")


def test_no_proxy_lower_case_first_and_the_port_of_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    clean(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy:3128")
    monkeypatch.setenv("NO_PROXY", "example.com")
    assert proxy_for("http", "api.example.com", 80) is None
    monkeypatch.setenv("no_proxy", "example.com:8080")
    assert proxy_for("http", "api.example.com", 8080) is None
    assert proxy_for("http", "api.example.com", 80) is not None  # the lower-case list names another port


def test_credentials_become_a_basic_header_and_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = parse_proxy("http://al%40ice:p%3Ass@proxy.internal:3128", "https_proxy")
    assert proxy.authorization == "Basic YWxAaWNlOnA6c3M="  # base64 of "al@ice:p:ss"
    assert proxy.shown == "http://proxy.internal:3128 (from https_proxy)"
    assert "p:ss" not in repr(proxy) and "YWx" not in repr(proxy)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("socks5://127.0.0.1:1080", "ALL_PROXY=socks5://127.0.0.1: aish reaches proxies over http:// only"),
        ("https://proxy:443", "ALL_PROXY=https://proxy: aish reaches proxies over http:// only"),
        ("http://proxy:port", "ALL_PROXY=http://proxy: invalid port"),
        ("http://:3128", "ALL_PROXY: no host in the proxy's URL"),
    ],
)
def test_unusable_proxy_urls(value: str, said: str) -> None:
    with pytest.raises(ConfigError, match=f"^{said}"):
        parse_proxy(value, "ALL_PROXY")
