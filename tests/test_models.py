"""``models AGENT`` (issue 11, item 5): the server's list over the agent's own transport, and the
warning for a model the server does not list; against the real reference server."""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from aish.cli import main
from aish.testing import Outcome
from aish_refserver import RefServer
from tests.pipelines.conftest import codec_agents

LISTED = "apollo\nathena\nhermes\necho\n"
SECRET = "sk-test-models-0123456789"


def aish(*argv: str) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdin=io.StringIO(""), stdout=out, stderr=err)
    return Outcome(status, out.getvalue(), err.getvalue())


def gets(refserver: RefServer) -> list[str]:
    return [r.path for r in refserver.requests if r.method == "GET"]


@pytest.fixture
def config(refserver: RefServer, write_config: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MODELS_TEST_KEY", SECRET)
    url = refserver.base_url
    extra = (
        f'[agents.keyed]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{url}"\nmodel = "athena"\n'
        'api_key_env = "MODELS_TEST_KEY"\n\n'
        f'[agents.misnamed]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{url}"\nmodel = "nosuch"\n\n'
        f'[agents.down]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "http://127.0.0.1:9/v1"\n'
        'api_key_env = "MODELS_TEST_KEY"\n\n'
        f'[agents.wrongurl]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{url}/nothing"\n'
        'api_key_env = "MODELS_TEST_KEY"\n\n'
        f'[agents.claudekey]\ntransport = "sse"\ncodec = "anthropic-messages"\nurl = "{url}"\n'
        'api_key_env = "MODELS_TEST_KEY"\n'
    )
    return str(write_config(codec_agents(url) + "\n" + extra))


def test_models_lists_what_the_server_lists(refserver: RefServer, demo_url: str) -> None:
    result = aish("models", "athena")
    assert (result.status, result.out, result.err) == (0, LISTED, "")
    assert gets(refserver) == ["/v1/models"]


def test_the_openai_request_carries_the_key_which_is_never_shown(refserver: RefServer, config: str) -> None:
    result = aish("--config", config, "models", "keyed")
    assert (result.status, result.out) == (0, LISTED)
    (request,) = refserver.requests
    assert request.headers["authorization"] == f"Bearer {SECRET}"


def test_anthropic_agents_list_with_anthropic_headers(refserver: RefServer, config: str) -> None:
    result = aish("--config", config, "models", "claudekey")
    assert (result.status, result.out, result.err) == (0, LISTED, "")
    (request,) = refserver.requests
    assert request.path == "/v1/models?limit=1000"
    assert request.headers["x-api-key"] == SECRET and request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers


def test_a_configured_model_the_server_does_not_list_is_a_warning(refserver: RefServer, config: str) -> None:
    result = aish("--config", config, "models", "misnamed")
    assert (result.status, result.out) == (0, LISTED)
    assert result.err == "aish: warning: misnamed: model 'nosuch' is not listed by its server (see 'models misnamed')\n"


def test_a_model_given_with_m_is_checked_while_the_answer_streams(refserver: RefServer, config: str) -> None:
    result = aish("--config", config, "-c", "athena[-m echo] hi; hermes[-m echo] there")
    assert (result.status, result.err) == (0, "")
    assert gets(refserver) == ["/v1/models"]  # one list per server and process, fetched beside the answers
    result = aish("--config", config, "athena", "-m", "nosuch", "hi")
    lines = result.err.splitlines()
    assert result.status == 5 and len(lines) == 2
    assert lines[0].startswith("aish: athena: not found")  # the server refused it
    assert lines[1] == "aish: warning: athena: model 'nosuch' is not listed by its server (see 'models athena')"


def test_no_check_without_m(refserver: RefServer, config: str) -> None:
    assert aish("--config", config, "-c", "misnamed[-s x] hi; athena hi").err.count("warning") == 0
    assert gets(refserver) == []


@pytest.mark.parametrize(
    ("agent", "status", "message"),
    [
        ("down", 4, "aish: down: cannot connect to http://127.0.0.1:9/v1/models: connection refused\n"),
        ("plain", 2, "aish: plain: the text codec cannot list models\n"),
        ("zeus", 3, "aish: unknown agent 'zeus' (known: apollo, athena, claude, claudekey, down, env, "),
    ],
)
def test_errors_are_one_line_without_the_key(config: str, agent: str, status: int, message: str) -> None:
    result = aish("--config", config, "models", agent)
    assert result.status == status and result.out == ""
    assert result.err.startswith(message) and result.err.count("\n") == 1
    assert SECRET not in result.err


def test_an_http_error_is_one_line(config: str, refserver: RefServer) -> None:
    result = aish("--config", config, "models", "wrongurl")
    assert result.status == 5 and result.out == ""
    assert result.err.startswith(
        f"aish: wrongurl: not found (check the agent's url): HTTP 404 from {refserver.base_url}/nothing/models"
    )
    assert result.err.count("\n") == 1 and SECRET not in result.err


def test_models_of_several_agents_or_every_one(config: str, refserver: RefServer) -> None:
    """``models`` alone asks every agent's server at once: ``AGENT  MODEL`` lines; a server
    that cannot say is a warning, and the others are still listed."""
    two = aish("--config", config, "models", "keyed", "misnamed")
    rows = [f"keyed     {m}" for m in LISTED.split()] + [f"misnamed  {m}" for m in LISTED.split()]
    in_use = [row + "  (in use)" if row == "keyed     athena" else row for row in rows]  # keyed's model
    assert (two.status, two.out.splitlines()) == (0, ["AGENT     MODEL", *in_use])
    assert two.err == "aish: warning: misnamed: model 'nosuch' is not listed by its server (see 'models misnamed')\n"
    every = aish("--config", config, "models")
    assert every.status == 0
    assert re.search(r"^athena +hermes$", every.out, re.M) and re.search(r"^keyed +echo$", every.out, re.M)
    assert every.out.startswith("AGENT ") and re.search(r"^athena +athena  \(in use\)$", every.out, re.M)
    assert "aish: warning: down: " in every.err and SECRET not in every.err + every.out
    down = aish("--config", config, "models", "down", "wrongurl")
    assert down.status == 2 and down.out == ""
    assert down.err.endswith("aish: models: no agent's server listed its models (see the warnings above)\n")


def test_models_in_a_script_and_in_the_shell(refserver: RefServer, demo_url: str) -> None:
    assert aish("-c", "models hermes").out == LISTED
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "aish"], env=env, encoding="utf-8", timeout=20, dimensions=(40, 120))
    try:
        child.expect_exact("aish>")
        child.sendline("models athena")
        child.expect(r"apollo\r\nathena\r\nhermes\r\necho\r\n")
        child.sendline("models nosuch")
        child.expect_exact("aish: unknown agent 'nosuch' (known: apollo, athena, hermes)")
        child.expect_exact("aish>")
    finally:
        child.close(force=True)


