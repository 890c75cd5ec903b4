"""The command registry: one command, the same in the shell, ``aish -c``, scripts and ``aish NAME``.

In-process checks of the runner's dispatch and of registration; then real
processes (``python -m aish``) and a real terminal (a pty driven by pexpect)
running aish's own commands and, from an installed distribution
(``examples/aish-hello``), a third-party plugin's command.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest
from example_dists import example_installed

from aish import Invocation, RegisterCommand, UsageError, hookimpl
from aish.app import App, build_app
from aish.config import Config
from aish.runner import Runner
from aish.testing import run_aish
from aish_refserver import RefServer

PROMPT = "aish>"


class Probe:
    """A test plugin: ``said`` prints its invocation, ``grab`` is raw, ``bad`` returns no status."""

    def __init__(self) -> None:
        self.seen: list[Invocation] = []

    @hookimpl
    def aish_register_commands(self, register: RegisterCommand) -> None:
        def said(inv: Invocation) -> int:
            self.seen.append(inv)
            if inv.args == ["fail"]:
                raise UsageError("said: asked to fail")
            inv.out.write(f"said {inv.args} line={inv.line!r}\n")
            return 3 if inv.args == ["three"] else 0

        def grab(inv: Invocation) -> int:
            self.seen.append(inv)
            inv.out.write(f"grab {inv.line!r}\n")
            return 0

        register("said", said, summary="Say what it was given.", usage="usage: said [WORD...]")
        register("grab", grab, summary="Take the line as typed.", raw=True)
        register("bad", lambda _inv: None, summary="Returns no status.")  # type: ignore[arg-type,return-value]


def probe_app(*plugins: tuple[str, object]) -> tuple[App, Probe]:
    probe = Probe()
    return build_app(Config(), extra_plugins=[("probe", probe), *plugins]), probe


def run(app: App, source: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = Runner(app, out=out, err=err).run_source(source)
    return status, out.getvalue(), err.getvalue()


# ------------------------------------------------------------ in-process


def test_every_command_answers_help_without_being_called(demo_url: str) -> None:
    """``NAME --help`` / ``NAME -h`` alone print what ``help NAME`` prints, as cliff's commands do."""
    app, probe = probe_app()
    for flag in ("--help", "-h"):
        assert run(app, f"said {flag}") == (0, "Say what it was given.\nusage: said [WORD...]\n", "")
        assert run(app, f"grab {flag}") == (0, "Take the line as typed.\n", "")
    assert probe.seen == []
    assert run(app, "said --help me")[1] == "said ['--help', 'me'] line='--help me'\n"  # not alone: the command's
    assert run(app, "help said")[1] == run(app, "said --help")[1]


def test_a_command_runs_alone_in_a_line_and_in_a_script(demo_url: str) -> None:
    app, probe = probe_app()
    assert run(app, 'said a "b c"') == (0, "said ['a', 'b c'] line='a \"b c\"'\n", "")
    status, out, err = run(app, "echo one; said two && echo three\nsaid four || echo never\n")
    assert (status, err) == (0, "")
    assert out == "one\nsaid ['two'] line='two'\nthree\nsaid ['four'] line='four'\n"
    assert run(app, "said three && echo no; echo yes")[:2] == (0, "said ['three'] line='three'\nyes\n")
    assert probe.seen[0].app is app and probe.seen[0].runner is not None and not probe.seen[0].interactive


def test_errors_are_one_line_and_the_line_goes_on(demo_url: str) -> None:
    app, _probe = probe_app()
    assert run(app, "said fail; echo after") == (0, "after\n", "aish: said: asked to fail\n")
    status, out, err = run(app, "bad")
    assert (status, out) == (1, "")
    assert err == "aish: command 'bad' (plugin 'probe') returned None, not an exit status\n"


def test_output_redirects_and_a_command_first_in_a_pipeline_feeds_the_rest(demo_url: str, tmp_path: Path) -> None:
    """``conversations | grep owl``: a command's output is the next stage's input, as a program's
    would be; nothing goes into a command."""
    app, _probe = probe_app()
    target = tmp_path / "said.txt"
    assert run(app, f"said x > {target}; said y >> {target}") == (0, "", "")
    assert target.read_text() == "said ['x'] line='x'\nsaid ['y'] line='y'\n"
    assert run(app, "said x | tr a-z A-Z | athena[-m echo] loud:") == (0, "SAID ['X'] LINE='X'\n\nloud:\n", "")
    failed = run(app, "agents bogus | athena[-m echo] summarize")  # an error stops the line: no request
    assert failed[:2] == (2, "") and failed[2].startswith("aish: agents: unknown subcommand 'bogus'")
    for line in ("echo x | said", f"said < {target}", "said x | said y"):
        status, out, err = run(app, line)
        assert (status, out) == (2, ""), line
        assert err == "aish: said: a command runs on its own or first in a pipeline (no '<' or '|' into it)\n", line


