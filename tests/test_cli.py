"""The ``aish`` command line, as a user runs it: real processes, real servers."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from aish.testing import agent_toml, run_aish
from aish_refserver import RefServer


def test_dash_c_runs_a_line(demo_url: str) -> None:
    result = run_aish("-c", 'echo "Explain quantum computing" | athena')
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Athena (offline demo):")
    assert result.stdout.endswith(".\n") and result.stdout.count("\n") == 1  # the answer, its line ended
    assert result.stderr == ""


def test_python_dash_m_and_console_script_agree(demo_url: str) -> None:
    script = Path(sys.executable).parent / "aish"
    via_script = subprocess.run(
        [str(script), "-c", "athena same"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60
    )
    assert via_script.returncode == 0
    assert via_script.stdout == run_aish("-c", "athena same").stdout


def test_agent_and_text_arguments_are_not_reparsed(demo_url: str, refserver: RefServer) -> None:
    result = run_aish("athena", "a | b > c", "d")
    assert result.returncode == 0, result.stderr
    assert refserver.requests[0].body is not None
    assert refserver.requests[0].body["messages"][-1]["content"] == "a | b > c d"


def test_piped_stdin_to_an_agent(demo_url: str, refserver: RefServer) -> None:
    result = run_aish("athena", input="text from a pipe\n")
    assert result.returncode == 0 and result.stdout
    assert refserver.requests[0].body is not None
    assert refserver.requests[0].body["messages"][-1]["content"] == "text from a pipe\n"


def test_script_file(demo_url: str, tmp_path: Path) -> None:
    script = tmp_path / "review.aish"
    script.write_text('# a script\necho "start"\nathena "one" > a.md\necho x |\n  cat\n')
    result = run_aish(str(script), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "start\nx\n"
    assert (tmp_path / "a.md").read_text().startswith("Athena (offline demo):")


def test_script_on_stdin(demo_url: str) -> None:
    result = run_aish(input="echo one\necho two\n")
    assert (result.returncode, result.stdout) == (0, "one\ntwo\n")


def test_exit_codes(demo_url: str, tmp_path: Path) -> None:
    assert run_aish("-c", "echo |").returncode == 2
    assert run_aish("-c", "zeus hi").returncode == 3
    assert run_aish("zeus", "hi").returncode == 3
    assert run_aish("--renderer", "nope", "-c", "athena hi").returncode == 3
    config = tmp_path / "c.toml"
    config.write_text(agent_toml("down", "http://127.0.0.1:9/v1") + agent_toml("bad", demo_url, model="nope"))
    assert run_aish("--config", str(config), "-c", "down hi").returncode == 4
    assert run_aish("--config", str(config), "-c", "bad hi").returncode == 5
    assert run_aish("--config", str(tmp_path / "missing.toml"), "agents").returncode == 2


def test_errors_are_one_line_and_tracebacks_only_with_debug(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(agent_toml("down", "http://127.0.0.1:9/v1"))
    plain = run_aish("--config", str(config), "-c", "down hi")
    assert plain.stderr.count("\n") == 1 and "Traceback" not in plain.stderr
    debug = run_aish("--debug", "--config", str(config), "-c", "down hi")
    assert "Traceback" in debug.stderr and debug.stderr.endswith(plain.stderr)


def test_non_interactive_paths_do_not_import_cmd2(demo_url: str) -> None:
    code = (
        "import sys\n"
        "from aish.cli import main\n"
        "rc = main(['-c', 'echo hi | athena'])\n"
        "main(['agents']); main(['plugins'])\n"
        "print('\\nCMD2' if 'cmd2' in sys.modules else '\\nNOCMD2', rc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60
    )
    assert result.stdout.splitlines()[-1] == "NOCMD2 0", result.stderr


def test_agents_listing_never_shows_keys(tmp_path: Path, monkeypatch: object) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        agent_toml("paid", "https://api.example.invalid/v1")
        + 'api_key_env = "PAID_KEY"\nheaders = { Authorization = "Bearer sk-header-secret" }\n'
    )
    result = run_aish("--config", str(config), "agents", env={"PAID_KEY": "sk-env-secret"})
    assert result.returncode == 0
    assert "paid" in result.stdout and "https://api.example.invalid/v1" in result.stdout
    assert "sk-" not in result.stdout and "Bearer" not in result.stdout


def test_version() -> None:
    result = run_aish("--version")
    assert result.returncode == 0 and result.stdout.startswith("aish ")


def test_ctrl_c_mid_stream_keeps_the_partial_and_exits_130(tmp_path: Path) -> None:
    with RefServer(pace=0.05).start() as server:
        env = {**os.environ, "AISH_DEMO_URL": server.base_url}
        proc = subprocess.Popen(
            [sys.executable, "-m", "aish", "-c", "athena tell me a long story"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None
        first = os.read(proc.stdout.fileno(), 100)  # the answer has started streaming
        assert first
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    assert proc.returncode == -signal.SIGINT  # ended as Ctrl-C ends a program: a shell shows 130
    assert elapsed < 2.0  # stops at once, not at the end of the answer
    partial = (first + rest).decode()
    assert partial.startswith("Athena")
    full_length = 64  # tokens in a full answer; far more than arrived
    assert len(partial.split()) < full_length
    assert err.decode().strip().splitlines() == ["aish: athena: interrupted (partial answer kept)"]


def test_make_app_is_not_needed_for_cli(make_app: Callable[..., object]) -> None:
    # The CLI builds its own app from the environment; a fixture app does not leak into it.
    assert run_aish("-c", "echo independent").stdout == "independent\n"


def test_dash_c_reads_piped_input_when_the_line_starts_with_an_agent(demo_url: str, refserver: RefServer) -> None:
    result = run_aish("-c", "athena | hermes", input="piped question\n")
    assert result.returncode == 0, result.stderr
    first = refserver.requests[0].body
    assert first is not None and first["messages"][-1]["content"] == "piped question\n"
    assert run_aish("-c", "cat", input="through\n").stdout == "through\n"
    # a line that brings its own input never waits for stdin
    assert run_aish("-c", "echo own", input="ignored\n").stdout == "own\n"


def test_command_words_and_missing_scripts() -> None:
    assert (
        run_aish("agents", "extra").stderr == "aish: agents: unknown subcommand 'extra' (usage: agents [add NAME URL "
        "[-m MODEL] [--codec CODEC] [--key-env VAR] [-d DESCRIPTION] | remove NAME | edit])\n"
    )
    missing = run_aish("missing.aish")
    assert (missing.returncode, missing.stderr) == (2, "aish: missing.aish: no such script file\n")


def test_aish_debug_zero_means_off(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(agent_toml("down", "http://127.0.0.1:9/v1"))
    off = run_aish("--config", str(config), "-c", "down hi", env={"AISH_DEBUG": "0"})
    on = run_aish("--config", str(config), "-c", "down hi", env={"AISH_DEBUG": "1"})
    assert "Traceback" not in off.stderr and "Traceback" in on.stderr


def test_output_redirection_expands_home(demo_url: str, tmp_path: Path) -> None:
    result = run_aish("-c", "echo saved > ~/note.txt", env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "note.txt").read_text() == "saved\n"


def test_an_agent_with_nothing_to_send_leaves_the_output_file_alone(demo_url: str, tmp_path: Path) -> None:
    """``athena > notes.md`` (the text forgotten) emptied notes.md, then said 'nothing to send';
    usage.md says a pipeline that fails its checks does not create or truncate the file."""
    notes = tmp_path / "notes.md"
    notes.write_text("precious\n", encoding="utf-8")
    for line in (f"athena > {notes}", f"apollo & athena > {notes}", f"athena | wc -c > {notes}"):
        result = run_aish("-c", line)
        assert result.returncode == 2 and "nothing to send" in result.stderr, (line, result.stderr)
        assert notes.read_text(encoding="utf-8") == "precious\n", line
    assert not (tmp_path / "new.md").exists() and run_aish("-c", f"athena > {tmp_path / 'new.md'}").returncode == 2
    assert not (tmp_path / "new.md").exists()


def test_a_misspelt_command_gets_a_suggestion_as_a_misspelt_agent_does() -> None:
    for typed, meant in [("histroy", "history"), ("hlep", "help"), ("agnets", "agents"), ("qiut", "quit")]:
        result = run_aish("-c", typed)
        assert result.returncode == 3
        known = "(known: apollo, athena, hermes)"
        assert result.stderr == f"aish: unknown agent {typed!r}, did you mean {meant!r}? {known}\n"
    assert "did you mean 'models'?" in run_aish("modles", "athena").stderr
    assert "did you mean" not in run_aish("-c", "zzzz").stderr


def test_errors_in_a_script_file_name_its_line(tmp_path: Path) -> None:
    """A script's error gave no line, and the hint meant for pasted text."""
    script = tmp_path / "s.aish"
    script.write_text(
        'echo one\necho "a\nb"\n\nnosuch hi\necho two; zzz x\nhistory bogus\nhistory search x | yyy hi\n',
        encoding="utf-8",
    )
    result = run_aish(str(script), cwd=tmp_path)
    assert result.stderr.splitlines() == [
        f"aish: {script}:5: unknown agent 'nosuch' (known: apollo, athena, hermes)",
        f"aish: {script}:6: unknown agent 'zzz' (known: apollo, athena, hermes)",
        f"aish: {script}:7: history: unknown subcommand 'bogus' (see 'history help')",
        f"aish: {script}:8: unknown agent 'yyy' (known: apollo, athena, hermes)",  # after a raw line's ' | '
    ]
    broken = tmp_path / "bad.aish"
    broken.write_text("echo a\n(echo b |\n", encoding="utf-8")
    assert run_aish(str(broken)).stderr.startswith(f"aish: {broken}: syntax error at line 2, column 9: ")


