"""Conversations recorded in history and continued: ``aish --continue``, ``--cid``, ``conversations``,
``new``, in a real ``aish`` process and in a real terminal, against a real reference server."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import pexpect
import pytest

from aish import cells
from aish.testing import run_aish
from aish_refserver import RefServer

PROMPT = "aish>"


def bodies(server: RefServer) -> list[dict[str, Any]]:
    return [r.body for r in server.requests.snapshot() if r.method == "POST"]


def users(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "user"]


def aish(*args: str) -> str:
    result = run_aish(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def ids_listed(text: str) -> list[str]:
    return re.findall(r"^[ *] ([0-9a-f]{12}) ", text, re.MULTILINE)


@pytest.fixture
def recorded(demo_url: str, history_backend: str) -> str:
    """Demo agents on the test's reference server, runs recorded with each backend in turn."""
    return history_backend


def test_a_one_shot_run_sends_no_turn_but_can_be_continued(recorded: str, refserver: RefServer) -> None:
    aish("athena", "what is an owl")
    aish("-c", "athena and a heron")
    assert [users(b) for b in bodies(refserver)] == [["what is an owl"], ["and a heron"]]
    aish("--continue", "athena", "and a crane")
    assert users(bodies(refserver)[2]) == ["and a heron", "and a crane"]
    assert [m["role"] for m in bodies(refserver)[2]["messages"]] == ["user", "assistant", "user"]
    aish("--continue", "one more")  # no agent named: the last conversation's
    assert users(bodies(refserver)[3]) == ["and a heron", "and a crane", "one more"]
    aish("--continue", "apollo", "hello")  # apollo has no conversation yet: a fresh one
    assert users(bodies(refserver)[4]) == ["hello"]
    typo = run_aish("--continue", "athna", "what", "next")
    assert typo.returncode == 2
    assert typo.stderr.startswith("aish: --continue: 'athna' is not an agent, did you mean 'athena'? ")
    aish("--continue", "athna what next")  # quoted: text for the last conversation, as the hint says
    assert users(bodies(refserver)[5])[-1] == "athna what next"


def test_cid_continues_that_conversation_from_any_later_process(recorded: str, refserver: RefServer) -> None:
    aish("athena", "first")
    aish("athena", "second")
    listing = aish("conversations")
    first_id, second_id = ids_listed(listing)
    assert re.search(rf"^  {first_id}  .*athena\s+1 turn  first$", listing, re.MULTILINE), listing
    aish("--cid", first_id, "athena", "third")
    aish("--cid", first_id, "fourth")
    assert users(bodies(refserver)[3]) == ["first", "third", "fourth"]
    assert f"conversation {first_id}" in aish("history", "show", "1")
    shown = aish("conversations", "show", first_id)
    assert shown.startswith("> first\nathena: ") and "\n> third\n" in shown and "\n> fourth\n" in shown
    assert aish("-c", "conversations 1").count("\n") == 1  # the line form, as in scripts
    wrong = run_aish("--cid", first_id, "apollo", "x")
    assert wrong.returncode == 2
    assert wrong.stderr == f"aish: --cid {first_id}: that conversation is with athena, not apollo\n"
    missing = run_aish("--cid", "0123456789ab", "athena", "x")
    assert missing.stderr == "aish: no conversation '0123456789ab' in history (see 'conversations')\n"
    both = run_aish("--continue", "--cid", second_id, "x")
    assert both.stderr == "aish: --continue and --cid: choose one\n"
    resume = run_aish("-c", f"conversations resume {first_id}").stderr
    assert resume.endswith(f"(on the command line: aish --cid {first_id} ...)\n")
    resume = run_aish("-c", "conversations resume athena").stderr  # what works for an agent's name
    assert resume.endswith("(on the command line: aish --continue athena ...)\n")
    assert len(bodies(refserver)) == 4  # none of the refused lines reached the server
    aish("--cid", first_id[:5], "fifth")  # the start of an id, as git takes a commit's
    assert users(bodies(refserver)[4]) == ["first", "third", "fourth", "fifth"]
    assert "\n> fifth\n" in aish("conversations", "show", first_id[:4])
    short = run_aish("--cid", first_id[:3], "x")
    assert short.stderr == (
        f"aish: no conversation '{first_id[:3]}' in history; give at least 4 characters of an id "
        "(see 'conversations')\n"
    )
    assert "\n> fifth\n" in aish("conversations", "show", first_id[:6].upper())