def test_a_raw_command_takes_the_rest_of_its_line(demo_url: str) -> None:
    app, probe = probe_app()
    assert run(app, 'grab a|b > c; "d') == (0, "grab 'a|b > c; \"d'\n", "")
    assert probe.seen[-1].args == ["a|b", ">", "c;", '"d']  # an open quote: split at blanks
    script = 'echo "x\ngrab inside a string"\ngrab  two|words "a | b" \necho after\n'
    assert run(app, script) == (0, "x\ngrab inside a string\ngrab 'two|words \"a | b\"'\nafter\n", "")
    assert run(app, "echo first; grab parsed 'here'")[1] == "first\ngrab 'parsed here'\n"  # not at line start


def test_a_raw_commands_output_goes_through_a_pipe_with_blanks_around_it(demo_url: str) -> None:
    """``history search owl | head`` searched for ``owl | head`` (noted at stop 33): a `` | `` with a
    blank on each side and words after it pipes the output into the rest, which is aish source."""
    app, probe = probe_app()
    assert run(app, "grab owl a|b | tr a-z A-Z; echo next") == (0, "GRAB 'OWL A|B'\nnext\n", "")
    assert probe.seen[-1].args == ["owl", "a|b"]
    assert run(app, "grab owl | athena[-m echo] said:") == (0, "grab 'owl'\n\nsaid:\n", "")
    assert run(app, "grab trailing |") == (0, "grab 'trailing |'\n", "")  # nothing after it: text
    assert run(app, 'grab it\'s "c | d"')[0] == 0  # in double quotes: text
    assert probe.seen[-1].line == 'it\'s "c | d"'
    assert run(app, "grab it's | tr a-z A-Z") == (0, 'GRAB "IT\'S"\n', "")  # a search's only quotes are "
    calls = len(probe.seen)
    status, out, err = run(app, "grab owl | (tr")
    assert (status, out) == (2, "") and err.startswith("aish: syntax error"), err
    assert len(probe.seen) == calls  # nothing ran
    runner = Runner(app, out=io.StringIO(), err=io.StringIO())
    assert runner.is_command_line("grab owl a|b") and not runner.is_command_line("grab owl | tr a-z A-Z")  # recorded


def test_commands_win_over_agents_and_cannot_take_reserved_names(demo_url: str, tmp_path: Path) -> None:
    class Clash:
        @hookimpl
        def aish_register_commands(self, register: RegisterCommand) -> None:
            register("athena", lambda inv: inv.out.write("the command\n") and 0, summary="Shadows an agent.")

    app = build_app(Config(), extra_plugins=[("clash", Clash())])
    assert run(app, "athena hi") == (0, "the command\n", "")
    assert app.commands["athena"].plugin == "clash" and ("command", "athena") in app.host.plugins["clash"].registered


@pytest.mark.parametrize(
    ("name", "func", "summary", "reason"),
    [
        ("two words", print, "ok", "registered a command with a bad name 'two words'"),
        ("help", print, "ok", "registered command 'help', a name aish keeps for itself"),
        ("echo", print, "ok", "registered command 'echo', a name aish keeps for itself"),
        ("agents", print, "ok", "command 'agents' is already registered by plugin 'commands'"),
        ("fine", "not callable", "ok", "registered command 'fine' with str, not a callable"),
        ("fine", print, "", "registered command 'fine' without a one-line summary"),
    ],
)
def test_bad_registrations_fail_only_their_plugin(name: str, func: object, summary: str, reason: str) -> None:
    class Broken:
        @hookimpl
        def aish_register_commands(self, register: Callable[..., None]) -> None:
            register("early", print, summary="Registered before the bad one.")
            register(name, func, summary=summary)

    app, _probe = probe_app(("broken", Broken()))
    info = app.host.plugins["broken"]
    assert info.status == "failed" and reason in (info.error or ""), info.error
    assert "early" not in app.commands  # what it registered first is forgotten
    assert {"agents", "plugins", "history", "said", "grab"} <= set(app.commands)


