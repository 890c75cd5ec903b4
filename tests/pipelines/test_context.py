"""Sequential stages: each answer and its context reach the next endpoint, in each codec's format."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aish.testing import Outcome
from aish_refserver import RefServer

Run = Callable[..., Outcome]


def bodies(server: RefServer) -> list[Any]:
    return [r.body for r in server.requests]


def test_three_stages_pass_answers_and_context_through_openai_chat(
    run_line: Run, refserver: RefServer, agents_toml: str
) -> None:
    result = run_line('echo "what is rust" | apollo | athena | hermes', agents_toml)
    assert result.status == 0, result.err
    first, second, third = bodies(refserver)
    assert first["messages"][-1]["content"] == "what is rust\n"
    system = second["messages"][0]
    assert system["role"] == "system"
    assert "stage 3 of 4" in system["content"] and "previous stage, apollo" in system["content"]
    assert "Original input:\nwhat is rust" in system["content"]
    ids = {msg["content"].split("(id ")[1][:12] for msg in (first["messages"][0], system, third["messages"][0])}
    assert len(ids) == 1, "one pipeline id for every stage"
    assert second["messages"][-1]["content"].startswith("Apollo (offline demo):")
    assert third["messages"][-1]["content"].startswith("Athena (offline demo):")
    assert "previous stage, athena" in third["messages"][0]["content"]
    assert result.out.startswith("Hermes (offline demo):")


def test_a_single_agent_sends_no_context(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    assert run_line('athena "hi"', agents_toml).status == 0
    assert bodies(refserver)[0]["messages"] == [{"role": "user", "content": "hi"}]


def test_openai_prior_turns_mode(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    config = agents_toml.replace(
        'model = "athena"\n', 'model = "athena"\n[agents.athena.options]\ncontext = "turns"\n', 1
    )
    assert run_line("echo q | apollo | athena", config).status == 0
    messages = bodies(refserver)[1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"] == "q\n" and messages[1]["content"].startswith("[apollo] Apollo (offline demo)")
    assert "context" not in bodies(refserver)[1]


def test_anthropic_gets_the_context_as_its_system_prompt(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    assert run_line("echo q | apollo | claude", agents_toml).status == 0
    body = bodies(refserver)[1]
    assert refserver.requests[1].path == "/v1/messages"
    assert "stage 3 of 3" in body["system"] and "previous stage, apollo" in body["system"]
    assert body["messages"][0]["content"].startswith("Apollo (offline demo):")


def test_tekton_rhetor_format(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    result = run_line("echo q | apollo | rhetor", agents_toml)
    assert result.status == 0, result.err
    request = refserver.requests[1]
    assert request.path == "/api/chat/hermes/stream"
    body = request.body
    assert set(body) == {"message", "context_id", "temperature", "max_tokens", "include_metadata"}
    assert body["include_metadata"] is True and len(body["context_id"]) == 12
    assert "previous stage, apollo" in body["message"] and "Input:\nApollo (offline demo)" in body["message"]
    assert result.out.startswith("Hermes (offline demo):")


def test_aish_envelope_carries_the_context_object(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    result = run_line('echo "the question" | athena | env', agents_toml)
    assert result.status == 0, result.err
    body = bodies(refserver)[1]
    assert refserver.requests[1].path == "/v1/envelope"
    context = body["context"]
    assert body["aish_envelope"] == 1 and body["agent"] == "env"
    assert context["position"] == 2 and context["stages"] == 3 and context["agent"] == "env"
    assert context["original_input"] == "the question\n"
    assert context["previous_agent"] == "athena" and context["previous_answer"] == body["input"]
    assert result.out.startswith("Apollo (offline demo):")


def test_text_codec_renders_the_context_into_the_prompt(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    result = run_line("echo q | apollo | plain", agents_toml)
    assert result.status == 0, result.err
    raw = refserver.requests[1].raw_body.decode()
    assert raw.startswith("You are stage 3 of 3") and "\n\nInput:\nApollo (offline demo)" in raw


def test_fan_in_labels_every_answer_for_the_next_stage(run_line: Run, refserver: RefServer, agents_toml: str) -> None:
    result = run_line("echo q | (apollo & athena) | env", agents_toml)
    assert result.status == 0, result.err
    body = next(r.body for r in refserver.requests if r.path == "/v1/envelope")
    text = body["input"]
    assert text.startswith("[apollo]\nApollo (offline demo):") and "\n[athena]\nAthena (offline demo):" in text
    context = body["context"]
    assert [a["agent"] for a in context["previous_answers"]] == ["apollo", "athena"]
    assert context["previous_agent"] == "apollo & athena"
    lanes = [r.body for r in refserver.requests if r.path == "/v1/chat/completions"]
    assert all(lane["messages"][-1]["content"] == "q\n" for lane in lanes)
    assert {"athena" in lane["messages"][0]["content"] or "apollo" in lane["messages"][0]["content"] for lane in lanes}


def test_the_original_input_is_what_was_piped_into_the_first_agent_without_its_words(
    run_line: Run, refserver: RefServer, agents_toml: str, tmp_path: Any
) -> None:
    """``cat FILE | athena WORDS`` and ``athena WORDS < FILE`` and ``aish athena WORDS < FILE``: the
    same original input, the file's text (a long one is never copied with the words: decision 31)."""
    path = tmp_path / "notes.txt"
    path.write_text("the notes\n", encoding="utf-8")
    for line, stdin in (
        (f"cat {path} | athena sum it up | env", None),
        (f"athena sum it up < {path} | env", None),
        ("athena sum it up | env", "the notes\n"),
    ):
        refserver.requests.clear()
        result = run_line(line, agents_toml, stdin=stdin)
        assert result.status == 0, result.err
        first, second = bodies(refserver)
        assert first["messages"][-1]["content"] == "the notes\n\nsum it up"
        assert second["context"]["original_input"] == "the notes\n", line
