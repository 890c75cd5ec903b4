"""The shell as a person uses it, in a real terminal (a pty driven by pexpect).

Chat mode, input history across restarts, bracketed paste, Tab, help and the
session's settings. Every test starts aish as a process on a pty, against the
real reference server (``refserver``), with its own XDG state directory.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from aish_refserver import RefServer

PROMPT = "aish>"
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
UP, CTRL_D, CTRL_R = "\x1b[A", "\x04", "\x12"


def spawn(refserver: RefServer, cwd: Path | None = None, args: tuple[str, ...] = ()) -> pexpect.spawn:
    env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(
        sys.executable, ["-m", "aish", *args], env=env, encoding="utf-8", timeout=20, dimensions=(50, 200), cwd=cwd
    )
    child.expect_exact(PROMPT)
    return child


@pytest.fixture
def shell(refserver: RefServer) -> Iterator[pexpect.spawn]:
    child = spawn(refserver)
    try:
        yield child
    finally:
        child.close(force=True)


def sent(refserver: RefServer) -> list[str]:
    """The last user message of every request the server received, in order."""
    return [r.body["messages"][-1]["content"] for r in refserver.requests if r.body is not None]


def quit_shell(child: pexpect.spawn) -> None:
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()


# ------------------------------------------------------------------ chat mode


def test_an_agent_alone_opens_a_chat_in_which_lines_are_literal(shell: pexpect.spawn, refserver: RefServer) -> None:
    shell.sendline("athena")
    shell.expect_exact("Chatting with athena")
    shell.expect_exact("athena>")
    literal = "what's a monad? (briefly) compare a & b; is 3 > 2 | x"
    shell.sendline(literal)
    shell.expect(r"\[\w+: Complete - ")
    shell.expect_exact("athena>")
    shell.sendline("/exit")
    shell.expect_exact(PROMPT)
    assert sent(refserver) == [literal]
    assert not list(Path.cwd().glob("2*")) and not Path("x").exists()  # nothing was redirected


def test_chat_keeps_going_after_ctrl_c_and_ctrl_d_returns_to_aish(shell: pexpect.spawn, refserver: RefServer) -> None:
    refserver.pace = 0.1
    shell.sendline("chat hermes")
    shell.expect_exact("hermes>")
    shell.sendline("tell me everything")
    shell.expect_exact("Hermes")
    shell.sendintr()
    shell.expect_exact("interrupted (partial answer kept)")
    shell.expect_exact("hermes>")  # still chatting
    refserver.pace = 0.0
    shell.sendline("and now?")
    shell.expect(r"\[\w+: Complete - ")
    shell.expect_exact("hermes>")
    shell.send(CTRL_D)
    shell.expect_exact(PROMPT)
    shell.sendline("echo back in aish")
    shell.expect_exact("back in aish")
    assert sent(refserver) == ["tell me everything", "and now?"]


def test_a_mistyped_chat_command_is_not_sent(shell: pexpect.spawn, refserver: RefServer) -> None:
    """A '/word' alone, or one close to a command, is refused (sent, it costs a request); '//' sends it."""
    shell.sendline("athena")
    shell.expect_exact("athena>")
    shell.sendline("/quti")
    shell.expect_exact("aish: unknown chat command '/quti', did you mean '/quit'?")
    shell.expect_exact("athena>")
    shell.sendline("/usr holds programs")
    shell.expect(r"\[\w+: Complete - ")
    shell.sendline("//quti")
    shell.expect(r"\[\w+: Complete - ")
    shell.expect_exact("athena>")
    assert sent(refserver) == ["/usr holds programs", "/quti"]


def test_a_pasted_block_in_chat_is_one_message(shell: pexpect.spawn, refserver: RefServer) -> None:
    shell.sendline("athena")
    shell.expect_exact("athena>")
    shell.send(f"{PASTE_START}first line\r\nsecond | line\r\nthird{PASTE_END}")
    shell.expect_exact("third")
    assert sent(refserver) == []  # inserted for review, not sent
    shell.send("\r")
    shell.expect(r"\[\w+: Complete - ")
    shell.expect_exact("athena>")
    assert sent(refserver) == ["first line\nsecond | line\nthird"]


def test_alt_enter_after_an_agents_words_goes_on_with_its_text(shell: pexpect.spawn, refserver: RefServer) -> None:
    """Found on a tour: ``athena summarize:``, Alt-Enter, ``second line`` was two commands, and the
    second an unknown agent. The words are now one quoted text, open over the new line."""
    shell.send("athena explain this:\x1b\r")  # Alt-Enter: Esc, then Enter
    shell.expect_exact('athena "explain this:')
    shell.send("it's $5 & more\x1b\rthird")
    shell.expect_exact("third")
    assert sent(refserver) == []  # nothing runs before Enter
    shell.send("\r")
    shell.expect(r"\[\w+: Complete - ")
    shell.expect_exact(PROMPT)
    assert sent(refserver) == ["explain this:\nit's $5 & more\nthird"]
    shell.send("echo one\x1b\recho two\r")  # a program's words: the new line is the script's
    shell.expect(r"one\r\ntwo\r\n")
    shell.expect_exact(PROMPT)


def test_chat_with_an_unknown_agent_suggests_one(shell: pexpect.spawn) -> None:
    shell.sendline("chat athna")
    shell.expect_exact("aish: unknown agent 'athna', did you mean 'athena'?")
    shell.expect_exact(PROMPT)
    shell.sendline("athna hi")
    shell.expect_exact("did you mean 'athena'?")
    shell.expect_exact(PROMPT)


# ------------------------------------------------------- paste and input history


def test_a_pasted_block_is_one_edit_run_only_on_enter(shell: pexpect.spawn) -> None:
    shell.send(f"{PASTE_START}echo one\necho two\necho three{PASTE_END}")
    shell.expect_exact("echo three")
    with pytest.raises(pexpect.TIMEOUT):
        shell.expect_exact("one\r\n", timeout=0.5)  # nothing ran yet
    shell.send("\r")
    shell.expect(r"one\r\ntwo\r\nthree\r\n")
    shell.expect_exact(PROMPT)


def test_a_pasted_block_loses_its_final_line_end(shell: pexpect.spawn) -> None:
    shell.send(f"{PASTE_START}echo one\necho two\n\n{PASTE_END}")
    shell.expect_exact("echo two")
    shell.send("\r")
    shell.expect(r"one\r\ntwo\r\n")
    shell.expect_exact(PROMPT)
    shell.send("\x1b[A")  # Up: the block comes back as it ran, two lines
    shell.expect_exact("echo two")
    with pytest.raises(pexpect.TIMEOUT):
        shell.expect_exact("....>", timeout=0.5)


def test_typed_lines_come_back_after_a_restart(refserver: RefServer) -> None:
    child = spawn(refserver)
    child.sendline("athena what is a monad")
    child.expect(r"\[\w+: Complete - ")
    child.expect_exact(PROMPT)
    child.sendline('echo "two')
    child.expect_exact("....>")
    child.sendline('lines" | cat')
    child.expect_exact("lines")
    child.expect_exact(PROMPT)
    quit_shell(child)

    child = spawn(refserver)
    child.send(UP + UP)  # quit, then the two-line command as one entry
    child.expect_exact('lines" | cat')
    child.send("\r")
    child.expect(r"two\r\nlines\r\n")
    child.expect_exact(PROMPT)
    child.send(CTRL_R + "mona")
    child.expect_exact("`mona': athena what is a ")
    child.send("\r")  # runs the line found, as in bash
    child.expect(r"\[\w+: Complete - ")
    child.expect_exact(PROMPT)
    quit_shell(child)
    assert sent(refserver) == ["what is a monad", "what is a monad"]

    path = Path(os.environ["XDG_STATE_HOME"]) / "aish" / "input_history"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_line_typed_with_a_blank_first_is_kept_out_of_both_histories(refserver: RefServer) -> None:
    """bash's ignorespace, for the line and for its run: nothing of it is written anywhere."""
    child = spawn(refserver)
    child.sendline(" athena my pin is 4321")
    child.expect(r"\[\w+: Complete - ")
    child.expect_exact(PROMPT)
    child.sendline("athena kept")
    child.expect(r"\[\w+: Complete - ")
    child.expect_exact(PROMPT)
    child.sendline("chat hermes")  # in a chat too
    child.expect_exact("hermes>")
    child.sendline(" my code is 4321")
    child.expect(r"\[\w+: Complete - ")
    child.expect_exact("hermes>")
    child.sendline("/exit")
    child.expect_exact(PROMPT)
    child.sendline("history")
    child.expect(r"1  \S+ \S+\s+complete\s+athena kept\r\n")
    child.expect_exact(PROMPT)
    quit_shell(child)
    assert sent(refserver) == ["my pin is 4321", "kept", " my code is 4321"]
    stored = [p for p in Path(os.environ["XDG_DATA_HOME"]).rglob("*") if p.is_file()]
    stored += [p for p in Path(os.environ["XDG_STATE_HOME"]).rglob("*") if p.is_file()]
    assert stored and not [p for p in stored if b"4321" in p.read_bytes()]