class Mender:
    """A plugin whose ``notes fix`` mends an invalid configuration, as the built-in ``agents edit`` does."""

    @hookimpl
    def aish_register_commands(self, register: RegisterCommand) -> None:
        register("notes", print, summary="Notes.", mends_config="fix")


@pytest.mark.parametrize(
    ("argv", "goes_on", "said"),
    [
        ({"target": "notes", "words": ["fix"]}, True, ""),
        ({"target": "agents", "words": ["edit"]}, True, ""),
        ({"target": None, "words": [], "tty": True}, True, "'agents edit' or 'notes fix' opens it"),
        ({"target": "notes", "words": ["list"]}, False, ""),
        ({"target": "agents", "words": []}, False, ""),
        ({"target": None, "words": [], "command": "notes fix"}, False, ""),
        ({"target": None, "words": []}, False, ""),  # piped into aish: a script, not the shell
    ],
)
def test_an_invalid_file_stops_every_line_but_the_shell_and_a_command_that_mends_it(
    argv: dict[str, object], goes_on: bool, said: str
) -> None:
    import argparse

    from aish.cli_input import without_the_file
    from aish.errors import ConfigError

    app = build_app(Config(), extra_plugins=[("mender", Mender())])
    args = argparse.Namespace(command=argv.get("command"), target=argv["target"], words=argv["words"])
    error, err = ConfigError("c.toml: agent 'x': missing key 'url'"), io.StringIO()
    if not goes_on:
        with pytest.raises(ConfigError):
            without_the_file(app, args, bool(argv.get("tty")), error, err)
        assert err.getvalue() == ""
        return
    without_the_file(app, args, bool(argv.get("tty")), error, err)
    assert err.getvalue().startswith("aish: c.toml: agent 'x': missing key 'url'\n")
    assert said in err.getvalue()


def test_mends_config_is_one_word() -> None:
    class Bad:
        @hookimpl
        def aish_register_commands(self, register: Callable[..., None]) -> None:
            register("notes", print, summary="Notes.", mends_config="fix it")

    app, _probe = probe_app(("bad", Bad()))
    assert "with mends_config='fix it', not one word" in (app.host.plugins["bad"].error or "")


@pytest.mark.parametrize("raw", ["", "two words", " search"])
def test_raw_is_true_false_or_one_word(raw: str) -> None:
    class Bad:
        @hookimpl
        def aish_register_commands(self, register: Callable[..., None]) -> None:
            register("notes", print, summary="Notes.", raw=raw)

    app, _probe = probe_app(("bad", Bad()))
    assert f"with raw={raw!r}, not True, False or one word" in (app.host.plugins["bad"].error or "")


def test_secret_words_is_a_callable() -> None:
    class Bad:
        @hookimpl
        def aish_register_commands(self, register: Callable[..., None]) -> None:
            register("notes", print, summary="Notes.", secret_words=["KEY"])

    app, _probe = probe_app(("bad", Bad()))
    assert "with secret_words=['KEY'], not a callable" in (app.host.plugins["bad"].error or "")


def test_typed_secrets_are_the_words_a_command_declares_wherever_it_is_on_the_line() -> None:
    """Quoted, after ``;`` or in a raw line's text: each call's declared words; a line aish cannot
    parse is taken word by word (it is recorded as typed)."""

    class Vault:
        @hookimpl
        def aish_register_commands(self, register: Callable[..., None]) -> None:
            register("vault", print, summary="Vault.", secret_words=lambda words: words[1:2])
            register("find", print, summary="Find.", raw=True, secret_words=lambda words: words[:1])

    app, _probe = probe_app(("vault", Vault()))
    assert app.typed_secrets("athena hi") == []
    assert app.typed_secrets("vault put 'two words' rest; athena vault put x") == ["two words"]
    assert app.typed_secrets("athena hi\nfind sk-raw a|b") == ["sk-raw"]
    assert app.typed_secrets('vault put sk-open "unclosed') == ["sk-open"]
    assert app.typed_secrets("vault") == []


def test_the_commands_plugin_is_essential(write_config: Callable[[str], Path]) -> None:
    from aish.config import load_config

    config = load_config(str(write_config('[settings]\ndisable_plugins = ["commands", "demo"]\n')))
    app = build_app(config)
    assert app.host.plugins["commands"].status == "loaded" and app.host.plugins["demo"].status == "disabled"
    assert {"agents", "plugins", "history"} <= set(app.commands)
    status, _out, err = run(app, "plugins disable commands")
    assert (status, err) == (2, "aish: plugins: commands is essential to aish and cannot be disabled\n")


