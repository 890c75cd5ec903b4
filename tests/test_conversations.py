"""Conversations: each agent keeps the session's turns; they travel in the form its codec speaks.

Requests go to a real reference server (openai-chat and anthropic-messages
on one port) and are read back from its request log.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aish import AgentConfig, Context, Prompt, Turn
from aish.app import App
from aish.conversations import Conversation, Conversations, fit
from aish.runner import Runner
from aish.shell_chat import Chat
from aish_refserver import RefServer


def agents_toml(url: str, **extra: str) -> str:
    parts = []
    for name, codec in (("athena", "openai-chat"), ("apollo", "openai-chat"), ("claude", "anthropic-messages")):
        lines = [f"[agents.{name}]", 'transport = "sse"', f'codec = "{codec}"', f'url = "{url}"', 'model = "athena"']
        lines += [f"{key} = {value}" for key, value in extra.items()]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


class Session:
    """A runner with conversations, as the shell has, and the server's log of request bodies."""

    def __init__(self, app: App, server: RefServer, conversations: Conversations | None) -> None:
        self.out, self.err = io.StringIO(), io.StringIO()
        self.runner = Runner(app, out=self.out, err=self.err, conversations=conversations)
        self.server = server

    def run(self, line: str, stdin: str | None = None) -> int:
        return self.runner.run_source(line, stdin)

    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.server.requests.snapshot() if r.method == "POST"]

    def messages(self, request: int = -1) -> list[tuple[str, str]]:
        return [(m["role"], m["content"]) for m in self.bodies()[request]["messages"]]


@pytest.fixture
def session(refserver: RefServer, make_app: Callable[..., App]) -> Callable[..., Session]:
    def make(conversations: Conversations | None = None, **extra: str) -> Session:
        app = make_app(agents_toml(refserver.base_url, **extra))
        return Session(app, refserver, Conversations() if conversations is None else conversations)

    return make


def answer_of(session: Session, index: int = -1) -> str:
    return session.runner.last_results[index].text


# ------------------------------------------------------------------ the wire
def test_the_second_request_carries_the_first_turn_as_messages(session: Callable[..., Session]) -> None:
    s = session()
    assert s.run("athena what is an owl") == 0
    first = answer_of(s)
    assert first
    assert s.run("athena and a heron?") == 0
    assert s.messages(0) == [("user", "what is an owl")]
    assert s.messages(1) == [("user", "what is an owl"), ("assistant", first), ("user", "and a heron?")]
    second = answer_of(s)
    assert s.run("athena thanks") == 0
    assert [role for role, _ in s.messages(2)] == ["user", "assistant", "user", "assistant", "user"]
    assert s.messages(2)[3] == ("assistant", second)


def test_anthropic_messages_carries_the_turns_too(session: Callable[..., Session]) -> None:
    s = session()
    assert s.run("claude first question") == 0
    first = answer_of(s)
    assert s.run("claude second question") == 0
    assert s.messages(1) == [("user", "first question"), ("assistant", first), ("user", "second question")]
    assert "system" not in s.bodies()[1]


def test_each_agent_keeps_its_own_conversation(session: Callable[..., Session]) -> None:
    s = session()
    s.run("athena one")
    s.run("apollo two")
    s.run("athena three")
    assert s.messages(1) == [("user", "two")]
    assert [c for _, c in s.messages(2)][::2] == ["one", "three"]


def test_piped_input_and_redirections_continue_the_conversation(session: Callable[..., Session], tmp_path: Any) -> None:
    s = session()
    out = tmp_path / "answer.md"
    assert s.run(f"echo notes | athena summarize > {out}") == 0
    assert s.run("athena shorter") == 0
    assert s.messages(1)[0] == ("user", "notes\n\nsummarize")
    saved = out.read_text(encoding="utf-8")
    assert s.messages(1)[1] == ("assistant", saved.removesuffix("\n"))  # the file's last line is ended


def test_a_pipeline_of_several_agents_is_one_shot_and_leaves_conversations_alone(
    session: Callable[..., Session],
) -> None:
    s = session()
    s.run("athena hello")
    s.run("athena summarize | apollo translate")
    s.run("athena hi & apollo hi")
    for i in range(1, 5):  # each stage: a system message (its place in the pipeline) and its input
        assert [role for role, _ in s.messages(i)] == ["system", "user"]
    s.run("athena again")
    assert [c for _, c in s.messages(-1)] == ["hello", answer_of_first(s), "again"]