def test_no_history_starts_the_shell_with_history_off(refserver: RefServer) -> None:
    child = spawn(refserver, args=("--no-history",))
    child.sendline("set")
    child.expect_exact("history = off")
    child.sendline("athena not kept")
    child.expect(r"\[\w+: Complete - ")
    child.sendline("set history on")  # as after `set history off`: the session may change its mind
    child.expect_exact("history = on")
    child.sendline("athena kept")
    child.expect(r"\[\w+: Complete - ")
    child.sendline("history")
    child.expect(r"1  \S+ \S+\s+complete\s+athena kept")
    quit_shell(child)


def test_chat_messages_come_back_in_chats_only(refserver: RefServer) -> None:
    """Found by a tour: a chat message came back with Up at ``aish>``, where Enter ran it as a
    line: 'who are you really' ran who(1), 'make it shorter' would run make. Up and Ctrl-R offer
    a chat's messages in chats and aish lines at ``aish>``, across restarts too."""
    child = spawn(refserver)
    child.sendline("chat athena -m echo")
    child.expect_exact("athena>")
    child.sendline("who are you really")
    child.expect(r"\[\w+: Complete - ")
    child.expect_exact("athena>")
    child.send(CTRL_D)
    child.expect_exact(PROMPT)
    child.send(UP)  # the line that opened the chat, not the message
    child.expect_exact("chat athena -m echo")
    child.send("\x15")  # Ctrl-U
    quit_shell(child)

    child = spawn(refserver)
    child.sendline("chat athena -m echo")
    child.expect_exact("athena>")
    child.send(UP)  # in a chat: the chat's messages, from the session before
    child.expect_exact("who are you really")
    child.send("\r")
    child.expect(r"\[\w+: Complete - ")
    child.expect_exact("athena>")
    child.sendline("/exit")
    child.expect_exact(PROMPT)
    quit_shell(child)
    assert sent(refserver) == ["who are you really", "who are you really"]