# ------------------------------------------------------ real processes


def _agents_listing() -> str:
    result = run_aish("agents")
    assert result.returncode == 0 and result.stdout.startswith("NAME "), result.stderr
    return result.stdout


def test_the_same_line_in_dash_c_a_script_and_stdin(demo_url: str, tmp_path: Path) -> None:
    expected = "hi\n" + _agents_listing()
    script = tmp_path / "list.aish"
    script.write_text("echo hi; agents\n", encoding="utf-8")
    for result in (
        run_aish("-c", "echo hi; agents"),
        run_aish(str(script)),
        run_aish(input="echo hi\nagents\n"),
    ):
        assert (result.returncode, result.stdout, result.stderr) == (0, expected, "")


def test_a_line_that_is_only_a_command_is_not_recorded(demo_url: str) -> None:
    assert run_aish("-c", "agents").returncode == 0
    assert run_aish("-c", "history search x|y").stdout == ""  # raw: searched, not piped to agent y
    assert run_aish("-c", "echo mixed; agents").returncode == 0
    rows = run_aish("history").stdout.splitlines()
    assert len(rows) == 1 and rows[0].endswith("echo mixed; agents"), rows


def spawn_shell(refserver: RefServer, **env: str) -> pexpect.spawn:
    full = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", **env}
    child = pexpect.spawn(sys.executable, ["-m", "aish"], env=full, encoding="utf-8", timeout=20, dimensions=(50, 200))
    child.expect_exact(PROMPT)
    return child


@pytest.fixture
def shell(refserver: RefServer) -> Iterator[pexpect.spawn]:
    child = spawn_shell(refserver)
    try:
        yield child
    finally:
        child.close(force=True)


def test_the_same_line_in_the_shell(shell: pexpect.spawn, demo_url: str) -> None:
    expected = "hi\n" + _agents_listing()
    shell.sendline("echo hi; agents")
    for row in expected.splitlines():
        shell.expect_exact(f"{row}\r\n")
        assert "unknown agent" not in shell.before
    shell.expect_exact(PROMPT)


def test_help_and_completion_come_from_the_registry(shell: pexpect.spawn) -> None:
    shell.sendline("help history")
    shell.expect_exact("Recorded runs: list, show, search, export, remove")
    shell.expect_exact("history search TEXT")
    shell.expect_exact(PROMPT)
    shell.send("plugins en\t")
    shell.expect_exact("able")  # the rest of "enable", typed by completion (the line is coloured)
    shell.send("\x03")  # abandon the line
    shell.expect_exact(PROMPT)
    shell.sendline("help")
    shell.expect(r"agents[\s\S]*history[\s\S]*plugins")
    shell.expect_exact(PROMPT)


# ------------------------------------- a third-party plugin's command, installed


@pytest.fixture(scope="module")
def hello_installed() -> Iterator[None]:
    with example_installed("aish-hello"):
        yield


@pytest.mark.usefixtures("hello_installed")
class TestInstalledPluginCommand:
    def test_listed_with_its_command(self) -> None:
        result = run_aish("plugins")
        assert re.search(r"^hello\s+aish-hello 0\.1\.0\s+loaded\s+command hello$", result.stdout, re.M), result.stdout

    def test_command_line_dash_c_and_script(self, demo_url: str, tmp_path: Path) -> None:
        assert run_aish("hello", "athena").stdout == "hello athena\n"
        assert run_aish("-c", "echo hi; hello; hello two words").stdout == "hi\nhello world\n"
        script = tmp_path / "greet.aish"
        script.write_text("hello apollo\nhello a b\necho done\n", encoding="utf-8")
        result = run_aish(str(script))
        assert (result.returncode, result.stdout) == (0, "hello apollo\ndone\n")
        assert result.stderr == f"aish: {script}:2: hello: give at most one name\n"  # the file and its line
        failed = run_aish("-c", "hello two words")
        assert (failed.returncode, failed.stderr) == (2, "aish: hello: give at most one name\n")

    def test_in_the_shell_with_help_and_completion(self, refserver: RefServer) -> None:
        child = spawn_shell(refserver)
        try:
            child.sendline("echo hi; hello athena")
            child.expect_exact("hi\r\nhello athena\r\n")
            child.expect_exact(PROMPT)
            child.sendline("help hello")
            child.expect_exact("Say hello.\r\nusage: hello [NAME]")
            child.expect_exact(PROMPT)
            child.send("hello her\t")
            child.expect_exact("mes")  # completed from the agents' names
            child.send("\r")
            child.expect_exact("hello hermes\r\n")
            child.expect_exact(PROMPT)
            child.sendline("quit")
            child.expect(pexpect.EOF)
        finally:
            child.close(force=True)


