"""``agents add NAME URL ...`` and ``agents remove NAME``: agents come and go without an editor
(plugins/aish_commands/agent_add.py, agent_remove.py), against a real reference server, in process and in
the shell on a pty."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from aish.cli import main
from aish.testing import Outcome
from aish_refserver import RefServer

KEPT = '# my agents\n[settings]\nrenderer = "plain"  # keep this comment\n'


def aish(*argv: str) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdin=io.StringIO(), stdout=out, stderr=err)
    return Outcome(status, out.getvalue(), err.getvalue())


def test_the_agent_is_appended_and_answers_on_the_next_line(
    refserver: RefServer, write_config: Callable[[str], Path]
) -> None:
    path = write_config(KEPT)
    line = f"agents add local {refserver.base_url} -m athena -d 'on this machine'; local hi; agents"
    result = aish("--config", str(path), "-c", line)
    assert result.status == 0, result.err
    assert result.out.startswith(f"agent local added to {path} (try: local hello)\n")
    assert refserver.requests[-1].body["model"] == "athena"  # the new agent was asked, in the same run
    assert "local " in result.out and "on this machine" in result.out  # listed by agents
    assert path.read_text() == KEPT + (
        f'\n[agents.local]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{refserver.base_url}"\n'
        'model = "athena"\ndescription = "on this machine"\n'
    )  # every byte before it kept


def test_the_default_file_is_created_and_a_key_is_only_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AISH_CONFIG", raising=False)
    monkeypatch.delenv("T_ADD_KEY", raising=False)
    result = aish("agents", "add", "claude", "https://api.example.test/v1", "--codec", "anthropic-messages",
                  "--key-env", "T_ADD_KEY")  # fmt: skip
    path = tmp_path / "home" / "aish" / "config.toml"
    assert result.status == 0, result.err
    assert (
        result.out == f"agent claude added to {path}; its key is read from $T_ADD_KEY, which is not set here: "
        "keys set T_ADD_KEY stores one (try: claude hello)\n"
    )
    assert 'codec = "anthropic-messages"\n' in path.read_text() and 'api_key_env = "T_ADD_KEY"' in path.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["story", "http://127.0.0.1:9/v1"], "agents add: 'story' is already in {path} (change it there)"),
        (["bad name", "http://x/v1"], "{path}: agent 'bad name': names may hold letters, digits, '-' and '_' only"),
        (["history", "http://x/v1"], "agents add: 'history' is a command; choose another name"),
        (["chat", "http://x/v1"], "agents add: 'chat' is a command; choose another name"),
        (["x", "ftp://x"], "agents add: 'ftp://x': expected an http://, https://, ws:// or wss:// URL"),
        (
            ["x", "api.example.test/v1"],
            "agents add: 'api.example.test/v1': expected an http://, https://, ws:// or "
            "wss:// URL (did you mean 'https://api.example.test/v1'?)",
        ),
        (["x", "ws://x/y"], "agents add: a ws:// agent needs --codec (codecs: "),
        (["x", "http://x", "--codec", "nope"], "agents add: unknown codec 'nope' (codecs: "),
        (
            ["x", "http://x", "--codec", "anthropic"],
            "agents add: unknown codec 'anthropic', did you mean 'anthropic-messages'?",
        ),
        (
            ["x", "http://x", "--codec", "opneai-chat"],
            "agents add: unknown codec 'opneai-chat', did you mean 'openai-chat'?",
        ),
        (["x", "http://x", "-m"], "agents add: -m needs a value (usage: agents add NAME URL"),
        (["x", "http://x", "--temperature", "0"], "agents add: unknown option '--temperature' (usage: "),
        (["x"], "usage: agents add NAME URL [-m MODEL]"),
        (
            ["x", "http://x", "--key-env", "sk-typed-0123456789"],
            "agents add: --key-env takes the name of the variable that holds the key (--key-env OPENAI_API_KEY), "
            "not a key",
        ),
    ],
)
def test_bad_input_is_one_line_and_the_file_is_untouched(
    write_config: Callable[[str], Path], args: list[str], message: str
) -> None:
    before = KEPT + '\n[agents.story]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "http://127.0.0.1:9/v1"\n'
    path = write_config(before)
    result = aish("--config", str(path), "agents", "add", *args)
    assert result.status != 0 and result.out == ""
    assert result.err.startswith("aish: " + message.format(path=path)) and result.err.count("\n") == 1
    assert path.read_text() == before


def test_help_lists_options_codecs_and_examples_and_writes_nothing(write_config: Callable[[str], Path]) -> None:
    path = write_config(KEPT)
    for words in (["add", "--help"], ["add", "local", "http://x/v1", "-h"]):
        result = aish("--config", str(path), "agents", *words)
        assert result.status == 0 and result.err == "", result.err
        lines = result.out.splitlines()
        assert lines[0].startswith("usage: agents add NAME URL") and str(path) in lines[1]
        codecs = lines[lines.index("codecs:") + 1 : lines.index("examples:") - 1]
        assert [line.split()[0] for line in codecs] == sorted(line.split()[0] for line in codecs)
        assert {"openai-chat", "anthropic-messages", "text"} <= {line.split()[0] for line in codecs}
        assert "  anthropic-messages  Anthropic Messages API (POST {url}/messages)" in lines
    assert path.read_text() == KEPT
    removing = aish("--config", str(path), "agents", "remove", "--help")
    assert removing.status == 0 and removing.out.startswith("usage: agents remove NAME\n")


def test_an_anthropic_url_gets_the_anthropic_codec(write_config: Callable[[str], Path]) -> None:
    """What ``agents add claude https://api.anthropic.com/v1`` means; any other host stays openai-chat."""
    path = write_config(KEPT)
    for name, url in (("claude", "https://api.anthropic.com/v1"), ("near", "https://anthropic.com.example.test/v1")):
        assert aish("--config", str(path), "agents", "add", name, url).status == 0
    text = path.read_text()
    assert '[agents.claude]\ntransport = "sse"\ncodec = "anthropic-messages"\n' in text
    assert '[agents.near]\ntransport = "sse"\ncodec = "openai-chat"\n' in text