def answer_of_first(s: Session) -> str:
    """The answer the first request got (the conversation's only turn)."""
    conversation = s.runner.conversations
    assert conversation is not None
    return conversation.for_agent("athena").turns[0].answer


def test_without_conversations_every_request_stands_alone(session: Callable[..., Session]) -> None:
    s = session()
    s.runner.conversations = None  # what `aish -c` does unless asked to continue
    s.run("athena one; athena two")
    assert [len(b["messages"]) for b in s.bodies()] == [1, 1]


def test_a_fresh_conversation_forgets_the_turns(session: Callable[..., Session]) -> None:
    conversations = Conversations()
    s = session(conversations)
    s.run("athena one")
    s.run("apollo two")
    assert conversations.reset("athena") == ["athena"]
    s.run("athena three")
    s.run("apollo four")
    assert s.messages(2) == [("user", "three")]
    assert len(s.messages(3)) == 3
    assert sorted(conversations.reset()) == ["apollo", "athena"]
    s.run("apollo five")
    assert s.messages(4) == [("user", "five")]


def test_the_budget_drops_the_oldest_turns_and_says_so_once(session: Callable[..., Session]) -> None:
    s = session(conversation_turns="2")
    for word in ("one", "two", "three", "four", "five"):
        assert s.run(f"athena {word}") == 0
    sent = [[c for role, c in s.messages(i) if role == "user"] for i in range(5)]
    assert sent == [
        ["one"],
        ["one", "two"],
        ["one", "two", "three"],
        ["two", "three", "four"],
        ["three", "four", "five"],
    ]
    notices = [line for line in s.err.getvalue().splitlines() if "budget" in line]
    assert notices == [
        "aish: athena: the conversation is longer than its budget (2 turns, 24000 characters): "
        "its oldest turns are no longer sent (/new in a chat, or 'new athena', starts afresh; "
        "on the command line, leaving out --continue)"
    ]


def test_a_budget_of_one_turn_is_said_in_the_singular(session: Callable[..., Session]) -> None:
    s = session(conversation_turns="1")
    for word in ("one", "two", "three"):
        assert s.run(f"athena {word}") == 0
    assert "longer than its budget (1 turn, 24000 characters)" in s.err.getvalue()


def test_the_character_budget_counts_prompts_and_answers(session: Callable[..., Session]) -> None:
    s = session(conversation_chars="1")
    s.run("athena one")
    s.run("athena two")
    assert s.messages(1) == [("user", "two")]
    assert "budget (20 turns, 1 characters)" in s.err.getvalue()


def test_an_agent_with_no_turn_budget_keeps_no_conversation(session: Callable[..., Session]) -> None:
    s = session(conversation_turns="0")
    s.run("athena one")
    s.run("athena two")
    assert s.messages(1) == [("user", "two")]
    assert "budget" not in s.err.getvalue()


def test_a_failed_answer_is_not_a_turn(
    refserver: RefServer, make_app: Callable[..., App], session: Callable[..., Session]
) -> None:
    conversations = Conversations()
    s = session(conversations)
    s.run("athena one")
    failing = agents_toml(refserver.base_url, max_retries="0", options="{aish_fault = {status = 400}}")
    broken = Session(make_app(failing), refserver, conversations)
    assert broken.run("athena two") != 0
    s.run("athena three")
    assert [c for role, c in s.messages(-1) if role == "user"] == ["one", "three"]
    assert len(s.messages(1)) == 3  # the failed request did carry the turn


# --------------------------------------------------------------- the engine
def test_fit_keeps_the_newest_turns_within_both_limits() -> None:
    turns = [Turn("a" * 10, "b" * 10), Turn("c", "d"), Turn("e", "f")]
    assert fit(turns, 5, 1000) == tuple(turns)
    assert fit(turns, 2, 1000) == tuple(turns[1:])
    assert fit(turns, 5, 21) == tuple(turns[1:])
    assert fit(turns, 5, 1) == ()
    assert fit(turns, 0, 1000) == ()


def test_a_loader_is_asked_once_per_agent_and_never_after_a_reset() -> None:
    asked: list[str] = []

    def loader(name: str) -> Conversation | None:
        asked.append(name)
        return Conversation(name, "c0ffee", [Turn("p", "a")]) if name == "athena" else None

    conversations = Conversations(loader)
    assert conversations.for_agent("athena").id == "c0ffee"
    assert conversations.for_agent("athena").turns == [Turn("p", "a")]
    assert conversations.for_agent("apollo").turns == []
    conversations.for_agent("apollo")
    conversations.reset("hermes")
    assert conversations.for_agent("hermes").turns == []
    assert asked == ["athena", "apollo"]