@pytest.mark.parametrize("cid", [False, True])
def test_the_bracket_form_on_the_command_line_is_the_options(demo_url: str, cid: bool) -> None:
    """``aish athena[-m echo] hi``, the language's form, reaches aish split by the calling shell
    (``athena[-m``, ``echo]``, ``hi``): it asks as ``aish athena -m echo hi`` does, and so does the form
    quoted whole. With --cid too (it once sent 'athena[-o max_tokens 4] hi' as text)."""
    before: list[str] = []
    if cid:
        assert run_aish("athena", "hi").returncode == 0
        before = ["--cid", run_aish("conversations").stdout.split()[0]]
    split = ["athena[-m", "echo", "-s", "be brief]", "-v", "is", "verbose"]  # bash's words
    whole = ['athena[-m echo -s "be brief"]', "-v"]  # quoted whole, as the language splits it
    for words, answer in ((split, "-v is verbose\n"), (whole, "-v\n"), (["athena[-m echo] a 'b c'", "d"], "a b c d\n")):
        result = run_aish(*before, *words)
        assert (result.returncode, result.stderr, result.stdout) == (0, "", answer), result.stderr
    listed = run_aish("history").stdout.splitlines()[-3:]
    assert [line.split(None, 4)[-1] for line in listed] == [
        "athena[-m echo -s 'be brief'] -v is verbose",
        "athena[-m echo -s 'be brief'] -v",
        "athena[-m echo] a b c d",  # the same text: recorded as typed
    ]
    unclosed = run_aish(*before, "athena[-o", "max_tokens", "4", "hi")
    assert (unclosed.returncode, unclosed.stdout) == (2, "")
    assert unclosed.stderr == (
        "aish: athena[-o: no ']' closes its options (or without brackets: aish athena -m MODEL ... TEXT)\n"
    )
    bad = run_aish(*before, "athena[-q]", "hi")
    assert bad.stderr.startswith("aish: syntax error at column 8: unknown option '-q'"), bad.stderr