def test_show_alone_shows_the_newest_conversation_and_an_agent_its_last(recorded: str, refserver: RefServer) -> None:
    empty = run_aish("conversations", "show")
    assert (empty.returncode, empty.stderr) == (
        2,
        "aish: conversations show: no recorded conversation yet (a line that is just AGENT ... starts one)\n",
    )
    aish("athena", "owls")
    aish("--continue", "athena", "herons")
    aish("apollo", "rain")
    athena_id, apollo_id = ids_listed(aish("conversations"))
    newest = aish("conversations", "show")
    assert newest.startswith(f"conversation {apollo_id} with apollo (1 turn)\n\n> rain\napollo: "), newest
    athena = aish("conversations", "show", "athena")
    assert athena.startswith(f"conversation {athena_id} with athena (2 turns)\n\n> owls\n"), athena
    assert "\n> herons\n" in athena
    assert aish("conversations", "show", athena_id).startswith("> owls\n")  # an id: the turns alone
    none = run_aish("conversations", "show", "hermes")
    assert none.stderr == "aish: hermes: no recorded conversation yet (see 'conversations')\n"
    two = run_aish("conversations", "show", athena_id, apollo_id)
    assert two.stderr == "aish: conversations show: give one conversation id or agent (see 'conversations')\n"


def test_continuing_needs_history(demo_url: str, refserver: RefServer, write_config: Any) -> None:
    env = {"AISH_CONFIG": str(write_config('[settings]\nhistory = "off"\n'))}
    result = run_aish("--continue", "athena", "hi", env=env)
    assert result.returncode == 2 and result.stderr.startswith("aish: history is off (to record runs, set")
    assert bodies(refserver) == []


# ------------------------------------------------------------- the shell
@pytest.fixture
def shell(recorded: str, refserver: RefServer) -> Iterator[pexpect.spawn]:
    yield from spawn()


def spawn(*args: str) -> Iterator[pexpect.spawn]:
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(
        sys.executable, ["-m", "aish", *args], env=env, encoding="utf-8", timeout=20, dimensions=(50, 200)
    )
    child.expect_exact(PROMPT)
    try:
        yield child
    finally:
        child.close(force=True)


def line(child: pexpect.spawn, text: str, until: str) -> str:
    """Type ``text``, wait for ``until`` (a regex) then the next prompt; return what was shown up to ``until``."""
    child.sendline(text)
    child.expect(until)
    shown = str(child.before) + str(child.after)
    child.expect_exact(PROMPT)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)


def test_several_turns_in_the_shell_then_new_and_resume(shell: pexpect.spawn, refserver: RefServer) -> None:
    line(shell, "athena what is an owl", r"Complete - ")
    line(shell, "athena and a heron?", r"Complete - ")
    line(shell, "echo notes | athena summarize", r"Complete - ")
    line(shell, "apollo hello", r"Complete - ")
    sent = bodies(refserver)
    assert users(sent[1]) == ["what is an owl", "and a heron?"]
    assert users(sent[2]) == ["what is an owl", "and a heron?", "notes\n\nsummarize"]
    assert users(sent[3]) == ["hello"]  # apollo's own conversation
    roles = [m["role"] for m in sent[2]["messages"]]  # after echo, athena is stage 2 of 2: a system message
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert all(m["content"] for m in sent[2]["messages"])
    shown = line(shell, "new athena", r"athena: new conversation \(set aside: [0-9a-f]{12} \(athena, 3 turns\)")
    cid = re.findall(r"set aside: ([0-9a-f]{12})", shown)[0]
    line(shell, "athena fresh start", r"Complete - ")
    assert users(bodies(refserver)[4]) == ["fresh start"]
    listing = line(shell, "conversations", r"\* [0-9a-f]{12}  .* athena\s+1 turn  fresh start")
    assert listing.count("athena ") >= 2
    assert re.search(rf"  {cid}  .* athena\s+3 turns  what is an owl", listing), listing
    shell.send(f"conversations show {cid[:5]}\t")  # Tab completes a recorded id
    shell.expect_exact(cid[5:])
    shell.send("\x15")  # Ctrl-U: the line is given up
    line(shell, f"conversations resume {cid}", f"athena: resumed conversation {cid} \\(3 turns\\)")
    line(shell, "athena back again", r"Complete - ")
    assert users(bodies(refserver)[5]) == ["what is an owl", "and a heron?", "notes\n\nsummarize", "back again"]
    line(shell, "new", "every agent: new conversation")
    line(shell, "apollo hi", r"Complete - ")
    assert users(bodies(refserver)[6]) == ["hi"]
    line(shell, "new zeus", "unknown agent 'zeus'")