def test_an_answer_for_a_conversation_started_afresh_meanwhile_is_dropped() -> None:
    conversations = Conversations()
    old = conversations.for_agent("athena").id
    conversations.reset("athena")
    conversations.record("athena", "p", "a", old)
    assert conversations.for_agent("athena").turns == []
    conversations.record("athena", "p", "   ")
    assert conversations.for_agent("athena").turns == []


def test_asking_the_last_turn_again_leaves_it_out_and_puts_the_answer_in_its_place() -> None:
    conversations = Conversations()
    athena = AgentConfig("athena", "sse", "http://127.0.0.1:9/x", "openai-chat", model="m")
    conversations.record("athena", "one", "1", run="r1")
    conversations.record("athena", "two", "2", run="r2")
    conversation = conversations.for_agent("athena")
    assert conversation.last_run == "r2"
    conversation.retrying = True
    window = conversations.window(athena)
    assert (window.turns, window.dropped, window.replaces) == ((Turn("one", "1"),), 0, "r2")
    conversations.record("athena", "two", "  ", window.id, "r3")  # no text: the old answer stays
    assert conversation.turns == [Turn("one", "1"), Turn("two", "2")] and not conversation.retrying
    assert conversations.window(athena).replaces is None
    conversation.retrying = True
    conversations.record("athena", "two", "2 again", window.id, "r4")
    assert conversation.turns == [Turn("one", "1"), Turn("two", "2 again")]
    assert (conversation.last_run, conversation.retrying) == ("r4", False)


def test_after_the_context_took_fewer_turns_later_requests_carry_no_more_characters_but_at_least_the_newest() -> None:
    """A server refused the turns as longer than the model's context: later requests carry no more
    characters of turns than fitted, and at least the newest turn (decisions 78 and 87)."""
    conversations = Conversations()
    athena = AgentConfig("athena", "sse", "http://127.0.0.1:9/x", "openai-chat", model="m")
    for n in range(1, 6):
        conversations.record("athena", f"q{n}", f"a{n}")
    sent = tuple(conversations.for_agent("athena").turns)
    conversations.fitted("athena", sent, 2)  # q4 and q5 fitted: 8 characters
    assert conversations.window(athena).turns == (Turn("q4", "a4"), Turn("q5", "a5"))
    conversations.record("athena", "q6", "a much longer answer")
    assert conversations.window(athena).turns == (Turn("q6", "a much longer answer"),)  # at least the newest
    conversations.record("athena", "q7", "a7")
    assert conversations.window(athena).turns == (Turn("q7", "a7"),)  # q6 and q7 pass 8 characters


def test_after_one_long_answer_went_unsent_the_short_turns_after_it_are_carried_up_to_its_length() -> None:
    """None fitted: the refused turn was the long one alone. The chat then remembers the short turns
    after it, as many as are shorter together than it, not only the newest one (decision 87)."""
    conversations = Conversations()
    athena = AgentConfig("athena", "sse", "http://127.0.0.1:9/x", "openai-chat", model="m")
    conversations.record("athena", "tell a story", "x" * 1000)
    conversations.fitted("athena", tuple(conversations.for_agent("athena").turns), 0)
    short = [Turn(f"q{n}", f"answer {n}") for n in range(1, 5)]
    for turn in short:
        conversations.record("athena", turn.prompt, turn.answer)
    window = conversations.window(athena)
    assert (window.turns, window.notice) == (tuple(short), None)  # the long turn stays out, unannounced again
    conversations.record("athena", "again", "y" * 2000)
    assert conversations.window(athena).turns == (Turn("again", "y" * 2000),)  # at least the newest


# ------------------------------------------------------- chat mode's /retry
def chat(s: Session, *lines: str) -> str:
    """Type ``lines`` into a chat with athena; what it reported on stderr."""
    before = len(s.err.getvalue())
    talk = Chat("athena", s.runner, s.out)
    for line in lines:
        assert talk.handle(line)
    return s.err.getvalue()[before:]


