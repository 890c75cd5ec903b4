"""Per-call controls (issue 11, item 5): ``aish AGENT -m MODEL -s SYSTEM -o KEY VALUE ... TEXT`` and
``AGENT[...]`` in the language, seen in the bodies the reference server received."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aish.cli import main
from aish.lang.controls import ControlsError, parse_controls
from aish.testing import Outcome
from aish_refserver import RefServer
from tests.pipelines.conftest import codec_agents

Run = Callable[..., Outcome]


def aish(*argv: str, stdin: str = "") -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return Outcome(status, out.getvalue(), err.getvalue())


def bodies(refserver: RefServer) -> list[dict[str, Any]]:
    return [r.body for r in refserver.requests if r.method == "POST" and isinstance(r.body, dict)]


@pytest.fixture
def config(refserver: RefServer, write_config: Callable[[str], Path]) -> str:
    return str(write_config(codec_agents(refserver.base_url)))


def test_options_on_the_command_line_reach_the_request_body(refserver: RefServer, config: str) -> None:
    result = aish(
        "--config", config, "athena", "-m", "echo", "-s", "be brief", "-o", "temperature", "0.2",
        "-o", "stop", '["x", "y"]', "-o", "user", "ann", "what", "is", "up",
    )  # fmt: skip
    assert result.status == 0, result.err
    (body,) = bodies(refserver)
    assert body["model"] == "echo"
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "what is up"},
    ]
    assert (body["temperature"], body["stop"], body["user"]) == (0.2, ["x", "y"], "ann")
    assert result.out == "what is up\n"  # the echo model answered: -m took effect


def test_key_equals_value_is_one_option_word(refserver: RefServer, config: str) -> None:
    result = aish("--config", config, "athena", "-o", "temperature=0.2", "-o", "user=a=b", "-o", "model=echo", "hi")
    assert result.status == 0, result.err
    (body,) = bodies(refserver)
    assert (body["temperature"], body["user"], body["model"]) == (0.2, "a=b", "echo")
    assert body["messages"][-1]["content"] == "hi"  # the option took one word: "hi" is the text
    assert parse_controls(["-o", "max_tokens=80"])[0].options == (("max_tokens", 80),)
    with pytest.raises(ControlsError, match="not valid JSON"):
        parse_controls(["-o", "stop=[x"])
    with pytest.raises(ControlsError, match=r"-o temp needs a value after '=' \(-o temp=VALUE\)"):
        parse_controls(["-o", "temp="])
    with pytest.raises(
        ControlsError, match=r"-o temperature = \.\.\.: write -o temperature VALUE or -o temperature=VALUE"
    ):
        parse_controls(["-o", "temperature", "=", "0.5", "hi"], leading=True)


def test_words_after_the_text_are_never_options(refserver: RefServer, config: str) -> None:
    assert aish("--config", config, "athena", "hi", "-m", "echo").status == 0
    assert aish("--config", config, "athena", "--", "-m", "echo").status == 0
    assert aish("--config", config, "athena", "-5", "degrees", "-m", "x").status == 0
    first, second, third = bodies(refserver)
    assert [b["model"] for b in (first, second, third)] == ["athena"] * 3
    assert [b["messages"][-1]["content"] for b in (first, second, third)] == [
        "hi -m echo",
        "-m echo",
        "-5 degrees -m x",
    ]


def test_options_with_piped_input(refserver: RefServer, config: str) -> None:
    assert aish("--config", config, "athena", "-m", "echo", stdin="piped text\n").status == 0
    assert bodies(refserver)[0]["model"] == "echo"
    assert bodies(refserver)[0]["messages"][-1]["content"] == "piped text\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["athena", "-m"], "aish: athena: -m needs a model name\n"),
        (["athena", "-o", "temperature"], "aish: athena: -o temperature needs a value\n"),
        (
            ["athena", "-o", "a b", "1", "hi"],
            "aish: athena: -o: bad key 'a b' (ASCII letters, digits, '_', '.', '-')\n",
        ),
        (
            ["athena", "-o", "t", "{1", "hi"],
            "aish: athena: -o t: value '{1' is not valid JSON "
            "(Expecting property name enclosed in double quotes at character 2)\n",
        ),
        (
            ["athena", "-o", "stop", '[".', "hi"],
            "aish: athena: -o stop: value '[\".' is not valid JSON (Unterminated string starting at character 2)\n",
        ),
        (
            ["athena", "-o", "temperature", "hi"],
            "aish: athena: nothing to send (give text, or pipe input into it); -o temperature took 'hi' as its value\n",
        ),
        (
            ["athena", "-q", "hi"],
            "aish: athena: unknown option '-q' (options: -m MODEL, -s SYSTEM, -o KEY VALUE, -x, -e); "
            "'--' before the text lets it start with '-'\n",
        ),
        (["athena", "-m", "echo"], "aish: athena: nothing to send (give text, or pipe input into it)\n"),
    ],
)
def test_bad_options_are_one_line(refserver: RefServer, config: str, argv: list[str], message: str) -> None:
    result = aish("--config", config, *argv)
    assert (result.status, result.out, result.err) == (2, "", message)
    assert len(refserver.requests) == 0


def test_per_stage_controls_in_the_language(
    refserver: RefServer, config: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    line = 'echo q | athena[-m echo -s "terse"] | hermes[-o max_tokens 5 -o temperature 0] > out.md'
    result = aish("--config", config, "-c", line)
    assert result.status == 0, result.err
    first, second = bodies(refserver)
    assert first["model"] == "echo" and first["messages"][0]["content"].startswith("terse\n\nYou are stage 2 of 3")
    assert second["model"] == "hermes" and (second["max_tokens"], second["temperature"]) == (5, 0)
    assert "terse" not in str(second["messages"])  # a stage's controls are its own
    assert (tmp_path / "out.md").read_text(encoding="utf-8").startswith("Hermes (offline demo):")


def test_controls_reach_every_codec(refserver: RefServer, config: str) -> None:
    line = "claude[-m echo -s sys -o max_tokens 7 -o top_k 3] hi; env[-m hermes -o temperature 0.5 -s be] hi"
    result = aish("--config", config, "-c", line)
    assert result.status == 0, result.err
    claude, env = bodies(refserver)
    assert (claude["model"], claude["system"], claude["max_tokens"], claude["top_k"]) == ("echo", "sys", 7, 3)
    assert env["model"] == "hermes" and env["options"] == {"temperature": 0.5, "system": "be"}


def test_controls_in_a_parallel_group(refserver: RefServer, config: str) -> None:
    result = aish("--config", config, "-c", "echo q | apollo[-m echo] & athena[-s wise]")
    assert result.status == 0, result.err
    by_model = {b["model"]: b for b in bodies(refserver)}
    assert set(by_model) == {"echo", "athena"}
    assert by_model["athena"]["messages"][0]["content"].startswith("wise\n\nYou are stage 2 of 2")
    assert by_model["echo"]["messages"][0]["content"].startswith("You are stage 2 of 2")


def test_an_empty_system_drops_the_configured_one(refserver: RefServer, write_config: Callable[[str], Path]) -> None:
    toml = codec_agents(refserver.base_url) + '\n[agents.athena.options]\nsystem = "configured"\n'
    config = str(write_config(toml))
    assert aish("--config", config, "athena", "hi").status == 0
    assert aish("--config", config, "athena", "-s", "", "hi").status == 0
    configured, dropped = bodies(refserver)
    assert configured["messages"][0] == {"role": "system", "content": "configured"}
    assert [m["role"] for m in dropped["messages"]] == ["user"]


def test_brackets_not_glued_to_the_name_are_text(refserver: RefServer, config: str) -> None:
    assert aish("--config", config, "-c", "athena [-m echo] see [1]").status == 0
    assert bodies(refserver)[0]["messages"][-1]["content"] == "[-m echo] see [1]"
    assert bodies(refserver)[0]["model"] == "athena"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("echo[-m x] hi", "aish: echo: options in [...] are for agents only\n"),
        ("zeus[-m x] hi", "aish: unknown agent 'zeus' (known: apollo, athena, claude, env, hermes, plain, rhetor)\n"),
    ],
)
def test_controls_are_for_agents(refserver: RefServer, config: str, line: str, message: str) -> None:
    result = aish("--config", config, "-c", line)
    assert result.err == message and result.status != 0
    assert len(refserver.requests) == 0


@pytest.mark.parametrize(
    ("line", "fix"),
    [
        ("athena -m echo hi there", "athena[-m echo] hi there"),
        ("athena -s 'be brief' what is up", "athena[-s 'be brief'] what is up"),
        ("athena --extract fizzbuzz", "athena[--extract] fizzbuzz"),
        ("athena[-x] -m echo hi", "athena[-x -m echo] hi"),
        ("echo q | apollo -m echo & athena", "apollo[-m echo]"),
        ("athena -o temperature", "athena[-o ...] TEXT"),
    ],
)
def test_options_written_as_on_the_command_line_are_refused_with_the_bracket_form(
    refserver: RefServer, config: str, line: str, fix: str
) -> None:
    """Found by a tour: 'athena -m nosuch hi' at aish> sent '-m nosuch hi' to the model, silently."""
    result = aish("--config", config, "-c", line)
    option = line.split(" -", 1)[1].split()[0]
    name = fix.split("[")[0]
    assert result.err == f"aish: {name}: '-{option}' would be sent as text; as an option: {fix} (or quote the text)\n"
    assert result.status != 0 and len(refserver.requests) == 0


def test_a_quoted_option_word_or_one_after_the_first_is_text(refserver: RefServer, config: str) -> None:
    assert aish("--config", config, "-c", "athena '-x' marks the spot; athena grep -m 1 pattern").status == 0
    assert [b["messages"][-1]["content"] for b in bodies(refserver)] == ["-x marks the spot", "grep -m 1 pattern"]


def test_a_call_with_options_is_recorded_as_a_line_that_replays_it(refserver: RefServer, config: str) -> None:
    assert aish("--config", config, "athena", "-m", "echo", "-o", "n", "[1, 2]", "--", "-x", "what's up").status == 0
    listed = aish("--config", config, "history")
    assert listed.out.rstrip().endswith("athena[-m echo -o n '[1, 2]'] '-x' 'what'\\''s up'")  # text, replayed
    assert aish("--config", config, "-c", "!!").status == 0
    first, again = bodies(refserver)
    assert again == first


def test_an_agent_that_extends_another_sends_its_own_prompt_and_options(
    refserver: RefServer, write_config: Callable[[str], Path]
) -> None:
    """A role (``extends``): the base's server and model, its own system prompt and options; per-call
    options still win over both."""
    path = write_config(
        f'[agents.local]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{refserver.base_url}"\n'
        'model = "athena"\n[agents.local.options]\nmax_tokens = 40\ntemperature = 0.7\n\n'
        '[agents.reviewer]\nextends = "local"\n[agents.reviewer.options]\nsystem = "List the bugs first."\n'
        "temperature = 0\n"
    )
    assert aish("--config", str(path), "reviewer", "look", "at", "this").status == 0
    assert aish("--config", str(path), "reviewer", "-o", "temperature", "0.3", "again").status == 0
    first, second = bodies(refserver)
    assert first["model"] == "athena" and (first["max_tokens"], first["temperature"]) == (40, 0)
    assert first["messages"] == [
        {"role": "system", "content": "List the bugs first."},
        {"role": "user", "content": "look at this"},
    ]
    assert second["temperature"] == 0.3 and second["messages"][0]["content"] == "List the bugs first."
