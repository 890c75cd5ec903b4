"""Fixtures for the network tests: the reference server, a test CA, TLS fronts, forward proxies, aish runs."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import trustme
from netkit import ForwardProxy, TLSFront

from aish_refserver import RefServer

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="module")
def refserver() -> Iterator[RefServer]:
    server = RefServer(pace=0.0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="module")
def tls_front(ca: trustme.CA, refserver: RefServer) -> Iterator[TLSFront]:
    """TLS for 127.0.0.1 and localhost, valid now, in front of the reference server."""
    with TLSFront(ca.issue_cert("127.0.0.1", "localhost"), (refserver.host, refserver.port)) as front:
        yield front


@pytest.fixture(scope="module")
def expired_front(ca: trustme.CA, refserver: RefServer) -> Iterator[TLSFront]:
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2)
    cert = ca.issue_cert("127.0.0.1", not_before=past - datetime.timedelta(days=30), not_after=past)
    with TLSFront(cert, (refserver.host, refserver.port)) as front:
        yield front


@pytest.fixture(scope="module")
def mismatch_front(ca: trustme.CA, refserver: RefServer) -> Iterator[TLSFront]:
    """A valid certificate, for another host than the one aish connects to."""
    with TLSFront(ca.issue_cert("models.example"), (refserver.host, refserver.port)) as front:
        yield front


@pytest.fixture(scope="module")
def open_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForwardProxy]:
    with ForwardProxy(tmp_path_factory.mktemp("proxy") / "proxy.log") as proxy:
        yield proxy


@pytest.fixture(scope="module")
def auth_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForwardProxy]:
    with ForwardProxy(tmp_path_factory.mktemp("proxy") / "proxy.log", auth="aishuser:s3cret-pw") as proxy:
        yield proxy


NETWORK_VARIABLES = (
    "http_proxy", "https_proxy", "all_proxy", "no_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
)  # fmt: skip


@pytest.fixture
def aish(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``aish -c LINE`` with one agent ``bot`` at ``url`` and exactly the network variables given
    (``settings``, ``keys`` and ``options``: TOML lines added to ``[settings]``, to the agent's table
    and to its options)."""

    def run(
        url: str,
        line: str = "bot hi",
        *,
        codec: str = "openai-chat",
        args: Sequence[str] = (),
        history: str = "off",
        connect_timeout: float = 5,
        idle_timeout: float = 10,
        settings: str = "",
        options: str = "",
        keys: str = "",
        **variables: str,
    ) -> Any:
        config = tmp_path / "aish.toml"
        config.write_text(
            f'[settings]\nhistory = "{history}"\nhistory_path = "{tmp_path / "history"}"\n{settings}'
            "[agents.bot]\n"
            'transport = "sse"\n'
            f'codec = "{codec}"\n'
            f'url = "{url}"\n'
            'model = "athena"\n'
            f"connect_timeout = {connect_timeout:g}\n"
            f"idle_timeout = {idle_timeout:g}\n"
            f'api_key_env = "BOT_KEY"\n{keys}'
            "[agents.bot.options]\n"
            f"aish_tokens = 8\n{options}",
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("AISH_")}
        for name in NETWORK_VARIABLES:
            env.pop(name, None)
            env.pop(name.upper(), None)
        env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "config"))
        env.update(BOT_KEY="sk-test-0123456789")
        env.update(variables)
        return subprocess.run(
            [sys.executable, "-m", "aish", "--config", str(config), *args, "-c", line],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    return run
