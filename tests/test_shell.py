"""The interactive shell in a real terminal (a pty driven by pexpect)."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aish import Invocation, RegisterCommand, hookimpl
from aish.app import App
from aish_refserver import RefServer

PROMPT = "aish>"


@pytest.fixture
def shell(refserver: RefServer) -> Iterator[pexpect.spawn]:
    env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "aish"], env=env, encoding="utf-8", timeout=20, dimensions=(50, 200))
    child.expect_exact(PROMPT)
    try:
        yield child
    finally:
        child.close(force=True)


def run(child: pexpect.spawn, line: str) -> None:
    child.sendline(line)


def test_banner_names_the_offline_demo_agents(refserver: RefServer) -> None:
    env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "aish"], env=env, encoding="utf-8", timeout=20)
    child.expect("Offline demo agents: apollo, athena, hermes")
    child.expect_exact(PROMPT)
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.parametrize(
    ("lines", "status", "said"),
    [
        (["exit 3"], 3, ""),
        (["quit 300"], 44, ""),  # as sh: modulo 256
        (["nosuch", "exit"], 3, ""),  # exit alone: the last line's status (unknown agent)
        (["exit now"], 2, "aish: exit: takes at most an exit status (a whole number), not 'now'"),
        (["athena hi; exit 5"], 5, ""),
    ],
)
def test_exit_and_quit_leave_with_a_status_as_sh(
    refserver: RefServer, lines: list[str], status: int, said: str
) -> None:
    """A tour's ``exit now`` left at once and with status 0, where ``aish -c 'exit now'`` said why and gave 2."""
    env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "aish"], env=env, encoding="utf-8", timeout=20)
    try:
        for line in lines:
            child.expect_exact(PROMPT)
            child.sendline(line)
        if said:
            child.expect_exact(said)
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == status


def test_streams_with_status_on_a_terminal(shell: pexpect.spawn) -> None:
    run(shell, 'echo "Explain quantum computing" | athena')
    shell.expect_exact("[athena: Streaming...]")
    shell.expect_exact("Athena (offline demo):")
    shell.expect(r"\[athena: Complete - \d+\.\ds, \d+ tokens\]")
    shell.expect_exact(PROMPT)


def test_cmd2_does_not_touch_aish_syntax(shell: pexpect.spawn, refserver: RefServer) -> None:
    run(shell, "echo a; echo b | cat")  # cmd2 would drop '; ...' and pipe to an OS shell
    shell.expect(r"a\r\nb\r\n")
    shell.expect_exact(PROMPT)
    run(shell, "echo hi >")  # cmd2 would copy to the clipboard
    shell.expect_exact("aish: syntax error at column 9: '>' needs a file name after it: echo hi -->>")
    shell.expect_exact(PROMPT)
    run(shell, "| athena")
    shell.expect_exact("aish: syntax error at column 1: unexpected '|'")
    shell.expect_exact(PROMPT)
    assert len(refserver.requests) == 0


def test_unfinished_lines_continue(shell: pexpect.spawn, refserver: RefServer) -> None:
    run(shell, 'athena "first line')
    shell.expect_exact("....>")
    run(shell, 'second line"')
    shell.expect(r"\[athena: Complete - ")
    shell.expect_exact(PROMPT)
    run(shell, "echo piped |")
    shell.expect_exact("....>")
    run(shell, "athena")
    shell.expect(r"\[athena: Complete - ")
    shell.expect_exact(PROMPT)
    bodies = [r.body for r in refserver.requests if r.body]
    assert [b["messages"][-1]["content"] for b in bodies] == ["first line\nsecond line", "piped\n"]


def test_agents_and_plugins_commands(shell: pexpect.spawn) -> None:
    run(shell, "agents")
    shell.expect(r"athena\s+sse\s+openai-chat")
    shell.expect_exact(PROMPT)
    run(shell, "plugins")
    shell.expect(r"sse\s+aish \S+\s+loaded\s+transport sse")
    shell.expect_exact(PROMPT)


def test_ctrl_c_mid_stream_returns_to_the_prompt(shell: pexpect.spawn, refserver: RefServer) -> None:
    refserver.pace = 0.1
    run(shell, "athena tell me everything")
    shell.expect_exact("Athena")
    shell.sendintr()
    shell.expect_exact("[athena: Partial - ")
    shell.expect_exact("aish: athena: interrupted (partial answer kept)")
    shell.expect_exact(PROMPT)
    refserver.pace = 0.0
    run(shell, "echo still alive")
    shell.expect_exact("still alive")
    shell.expect_exact(PROMPT)


def test_errors_keep_the_shell_running(shell: pexpect.spawn) -> None:
    run(shell, "zeus hello")
    shell.expect_exact("aish: unknown agent 'zeus' (known: apollo, athena, hermes)")
    shell.expect_exact(PROMPT)
    run(shell, "quit")
    shell.expect(pexpect.EOF)