def test_an_endpoint_copied_whole_loses_the_path_the_codec_adds_and_answers(
    refserver: RefServer, write_config: Callable[[str], Path]
) -> None:
    """Found on a tour: ``agents add s http://host/v1/chat/completions`` (an API's docs give the
    endpoint) made an agent whose every request went to ``.../chat/completions/chat/completions``.
    The codec says which path it adds; the URL is written without it, and the reply says so. Without
    --codec, the codec whose path the URL ends with is chosen: a tour's ``.../v1/messages`` on
    llama.cpp's server went out as ``openai-chat`` to ``.../v1/messages/chat/completions``."""
    path = write_config(KEPT)
    base = refserver.base_url
    line = (
        f"agents add local {base}/chat/completions -m echo; local[-m echo] one; "
        f"agents add claude {base}/messages; claude[-m echo] two"
    )
    result = aish("--config", str(path), "-c", line)
    assert (result.status, result.err) == (0, ""), result.err
    assert result.out == (
        f"agent local added to {path}; its url is {base} (the openai-chat codec adds /chat/completions) "
        "(try: local hello)\n"
        "one\n"
        f"agent claude added to {path}; its url is {base} (the anthropic-messages codec adds /messages) "
        "(try: claude hello)\n"
        "two\n"
    )
    assert [r.path for r in refserver.requests if r.body] == ["/v1/chat/completions", "/v1/messages"]
    assert path.read_text().count(f'url = "{base}"\n') == 2
    assert '[agents.claude]\ntransport = "sse"\ncodec = "anthropic-messages"\n' in path.read_text()


def test_a_local_server_without_a_scheme_is_http(write_config: Callable[[str], Path]) -> None:
    """As curl reads ``localhost:8080``; only a local host or one with a port (a key never goes out in
    clear by a guess)."""
    path = write_config(KEPT)
    for name, typed in (("a", "localhost:11434/v1"), ("b", "127.0.0.1:8080"), ("c", "192.168.1.5:8080/v1")):
        result = aish("--config", str(path), "agents", "add", name, typed)
        assert result.status == 0 and f"; its url is http://{typed} (try: {name} hello)" in result.out, result
        assert f'url = "http://{typed}"' in path.read_text()
    both = aish("--config", str(path), "agents", "add", "d", "localhost:8080/v1/chat/completions")
    said = "; its url is http://localhost:8080/v1 (the openai-chat codec adds /chat/completions) (try: d hello)"
    assert said in both.out