# ---------------------------------------------------------------------- cd


def test_cd_changes_where_the_rest_of_the_line_runs(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "notes.txt").write_text("in sub\n")
    result = run_aish("-c", "cd sub; cat notes.txt; pwd; cat < notes.txt; cd -; pwd; cd; pwd", cwd=tmp_path)
    home = os.path.realpath(os.environ["HOME"])
    sub = os.path.realpath(tmp_path / "sub")
    assert result.stdout.splitlines() == ["in sub", sub, "in sub", str(tmp_path), str(tmp_path), home]
    assert result.returncode == 0, result.stderr


def test_cds_words_are_expanded_as_a_programs(tmp_path: Path) -> None:
    """Found on a tour: ``cd $HOME`` said ``cd: $HOME: no such directory``. ``cd`` registers
    ``expands=True``: its words are expanded as a program's (decision 90); quoted, they are not."""
    (tmp_path / "projects").mkdir()
    (tmp_path / "$HOME").mkdir()
    line = "cd $AISH_TEST_TOP/proj*; !pwd; cd -; cd '$HOME'; !pwd; cd \"$AISH_TEST_TOP\"; !pwd"
    result = run_aish("-c", line, cwd=tmp_path, env={"AISH_TEST_TOP": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        str(tmp_path / "projects"),
        str(tmp_path),
        str(tmp_path / "$HOME"),
        str(tmp_path),
    ]


def test_cd_tells_what_is_wrong_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    for line, message in [
        ("cd nowhere", "aish: cd: nowhere: no such directory"),
        ("cd file", "aish: cd: file: not a directory"),
        ("cd a b", "aish: cd: too many arguments"),
        ("cd -", "aish: cd: -: no previous directory yet"),
        ("!cd /", "aish: !cd: a child shell's cd cannot change aish's directory; use cd DIR"),
        ("! cd /", "aish: !cd: a child shell's cd cannot change aish's directory; use cd DIR"),
    ]:
        result = run_aish("-c", line, cwd=tmp_path, env={"OLDPWD": ""})
        assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, (line, result.stderr)
        assert result.returncode == 2, line


def test_cd_in_the_shell_and_tab_offers_directories(shell: pexpect.spawn, tmp_path: Path) -> None:
    (tmp_path / "alpha-dir").mkdir()
    (tmp_path / "alpha-file").write_text("")
    shell.sendline(f"cd {tmp_path}")
    shell.expect_exact(PROMPT)
    shell.send("cd alp\t")
    shell.expect_exact("ha-dir/")  # the file is not offered, so the directory is completed whole
    shell.sendline("")
    shell.expect_exact(PROMPT)
    shell.sendline("pwd")
    shell.expect_exact(os.path.realpath(tmp_path / "alpha-dir"))
    shell.expect_exact(PROMPT)


# --------------------------------------------------------- fitting the screen


def test_help_and_agents_fit_an_80_column_terminal(refserver: RefServer) -> None:
    """Summaries and descriptions wrap at word boundaries under their column; nothing reaches
    the edge (a terminal would break it mid-word). On a pipe the rows stay whole."""
    env = {**os.environ, "AISH_DEMO_URL": refserver.base_url, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "aish"], env=env, encoding="utf-8", timeout=20, dimensions=(50, 80))
    try:
        child.expect_exact(PROMPT)
        shown = ""
        for line, first in (("help", "aish lines"), ("agents", "NAME")):
            child.sendline(line)
            child.expect_exact(first)
            child.expect_exact(PROMPT)
            shown += first + re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", child.before)
    finally:
        child.close(force=True)
    rows = shown.replace("\r", "").split("\n")
    assert max(len(row) for row in rows) < 80, max(rows, key=len)
    flat = " ".join(shown.split())
    app = build_app(Config())
    for spec in app.commands.values():
        assert spec.summary in flat, spec.summary
    for agent in app.agents().values():
        assert agent.description in flat
    piped = run_aish("agents").stdout.splitlines()
    assert len(piped) == 1 + len(app.agents())  # a header and a row per agent, however long
