"""Credentials in an agent's URL (``http://user:password@host/...``), as curl and requests take them:
sent as ``Authorization: Basic``, never shown (messages, ``--debug``, ``aish agents``, history)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from servers import Exchange, closed_port, json_reply, serving

PASSWORD = "pw-hunter2-x"
BASIC = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()


def nowhere_holds(secret: str, *texts: str, under: Path) -> None:
    for text in texts:
        assert secret not in text, text
    recorded = [p for p in under.rglob("*") if p.is_file() and p.name != "aish.toml" and "cache" not in p.parts]
    assert recorded  # the history (or its journal) was written
    for path in recorded:
        assert secret.encode() not in path.read_bytes(), path


def test_url_credentials_are_sent_as_basic_auth_and_never_shown(aish: Any, tmp_path: Path) -> None:
    with serving(json_reply(401, {"error": {"message": "bad credentials"}})) as server:
        url = f"http://alice:{PASSWORD}@127.0.0.1:{server.port}/v1"
        run = aish(url, BOT_KEY="", history="jsonl")
        debug = aish(url, args=["--debug"], BOT_KEY="", history="jsonl")
    listing = aish(url, "agents", BOT_KEY="")
    shown = aish(url, "history", BOT_KEY="", history="jsonl")
    assert run.returncode == 5
    assert server.requests[0].header("authorization") == BASIC
    assert server.requests[0].header("host") == f"127.0.0.1:{server.port}"
    line = f"HTTP 401 from http://alice:***@127.0.0.1:{server.port}/v1/chat/completions: bad credentials"
    assert line in run.stderr and len(run.stderr.splitlines()) == 1
    assert f"http://alice:***@127.0.0.1:{server.port}/v1" in listing.stdout
    nowhere_holds(PASSWORD, run.stderr, debug.stdout, debug.stderr, listing.stdout, shown.stdout, under=tmp_path)


def test_a_user_name_alone_is_a_token_and_is_never_shown(aish: Any, tmp_path: Path) -> None:
    port = closed_port()
    run = aish(f"http://tok-{PASSWORD}@127.0.0.1:{port}/v1", BOT_KEY="", history="jsonl")
    assert run.returncode == 4
    assert (
        run.stderr.strip()
        == f"aish: bot: cannot connect to http://***@127.0.0.1:{port}/v1/chat/completions: connection refused"
    )
    nowhere_holds(PASSWORD, run.stderr, under=tmp_path)


def test_the_agents_key_wins_over_url_credentials(aish: Any) -> None:
    def handle(ex: Exchange) -> None:
        json_reply(401, {"error": "no"})(ex)

    with serving(handle) as server:
        aish(f"http://alice:{PASSWORD}@127.0.0.1:{server.port}/v1")
    assert server.requests[0].header("authorization") == "Bearer sk-test-0123456789"


def test_url_credentials_do_not_follow_a_redirect_to_another_host(aish: Any) -> None:
    with serving(json_reply(401, {"error": "no"})) as other:

        def hop(ex: Exchange) -> None:
            ex.respond(
                307, {"Location": f"http://localhost:{other.port}/v1/chat/completions"}, framing="length", length=0
            )
            ex.end()

        with serving(hop) as first:
            run = aish(f"http://alice:{PASSWORD}@127.0.0.1:{first.port}/v1", BOT_KEY="")
    assert first.requests[0].header("authorization") == BASIC
    assert other.requests[0].header("authorization") is None
    assert PASSWORD not in run.stderr