def test_an_unknown_agent_says_when_the_configuration_hides_agents(tmp_path: Path) -> None:
    """After 'plugins disable demo', 'athena hi' said only 'unknown agent'."""
    config = tmp_path / "config.toml"
    config.write_text('[settings]\ndisable_plugins = ["demo"]\n', encoding="utf-8")
    for args in (["athena", "hi"], ["-c", "athena hi"]):
        result = run_aish("--config", str(config), *args)
        assert result.returncode == 3
        assert result.stderr == "aish: unknown agent 'athena'; plugins disabled: demo ('plugins enable NAME')\n"
    config.write_text("[settings]\nplugin_agents = false\n", encoding="utf-8")
    hidden = run_aish("--config", str(config), "-c", "athena hi").stderr
    assert hidden == "aish: unknown agent 'athena'; agents offered by plugins are hidden (plugin_agents = false)\n"


def test_a_misspelt_option_gets_did_you_mean() -> None:
    result = run_aish("--contineu", "hi")
    assert result.returncode == 2
    assert result.stderr == "aish: unrecognized arguments: --contineu, did you mean '--continue'? (see 'aish --help')\n"
    assert run_aish("--zzz").stderr == "aish: unrecognized arguments: --zzz (see 'aish --help')\n"


def test_per_call_options_before_the_agent_say_where_they_go(demo_url: str) -> None:
    """``llm -m MODEL TEXT`` habits: aish's per-call options follow the agent's name."""
    for first in ("-m", "--system", "-o"):
        result = run_aish(first, "echo", "athena", "hi")
        assert result.returncode == 2
        assert result.stderr == (
            f"aish: unrecognized arguments: {first}; per-call options go after the agent's name "
            "(aish AGENT -m MODEL TEXT...) (see 'aish --help')\n"
        )