# ------------------------------------------------------------------ completion


def test_tab_completes_agents_commands_files_and_plugins(refserver: RefServer, tmp_path: Path) -> None:
    (tmp_path / "notes-for-tab.md").write_text("some notes\n", encoding="utf-8")
    child = spawn(refserver, cwd=tmp_path)
    try:
        child.send("cat notes-f\t")  # a file after cat
        child.expect_exact("or-tab.md")
        child.send("| herm\t")  # an agent where a command goes (Tab left a blank after the file)
        child.expect_exact("es")
        child.send("\r")
        child.expect(r"\[\w+: Complete - ")
        child.expect_exact(PROMPT)
        child.send("hist\t")  # a shell command
        child.expect_exact("ory")
        child.send("\r")
        child.expect(r"1  \S+ \S+  complete     cat notes-for-tab.md \| hermes")
        child.expect_exact(PROMPT)
        child.send("plugins disable dem\t")  # a plugin name
        child.expect_exact("o")
        child.send("\r")
        child.expect_exact("plugin demo disabled")
        child.expect_exact(PROMPT)
        child.send("echo x > notes-f\t")  # a file after >
        child.expect_exact("or-tab.md")
        child.send("\r")
        (tmp_path / "sub-dir-for-tab").mkdir()
        (tmp_path / "sub-dir-for-tab" / "inner.md").write_text("inner\n", encoding="utf-8")
        child.send("cat sub-dir-f\t")  # a directory ends with its /: Tab goes on into it
        child.expect_exact("or-tab/")
        child.send("in\t")
        child.expect_exact("ner.md")
        child.send("\r")
        child.expect_exact("inner\r\n")
        child.sendline("echo done")
        child.expect_exact("done\r\n")
        child.send("!ls notes-f\t")  # a program's words are files
        child.expect_exact("or-tab.md")
        child.send("\r")
        child.expect_exact(PROMPT)
        child.send("set renderer mark\t")  # a setting's values (the runner's: it was given none)
        child.expect_exact("down")
        child.send("\r")
        child.expect_exact(PROMPT)
        child.sendline("set")
        child.expect(r"renderer\s+markdown")
    finally:
        child.close(force=True)
    assert sent(refserver) == ["some notes\n"]
    assert (tmp_path / "notes-for-tab.md").read_text(encoding="utf-8") == "x\n"