def test_the_shell_started_with_continue_picks_up_each_agents_last_conversation(
    recorded: str, refserver: RefServer
) -> None:
    aish("athena", "remember owls")
    for child in spawn("--continue"):
        assert "Continuing each agent's last conversation ('conversations' lists them" in str(child.before)
        line(child, "athena what did I ask?", r"Complete - ")
        line(child, "apollo hi", r"Complete - ")
    assert users(bodies(refserver)[1]) == ["remember owls", "what did I ask?"]
    assert users(bodies(refserver)[2]) == ["hi"]
    (cid,) = ids_listed(aish("conversations"))[-1:]  # the most recent: apollo's
    for child in spawn("--cid", cid):
        assert f"Continuing conversation {cid} with apollo (1 turn) ('new' starts afresh)." in str(child.before)


def test_chat_mode_lines_continue_the_agents_conversation(shell: pexpect.spawn, refserver: RefServer) -> None:
    line(shell, "athena what is an owl", r"Complete - ")
    shell.sendline("chat athena")
    shell.expect("Chatting with athena")
    shell.expect_exact("athena>")
    for text in ("is it a bird? (yes & no)", "/new", "fresh & literal"):
        shell.sendline(text)
        shell.expect(r"Complete - |a fresh conversation with athena")
        shell.expect_exact("athena>")
    sent = bodies(refserver)
    assert users(sent[1]) == ["what is an owl", "is it a bird? (yes & no)"]  # the shell line's turn, then the chat's
    assert users(sent[2]) == ["fresh & literal"]
    shell.sendline("/exit")
    shell.expect_exact(PROMPT)
    line(shell, "athena and then?", r"Complete - ")
    assert users(bodies(refserver)[3]) == ["fresh & literal", "and then?"]  # one conversation, chat or not