def test_retry_asks_the_last_message_again_with_the_chats_options_and_replaces_its_turn(
    session: Callable[..., Session],
) -> None:
    s = session()
    talk = Chat("athena", s.runner, s.out)
    talk.handle("what is an owl")
    first = answer_of(s)
    for line in ("/model apollo", "/retry"):
        talk.handle(line)
    again = answer_of(s)
    assert first.startswith("Athena") and again.startswith("Apollo")
    assert (s.bodies()[1]["model"], s.messages(1)) == ("apollo", [("user", "what is an owl")])
    talk.handle("and a heron?")
    assert s.messages(2) == [("user", "what is an owl"), ("assistant", again), ("user", "and a heron?")]
    talk.handle("/retry")  # the follow-up, asked again: the turns before it, not its own answer
    assert s.messages(3) == s.messages(2)
    assert s.runner.conversations is not None
    assert [t.answer for t in s.runner.conversations.for_agent("athena").turns] == [again, answer_of(s)]
    assert s.err.getvalue() == ""


def test_retry_after_a_failed_answer_asks_it_again_and_replaces_nothing(session: Callable[..., Session]) -> None:
    s = session()
    talk = Chat("athena", s.runner, s.out)
    for line in ("one", "/model nosuch", "two", "/model", "/retry", "three"):
        talk.handle(line)
    assert "HTTP 404" in s.err.getvalue()
    assert [b["model"] for b in s.bodies()] == ["athena", "nosuch", "athena", "athena"]
    assert [c for role, c in s.messages(2) if role == "user"] == ["one", "two"]  # one's answer stays
    assert [c for role, c in s.messages(3) if role == "user"] == ["one", "two", "three"]
    assert len(s.messages(3)) == 5


def test_retry_in_a_chat_entered_again_asks_the_conversations_last_turn(session: Callable[..., Session]) -> None:
    """The chat left and entered again (or opened on a resumed conversation) still has a last turn."""
    s = session()
    Chat("athena", s.runner, s.out).handle("what is an owl")
    s.runner.run_source("athena and a heron?")  # a turn of the same conversation, typed at aish>
    heron = answer_of(s)
    talk = Chat("athena", s.runner, s.out)
    for line in ("/model apollo", "/retry"):
        talk.handle(line)
    assert s.bodies()[2]["model"] == "apollo"
    assert s.messages(2)[-1] == ("user", "and a heron?") and ("assistant", heron) not in s.messages(2)
    assert s.runner.conversations is not None
    turns = s.runner.conversations.for_agent("athena").turns
    assert [t.prompt for t in turns] == ["what is an owl", "and a heron?"] and turns[-1].answer == answer_of(s)
    assert s.err.getvalue() == ""


def test_retry_with_nothing_to_retry_is_one_line(session: Callable[..., Session]) -> None:
    s = session()
    assert chat(s, "/retry") == "aish: /retry: nothing to retry yet\n"
    assert chat(s, "hello", "/new", "/retry").endswith("aish: /retry: nothing to retry yet\n")
    assert "did you mean '/retry'?" in chat(s, "/retyr")
    assert "/retry takes no words" in chat(s, "/retry now")
    assert len(s.bodies()) == 1
    Chat("athena", s.runner, s.out).handle("/help")
    assert "/retry" in s.out.getvalue()


# ----------------------------------------------------------- other codecs
def agent(codec: str, **options: Any) -> AgentConfig:
    return AgentConfig("athena", "sse", "http://127.0.0.1:9/x", codec, model="m", options=options)


TURNS = (Turn("what is an owl", "a bird"), Turn("and a heron?", "also a bird"))


def prompt(turns: tuple[Turn, ...] = TURNS) -> Prompt:
    return Prompt("thanks", Context("p1", agent="athena", conversation_id="c1" if turns else None), turns)


def encode(make_app: Callable[..., App], codec: str, p: Prompt, **options: Any) -> bytes:
    app = make_app()
    return app.codec(agent(codec, **options)).encode(p).body


def test_the_text_codec_writes_the_turns_in_words(make_app: Callable[..., App]) -> None:
    body = encode(make_app, "text", prompt()).decode()
    assert body == (
        "Earlier in this conversation:\n\nUser: what is an owl\n\nAssistant (athena): a bird\n\n"
        "User: and a heron?\n\nAssistant (athena): also a bird\n\nInput:\nthanks"
    )
    assert encode(make_app, "text", prompt(), context="none") == b"thanks"
    assert encode(make_app, "text", prompt(())) == b"thanks"


def test_the_envelope_and_websocket_codecs_send_the_turns_as_a_list(make_app: Callable[..., App]) -> None:
    expected = [{"prompt": "what is an owl", "answer": "a bird"}, {"prompt": "and a heron?", "answer": "also a bird"}]
    for codec in ("aish-envelope", "aish-ws"):
        body = json.loads(encode(make_app, codec, prompt()))
        assert body["turns"] == expected
        assert body["context"]["conversation_id"] == "c1"
        assert json.loads(encode(make_app, codec, prompt(())))["turns"] == []


