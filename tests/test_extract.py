"""``-x``: a stage's output is the first fenced code block of its answer (aish/pipeline/extract.py).

The extractor on text cut every way, then aish itself against a real HTTP
server that streams an OpenAI answer holding a code block, token by token:
in-process runs (the output, a file, a program, the next agent, history),
``aish AGENT -x`` as a command, and a real terminal.
"""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from servers import RawHTTPServer, openai_stream, script, serving
from terminal import Tmux

from aish.app import App
from aish.conversations import Conversations
from aish.pipeline.extract import CodeExtractor, code_of
from aish.runner import Runner
from aish.shell_chat import Chat
from aish.testing import Outcome

LONG = "    return f'hi {name}, and welcome to a line of code wider than the terminal it is shown on'"
ANSWER = f"Here is one:\n\n```python\ndef greet(name):\n{LONG}\n```\n\nCall it with a name.\n"
CODE = f"def greet(name):\n{LONG}\n"


def tokens(text: str, size: int = 3) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (ANSWER, CODE),
        ("no code, just words\n", "no code, just words\n"),  # the whole answer
        ("```\nfirst\n```\n```\nsecond\n```\n", "first\n"),  # the first block
        ("~~~sh\nls ```\n```\n~~~\n", "ls ```\n```\n"),  # closed by its own kind of fence
        ("````md\n```\ninner\n```\n````\n", "```\ninner\n```\n"),  # by one at least as long
        ("   ```\n  indented\n   ```", "  indented\n"),  # up to three blanks before a fence
        ("    ```\nnot a fence\n", "    ```\nnot a fence\n"),  # four: indented text, no fence
        ("```\nunclosed\n``", "unclosed\n``"),
        ("```\n``` still code\n```  \nafter\n", "``` still code\n"),  # trailing blanks close it
    ],
)
def test_the_first_fenced_block_whatever_the_cuts(text: str, code: str) -> None:
    assert code_of(text) == code
    for size in range(1, 9):
        extractor = CodeExtractor()
        assert "".join(extractor.feed(piece) for piece in tokens(text, size)) + extractor.finish() == code, size


def test_with_fences_the_block_is_given_whole_for_a_terminal() -> None:
    for size in range(1, 9):
        extractor = CodeExtractor(fences=True)
        shown = "".join(extractor.feed(piece) for piece in tokens(ANSWER, size)) + extractor.finish()
        assert shown == f"```python\n{CODE}```\n", size
    extractor = CodeExtractor(fences=True)
    assert extractor.feed("no fence at all") + extractor.finish() == "no fence at all"


def test_code_comes_out_as_it_streams_only_a_lines_start_is_held() -> None:
    extractor = CodeExtractor()
    assert extractor.feed("Here:\n```py\nprint(") == "print("
    assert extractor.feed("1)\n`") == "1)\n"  # a line starting with a backtick may close the block: held
    assert extractor.feed("x = 2\n") == "`x = 2\n"
    assert extractor.feed("```\nthe end") == ""
    assert extractor.finish() == ""


# ------------------------------------------------------------------ aish, against a server


@pytest.fixture
def server() -> Iterator[RawHTTPServer]:
    with serving(script(openai_stream(*tokens(ANSWER)))) as s:
        yield s


@pytest.fixture
def coder(server: RawHTTPServer) -> str:
    return f'[agents.coder]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{server.url}"\nmodel = "m"\n'


def test_the_output_is_the_code(
    run_line: Callable[..., Outcome], coder: str, tmp_path: Path, refserver: object, demo_url: str
) -> None:
    assert run_line("coder[-x] a greeting function", coder).out == CODE
    assert run_line("coder a greeting function", coder).out == ANSWER  # without -x: the answer
    target = tmp_path / "greet.py"
    assert run_line(f"coder[--extract] greet > {target}", coder).status == 0
    assert target.read_text() == CODE
    counted = run_line("coder[-x] greet | wc -l", coder)
    assert counted.out.strip() == "2", counted  # the program read the code alone
    shown = run_line("coder[-x] greet", coder, tty=True)
    assert f"```python\n{CODE}```\n" in shown.out and "Here is one" not in shown.out  # a terminal: the block


def test_the_next_agent_gets_the_code(run_line: Callable[..., Outcome], coder: str, demo_url: str) -> None:
    config = coder + f'[agents.echoer]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{demo_url}"\nmodel = "echo"\n'
    result = run_line("coder[-x] greet | echoer[-o context none]", config)
    assert result.status == 0, result.err
    assert result.out.split() == CODE.split()


def test_x_in_a_parallel_group_is_refused(run_line: Callable[..., Outcome], coder: str, demo_url: str) -> None:
    result = run_line("echo q | coder[-x] & athena", coder)
    assert result.status != 0
    assert result.err == "aish: coder[-x]: a parallel group's answers are passed on whole (-x is for one agent)\n"


def test_aish_agent_x_on_the_command_line(coder: str, tmp_path: Path) -> None:
    config = tmp_path / "aish.toml"
    config.write_text(coder, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "aish", "--config", str(config), "coder", "-x", "a", "greeting"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, CODE, "")
    kept = subprocess.run(
        [sys.executable, "-m", "aish", "history", "answer"], capture_output=True, text=True, timeout=60, check=False
    )
    assert kept.stdout == ANSWER  # history keeps the model's whole answer


def test_a_terminal_shows_the_block_alone_its_lines_whole(coder: str, tmp_path: Path) -> None:
    config = tmp_path / "aish.toml"
    config.write_text(coder, encoding="utf-8")
    command = shlex.join([sys.executable, "-m", "aish", "--config", str(config)])
    script = f"{command} coder -x greet; echo PLAIN; {command} --renderer markdown coder -x greet; echo DONE"
    with Tmux(["bash", "--norc", "-c", script], {}, width=60) as term:
        term.wait_for("^DONE$")
        lines = term.lines(joined=True)
    start = lines.index("[coder: Streaming...] ```python")
    assert lines[start + 1 : start + 4] == ["def greet(name):", LONG, "```"], lines  # LONG not broken: one line
    assert lines[start + 4].startswith("[coder: Complete - "), lines
    assert not any("Here is one" in line for line in lines), lines
    markdown = lines[lines.index("PLAIN") + 1 : lines.index("DONE")]
    assert any("def greet(name):" in line for line in markdown), markdown  # highlighted, no fences
    assert not any("```" in line for line in markdown), markdown


def test_copy_in_a_chat_with_x_takes_the_code(
    coder: str, make_app: Callable[..., App], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_clipboard import fake_program

    got = fake_program(tmp_path / "bin", "xclip")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    out, err = io.StringIO(), io.StringIO()
    talk = Chat("coder", Runner(make_app(coder), out=out, err=err, conversations=Conversations()), out, ["-x"])
    talk.handle("a greeting function")
    talk.handle("/copy")
    assert (got.read_text(), err.getvalue()) == (CODE, "")