def test_an_agents_help_option_shows_its_help(demo_url: str) -> None:
    for flag in ("--help", "-h"):
        result = run_aish("athena", flag)
        assert (result.returncode, result.stderr) == (0, "")
        assert "description  offline demo: knowledge and wisdom" in result.stdout
        assert "options      max_tokens = 256" in result.stdout  # with their values
        assert "Ask it: athena TEXT" in result.stdout
        assert "For one call: athena[-m MODEL -s SYSTEM -o KEY VALUE -x -e] TEXT" in result.stdout
    assert run_aish("athena", "--", "--help").returncode == 0  # after '--' it is text, sent to athena


def test_a_default_agent_takes_text_that_names_nothing(demo_url: str, refserver: RefServer, tmp_path: Path) -> None:
    """``aish what is a monad``, as ``llm TEXT`` asks its default model; never a misspelt agent's line."""
    unset = run_aish("what", "is", "a", "monad")
    assert unset.returncode == 3
    assert unset.stderr == (
        "aish: unknown agent 'what' (known: apollo, athena, hermes); to ask an agent, name it first "
        "(aish apollo what is a monad), or set default_agent in [settings]\n"
    )  # and no "did you mean 'chat'?": one letter of four is too far
    config = tmp_path / "aish.toml"
    config.write_text('[settings]\ndefault_agent = "hermes"\n', encoding="utf-8")
    asked = run_aish("--config", str(config), "what", "is", "a", "monad")
    assert (asked.returncode, asked.stderr) == (0, "")
    assert asked.stdout.startswith("Hermes (offline demo):")
    assert refserver.requests[-1].body["messages"][-1]["content"] == "what is a monad"
    piped = run_aish("--config", str(config), "summarize", "this", input="piped text\n")
    assert piped.returncode == 0
    assert refserver.requests[-1].body["messages"][-1]["content"] == "piped text\n\nsummarize this"
    typo = run_aish("--config", str(config), "atena", "hi")
    assert typo.returncode == 2
    assert typo.stderr.startswith("aish: default agent hermes: 'atena' is not an agent, did you mean 'athena'?")
    config.write_text('[settings]\ndefault_agent = "zeus"\n', encoding="utf-8")
    wrong = run_aish("--config", str(config), "what", "now")
    assert wrong.stderr == "aish: [settings] default_agent: 'zeus' is not an agent (see 'aish agents')\n"