def test_quit_at_the_end_of_a_line_leaves_the_shell(shell: pexpect.spawn) -> None:
    run(shell, "echo bye; exit")
    shell.expect_exact("bye")
    shell.expect(pexpect.EOF)


# ------------------------------------------------- in-process: the shell's wiring


class HelloPlugin:
    """A plugin that adds a command through the aish_register_commands hook."""

    @hookimpl
    def aish_register_commands(self, register: RegisterCommand) -> None:
        def hello(inv: Invocation) -> int:
            inv.out.write(f"hello from a plugin {inv.args}\n")
            return 0

        register("hello", hello, summary="Say hello.", usage="hello [NAME...]")


def make_shell(demo_url: str, *plugins: tuple[str, object]) -> tuple[object, io.StringIO, io.StringIO]:
    from aish.app import build_app
    from aish.config import Config
    from aish.runner import Runner
    from aish.shell import AishShell

    app = build_app(Config(), extra_plugins=plugins)
    out, err = io.StringIO(), io.StringIO()
    shell = AishShell(app, stdin=io.StringIO(), stdout=out, persistent_history_file="")
    shell.runner = Runner(app, out=out, err=err, tty=False)
    return shell, out, err


def test_plugin_commands_join_the_shell(demo_url: str) -> None:
    shell, out, _err = make_shell(demo_url, ("hello", HelloPlugin()))
    shell.onecmd_plus_hooks("hello")  # type: ignore[attr-defined]
    assert out.getvalue() == "hello from a plugin []\n"


def test_cmd2_builtins_that_are_not_aish_are_gone(demo_url: str) -> None:
    shell, out, err = make_shell(demo_url)
    commands = shell.get_all_commands()  # type: ignore[attr-defined]
    assert {"history", "agents", "plugins", "help", "quit"} <= set(commands)
    assert not {"shell", "edit", "run_pyscript", "py", "ipy"} & set(commands)
    shell.onecmd_plus_hooks("shell echo hi")  # type: ignore[attr-defined]
    assert "unknown agent 'shell'" in err.getvalue() and out.getvalue() == ""
    shell.onecmd_plus_hooks("help")  # type: ignore[attr-defined]
    assert "run_pyscript" not in out.getvalue() and "history" in out.getvalue()


def test_aish_lines_reach_the_runner_untouched(demo_url: str, refserver: RefServer) -> None:
    shell, out, err = make_shell(demo_url)
    shell.onecmd_plus_hooks('echo "a;b" | athena; echo "x > y"')  # type: ignore[attr-defined]
    assert refserver.requests[0].body is not None
    assert refserver.requests[0].body["messages"][-1]["content"] == "a;b\n"
    assert out.getvalue().endswith("x > y\n") and err.getvalue() == ""
    assert shell.last_status == 0  # type: ignore[attr-defined]


def test_the_banner_suggests_the_first_configured_agent_or_the_default(make_app: Callable[..., App]) -> None:
    from aish.shell_start import banner

    agents = 'transport = "sse"\ncodec = "openai-chat"\nurl = "http://127.0.0.1:9/v1"\n'
    text = f"[agents.zeta]\n{agents}[agents.alpha]\n{agents}"
    assert "Try: zeta hello" in banner(make_app(text))  # the file's order, not the alphabet's
    assert "Try: alpha hello" in banner(make_app(f'[settings]\ndefault_agent = "alpha"\n{text}'))