def test_in_the_shell_an_agent_comes_and_goes_at_once_and_nothing_is_said_twice(
    refserver: RefServer, write_config: Callable[[str], Path]
) -> None:
    path = write_config(KEPT)
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "AISH_DEMO_URL": refserver.base_url}
    child = pexpect.spawn(sys.executable, ["-m", "aish", "--config", str(path)], env=env, encoding="utf-8",
                          timeout=20, dimensions=(40, 200))  # fmt: skip
    try:
        child.expect_exact("aish>")
        child.sendline(f"agents add local {refserver.base_url} -m hermes")
        child.expect_exact("(try: local hello)")
        child.expect_exact("aish>")
        shown = str(child.before)
        child.sendline("local hi")
        child.expect(r"Complete - [\d.]+s, \d+ tokens\]")
        shown += str(child.before)
        assert "read again" not in shown  # the watcher saw nothing new: aish wrote the file
        child.expect_exact("aish>")
        child.send("agents rem\t")  # Tab: the subcommand, then the file's agents
        child.expect_exact("ove")
        child.send("lo\t")  # Tab left a blank after "remove"
        child.expect_exact("cal")
        child.send("\r")
        child.expect_exact(f"agent local removed from {path}")
        child.expect_exact("aish>")
        child.sendline("local hi")
        child.expect_exact("unknown agent 'local'")
        child.expect_exact("aish>")
        assert "read again" not in str(child.before)
        child.sendline("agents add priv http://bob:pw-0123456789abc@127.0.0.1:9/v1")  # a password in its URL
        child.expect_exact("(try: priv hello)")
        child.expect_exact("aish>")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert refserver.requests[-1].body["model"] == "hermes"
    typed = (Path(os.environ["XDG_STATE_HOME"]) / "aish" / "input_history").read_text()
    assert "+agents add priv http://bob:***@127.0.0.1:9/v1\n" in typed  # the line brought a secret: not kept
    assert "pw-0123456789abc" not in typed


# ------------------------------------------------------------------ agents remove NAME
TEAM = '\n[agents.team]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "http://127.0.0.1:9/v1"\n'
TEAM += '\n[groups]\ncrew = ["team"]\n'


def test_remove_undoes_add_byte_for_byte_and_the_session_stops_using_it(
    refserver: RefServer, write_config: Callable[[str], Path]
) -> None:
    path = write_config(KEPT)
    line = f"agents add local {refserver.base_url}; agents remove local; local hi"
    result = aish("--config", str(path), "-c", line)
    assert result.out.splitlines()[1] == f"agent local removed from {path}"
    assert "unknown" in result.err and "'local'" in result.err  # the next line no longer knows it
    assert path.read_text() == KEPT


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "agents remove: no agent 'nope' in {path}\n"),
        (["athena"], "agents remove: no agent 'athena' in {path} (a plugin offers it: 'plugins' lists which;"),
        (["story", "extra"], "usage: agents remove NAME\n"),
        ([], "usage: agents remove NAME\n"),
    ],
)
def test_remove_refuses_in_one_line_and_leaves_the_file(
    write_config: Callable[[str], Path], args: list[str], message: str
) -> None:
    before = KEPT + TEAM
    path = write_config(before)
    result = aish("--config", str(path), "agents", "remove", *args)
    assert result.status != 0 and result.out == ""
    assert result.err.startswith("aish: " + message.format(path=path)) and result.err.count("\n") == 1
    assert path.read_text() == before


def test_remove_says_which_group_still_names_the_agent(write_config: Callable[[str], Path]) -> None:
    path = write_config(KEPT + TEAM)
    result = aish("--config", str(path), "agents", "remove", "team")
    assert (result.status, result.err) == (0, "")
    assert result.out == f"agent team removed from {path}; group crew still names it\n"
    assert path.read_text() == KEPT + '\n[groups]\ncrew = ["team"]\n'


def test_a_password_in_the_url_or_a_key_given_as_key_env_stays_out_of_the_run_history(
    write_config: Callable[[str], Path],
) -> None:
    """``agents add ...; athena hi`` is a run, recorded before the agent exists (its URL's password
    is no agent's secret yet), and ``--key-env sk-...`` is a key given by mistake: ``agents``
    declares both (``secret_words``), so the line is recorded with ``***``."""
    path = write_config(KEPT)
    lines = [
        "agents add priv http://bob:pw-0123456789abc@127.0.0.1:9/v1 -m m; athena[-m echo] one",
        "agents add other http://127.0.0.1:9/v1 --key-env sk-typed-0123456789; athena[-m echo] two",
    ]
    for line in lines:
        assert aish("--config", str(path), "-c", line).status in (0, 2)
    listed = aish("--config", str(path), "history").out
    assert "agents add priv http://bob:***@127.0.0.1:9/v1 -m m; athena[-m echo] one" in listed, listed
    assert "agents add other http://127.0.0.1:9/v1 --key-env ***; athena[-m echo] two" in listed, listed
    for root in (os.environ["XDG_STATE_HOME"], os.environ["XDG_DATA_HOME"]):
        for file in Path(root).rglob("*"):
            if file.is_file():
                data = file.read_bytes()
                assert b"pw-0123456789abc" not in data and b"sk-typed-0123456789" not in data, file