def test_dash_c_says_when_piped_input_goes_unread(demo_url: str, refserver: RefServer, tmp_path: Path) -> None:
    """``cat notes | aish -c 'athena summarize'`` sends only 'summarize' (a first stage with words
    reads no input): said on stderr, from a pipe and from a file; not when the line reads it."""
    warning = "aish: warning: standard input is not read: with -c an agent reads it only without words"
    from_pipe = run_aish("-c", "athena summarize", input="my notes\n")
    assert from_pipe.returncode == 0 and from_pipe.stderr.startswith(warning), from_pipe.stderr
    assert refserver.requests[-1].body["messages"][-1]["content"] == "summarize"
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    with notes.open("rb") as file:
        from_file = subprocess.run(
            [sys.executable, "-m", "aish", "-c", "athena summarize"], stdin=file, capture_output=True, text=True
        )
    assert from_file.stderr.startswith(warning)
    read = run_aish("-c", "athena", input="my notes\n")
    assert (read.returncode, read.stderr) == (0, "")
    assert refserver.requests[-1].body["messages"][-1]["content"] == "my notes\n"
    assert run_aish("-c", "athena summarize").stderr == ""  # nothing piped


def test_dash_c_feeds_piped_input_to_a_parallel_group_without_words(demo_url: str, refserver: RefServer) -> None:
    """``cat notes | aish -c 'apollo & athena'`` failed with 'apollo: nothing to send'; each lane gets it."""
    result = run_aish("-c", "apollo & athena", input="my notes\n")
    assert (result.returncode, result.stderr) == (0, "")
    assert sorted(r.body["model"] for r in refserver.requests if r.body) == ["apollo", "athena"]
    assert all(r.body["messages"][-1]["content"] == "my notes\n" for r in refserver.requests if r.body)


def test_dash_c_leaves_piped_input_to_a_program_that_starts_a_pipeline(
    demo_url: str, refserver: RefServer, tmp_path: Path
) -> None:
    """``cat log | aish -c 'grep ERROR | athena'``: grep read nothing (aish gave it /dev/null, with a
    warning that the input went unread), as ``sh -c`` would not; ``aish -c sha256sum`` got the
    input decoded as text. A program reads aish's standard input itself, byte for byte."""
    log = "ok 1\nERROR disk full\nok 2\n"
    grep = run_aish("-c", "grep ERROR | athena[-m echo]", input=log)
    assert (grep.returncode, grep.stderr) == (0, "")
    posted = [r.body for r in refserver.requests if r.body]  # -m's check of the model list may come last
    assert posted[-1]["messages"][-1]["content"] == "ERROR disk full\n"
    counted = run_aish("-c", "echo start; grep -c ok", input=log)  # a later pipeline's program reads it too
    assert (counted.stdout, counted.stderr) == ("start\n2\n", "")
    script = tmp_path / "errors.aish"
    script.write_text("grep -c ERROR\n", encoding="utf-8")
    assert run_aish(str(script), input=log).stdout == "1\n"  # a script's programs too, as a shell script's
    data = bytes(range(256)) * 40  # not UTF-8
    (tmp_path / "data.bin").write_bytes(data)
    for line in ("sha256sum", "!sha256sum", "cat | sha256sum"):
        with (tmp_path / "data.bin").open("rb") as file:
            done = subprocess.run([sys.executable, "-m", "aish", "-c", line], stdin=file, capture_output=True)
        if line.startswith("cat"):  # the built-in cat takes text: decoded, with a warning
            assert b"not UTF-8" in done.stderr
            continue
        assert done.stdout.decode().split()[0] == hashlib.sha256(data).hexdigest(), (line, done.stderr)
        assert done.stderr == b""


