"""HTTPS through a real TLS terminator with a test CA: which roots are trusted, and why a certificate is refused."""

from __future__ import annotations

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