def test_the_tekton_codec_names_the_conversation_as_its_context(make_app: Callable[..., App]) -> None:
    body = json.loads(encode(make_app, "tekton-rhetor", prompt()))
    assert (body["context_id"], body["message"]) == ("c1", "thanks")
    assert json.loads(encode(make_app, "tekton-rhetor", prompt(())))["context_id"] == "p1"


def test_the_last_conversation_is_looked_for_in_recent_runs_only(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uuid

    from aish import RunRecord, StageRecord
    from aish.history import conversations as recorded
    from aish_history_sqlite.store import SqliteHistory

    backend = SqliteHistory(tmp_path / "h.sqlite3")

    def run(cid: str | None) -> None:
        record = RunRecord(id=uuid.uuid4().hex, line="athena x", started=1.0)
        backend.begin_run(record)
        meta: dict[str, Any] = {} if cid is None else {"conversation": cid}
        backend.begin_stage(record.id, StageRecord(0, "athena", input="x", meta=meta))
        backend.end_stage(record.id, StageRecord(0, "athena", input="x", text="y", status="complete", meta=meta))

    run("c1")
    run(None)
    run(None)
    monkeypatch.setattr(recorded, "WINDOWS", (1, 3))
    found = recorded.latest(backend, "athena")
    assert found is not None and found.id == "c1"  # the second window reaches it
    run(None)
    assert recorded.latest(backend, "athena") is None  # older than the last 3 runs
    assert recorded.summaries(backend) == []
    old = recorded.load(backend, "c1")  # --cid still finds it
    assert old is not None and old.turns == [Turn("x", "y")]
    backend.close()


def test_copy_in_a_chat_takes_its_last_answer(
    session: Callable[..., Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``/copy`` (aichat's ``.copy``): the chat's last answer to the clipboard, through a real program
    standing in for xclip (with ``-x``, its code: test_extract.py)."""
    from test_clipboard import fake_program

    got = fake_program(tmp_path / "bin", "xclip")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    s = session()
    talk = Chat("athena", s.runner, s.out)
    talk.handle("/copy")
    assert s.err.getvalue() == "aish: /copy: no answer yet in this chat\n"
    talk.handle("what is an owl")
    answer = answer_of(s)
    talk.handle("/copy")
    assert got.read_text() == answer
    assert s.out.getvalue().endswith(f"copied the last answer ({len(answer):,} characters) with xclip\n")
    got.unlink()
    Chat("athena", s.runner, s.out).handle("/copy")  # a chat entered again: its conversation's last turn
    assert got.read_text() == answer


def test_file_in_a_chat_sends_the_files_text_with_the_message_and_retry_reads_it_again(
    session: Callable[..., Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat cannot pipe: ``/file PATH [TEXT]`` sends the file as ``athena TEXT < PATH`` would,
    and it is a turn of the conversation like any message."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my app.py").write_text("def f(x):\n    return x * 2\n", encoding="utf-8")
    s = session()
    talk = Chat("athena", s.runner, s.out, ["-m", "echo"])
    talk.handle("/file 'my app.py' what's wrong | here?")
    first = s.messages()[-1][1]
    assert "def f(x):\n    return x * 2" in first and "what's wrong | here?" in first
    (tmp_path / "my app.py").write_text("print(1)\n", encoding="utf-8")  # /retry reads the file again
    talk.handle("/retry")
    assert [m for m in s.messages() if m[0] == "user"][-1][1].startswith("print(1)")
    assert len(s.runner.conversations.for_agent("athena").turns) == 1  # the retry replaced the turn
    talk.handle("/file my\\ app.py")  # a blank escaped, as Tab writes it; no text: the file alone
    assert s.messages()[-1] == ("user", "print(1)\n")
    asked = len(s.bodies())
    for line, error in (
        ("/file nosuch.py hi", "aish: <: nosuch.py: no such file\n"),
        ("/file", "aish: /file needs a file: /file PATH [TEXT] (the file's text goes with TEXT)\n"),
        ("/file 'my app.py hi", "aish: /file: 'my: No closing quotation\n"),
    ):
        before = len(s.err.getvalue())
        talk.handle(line)
        assert s.err.getvalue()[before:] == error
    assert len(s.bodies()) == asked  # nothing was sent
