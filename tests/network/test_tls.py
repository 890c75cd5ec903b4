"""HTTPS through a real TLS terminator with a test CA: which roots are trusted, and why a certificate is refused."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from netkit import TLSFront

from aish_refserver import plan_reply

ANSWER = plan_reply("athena", "hi", exact_tokens=8).text()


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_private_ca_named_by_any_of_the_usual_variables_is_trusted(
    variable: str, aish: Any, tls_front: TLSFront, ca_file: Path
) -> None:
    run = aish(tls_front.url() + "/v1", **{variable: str(ca_file)})
    assert (run.returncode, run.stdout.strip(), run.stderr) == (0, ANSWER, "")


def test_requests_ca_bundle_wins_over_curl_ca_bundle(
    aish: Any, tls_front: TLSFront, ca_file: Path, tmp_path: Path
) -> None:
    other = tmp_path / "empty.pem"
    other.write_text("", encoding="utf-8")
    run = aish(tls_front.url() + "/v1", REQUESTS_CA_BUNDLE=str(ca_file), CURL_CA_BUNDLE=str(other))
    assert run.returncode == 0, run.stderr


def test_unknown_issuer(aish: Any, tls_front: TLSFront) -> None:
    run = aish(tls_front.url() + "/v1")
    assert run.returncode == 4
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "issued by an unknown CA" in lines[0] or "unknown CA" in lines[0]
    assert "REQUESTS_CA_BUNDLE" in lines[0]  # what to do about it
    assert lines[0].startswith("aish: bot: cannot connect to https://127.0.0.1:")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_hostname_mismatch(host: str, aish: Any, mismatch_front: TLSFront, ca_file: Path) -> None:
    """The certificate is trusted but names models.example only."""
    run = aish(mismatch_front.url(host) + "/v1", REQUESTS_CA_BUNDLE=str(ca_file))
    assert run.returncode == 4
    assert "is for another IP address" in run.stderr or "is for another host name" in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_expired_certificate(aish: Any, expired_front: TLSFront, ca_file: Path) -> None:
    run = aish(expired_front.url() + "/v1", REQUESTS_CA_BUNDLE=str(ca_file))
    assert run.returncode == 4
    assert "certificate has expired" in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_plain_http_server_on_an_https_url(aish: Any, refserver: Any) -> None:
    run = aish(f"https://127.0.0.1:{refserver.port}/v1")
    assert run.returncode == 4
    assert "does not speak TLS" in run.stderr, run.stderr


def test_a_missing_bundle_file_is_named(aish: Any, tls_front: TLSFront, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    run = aish(tls_front.url() + "/v1", REQUESTS_CA_BUNDLE=str(missing))
    assert run.returncode == 2
    assert f"REQUESTS_CA_BUNDLE={missing}: no such file" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_the_hint_names_the_bundle_in_force(aish: Any, tls_front: TLSFront, ca_file: Path) -> None:
    """With CURL_CA_BUNDLE set (as many systems do), SSL_CERT_FILE is not read: the hint says so."""
    system = "/etc/ssl/certs/ca-certificates.crt" if Path("/etc/ssl/certs/ca-certificates.crt").is_file() else ""
    bundle = system or str(ca_file.with_name("other.pem"))
    if not system:
        Path(bundle).write_text("", encoding="utf-8")
    run = aish(tls_front.url() + "/v1", CURL_CA_BUNDLE=bundle, SSL_CERT_FILE=str(ca_file))
    assert run.returncode == 4
    (line,) = run.stderr.strip().splitlines()
    assert line.endswith(
        f"(the trusted CAs are CURL_CA_BUNDLE={bundle}: add this server's CA to it, or point it at one)"
    )


def test_a_silent_plain_port_on_an_https_url_is_named(aish: Any) -> None:
    """A plain HTTP server that waits for a request line (llama-server does) never answers a TLS hello."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)  # reads nothing, answers nothing

    threading.Thread(target=accept, daemon=True).start()
    port = listener.getsockname()[1]
    try:
        run = aish(f"https://127.0.0.1:{port}/v1", connect_timeout=1)
    finally:
        listener.close()
        for conn in held:
            conn.close()
    assert run.returncode == 4
    assert run.stderr.strip().splitlines() == [
        f"aish: bot: cannot connect to https://127.0.0.1:{port}/v1/chat/completions: connected, but no TLS answer"
        " within 1s (is it an http:// port?)"
    ]