def test_an_answer_stopped_with_ctrl_c_is_a_turn_with_what_was_shown(
    shell: pexpect.spawn, refserver: RefServer
) -> None:
    refserver.pace = 0.05
    shell.sendline("athena tell me about owls")
    shell.expect("Athena \\(offline demo\\): On the subject")
    shell.sendcontrol("c")
    shell.expect_exact(PROMPT)
    refserver.pace = 0.0
    line(shell, "athena go on", r"Complete - ")
    messages = bodies(refserver)[1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    partial = messages[1]["content"]
    assert partial.startswith("Athena (offline demo): On the subject")
    # The shell's writer applies a run's end within its 100 ms linger; another process may read before.
    deadline = time.monotonic() + 10
    while "cancelled" not in (shown := aish("history", "show", "1")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "cancelled" in shown
    turns = aish("conversations", "show", "athena").split("\n\n")  # the heading, then a block per turn
    assert turns[1].endswith("\n[partial answer: cancelled]") and "[partial" not in turns[2], turns


def test_retry_in_a_chat_replaces_the_turn_live_and_when_read_back_from_history(
    shell: pexpect.spawn, refserver: RefServer
) -> None:
    """/retry after a partial answer, then after /model: the next message carries the last answer
    only, history keeps every run, and --continue reads back the conversation the chat had."""

    def say(text: str, until: str) -> None:
        shell.sendline(text)
        shell.expect(until)
        shell.expect_exact("athena>")

    say("athena", "Chatting with athena")
    say("/retry", "aish: /retry: nothing to retry yet")
    refserver.pace = 0.05
    shell.sendline("what is an owl")
    shell.expect("Athena \\(offline demo\\): On the subject")
    shell.sendcontrol("c")
    shell.expect_exact("athena>")
    refserver.pace = 0.0
    say("/retry", r"Complete - ")
    say("/model apollo", "model = apollo")
    say("/retry", r"Complete - ")
    say("and a heron?", r"Complete - ")
    sent = bodies(refserver)
    assert [b["model"] for b in sent] == ["athena", "athena", "apollo", "apollo"]
    assert [users(b) for b in sent[1:3]] == [["what is an owl"], ["what is an owl"]]  # never the partial
    messages = sent[3]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    answer = messages[1]["content"]
    assert answer.startswith("Apollo (offline demo)")
    shell.sendline("/exit")
    shell.expect_exact(PROMPT)
    shell.sendline("quit")
    shell.expect(pexpect.EOF)  # every run written
    listing = aish("history")
    assert listing.count("what is an owl\n") == 3 and "cancelled" in listing  # history is a log
    first, second, third = [int(line.split()[0]) for line in listing.splitlines() if "what is an owl" in line]
    assert f"retry (replaces run {first}'s answer)" in aish("history", "show", str(second))
    assert f"retry (replaces run {second}'s answer)" in aish("history", "show", str(third))
    (cid,) = ids_listed(aish("conversations"))
    assert re.search(rf"{cid}  .* athena\s+2 turns  what is an owl", aish("conversations"))
    aish("--continue", "athena", "and a crane?")
    messages = bodies(refserver)[4]["messages"]
    assert [m["content"] for m in messages[:2]] == ["what is an owl", answer]
    assert users(bodies(refserver)[4]) == ["what is an owl", "and a heron?", "and a crane?"]


def test_an_id_start_that_two_conversations_share_is_refused(
    demo_url: str, history_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random ids seldom share four characters: the two ids are given, the rest is real."""
    from aish import conversation_commands
    from aish.app import build_app
    from aish.errors import UsageError
    from aish.history import conversations as recorded

    monkeypatch.setattr(recorded, "starting_with", lambda backend, prefix: ["8d4e00000001", "8d4e00000002"])
    with pytest.raises(UsageError, match=r"conversation '8d4e' is ambiguous: it starts 8d4e00000001, 8d4e00000002$"):
        conversation_commands._find(build_app(), "8d4e")


def test_continue_with_an_agent_on_a_terminal_says_which_conversation_the_chat_goes_on_with(
    recorded: str, refserver: RefServer
) -> None:
    aish("athena", "remember owls")
    (cid,) = ids_listed(aish("conversations"))
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    for agent, said in [
        ("athena", f"Continuing conversation {cid} with athena (1 turn; /new starts afresh)."),
        ("hermes", "No recorded conversation with hermes to continue: this one starts afresh."),
    ]:
        argv = ["-m", "aish", "--continue", agent]
        child = pexpect.spawn(sys.executable, argv, env=env, encoding="utf-8", timeout=20)
        try:
            child.expect_exact(said)
            child.expect_exact(f"{agent}>")
        finally:
            child.close(force=True)


def test_a_count_of_zero_is_refused_not_taken_for_an_empty_store(recorded: str) -> None:
    """Found by a tour: ``conversations 0`` (and ``history 0``) said nothing was recorded yet."""
    aish("athena", "first")
    zero = run_aish("conversations", "0")
    assert (zero.returncode, zero.stdout) == (2, "")
    assert zero.stderr == "aish: conversations 0: give a count of 1 or more\n"
    none = run_aish("history", "0")
    assert (none.returncode, none.stdout, none.stderr) == (2, "", "aish: history 0: give a count of 1 or more\n")
    assert len(ids_listed(aish("conversations", "1"))) == 1


def test_the_listing_fits_the_terminal(recorded: str) -> None:
    """Found by a tour at 80 columns: each conversation's first prompt, cut at 60 characters,
    ran past the edge (and twice as far in Japanese) and the terminal broke the row."""
    from terminal import Tmux

    long = "please summarise the following long paragraph about owls and their habitats in northern Europe"
    aish("athena", long)
    aish("athena", "日本語のテキストです。これは長い行で、幅の広い文字が正しい列で折り返されるかを確かめます。")
    keep = ("PATH", "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "AISH_CONFIG")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(LANG="C.UTF-8", TERM="xterm")
    with Tmux([sys.executable, "-m", "aish", "conversations"], env, width=80, linger=10) as term:
        lines = term.wait_until(lambda rows: len(rows) >= 2, "the listing")
    assert len(lines) == 2, "\n".join(lines)
    assert lines[0].endswith("1 turn  please summarise t...")  # to the 79th column
    assert lines[1].endswith("1 turn  日本語のテキストで...")
    assert aish("conversations").splitlines()[0].endswith(long[:57] + "...")  # a pipe: as before
    with Tmux([sys.executable, "-m", "aish", "conversations"], env, width=60, linger=10) as term:
        lines = term.wait_until(lambda rows: len(rows) >= 4, "the listing")
    assert all(cells(line) < 60 for line in lines), lines  # no room beside the figures: a row of its own
    assert lines[0].endswith("1 turn") and lines[1] == f"    {long[:52]}..."


def test_list_is_a_synonym_as_in_llm_logs_list(recorded: str) -> None:
    """A tour typed ``conversations list`` (as ``llm logs list``): 'unknown subcommand'."""
    aish("athena", "first")
    aish("athena", "second")
    assert aish("conversations", "list") == aish("conversations")
    assert aish("-c", "conversations list 1") == aish("conversations", "1")
    assert aish("history", "list") == aish("history")
    assert aish("-c", "history list 1") == aish("history", "1")
    bad = run_aish("conversations", "list", "x")
    expected = "aish: conversations list: 'x' is not a count (see 'conversations help')\n"
    assert (bad.returncode, bad.stderr) == (2, expected)
