"""Running aish lines against a real reference server: the language end to end."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from aish import App
from aish.errors import EXIT_CONNECTION, EXIT_REMOTE, EXIT_UNKNOWN, EXIT_USAGE
from aish.runner import Runner
from aish.testing import Outcome, agent_toml, line_ended
from aish_refserver import RefServer

Run = Callable[..., Outcome]


def expected_text(server: RefServer, prompt: str, model: str = "athena", max_tokens: int = 256) -> str:
    """The answer the reference server gives, asked without streaming (independent of aish).

    ``max_tokens`` is the demo agents' own (see plugins/aish_demo).
    """
    import requests

    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens}
    reply = requests.post(server.base_url + "/chat/completions", json=body, timeout=10)
    return str(reply.json()["choices"][0]["message"]["content"])


def user_messages(server: RefServer) -> list[str]:
    return [r.body["messages"][-1]["content"] for r in server.requests if r.body]


def test_echo_into_agent_streams_the_exact_answer(run_line: Run, refserver: RefServer, demo_url: str) -> None:
    result = run_line('echo "Explain quantum computing" | athena')
    assert result.status == 0, result.err
    assert result.out == line_ended(expected_text(refserver, "Explain quantum computing\n"))
    assert result.err == ""
    assert result.out.startswith("Athena (offline demo):")


def test_agent_with_quoted_text_and_bare_words(run_line: Run, refserver: RefServer, demo_url: str) -> None:
    assert run_line('athena "what is up"').status == 0
    assert run_line("apollo what   is up").status == 0
    assert user_messages(refserver) == ["what is up", "what is up"]
    assert [r.body["model"] for r in refserver.requests if r.body] == ["athena", "apollo"]


def test_piped_text_then_the_agents_own_words(run_line: Run, refserver: RefServer, demo_url: str) -> None:
    run_line('echo "some code" | athena "review this"')
    assert user_messages(refserver) == ["some code\n\nreview this"]


def test_cat_file_and_input_redirection(
    run_line: Run, refserver: RefServer, demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("app.py").write_text("print('hi')\n")
    assert run_line("cat app.py | athena").status == 0
    assert run_line("athena < app.py").status == 0
    assert user_messages(refserver) == ["print('hi')\n", "print('hi')\n"]


def test_output_redirection_writes_and_appends(
    run_line: Run, refserver: RefServer, demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = run_line('athena "one" > out.md')
    assert first.status == 0 and first.out == ""
    answer = expected_text(refserver, "one")
    assert Path("out.md").read_text() == answer + "\n"  # its line ended, as text files' are
    run_line('athena "one" >> out.md')
    assert Path("out.md").read_text() == (answer + "\n") * 2  # two answers, two lines
    run_line("echo replaced > out.md")
    assert Path("out.md").read_text() == "replaced\n"


def test_sequential_stages_pass_each_answer_on(run_line: Run, refserver: RefServer, demo_url: str) -> None:
    result = run_line('echo "q" | apollo | athena')
    assert result.status == 0
    first_answer = expected_text(refserver, "q\n", model="apollo")
    refserver.requests.clear()
    assert result.out == line_ended(expected_text(refserver, first_answer, model="athena"))


def test_multi_line_input(run_line: Run, refserver: RefServer, demo_url: str) -> None:
    result = run_line('athena "line one\nline two"\necho done')
    assert result.status == 0
    assert user_messages(refserver) == ["line one\nline two"]
    assert result.out.endswith("done\n")


def test_sequencing_operators(run_line: Run) -> None:
    assert run_line("echo a; echo b").out == "a\nb\n"
    assert run_line("nosuchagent x && echo no; echo yes").out == "yes\n"
    assert run_line("nosuchagent x || echo fallback").out == "fallback\n"


def test_quit_and_exit_end_a_script_as_a_posix_shells_exit_does(run_line: Run) -> None:
    assert (run_line("echo a; quit; echo b").out, run_line("echo a; quit; echo b").status) == ("a\n", 0)
    stopped = run_line("echo one\nexit 3\necho never")
    assert (stopped.out, stopped.status) == ("one\n", 3)
    failed = run_line("nosuchagent x; exit")  # the status of the pipeline before it
    assert failed.out == "" and failed.status == EXIT_UNKNOWN
    assert run_line("echo a && exit 4 || echo b").status == 4
    assert run_line("echo a || exit 4; echo b").out == "a\nb\n"  # skipped, as any pipeline after ||
    bad = run_line("exit soon; echo b")
    assert bad.out == "" and bad.status == EXIT_USAGE
    assert bad.err == "aish: exit: takes at most an exit status (a whole number), not 'soon'\n"
    piped = run_line("quit | athena")
    assert piped.status == EXIT_USAGE and "quit: it runs on its own" in piped.err


def test_a_line_that_is_only_quit_is_not_recorded(make_app: Callable[..., App]) -> None:
    runner = Runner(make_app(None), out=io.StringIO(), err=io.StringIO())
    assert runner.is_command_line("exit 3") and runner.is_command_line("quit")
    assert not runner.is_command_line("echo a; quit") and not runner.is_command_line("athena quit")


def test_an_agents_help_is_not_recorded_as_help_agent_is_not(make_app: Callable[..., App]) -> None:
    runner = Runner(make_app(None), out=io.StringIO(), err=io.StringIO())
    assert runner.is_command_line("athena --help") and runner.is_command_line("help athena")
    for sent in ("athena '--help'", "athena --help me", "echo x | athena -h", "athena -h; echo x"):
        assert not runner.is_command_line(sent), sent


def test_an_unknown_agent_starting_a_later_line_says_each_line_is_a_command(run_line: Run, demo_url: str) -> None:
    """A pasted text's second line is the usual cause: the hint says how to send several lines."""
    pasted = run_line("echo first\nsecond line of the text")
    assert pasted.out == "first\n" and pasted.status == EXIT_UNKNOWN
    assert pasted.err == (
        "aish: unknown agent 'second' (known: apollo, athena, hermes); each line is a command: "
        "to send an agent several lines, quote them, or chat with it (its name alone)\n"
    )
    with_ampersand = run_line("echo first\nIt's a test & more.")  # a group, until its & is found text
    assert with_ampersand.err.startswith('aish: unknown agent "It\'s" (known: apollo, athena, hermes); each line')
    for line in ("second words", 'echo "a\nb" | second'):
        assert run_line(line).err == "aish: unknown agent 'second' (known: apollo, athena, hermes)\n", line