def test_keys_sent_with_a_tab_find_its_completion_in_place(shell: pexpect.spawn, refserver: RefServer) -> None:
    """Found on a tour: ``ath<Tab>said hi<Enter>`` read at once (a fast typist, keys typed during an
    answer, a tool) ran ``athsaid hi``: prompt_toolkit completed in a background task, which the keys
    read with the Tab did not wait for. The shell's Tab completes in its handler."""
    shell.send("ath\tsaid hi\r")
    shell.expect(r"\[athena: Complete - ")
    shell.expect_exact(PROMPT)
    shell.send("hist\t\r")
    shell.expect(r"1  \S+ \S+  complete     athena said hi")
    shell.expect_exact(PROMPT)
    shell.send("a\t")  # several: the menu, as before
    shell.expect_exact("agents")
    shell.expect_exact("apollo")
    assert sent(refserver) == ["said hi"]


# ------------------------------------------------------------- help and set


def test_help_explains_the_language_and_the_agents(shell: pexpect.spawn) -> None:
    shell.sendline("help")
    shell.expect_exact("passes each answer")
    shell.expect(r"athena\s+offline demo: knowledge and wisdom")
    shell.expect_exact(PROMPT)
    shell.sendline("help athena")
    shell.expect(r"transport\s+sse")
    shell.expect(r"codec\s+openai-chat")
    shell.expect(r"model\s+athena")
    shell.expect_exact(PROMPT)
    shell.sendline("help hermse")
    shell.expect_exact("did you mean 'hermes'?")
    shell.expect_exact(PROMPT)


def test_cmd2_commands_that_ignore_aish_lines_are_gone(shell: pexpect.spawn, refserver: RefServer) -> None:
    for line in ("alias create ask athena", "macro create m echo", "shortcuts", "run_script x"):
        shell.sendline(line)
        shell.expect_exact(f"unknown agent '{line.split()[0]}'")
        shell.expect_exact(PROMPT)
    assert sent(refserver) == []


