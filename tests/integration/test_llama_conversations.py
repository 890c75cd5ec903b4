"""Conversations against the real llama.cpp server, through the recording proxy.

The second request of a conversation carries the first turn exactly as the
server streamed it: across two ``aish`` processes (``--continue``) and within
one shell session in a real terminal; for openai-chat and, on llama-server's
``/v1/messages``, anthropic-messages.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pexpect
import pytest
from recording_proxy import RecordingProxy
from terminal import dialogue
from test_llama import PROMPT, TIMEOUT, aish_command

if TYPE_CHECKING:
    from conftest import LlamaServer

pytestmark = pytest.mark.llama

SHELL_PROMPT = "aish>"


@pytest.fixture
def proxy(llama_server: LlamaServer) -> Iterator[RecordingProxy]:
    with RecordingProxy(llama_server.base_url) as p:
        yield p


@pytest.fixture
def env(aish_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """aish's environment with its own history store."""
    return {**aish_env, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state")}


def config(path: Path, url: str, codec: str = "openai-chat", max_tokens: int = 24) -> Path:
    path.write_text(
        f'[agents.teller]\ntransport = "sse"\ncodec = "{codec}"\nurl = "{url}"\nmodel = "stories260k"\n'
        f"options = {{ max_tokens = {max_tokens}, temperature = 0 }}\n",
        encoding="utf-8",
    )
    return path


def shell(cfg: Path, env: dict[str, str]) -> pexpect.spawn:
    """The shell in a pseudo-terminal 200 columns wide."""
    command = aish_command()
    return pexpect.spawn(
        command[0],
        [*command[1:], "--config", str(cfg)],
        env={**env, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"},
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(50, 200),
    )


def session(child: pexpect.spawn, *exchanges: tuple[str, ...]) -> None:
    """At the shell's first prompt, each line typed and what it must show, in order; then quit."""
    dialogue(child, (None, SHELL_PROMPT), *exchanges)


def aish(cfg: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*aish_command(), "--config", str(cfg), *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def chat(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in messages]


def test_the_second_request_carries_the_first_turn_across_processes(
    proxy: RecordingProxy, tmp_path: Path, env: dict[str, str]
) -> None:
    cfg = config(tmp_path / "aish.toml", proxy.base_url)
    aish(cfg, env, "teller", PROMPT)
    aish(cfg, env, "--continue", "teller", "The end.")
    aish(cfg, env, "--continue", "And then?")
    first, second, third = proxy.exchanges
    assert first.text.strip(), "the server answered nothing"
    assert chat(first.body["messages"]) == [("user", PROMPT)]
    assert chat(second.body["messages"]) == [("user", PROMPT), ("assistant", first.text), ("user", "The end.")]
    assert chat(third.body["messages"]) == [
        ("user", PROMPT),
        ("assistant", first.text),
        ("user", "The end."),
        ("assistant", second.text),
        ("user", "And then?"),
    ]


def test_several_turns_in_the_shell_in_a_real_terminal(
    proxy: RecordingProxy, tmp_path: Path, env: dict[str, str]
) -> None:
    child = shell(config(tmp_path / "aish.toml", proxy.base_url), env)
    try:
        child.expect_exact(SHELL_PROMPT)
        for line in (f"teller {PROMPT}", "teller The end.", "echo 'a dog' | teller", "new teller", "teller Hi"):
            child.sendline(line)
            child.expect(r"\[teller: [^]]* - [^]]*tokens\]|new conversation")
            child.expect_exact(SHELL_PROMPT)
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    one, two, three, four = proxy.exchanges
    assert chat(two.body["messages"]) == [("user", PROMPT), ("assistant", one.text), ("user", "The end.")]
    assert chat(three.body["messages"])[1:] == [  # after echo, a system message says where the stage stands
        ("user", PROMPT),
        ("assistant", one.text),
        ("user", "The end."),
        ("assistant", two.text),
        ("user", "a dog\n"),
    ]
    assert chat(four.body["messages"]) == [("user", "Hi")]  # after 'new teller'
    assert all(e.text.strip() for e in (one, two, three)), "the server answered nothing"


def test_anthropic_messages_carries_the_first_turn(proxy: RecordingProxy, tmp_path: Path, env: dict[str, str]) -> None:
    cfg = config(tmp_path / "aish.toml", proxy.base_url, codec="anthropic-messages")
    first_out = aish(cfg, env, "teller", PROMPT).stdout
    aish(cfg, env, "--continue", "teller", "The end.")
    first, second = proxy.exchanges
    answer = second.body["messages"][1]
    assert chat(first.body["messages"]) == [("user", PROMPT)]
    assert [m["role"] for m in second.body["messages"]] == ["user", "assistant", "user"]
    assert second.body["messages"][0]["content"] == PROMPT and second.body["messages"][2]["content"] == "The end."
    assert answer["content"].strip() and re.sub(r"\s+", " ", answer["content"].strip()) in re.sub(
        r"\s+", " ", first_out
    )


def test_a_conversation_outgrowing_the_context_goes_on_with_its_newest_turns(
    proxy: RecordingProxy, tmp_path: Path, env: dict[str, str]
) -> None:
    """llama-server refuses a request longer than its context (512 tokens here). It was an error after
    which every question failed; aish now asks again with the newer half of the turns (the refusal is
    not shown), the answer comes, and one line says how many turns went."""
    cfg = config(tmp_path / "aish.toml", proxy.base_url, max_tokens=200)
    run = [*aish_command(), "--config", str(cfg)]
    subprocess.run([*run, "teller", PROMPT], env=env, capture_output=True, timeout=TIMEOUT, check=True)
    for _ in range(12):
        done = subprocess.run(
            [*run, "--continue", "teller", "And then?"], env=env, capture_output=True, text=True, timeout=TIMEOUT
        )
        assert done.returncode == 0, done.stderr
        if done.stderr:
            break
    else:
        pytest.fail("twelve turns fitted the 512-token context")
    refused, asked = proxy.exchanges[-2:]
    assert not refused.text and asked.text.strip() and asked.text.strip() in done.stdout
    before, after = refused.body["messages"], asked.body["messages"]
    turns, kept = (len(before) - 1) // 2, (len(after) - 1) // 2
    assert kept == turns // 2 and after == before[len(before) - 1 - 2 * kept :]  # the newest turns, and the question
    assert done.stderr == (
        f"aish: teller: the model's context took only the {kept} newest of the conversation's {turns} earlier "
        "turns; later questions carry no more of it than that (/new in a chat, or 'new teller', starts afresh)\n"
    )
    fresh = subprocess.run([*run, "teller", "Hi"], env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert fresh.returncode == 0, fresh.stderr


def test_a_chat_that_outgrows_the_context_asks_with_no_more_turns_than_fitted(
    proxy: RecordingProxy, tmp_path: Path, env: dict[str, str]
) -> None:
    """In a chat in a real terminal: once the context refused the conversation, the next questions carry
    no more of it than fitted (no refused request each time)."""
    child = shell(config(tmp_path / "aish.toml", proxy.base_url, max_tokens=200), env)
    try:
        child.expect_exact(SHELL_PROMPT)
        child.sendline("teller")
        child.expect_exact("teller>")
        for _ in range(12):
            child.sendline("And then?")
            child.expect(r"\[teller: [^]]*tokens\]")
            if child.expect([r"the model's context took only the (\d+) newest", "teller>"]) == 0:
                break
        else:
            pytest.fail("twelve turns fitted the 512-token context")
        kept = int(child.match.group(1))
        child.expect_exact("teller>")
        asked = len(proxy.exchanges)
        child.sendline("Once more.")
        child.expect(r"\[teller: [^]]*tokens\]")
        child.expect_exact("teller>")
        child.sendcontrol("d")
        child.expect_exact(SHELL_PROMPT)
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert len(proxy.exchanges) == asked + 1  # asked once: not refused first
    refused = max(i for i, e in enumerate(proxy.exchanges) if not e.text)
    took, last = proxy.exchanges[refused + 1], proxy.exchanges[-1]
    assert (len(took.body["messages"]) - 1) // 2 == kept
    carried = [m["content"] for m in last.body["messages"][:-1]]
    within = sum(map(len, carried)) <= sum(len(m["content"]) for m in took.body["messages"][:-1])  # decision 87
    assert within or len(carried) == 2  # no more of the conversation than fitted, or its newest turn alone
    assert carried and last.text.strip()


def test_after_one_long_answer_the_question_goes_alone_and_the_chat_goes_on_with_the_turn_after_it(
    proxy: RecordingProxy, tmp_path: Path, env: dict[str, str]
) -> None:
    """One answer fills the 512-token context: the next question is refused with it and goes alone,
    and the question after that carries that (short) turn, not nothing (decision 78)."""
    long_answer = config(tmp_path / "long.toml", proxy.base_url, max_tokens=480)
    aish(long_answer, env, "teller", PROMPT)
    alone_said = "the model's context had no room for the earlier turn, so this question went without it;"
    session(
        shell(config(tmp_path / "short.toml", proxy.base_url, max_tokens=24), env),
        ("conversations resume teller", SHELL_PROMPT),  # the long turn, read from history
        ("teller And then?", alone_said, SHELL_PROMPT),
        ("teller The end.", SHELL_PROMPT),
    )
    first, refused, alone, last = proxy.exchanges
    assert len(first.text) > 1000 and not refused.text
    assert chat(refused.body["messages"]) == [("user", PROMPT), ("assistant", first.text), ("user", "And then?")]
    assert chat(alone.body["messages"]) == [("user", "And then?")]
    assert chat(last.body["messages"]) == [("user", "And then?"), ("assistant", alone.text), ("user", "The end.")]
