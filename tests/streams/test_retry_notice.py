"""While a stage waits to ask again (HTTP 429/503, a dropped connection), consumers are told:
a ``Retrying`` event with the wait, the reason and the attempt, before the wait begins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
from servers import DONE, Exchange, chunk, serving
from streamkit import Run, agent
from terminal import screen

from aish import Retrying, StreamStart, TextDelta

STREAM = chunk(role="assistant") + chunk("Hello") + chunk(" again", finish="stop") + DONE


def busy_then_ok(status: int, times: int, retry_after: str | None = "0") -> object:
    def handle(ex: Exchange) -> None:
        if len(ex_requests) < times:
            ex_requests.append(1)
            body = b'{"error": {"message": "slow down"}}'
            headers = {"Content-Type": "application/json"}
            if retry_after is not None:
                headers["Retry-After"] = retry_after
            ex.respond(status, headers, framing="length", length=len(body))
            ex.send(body)
            ex.end()
            return
        ex.respond(200, {"Content-Type": "text/event-stream"})
        ex.send(STREAM)
        ex.end()

    ex_requests: list[int] = []
    return handle


def test_each_retry_is_announced_before_its_wait() -> None:
    with serving(busy_then_ok(429, 2)) as server:  # type: ignore[arg-type]
        run = Run(agent(server.url + "/v1"))
    assert run.r.status == "complete" and run.r.text == "Hello again"
    notices = [e for e in run.events if isinstance(e, Retrying)]
    assert [(n.delay, n.reason, n.attempt) for n in notices] == [(0.0, "HTTP 429", 1), (0.0, "HTTP 429", 2)]
    kinds = [type(e) for e in run.events]
    assert kinds[0] is StreamStart and kinds.index(TextDelta) > kinds.index(Retrying)
    assert [e.seq for e in run.events] == list(range(len(run.events)))
    assert all(e.agent == "bot" for e in notices)


def test_a_dropped_connection_is_announced_too() -> None:
    def reset_once(ex: Exchange) -> None:
        if not calls:  # the answer's head, then a reset before any text
            calls.append(1)
            ex.respond(200, {"Content-Type": "text/event-stream"})
            ex.pause(0.05)
            ex.abort()
            return
        ex.respond(200, {"Content-Type": "text/event-stream"})
        ex.send(STREAM)
        ex.end()

    calls: list[int] = []
    with serving(reset_once) as server:
        run = Run(agent(server.url + "/v1", backoff_initial=0.01, backoff_max=0.01))
    assert run.r.text == "Hello again"
    (notice,) = [e for e in run.events if isinstance(e, Retrying)]
    assert notice.reason == "connection lost" and notice.attempt == 1 and 0 <= notice.delay <= 0.01


def test_jsonl_shows_the_retry(tmp_path: Path) -> None:
    config = tmp_path / "aish.toml"
    with serving(busy_then_ok(503, 1)) as server:  # type: ignore[arg-type]
        config.write_text(
            f'[settings]\nhistory = "off"\n[agents.bot]\ntransport = "sse"\ncodec = "openai-chat"\n'
            f'url = "{server.url}/v1"\nmodel = "m"\n',
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("AISH_")}
        env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), AISH_CONFIG=str(config))
        done = subprocess.run(
            [sys.executable, "-m", "aish", "--format", "jsonl", "-c", "bot hi"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert objects[1] == {
        "type": "retrying",
        "agent": "bot",
        "seq": 1,
        "delay": 0.0,
        "reason": "HTTP 503",
        "attempt": 1,
    }


def test_retry_after_as_an_http_date_is_honoured() -> None:
    """``Retry-After`` may be a date (RFC 9110 10.2.3), as urllib3 reads it: here an hour ahead,
    so the wait is ``backoff_max`` (the cap), not the backoff of a server that gave no hint."""
    from email.utils import formatdate

    later = formatdate(__import__("time").time() + 3600, usegmt=True)
    with serving(busy_then_ok(429, 1, retry_after=later)) as server:  # type: ignore[arg-type]
        run = Run(agent(server.url + "/v1", backoff_initial=0.001, backoff_max=0.3))
    assert run.r.text == "Hello again"
    (notice,) = [e for e in run.events if isinstance(e, Retrying)]
    assert notice.delay == 0.3


def test_a_retry_after_date_in_the_past_means_now() -> None:
    with serving(busy_then_ok(503, 1, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")) as server:  # type: ignore[arg-type]
        run = Run(agent(server.url + "/v1", backoff_initial=0.05, backoff_max=0.3))
    (notice,) = [e for e in run.events if isinstance(e, Retrying)]
    assert notice.delay == 0.0


def test_on_a_terminal_the_tag_says_how_long_aish_waits_and_why(tmp_path: Path) -> None:
    """A real ``aish -c`` on a pty: the tag said 'Streaming...' through a 429's whole wait."""
    config = tmp_path / "aish.toml"
    with serving(busy_then_ok(429, 1, retry_after="1")) as server:  # type: ignore[arg-type]
        config.write_text(
            f'[settings]\nhistory = "off"\n[agents.bot]\ntransport = "sse"\ncodec = "openai-chat"\n'
            f'url = "{server.url}/v1"\nmodel = "m"\n',
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("AISH_")}
        env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), AISH_CONFIG=str(config), TERM="xterm")
        child = pexpect.spawn(sys.executable, ["-m", "aish", "-c", "bot hi"], env=env, encoding="utf-8", timeout=30)
        try:
            child.expect_exact("[bot: Retrying in 1.0s - HTTP 429] ")
            child.expect(pexpect.EOF)
        finally:
            child.close(force=True)
    shown = screen(child.before)
    assert shown[0] == "[bot: Streaming...] Hello again" and shown[1].startswith("[bot: Complete - ")