def test_set_changes_the_sessions_settings(shell: pexpect.spawn) -> None:
    shell.sendline("set")
    shell.expect_exact("renderer = default")
    shell.expect_exact("stats = off")
    shell.expect_exact(PROMPT)
    shell.sendline("set stats on")
    shell.expect_exact("stats = on")
    shell.sendline("echo hi | athena")
    shell.expect(r"\[stats\] athena: first token")
    shell.expect_exact(PROMPT)
    shell.sendline("set renderer nosuch")
    shell.expect_exact("aish: unknown renderer 'nosuch' (known: default, jsonl, markdown, plain)")  # what Tab offers
    shell.expect_exact(PROMPT)
    shell.sendline("set history maybe")
    shell.expect_exact("aish: set history: expected on or off, got 'maybe'")
    shell.expect_exact(PROMPT)


def test_chat_remembers_and_new_starts_over(shell: pexpect.spawn, refserver: RefServer) -> None:
    shell.sendline("athena")
    shell.expect_exact("athena>")
    for line in ("my name is Ada", "what is my name?"):
        shell.sendline(line)
        shell.expect(r"\[\w+: Complete - ")
        shell.expect_exact("athena>")
    shell.sendline("/new")
    shell.expect_exact("a fresh conversation with athena")
    shell.sendline("who am I?")
    shell.expect(r"\[\w+: Complete - ")
    shell.expect_exact("athena>")
    users = [[m["content"] for m in r.body["messages"] if m["role"] == "user"] for r in refserver.requests if r.body]
    assert users == [["my name is Ada"], ["my name is Ada", "what is my name?"], ["who am I?"]]


def test_chat_takes_per_call_options(shell: pexpect.spawn, refserver: RefServer) -> None:
    shell.sendline("chat athena -m echo -o temperature 0.2")
    shell.expect_exact("athena>")
    shell.sendline("/system be brief")
    shell.expect_exact("system = 'be brief'")
    shell.sendline("/option max_tokens 7")
    shell.expect_exact("max_tokens = 7")
    shell.sendline("/option max_tokens 9")  # changed again: the recorded line says only what was sent
    shell.expect_exact("max_tokens = 9")
    shell.sendline("/option seed")
    shell.expect_exact("aish: /option seed: no such option in this chat (/options lists them)")
    shell.sendline("/option top_p=0.5")
    shell.expect_exact("top_p = 0.5")
    shell.sendline("/model other")
    shell.expect_exact("model = other")
    shell.sendline("/model echo")
    shell.sendline("/option temperature")  # dropped: the agent's own again
    shell.expect_exact("model = echo\r\nsystem = 'be brief'\r\nmax_tokens = 9\r\ntop_p = 0.5\r\n")
    shell.sendline("hello there")
    shell.expect(r"\[\w+: [\w ]+ - ")
    shell.expect_exact("athena>")
    shell.send(CTRL_D)
    shell.expect_exact(PROMPT)
    shell.sendline("history")
    shell.expect_exact("athena[-s 'be brief' -o max_tokens 9 -o top_p=0.5 -m echo] hello there")
    body = [r.body for r in refserver.requests if r.body][-1]
    assert body["model"] == "echo" and "temperature" not in body and body["max_tokens"] == 9
    assert body["top_p"] == 0.5
    assert body["messages"][0] == {"role": "system", "content": "be brief"}


def test_an_agent_alone_with_its_options_opens_a_chat_with_them(shell: pexpect.spawn, refserver: RefServer) -> None:
    """Found by a tour: ``athena[-m echo]`` alone said 'nothing to send', though ``athena`` alone
    chats and ``aish athena -m MODEL`` on the command line opens a chat with that model."""
    shell.sendline("athena[-m echo -s 'be brief']")
    shell.expect_exact("Chatting with athena")
    shell.expect_exact("athena>")
    shell.sendline("/options")
    shell.expect_exact("model = echo\r\nsystem = 'be brief'\r\n")
    shell.sendline("owls at night")
    shell.expect_exact("[athena: Complete")
    shell.expect_exact("athena>")
    body = [r.body for r in refserver.requests if r.body][-1]
    assert body["model"] == "echo" and body["messages"][0] == {"role": "system", "content": "be brief"}
    shell.send(CTRL_D)
    shell.expect_exact(PROMPT)
    shell.sendline("athena[-m echo] | wc -c")  # not alone: a line like any other
    shell.expect_exact("nothing to send")