# ------------------------------------------------------------- Tab after -m


def test_tab_after_m_offers_the_agents_model_then_its_servers_list(
    refserver: RefServer, write_config: Callable[[str], Path]
) -> None:
    from aish.app import build_app
    from aish.config import load_config
    from aish.models import ModelChecks

    url = refserver.base_url
    text = f'[agents.zeus]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{url}"\nmodel = "hermes"\n'
    text += '[agents.down]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "http://127.0.0.1:9/v1"\nmodel = "m1"\n'
    checks = ModelChecks(build_app(load_config(str(write_config(text)))))
    assert checks.known("zeus", 10) == ["hermes", "apollo", "athena", "echo"]
    assert checks.known("zeus", 10) == ["hermes", "apollo", "athena", "echo"]
    assert gets(refserver) == ["/v1/models"]  # asked once
    assert checks.known("down", 10) == ["m1"]  # a server that cannot answer: the agent's own model
    assert checks.known("nobody", 10) == []


def test_tab_after_m_in_the_shell_and_after_model_in_a_chat(refserver: RefServer) -> None:
    env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "aish"], env=env, encoding="utf-8", timeout=20, dimensions=(40, 160))
    try:
        child.expect_exact("aish>")
        child.send("ath\t")  # Tab adds "ena" and a blank; the "[" typed next takes the blank away
        child.expect_exact("ena")
        child.send("[-m ec\t")  # nothing before the cursor holds "ho" but what Tab adds
        child.expect_exact("ho")
        child.send("] hi there\r")
        child.expect_exact("[athena: Complete")
        assert refserver.requests[-1].body is not None and refserver.requests[-1].body["model"] == "echo"
        child.sendline("hermes")
        child.expect_exact("hermes>")
        child.send("/model ap\t")
        child.expect_exact("ollo")
        child.send("\r")
        child.expect_exact("model = apollo")
        child.send("\x04")
        child.expect_exact("aish>")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