def test_a_line_after_an_agents_sentence_that_names_nothing_stops_the_entry_before_it_runs(
    run_line: Run, refserver: RefServer, make_app: Callable[..., App], demo_url: str
) -> None:
    """Found on a tour: 'athena summarize this', Alt-Enter, 'it is long' sent the first line, then said
    'unknown agent' of the second (a pasted block at the start of the line did the same). Typed, the
    entry now stops before anything runs (decision 84); in a script file each line is a command."""
    hint = "each line is a command: to send an agent several lines, quote them, or chat with it (its name alone)"
    typed = run_line("athena summarize this\nit is long")
    assert (typed.status, typed.out, len(refserver.requests)) == (EXIT_UNKNOWN, "", 0)
    assert typed.err == f"aish: unknown agent 'it' (known: apollo, athena, hermes); {hint}\n"
    assert run_line("athena[-m echo] one\napollo[-m echo] two").out == "one\ntwo\n"  # two commands, as typed
    assert run_line("echo one\nit is long").out == "one\n"  # no sentence before it: sh's rule
    out, err = io.StringIO(), io.StringIO()
    script = Runner(make_app(None), out=out, err=err)
    script.script_name = "notes.aish"
    assert script.run_source("athena[-m echo] one\nit is long") == EXIT_UNKNOWN
    assert out.getvalue() == "one\n" and err.getvalue().startswith("aish: notes.aish:2: unknown agent 'it'")