def test_tab_escapes_a_file_name_the_language_would_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``cd sp<Tab>`` gave ``cd sp ace/``, two words; the whole word is replaced, escaped."""
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from aish.shell_complete import AishCompleter, Sources

    (tmp_path / "sp ace" / "inner dir").mkdir(parents=True)
    (tmp_path / "sp ace" / "a&b.txt").write_text("")
    monkeypatch.chdir(tmp_path)
    completer = AishCompleter(Sources(agents=dict, commands=lambda: {"cd": ""}, arguments=lambda c, w, cur: []))

    def tab(line: str) -> list[tuple[str, int]]:
        found = completer.get_completions(Document(line, len(line)), CompleteEvent(completion_requested=True))
        return [(c.text, c.start_position) for c in found]

    assert tab("cat < sp") == [("sp\\ ace/", -2)]
    assert sorted(tab("cat sp\\ ace/")) == [("sp\\ ace/a\\&b.txt ", -8), ("sp\\ ace/inner\\ dir/", -8)]
    assert tab("grep x sp\\ ace/in") == [("sp\\ ace/inner\\ dir/", -10)]


def test_a_word_completed_whole_is_followed_by_a_blank_as_in_bash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tour: ``agents rem<Tab>`` gave ``agents remove`` and the blank was the user's to type."""
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from aish.shell_complete import AishCompleter, Sources

    (tmp_path / "notes.md").write_text("")
    (tmp_path / "docs").mkdir()
    monkeypatch.chdir(tmp_path)
    completer = AishCompleter(
        Sources(
            agents=lambda: {"athena": "wise"},
            commands=lambda: {"agents": "list", "history": "runs"},
            arguments=lambda c, w, cur: ["remove", "add"] if c == "agents" else [],
        )
    )

    def tab(line: str, after: str = "") -> list[str]:
        document = Document(line + after, len(line))
        return [c.text for c in completer.get_completions(document, CompleteEvent(completion_requested=True))]

    assert tab("agents rem") == ["remove "] and tab("hist") == ["history "] and tab("ath") == ["athena "]
    assert tab("cat no") == ["notes.md "] and tab("cat do") == ["docs/"]  # a directory: Tab goes on into it
    assert tab("echo x > no") == ["notes.md "]
    assert tab("ath", " what is up") == ["athena"]  # a blank is already there: not a second one
    names = completer.get_completions(Document("a"), CompleteEvent(completion_requested=True))
    assert [(c.text, c.display_text) for c in names] == [("agents ", "agents"), ("athena ", "athena")]


def test_a_bracket_after_a_completed_agents_name_is_glued_to_it() -> None:
    """``ath<Tab>[-m x]`` must be ``athena[-m x]``: ``athena [-m x]`` would send the brackets as text."""
    from aish.shell_complete import glues_controls

    class Agents:
        def is_agent(self, name: str) -> bool:
            return name == "athena"

    assert glues_controls("athena ", Agents()) and glues_controls("echo x | athena ", Agents())
    for text in ("athena", "athena  ", "athena what ", "hermes ", "echo athena ", "'athena "):
        assert not glues_controls(text, Agents()), text


def test_tab_after_m_offers_models_only_inside_an_agents_controls() -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from aish.shell_complete import AishCompleter, Sources

    chatting: list[str | None] = [None]
    completer = AishCompleter(
        Sources(
            agents=lambda: {"athena": ""},
            commands=dict,
            arguments=lambda c, w, cur: [],
            active=lambda: chatting[0] is None,
            models=lambda agent: ["gpt-4o", "gpt-4o-mini", "o3"] if agent == "athena" else [],
            chat_agent=lambda: chatting[0],
        )
    )

    def tab(line: str) -> list[tuple[str, int]]:
        found = completer.get_completions(Document(line, len(line)), CompleteEvent(completion_requested=True))
        return [(c.text, c.start_position) for c in found]

    assert tab("athena[-m gp") == [("gpt-4o", -2), ("gpt-4o-mini", -2)]
    assert tab('echo x | athena[-s "be terse" --model ') == [("gpt-4o", 0), ("gpt-4o-mini", 0), ("o3", 0)]
    assert tab("athena[-m gpt-4o] what is -m ") == []  # after the bracket: the agent's text
    assert tab("athena[-s ") == [] and tab("athena -m ") == []
    chatting[0] = "athena"
    assert tab("/model o") == [("o3", -1)]
    assert tab("/model o3 and") == [] and tab("what about o") == []
    names = ("/exit", "/new", "/retry", "/model", "/system", "/option", "/options", "/copy", "/file", "/help")
    assert tab("/") == [(n, -1) for n in names]
    assert tab("/re") == [("/retry", -3)] and tab("/opt") == [("/option", -4), ("/options", -4)]
    assert tab("//re") == [] and tab("/usr/b") == [] and tab("see /re") == []  # text, not a command
    here = Path(__file__).parent
    typed = f"{here / 'conftes'}"  # /file's path: files, as after '<'
    assert tab(f"/file {typed}") == [(f"{here / 'conftest.py'} ", -len(typed))] and tab(f"/file {typed} x") == []


@given(st.text(alphabet=st.sampled_from("ab \t\\\"'|&;<>()#~.*é"), min_size=1, max_size=12))
def test_an_escaped_word_is_read_back_as_itself(word: str) -> None:
    from aish.lang import parse
    from aish.shell_complete import escaped

    (pipeline,) = [p for _, p in parse(f"echo {escaped(word)}").items]
    assert [w.value for w in pipeline.stages[0].args] == [word]


def test_tab_after_help_offers_every_topic_help_explains(demo_url: str) -> None:
    """``help <Tab>``: besides commands and agents, the language's built-ins, ``!`` and quit/exit."""
    shell, _out, _err = make_shell(demo_url)
    topics = set(shell._complete_arguments("help", [], ""))
    assert {"echo", "cat", "!", "quit", "exit", "history", "athena"} <= topics
    assert shell._complete_arguments("help", ["history"], "") == []
