"""A real forward proxy (proxy.py) between aish and the reference server, with and without credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from netkit import ForwardProxy, TLSFront, TunnelOnce

from aish.testing import free_port
from aish_refserver import RefServer, plan_reply

ANSWER = plan_reply("athena", "hi", exact_tokens=8).text()
GOOD = "aishuser:s3cret-pw"
BAD = "aishuser:wrong-pw"


def origin(server: RefServer) -> str:
    return f"http://127.0.0.1:{server.port}/v1"


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "s3cret" not in stderr and "wrong-pw" not in stderr  # credentials are never shown
    return lines[0]


@pytest.mark.parametrize("variable", ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"])
def test_http_through_a_proxy_with_credentials(
    variable: str, aish: Any, auth_proxy: ForwardProxy, refserver: RefServer
) -> None:
    run = aish(origin(refserver), **{variable: auth_proxy.url(GOOD)})
    assert (run.returncode, run.stdout.strip(), run.stderr) == (0, ANSWER, "")


@pytest.mark.parametrize("credentials", [None, BAD])
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY"])
def test_a_proxy_refusing_credentials_is_named(
    variable: str, credentials: str | None, aish: Any, auth_proxy: ForwardProxy, refserver: RefServer
) -> None:
    run = aish(origin(refserver), **{variable: auth_proxy.url(credentials)})
    assert run.returncode == 5
    line = one_line(run.stderr)
    assert "HTTP 407" in line
    assert f"from the proxy http://127.0.0.1:{auth_proxy.port} (from {variable})" in line


def test_https_tunnels_through_the_proxy_with_credentials(
    aish: Any, auth_proxy: ForwardProxy, tls_front: TLSFront, ca_file: Path
) -> None:
    run = aish(tls_front.url() + "/v1", HTTPS_PROXY=auth_proxy.url(GOOD), REQUESTS_CA_BUNDLE=str(ca_file))
    assert (run.returncode, run.stdout.strip(), run.stderr) == (0, ANSWER, "")


def test_a_refused_tunnel_names_the_proxy(
    aish: Any, auth_proxy: ForwardProxy, tls_front: TLSFront, ca_file: Path
) -> None:
    run = aish(tls_front.url() + "/v1", https_proxy=auth_proxy.url(BAD), REQUESTS_CA_BUNDLE=str(ca_file))
    assert run.returncode == 5
    line = one_line(run.stderr)
    assert "HTTP 407" in line
    assert f"the proxy http://127.0.0.1:{auth_proxy.port} (from https_proxy), tunnelling to 127.0.0.1:" in line


def test_an_open_proxy(aish: Any, open_proxy: ForwardProxy, refserver: RefServer) -> None:
    run = aish(origin(refserver), http_proxy=open_proxy.url())
    assert (run.returncode, run.stdout.strip()) == (0, ANSWER), run.stderr


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY"])
def test_a_proxy_that_is_down_is_named(variable: str, aish: Any, refserver: RefServer) -> None:
    port = free_port()
    run = aish(origin(refserver), **{variable: f"http://{GOOD}@127.0.0.1:{port}"})
    assert run.returncode == 4
    line = one_line(run.stderr)
    assert f"cannot connect to the proxy http://127.0.0.1:{port} (from {variable}): connection refused" in line


def test_no_proxy_goes_direct(aish: Any, refserver: RefServer) -> None:
    run = aish(origin(refserver), HTTP_PROXY=f"http://127.0.0.1:{free_port()}", NO_PROXY="127.0.0.1")
    assert (run.returncode, run.stdout.strip()) == (0, ANSWER), run.stderr


def test_a_socks_proxy_is_refused_in_one_line(aish: Any, refserver: RefServer) -> None:
    run = aish(origin(refserver), ALL_PROXY=f"socks5://{GOOD}@127.0.0.1:1080")
    assert run.returncode == 2
    assert "ALL_PROXY=socks5://127.0.0.1: aish reaches proxies over http:// only" in one_line(run.stderr)


@pytest.mark.parametrize("heartbeat", [True, False], ids=["watchdog", "socket-timeout"])
def test_a_stall_after_the_headers_names_the_url_and_the_proxy(
    heartbeat: bool, aish: Any, auth_proxy: ForwardProxy, refserver: RefServer
) -> None:
    """Silence once the answer started: the one line names what went silent, as every other connection
    error does, whichever of the heartbeat watchdog and the socket's own timeout sees it."""
    run = aish(
        f"http://alice:pw-hunter2@127.0.0.1:{refserver.port}/v1",
        idle_timeout=0.5,
        settings="" if heartbeat else 'disable_plugins = ["heartbeat"]\n',
        options="aish_fault = { stall = 3, stall_after = 3 }\n",
        HTTP_PROXY=auth_proxy.url(GOOD),
    )
    assert run.returncode == 4
    line = one_line(run.stderr)
    assert "pw-hunter2" not in line
    assert line == (
        f"aish: bot: http://alice:***@127.0.0.1:{refserver.port}/v1/chat/completions through the proxy"
        f" http://127.0.0.1:{auth_proxy.port} (from HTTP_PROXY): nothing arrived for 0.5s;"
        " not resumed: the server sends no event ids (partial answer kept)"
    )