def test_a_sentence_without_an_agent_says_to_name_one_first(
    run_line: Run, make_app: Callable[..., App], tmp_path: Path, demo_url: str
) -> None:
    """A tour's first line was ``what is a monad?``: 'unknown agent' alone did not say how to ask."""
    known = "(known: apollo, athena, hermes)"
    asked = run_line("what is a monad?")
    assert asked.status == EXIT_UNKNOWN and asked.out == ""
    assert asked.err == f"aish: unknown agent 'what' {known}; to ask an agent, name it first: apollo what is a monad?\n"
    long = run_line("tell me a very long story about the sea")
    assert long.err.endswith("name it first: apollo tell me a very long story a...\n")
    assert run_line("why?").err == f"aish: unknown agent 'why?' {known}\n"  # one word: no sentence
    for meant_as_a_name in ("zeus hi", "zeus[-m x] what is up", "gti -C dir status"):
        assert "to ask" not in run_line(meant_as_a_name).err, meant_as_a_name
    assert run_line("athen what is up").err.startswith("aish: unknown agent 'athen', did you mean 'athena'?")
    two = agent_toml("b", "http://127.0.0.1:9/v1") + agent_toml("a", "http://127.0.0.1:9/v1")
    real = run_line("what is up", two)
    assert real.err.endswith("name it first: b what is up\n")  # the file's first agent, not a demo
    chosen = run_line("what is up", '[settings]\ndefault_agent = "a"\n' + two)
    assert chosen.err.endswith("name it first: a what is up\n")
    script = tmp_path / "s.aish"
    script.write_text("what is up\n")
    err = io.StringIO()
    runner = Runner(make_app(), out=io.StringIO(), err=err)
    runner.script_name = str(script)
    runner.run_source(script.read_text())
    assert err.getvalue() == f"aish: {script}:1: unknown agent 'what' {known}\n"  # a script's line is code


def test_a_sentence_after_an_answer_says_to_go_on_with_that_agent(make_app: Callable[..., App], demo_url: str) -> None:
    """A tour: ``athena how do I reverse a list?``, then ``and in javascript?``: the hint named apollo,
    the agent examples name, not athena, whose conversation the follow-up belongs to."""
    from aish.conversations import Conversations

    out, err = io.StringIO(), io.StringIO()
    shell = Runner(make_app(), out=out, err=err, conversations=Conversations())
    assert shell.run_source("what is a monad?") == EXIT_UNKNOWN  # nothing said yet: the example's agent
    assert err.getvalue().endswith("to ask an agent, name it first: apollo what is a monad?\n")
    assert shell.run_source("athena how do I reverse a list?") == 0
    err.seek(0)
    err.truncate()
    assert shell.run_source("and in javascript?") == EXIT_UNKNOWN
    assert err.getvalue().endswith("; to go on with athena, name it first: athena and in javascript?\n")
    assert shell.run_source("athena and in javascript?") == 0
    assert shell.conversations is not None and len(shell.conversations.for_agent("athena").turns) == 2


def test_an_agent_alone_with_help_shows_its_help_and_asks_nothing(run_line: Run, refserver: RefServer) -> None:
    """A tour's ``story --help`` in the shell sent '--help' to the model, where ``aish story --help`` shows help."""
    config = agent_toml("bot", refserver.base_url, model="echo")
    for flag in ("--help", "-h"):
        shown = run_line(f"bot {flag}", config)
        assert shown.status == 0 and shown.err == "" and shown.out.startswith("  agent       bot\n")
        assert f"  url         {refserver.base_url}\n" in shown.out
    assert len(refserver.requests) == 0
    assert run_line("bot '--help'", config).out == "--help\n"  # quoted, or with input: text for the agent
    assert run_line("echo x | bot -h", config).out.endswith("-h\n")
    assert run_line("bot --help me", config).out == "--help me\n"
    assert len(refserver.requests) == 3