@pytest.mark.parametrize(
    ("path", "why"),
    [
        # a url copied from an API's docs (``.../v1/chat/completions``) gets that path twice
        ("/chat/completions", "the agent's url should end before /chat/completions: the codec adds it"),
        # Anthropic's ``/messages`` in a hand-written ``openai-chat`` agent's url
        (
            "/messages",
            "the url ends with /messages, another wire format's path; this agent's codec adds /chat/completions",
        ),
    ],
)
def test_a_url_ending_with_a_codecs_path_says_where_it_should_end(
    refserver: RefServer, tmp_path: Path, path: str, why: str
) -> None:
    config = tmp_path / "aish.toml"
    config.write_text(agent_toml("copied", refserver.base_url + path), encoding="utf-8")
    result = run_aish("--config", str(config), "-c", "copied hi")
    assert result.returncode == 5
    assert result.stderr.startswith(
        f"aish: copied: not found ({why}): HTTP 404 from {refserver.base_url}{path}/chat/completions"
    ), result.stderr


def test_a_url_without_v1_says_where_such_servers_answer(refserver: RefServer, tmp_path: Path) -> None:
    """``agents add llama localhost:11434``: Ollama, vLLM and the reference server answer under /v1 only."""
    root = refserver.base_url.removesuffix("/v1")
    config = tmp_path / "aish.toml"
    config.write_text(agent_toml("bare", root), encoding="utf-8")
    result = run_aish("--config", str(config), "-c", "bare hi")
    assert result.returncode == 5
    assert result.stderr.startswith(
        f"aish: bare: not found (servers of this API usually answer under /v1: is the agent's url {root}/v1?): "
        f"HTTP 404 from {root}/chat/completions"
    ), result.stderr


def test_help_for_an_agent_says_whether_its_key_variable_is_set(tmp_path: Path) -> None:
    config = tmp_path / "aish.toml"
    config.write_text(
        agent_toml("keyed", "http://127.0.0.1:9/v1") + 'api_key_env = "HELP_TEST_KEY"\n',
        encoding="utf-8",
    )
    for value, said in [(None, "$HELP_TEST_KEY (not set)"), ("", "$HELP_TEST_KEY (empty)"), ("sk-x", "$HELP_TEST_KEY")]:
        env = {k: v for k, v in os.environ.items() if k != "HELP_TEST_KEY"}
        if value is not None:
            env["HELP_TEST_KEY"] = value
        shown = subprocess.run(
            [sys.executable, "-m", "aish", "--config", str(config), "keyed", "--help"],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
        ).stdout
        assert re.search(rf"^  key from +{re.escape(said)}$", shown, re.M), shown
        assert "sk-x" not in shown


def test_help_for_an_agent_never_shows_a_password_in_its_url(tmp_path: Path) -> None:
    """``help AGENT`` (and ``aish AGENT --help``) printed ``http://alice:hunter2pw@...`` whole."""
    config = tmp_path / "aish.toml"
    config.write_text(agent_toml("vault", "http://alice:hunter2pw@127.0.0.1:9/v1"), encoding="utf-8")
    for argv in (["vault", "--help"], ["-c", "help vault"]):
        shown = run_aish("--config", str(config), *argv)
        assert re.search(r"^  url +http://alice:\*\*\*@127\.0\.0\.1:9/v1$", shown.stdout, re.M), shown
        assert "hunter2pw" not in shown.stdout + shown.stderr


def test_help_for_a_role_says_what_it_extends(tmp_path: Path) -> None:
    config = tmp_path / "aish.toml"
    config.write_text(
        agent_toml("local", "http://127.0.0.1:9/v1")
        + '[agents.reviewer]\nextends = "local"\n[agents.terse]\nextends = "reviewer"\n',
        encoding="utf-8",
    )
    shown = run_aish("--config", str(config), "-c", "help terse; help local").stdout
    assert re.search(r"^  extends +reviewer -> local$", shown, re.M), shown
    assert shown.count("extends") == 1, shown  # local extends nothing: no row