def test_a_proxy_that_cannot_reach_the_origin_fails_at_once(aish: Any, open_proxy: ForwardProxy, ca_file: Path) -> None:
    """proxy.py answers CONNECT to a closed port with 502: as curl and requests take it, a connection
    failure naming the proxy (exit 4), not an HTTP error retried three times."""
    port = free_port()
    run = aish(f"https://127.0.0.1:{port}/v1", args=["--format", "jsonl"], https_proxy=open_proxy.url(),
               REQUESTS_CA_BUNDLE=str(ca_file))  # fmt: skip
    assert run.returncode == 4
    assert '"retrying"' not in run.stdout, run.stdout
    assert one_line(run.stderr) == (
        f"aish: bot: cannot connect to the proxy http://127.0.0.1:{open_proxy.port} (from https_proxy),"
        f" tunnelling to 127.0.0.1:{port}: the proxy answered HTTP 502 Bad Gateway"
    )


def test_a_proxy_that_forbids_the_tunnel_is_named_and_not_blamed_on_the_key(aish: Any, tls_front: TLSFront) -> None:
    """A proxy's 403 to CONNECT is its own rule: never 'authentication failed ($BOT_KEY is not set)'."""
    with TunnelOnce("403 Forbidden", tunnels=0) as proxy:
        run = aish(tls_front.url() + "/v1", https_proxy=proxy.url(), BOT_KEY="")
    assert run.returncode == 5 and len(proxy.connects) == 1  # never retried
    assert one_line(run.stderr) == (
        f"aish: bot: the proxy refused the connection: HTTP 403 from the proxy http://127.0.0.1:{proxy.port}"
        f" (from https_proxy), tunnelling to 127.0.0.1:{tls_front.port}"
    )


def test_a_proxy_failing_while_reconnecting_is_retried_and_named_with_the_attempts(
    aish: Any, tls_front: TLSFront, ca_file: Path
) -> None:
    """The stream dropped, the answer can resume, but the proxy now answers 502: retried as a
    reconnection is, and the last line says it was the proxy and how many retries were made."""
    with TunnelOnce() as proxy:
        run = aish(
            tls_front.url() + "/v1",
            keys="backoff_initial = 0.05\n",
            options="aish_fault = { drop_after = 3, resume = true }\n",
            HTTPS_PROXY=proxy.url(),
            REQUESTS_CA_BUNDLE=str(ca_file),
        )
    assert run.returncode == 4
    assert len(proxy.connects) == 4  # the first connection, then 3 retries
    assert one_line(run.stderr) == (
        f"aish: bot: cannot connect to the proxy http://127.0.0.1:{proxy.port} (from HTTPS_PROXY), tunnelling to"
        f" 127.0.0.1:{tls_front.port}: the proxy answered HTTP 502 Bad Gateway; gave up after 3 retries"
        " (partial answer kept)"
    )