def test_a_semicolon_inside_an_agents_sentence_runs_nothing_and_says_how_to_send_it(
    run_line: Run, refserver: RefServer, demo_url: str
) -> None:
    """'athena don't do that; it's fine' sent half the sentence, then said only 'unknown agent'; a
    tour found the hint after the answer still too late (decision 70)."""
    result = run_line("athena don't do that; second words")
    known = "(known: apollo, athena, hermes)"
    assert result.status == EXIT_UNKNOWN and len(refserver.requests) == 0 and result.out == ""
    assert result.err == f"aish: unknown agent 'second' {known}; to send ';' to the agent, quote it\n"
    grouped = run_line("athena[-m echo] no; (second & words)")
    assert grouped.out == "" and grouped.err.startswith("aish: unknown agent 'second' ")
    for line in ("athena it's cold & wet here; second words", "apollo & athena it's cold; second words"):
        amp = run_line(line)  # a tour: an '&' that is text hid the sentence, which ran, then failed
        assert amp.err == f"aish: unknown agent 'second' {known}; to send ';' to the agent, quote it\n"
        assert amp.out == "" and len(refserver.requests) == 0
    assert run_line("echo first; second words").err == f"aish: unknown agent 'second' {known}\n"  # no sentence
    assert run_line("echo first; second words").out == "first\n"  # sh's rule: the first half ran
    typo = run_line("athena hi; athna words")  # a misspelt agent: the suggestion is the hint
    assert typo.err == "aish: unknown agent 'athna', did you mean 'athena'? (known: apollo, athena, hermes)\n"
    assert typo.out == "" and len(refserver.requests) == 0
    assert run_line("athena[-m echo] q; echo ok").out == "q\nok\n"  # a real sequence runs as ever