def test_lines_read_from_standard_input_have_line_numbers(demo_url: str) -> None:
    """``aish < lines.aish`` is a script: its errors say where, as ``aish lines.aish`` does."""
    result = run_aish(input="echo a\nnosuch x\necho b\n")
    assert result.stdout == "a\nb\n"
    assert result.stderr.startswith("aish: <stdin>:2: unknown agent 'nosuch'"), result.stderr


def test_words_after_a_script_file_are_refused(demo_url: str, tmp_path: Path) -> None:
    """``aish what is a monad`` beside a file named ``what`` ran it and dropped the words."""
    (tmp_path / "what").write_text("echo ran\n", encoding="utf-8")
    refused = run_aish("what", "is", "a", "monad", cwd=tmp_path)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == "aish: what: a script takes no arguments (to send words, name an agent first)\n"
    assert run_aish("what", cwd=tmp_path).stdout == "ran\n"


def test_a_file_that_is_not_utf8_read_for_an_agent_says_so_once(demo_url: str, tmp_path: Path) -> None:
    """``cat FILE | athena`` and ``athena < FILE`` make text of the file: U+FFFD and one warning, as
    for a program's output or piped input (it was silent)."""
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9 au lait\n")
    warning = "aish: warning: latin1.txt is not UTF-8 (first bad byte at offset 3); shown as U+FFFD\n"
    for line in ("cat latin1.txt | athena[-m echo]", "athena[-m echo] < latin1.txt"):
        result = run_aish("-c", line, cwd=tmp_path)
        assert (result.returncode, result.stdout, result.stderr) == (0, "caf\ufffd au lait\n", warning), line
    assert run_aish("-c", "cat latin1.txt | od -c", cwd=tmp_path).stderr == ""  # bytes to a program: no text made


def test_a_reader_that_goes_away_mid_answer_ends_aish_with_141(tmp_path: Path) -> None:
    """A 5 MB answer into ``| head -c 10``: one short write(2) was taken as the whole answer
    written, and aish ended 0; written in pieces, the next piece meets EPIPE (141, quietly)."""
    import shlex

    from servers import DONE, chunk, script, serving

    with serving(script([chunk(role="assistant"), chunk("word " * 1_000_000), chunk(finish="stop"), DONE])) as server:
        config = tmp_path / "aish.toml"
        config.write_text(agent_toml("big", server.url), encoding="utf-8")
        aish = shlex.join([sys.executable, "-m", "aish", "--config", str(config), "-c", "big hi"])
        done = subprocess.run(
            ["bash", "-c", f"{aish} 2>{tmp_path / 'err'} | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.stdout.strip() == "141", done.stdout
    assert (tmp_path / "err").read_text() == ""


def test_a_built_in_of_the_language_as_the_target_says_to_run_it_in_a_line(demo_url: str) -> None:
    """``aish echo hi``, ``aish team-chat hi``: not 'unknown agent', but how to run them."""
    for word in ("echo", "cat", "team-chat"):
        result = run_aish(word, "hi")
        assert result.returncode == 2
        assert result.stderr == (
            f"aish: {word} is part of the aish language, not a command: run it in a line (aish -c '{word} ...')\n"
        )


@pytest.mark.parametrize(
    ("history", "shown"), [("sqlite", "history = on"), ("off", "history = off (no history store)")]
)
def test_set_from_another_shell_shows_the_configured_history(tmp_path: Path, history: str, shown: str) -> None:
    """``aish set`` runs as a command (never recorded, so with no recorder): it said ``history = off (no
    history store)`` with history on."""
    config = tmp_path / "config.toml"
    config.write_text(f'[settings]\nhistory = "{history}"\n', encoding="utf-8")
    result = run_aish("set", env={"AISH_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert shown in result.stdout.splitlines()