# ------------------------------------------------- paste, search, unfinished lines


def test_a_block_pasted_after_an_agents_words_is_its_text(shell: pexpect.spawn, refserver: RefServer) -> None:
    """Pasted prose never runs programs: its line 'yes we will ship' would have run yes(1) forever."""
    shell.send(f'athena proofread: {PASTE_START}Dear team, it\'s "late".\nyes we will ship.\nThanks\n{PASTE_END}')
    shell.expect_exact("Thanks")
    shell.send("\r")
    shell.expect_exact("Complete")
    shell.expect_exact(PROMPT)
    assert sent(refserver)[-1] == 'proofread: Dear team, it\'s "late".\nyes we will ship.\nThanks'
    shell.sendline("echo done")
    shell.expect_exact("done\r\n")


def test_ctrl_r_searches_for_operators_and_leaves_cleanly(shell: pexpect.spawn) -> None:
    """A search text such as 'a|' made the line look unfinished, and prompt_toolkit lost its search."""
    shell.sendline("echo 'a|b' AT&T")
    shell.expect_exact("a|b AT&T\r\n")
    shell.expect_exact(PROMPT)
    shell.send(CTRL_R + "a|")
    shell.expect_exact("reverse-i-search")
    shell.send("\x07")  # Ctrl-G: leave the search
    shell.send(CTRL_R + "T&")
    shell.send("\r")  # runs the line found
    shell.expect_exact("a|b AT&T\r\n")
    shell.expect_exact(PROMPT)
    shell.sendline("echo still fine")
    shell.expect_exact("still fine\r\n")
    assert "Unhandled exception" not in (shell.before or "")


def test_ctrl_d_submits_an_unfinished_line_as_it_is(shell: pexpect.spawn) -> None:
    shell.sendline("echo a |")
    shell.expect_exact("....>")
    shell.send(CTRL_D)
    shell.expect_exact("aish: syntax error")
    shell.expect_exact(PROMPT)
    shell.sendline("echo next")
    shell.expect_exact("next\r\n")


def test_aish_agent_alone_on_a_terminal_opens_a_chat_that_ctrl_d_leaves(refserver: RefServer) -> None:
    """'aish athena' said 'nothing to send'; llm chat and aichat open a chat there."""
    env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(
        sys.executable, ["-m", "aish", "athena", "-o", "temperature", "0"], env=env, encoding="utf-8", timeout=20
    )
    try:
        child.expect_exact("Chatting with athena")
        child.expect_exact("/exit leaves aish")
        child.expect_exact("athena>")
        child.sendline("what's up?")
        child.expect(r"\[\w+: Complete - ")
        child.expect_exact("athena>")
        child.send(CTRL_D)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert sent(refserver) == ["what's up?"]
    assert refserver.requests[-1].body is not None and refserver.requests[-1].body["temperature"] == 0
    child = pexpect.spawn(sys.executable, ["-m", "aish", "hermes"], env=env, encoding="utf-8", timeout=20)
    try:
        child.expect_exact("hermes>")
        child.sendline("/exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_a_long_line_wraps_without_continuation_prompts(shell: pexpect.spawn) -> None:
    """The rows of a line wider than the terminal showed '....>', which means 'unfinished'."""
    words = " ".join(f"word{i}" for i in range(120))  # about 3 rows of 200 columns
    shell.send(f"echo {words}")
    shell.expect_exact("word119")
    shown = str(shell.before)
    shell.send("\r")
    shell.expect_exact("word118 word119\r\n")
    shown += str(shell.before)
    shell.expect_exact(PROMPT)
    assert "word60" in shown and "....>" not in shown