def test_a_redirect_in_the_middle_of_an_agents_sentence_runs_nothing_and_writes_no_file(
    run_line: Run, refserver: RefServer, demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found on a tour: 'athena is 2 > 1 and 3 bigger?' would write the answer to a file '1' (created,
    or emptied) and send the rest; a redirect that ends the line saves the answer as ever."""
    monkeypatch.chdir(tmp_path)
    for line, op, target in (
        ("athena is 2 > 1 and 3 bigger?", ">", "1"),
        ("athena[-m echo] ok; athena keep a >> log of it", ">>", "log"),
    ):
        result = run_line(line)
        assert (result.status, result.out) == (EXIT_USAGE, "")
        assert result.err == (
            f"aish: athena: a '{op}' in the middle of the sentence would write the answer to '{target}'; "
            f"to send '{op}' to the agent, quote it\n"
        )
    ended = (("athena is 3 > 2?", ">", "2?"), ("athena is 3>2", ">", "2"), ("athena x >> 1.5", ">>", "1.5"))
    for line, op, target in ended:
        result = run_line(line)  # the sentence ends at the file, but no one names a file so
        assert (result.status, result.out) == (EXIT_USAGE, "")
        assert result.err == (
            f"aish: athena: '{op} {target}' would write the answer to a file named '{target}'; "
            f"to send '{op}' to the agent, quote it\n"
        )
    assert len(refserver.requests) == 0 and list(tmp_path.iterdir()) == []
    assert run_line("athena[-m echo] is 2 '>' 1 and 3 bigger?").out == "is 2 > 1 and 3 bigger?\n"
    assert run_line("athena[-m echo] q > 2024-notes").status == 0 and Path("2024-notes").read_text() == "q\n"
    assert run_line("echo a > 2").status == 0 and Path("2").read_text() == "a\n"  # not an agent: sh's rule
    assert run_line("athena[-m echo] q > out.md").out == "" and Path("out.md").read_text() == "q\n"
    assert run_line("echo a > b.txt c").status == 0 and Path("b.txt").read_text() == "a c\n"  # not an agent: sh's rule


def test_an_unknown_name_after_an_agents_words_and_a_pipe_says_how_to_send_one(
    run_line: Run, refserver: RefServer, demo_url: str
) -> None:
    """Found by a tour: 'athena what does a | b mean in bash?' said only 'unknown agent 'b''."""
    known = "(known: apollo, athena, hermes)"
    result = run_line("athena what does a | b mean in bash?")
    assert result.status == EXIT_UNKNOWN and len(refserver.requests) == 0
    assert result.err == f"aish: unknown agent 'b' {known}; to send '|' to the agent, quote it\n"
    assert run_line("echo a | b").err == f"aish: unknown agent 'b' {known}\n"  # no sentence before it
    assert run_line("echo a | athena | b").err == f"aish: unknown agent 'b' {known}\n"
    typo = run_line("athena hi | athna")  # a misspelt agent: the suggestion is the hint
    assert typo.err == f"aish: unknown agent 'athna', did you mean 'athena'? {known}\n"


@pytest.mark.parametrize(
    ("line", "joiner", "name"),
    [("athena explain a || b in js", "||", "b"), ("athena what does && do in bash", "&&", "do")],
)
def test_an_and_or_or_inside_an_agents_sentence_runs_nothing_and_says_how_to_send_it(
    run_line: Run, refserver: RefServer, demo_url: str, line: str, joiner: str, name: str
) -> None:
    """Found probing English: '||' sent 'explain a' and dropped 'b in js' without a word; '&&' sent
    half the question, then failed."""
    result = run_line(line)
    assert result.status == EXIT_UNKNOWN and len(refserver.requests) == 0 and result.out == ""
    known = "(known: apollo, athena, hermes)"
    assert result.err == f"aish: unknown agent '{name}' {known}; to send '{joiner}' to the agent, quote it\n"


def test_and_and_or_between_commands_work_as_ever(run_line: Run, refserver: RefServer, demo_url: str) -> None:
    assert run_line("athena[-m echo] q && echo ok").out == "q\nok\n"  # the answer's line ended, as any off a terminal
    assert run_line("athena[-m echo] q || athena[-m echo] r").out == "q\n"  # r is an agent: skipped, as ever
    assert run_line("echo a || b").out == "a\n"  # no sentence before it: sh's rule
    typo = run_line("athena[-m echo] q && hitsory")  # found before athena is asked
    assert typo.err.startswith("aish: unknown agent 'hitsory', did you mean 'history'?") and typo.out == ""


def test_syntax_error_runs_nothing(run_line: Run, refserver: RefServer, demo_url: str) -> None:
    result = run_line('athena "ok"; echo x | | athena')
    assert result.status == EXIT_USAGE
    assert result.out == ""
    assert len(refserver.requests) == 0
    assert result.err.count("\n") == 1 and result.err.startswith("aish: syntax error at column 21: ")


def test_unknown_agent_runs_nothing(run_line: Run, refserver: RefServer, demo_url: str) -> None:
    result = run_line('echo "x" | athena | zeus')
    assert result.status == EXIT_UNKNOWN
    assert result.err == "aish: unknown agent 'zeus' (known: apollo, athena, hermes)\n"
    assert len(refserver.requests) == 0


def test_missing_input_file_is_one_line(run_line: Run, tmp_path: Path) -> None:
    result = run_line(f"athena < {tmp_path}/nope.txt")
    assert result.status == EXIT_USAGE
    assert result.err == f"aish: <: {tmp_path}/nope.txt: no such file\n"
    assert run_line("cat").err == "aish: cat: no file given\n"


def test_agent_with_nothing_to_send(run_line: Run, demo_url: str) -> None:
    result = run_line("athena")
    assert result.status == EXIT_USAGE and "athena: nothing to send" in result.err


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_names_the_url(run_line: Run) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    result = run_line("bot hello", agent_toml("bot", url))
    assert result.status == EXIT_CONNECTION
    assert result.err == f"aish: bot: cannot connect to {url}/chat/completions: connection refused\n"


def test_remote_error_uses_the_servers_message(run_line: Run, refserver: RefServer) -> None:
    result = run_line("bot hello", agent_toml("bot", refserver.base_url, model="no-such-model"))
    assert result.status == EXIT_REMOTE
    assert result.err.startswith("aish: bot: not found (check the agent's url): HTTP 404 from ")
    assert "no-such-model" in result.err and result.err.count("\n") == 1


def test_agent_options_reach_the_endpoint(run_line: Run, refserver: RefServer) -> None:
    config = agent_toml("bot", refserver.base_url, model="echo", aish_tokens=3, temperature=0.5)
    result = run_line("bot alpha beta gamma delta", config)
    assert result.out == "alpha beta gamma\n"
    body = refserver.requests[0].body
    assert body is not None and body["temperature"] == 0.5 and body["stream"] is True
    assert json.loads(refserver.requests[0].raw_body)["model"] == "echo"


def test_stage_results_carry_metadata(make_app: Callable[..., object], refserver: RefServer, demo_url: str) -> None:
    import io

    from aish.runner import Runner

    app = make_app()
    runner = Runner(app, out=io.StringIO(), err=io.StringIO())  # type: ignore[arg-type]
    assert runner.run_source('athena "hi"') == 0
    (result,) = runner.last_results
    assert result.status == "complete" and result.finish_reason in {"stop", "length"}
    assert result.tokens > 0 and result.first_token is not None and result.duration >= result.first_token


def test_an_agent_twice_in_a_parallel_group_is_named(run_line: Run) -> None:
    twice = run_line("echo q | apollo & athena & apollo")
    assert twice.err == "aish: apollo: an agent can appear only once in a parallel group\n"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_an_error_on_a_terminal_breaks_between_words(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found on a tour: a long error cut a word at the margin (``mid-answe`` / ``r``)."""
    monkeypatch.setenv("COLUMNS", "40")  # the width of a stream without a terminal behind it
    monkeypatch.setenv("TERM", "xterm")
    message = "aish: unknown agent 'zeusophilus' (known: apollo, athena, hermes)"
    err = Terminal()
    Runner(make_app(), out=io.StringIO(), err=err).run_source("zeusophilus hi")
    rows = [row.rstrip() for row in err.getvalue().splitlines()]  # a blank before a break is invisible
    assert len(rows) == 2 and all(len(row) <= 40 for row in rows) and " ".join(rows) == message
    piped = io.StringIO()
    Runner(make_app(), out=io.StringIO(), err=piped).run_source("zeusophilus hi")
    assert piped.getvalue() == message + "\n"  # off a terminal: one line, exactly


@pytest.mark.parametrize(
    ("line", "instead"),
    [
        ("export FOO=bar", "aish's environment is the one it started with (export NAME=value before aish; keys set"),
        ("source venv/bin/activate", "!source ... runs it in a child shell, which keeps nothing of it"),
        ("pushd /tmp", "cd DIR and cd - change aish's own directory"),
    ],
)
def test_a_builtin_of_sh_says_what_aish_has_instead(run_line: Run, demo_url: str, line: str, instead: str) -> None:
    """A bash user's first lines: 'unknown agent' alone did not say that aish is not sh."""
    result = run_line(line)
    name = line.split()[0]
    assert result.status == EXIT_UNKNOWN and result.err.count("\n") == 1
    assert f"; {name} is a builtin of sh, and aish is not sh: {instead}" in result.err
    assert "is a builtin of sh" not in run_line(f"athena[-m echo] {line}").err  # an agent's words


def test_a_descriptors_redirection_is_refused_with_the_way_to_give_it_to_sh(
    run_line: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found on a tour: ``ls 2>/dev/null`` gave ls the word ``2`` and the file its output, and
    said nothing. sh's ``2>``, ``2>&1`` and ``>&2`` stop the line, naming ``!``; quoted, or apart
    from the ``>``, a number is a word as before."""
    monkeypatch.chdir(tmp_path)
    hint = "(aish would give ls the word '2'): !ls ... 2>/dev/null runs it in sh"
    refused = run_line("ls 2>/dev/null")
    assert (refused.status, refused.out) == (EXIT_USAGE, "")
    assert refused.err == f"aish: ls: '2>' redirects file descriptor 2, which is sh's {hint}\n"
    for line in ("ls 2>&1 | wc -l", "echo oops >&2"):
        result = run_line(line)
        assert (
            result.status == EXIT_USAGE
            and "'>&' sends one output into another (2>&1, >&2), which is sh's" in result.err
        )
    assert run_line("echo a > 2; echo b '2'>b.txt").status == 0
    assert (tmp_path / "2").read_text() == "a\n" and (tmp_path / "b.txt").read_text() == "b 2\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["2", "b.txt"]  # the refused lines wrote nothing


def test_sh_assignments_and_background_jobs_say_to_give_the_line_to_sh(run_line: Run) -> None:
    """``FOO=1 make`` and ``sleep 5 &`` are sh's: the errors say so, and name ``!``."""
    assigned = run_line("CC=gcc make -j2")
    assert assigned.status == EXIT_UNKNOWN and assigned.err.endswith(
        "; CC=... sets a variable in sh, and aish is not sh: !CC=gcc ... runs the line in sh\n"
    )
    background = run_line("sleep 5 &")
    assert background.status == EXIT_USAGE
    assert "'&' needs a command after it (aish runs no job in the background: !CMD & gives it to sh)" in background.err
