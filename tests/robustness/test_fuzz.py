"""The fuzz harness: every input aish takes, made hostile.

The property, everywhere: a correct result or a clean one-line error (an
``AishError``; on stderr ``aish: ...`` lines with no control characters), never
another exception or a traceback; nothing runs after a syntax error.

Inputs: the language (parsed, and run as ``aish -c`` in-process), the
configuration (every TOML type in every key, deep nesting, random bytes in the
file), stream input (random bytes through the SSE parser into every codec and
every renderer), piped input and script files of random bytes.

The default example counts keep the suite fast, and its examples are the same
on every run (derandomized); ``AISH_FUZZ_EXAMPLES=N`` sets every property's
count and draws new examples each time (``python benchmarks/fuzz.py
--examples 100000`` runs it long and prints what was tried). Inputs never hold ``!``, ``/`` or ``~``
where they could run, and ``PATH`` is empty while lines run, so a fuzzed line
cannot start a program or write outside the test's directory.
"""

from __future__ import annotations

import datetime
import io
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from aish.agents import AgentConfig
from aish.app import App, build_app
from aish.cli import main
from aish.config import Config, load_config, parse_config
from aish.contracts import Prompt, RenderTarget
from aish.errors import EXIT_USAGE, AishError, AishSyntaxError, visible
from aish.events import Heartbeat, StreamEnd, StreamError, StreamStart, TextDelta, Usage
from aish.lang import is_incomplete, parse
from aish.wire import WireMessage
from aish_refserver import RefServer

EXAMPLES = int(os.environ.get("AISH_FUZZ_EXAMPLES", "0"))
CODES = {0, 1, 2, 3, 4, 5}
"""What a run may return (docs/usage.md): never 130 or 141 here, nothing interrupts or closes."""


def fuzz(default: int) -> Callable[[Any], Any]:
    """The suite's runs are the same every time (a shared CI stays predictable); long runs explore."""
    return settings(
        max_examples=EXAMPLES or default,
        derandomize=not EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def clean_lines(err: str) -> None:
    """stderr holds only ``aish: ...`` lines, each free of control characters, and no traceback."""
    for line in err.splitlines():
        assert line.startswith("aish: "), err
        assert visible(line) == line, line
        assert "unexpected error" not in line and "Traceback" not in line, err


def one_line_error(exc: AishError) -> None:
    text = str(exc)
    assert text and "\n" not in text and "\r" not in text, repr(text)


# ----------------------------------------------------------------- the language

PIECES = [
    *("|", "||", "&", "&&", ";", "<", ">", ">>", "(", ")", "\n", " ", "\t", "\\", "\\\n", "#", '"', "'"),
    *("echo", "cat", "athena", "hermes", "apollo", "nosuch", "team-chat", "-g", "x.md", "a b", "caf\xe9"),
    *("\x1b]0;T\x07", "\x00", "\u202e", "\x9b", "\r", "\ufffd", "\U0001f600", "((((", "))))", '\\"'),
]
lines = st.lists(st.sampled_from(PIECES), max_size=30).map("".join) | st.text(max_size=120)


@fuzz(300)
@given(line=lines)
def test_parse_answers_or_one_syntax_error(line: str) -> None:
    is_incomplete(line)
    try:
        script = parse(line)
    except AishSyntaxError as exc:
        one_line_error(exc)
        assert visible(str(exc)) == str(exc)
        assert 0 <= exc.position <= len(line)
        return
    assert all(pipeline.stages for _, pipeline in script.items)


@fuzz(50)
@given(depth=st.integers(min_value=0, max_value=3000), extra=st.sampled_from(["", ")", "(", " & athena", " | hermes"]))
def test_any_nesting_depth_parses_or_is_a_syntax_error(depth: int, extra: str) -> None:
    line = "(" * depth + "athena hi" + extra + ")" * depth
    try:
        parse(line)
    except AishSyntaxError as exc:
        one_line_error(exc)


SAFE = [p for p in PIECES if not set(p) & set("!/~")]
safe_lines = st.lists(st.sampled_from(SAFE), max_size=16).map("".join) | st.text(
    st.characters(blacklist_characters="!/~", blacklist_categories=["Cs"]), max_size=60
)


@pytest.fixture(scope="module")
def demo_server() -> Iterator[RefServer]:
    with RefServer(pace=0.0) as server:
        yield server


@pytest.fixture
def sandbox(demo_server: RefServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RefServer:
    """Lines run in an empty directory, with no program on PATH, against the reference server."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AISH_DEMO_URL", demo_server.base_url)
    return demo_server


def run_main(argv: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, stdin=io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@fuzz(60)
@given(line=safe_lines, piped=st.binary(max_size=64))
def test_dash_c_answers_or_reports_one_line_per_error(sandbox: RefServer, line: str, piped: bytes) -> None:
    assume(line.strip() and not line.lstrip().startswith(("agents", "plugins", "history")))
    try:
        parse(line)
        syntax_error = False
    except AishSyntaxError:
        syntax_error = True
    before = len(sandbox.requests)
    status, out, err = run_main(["-c", line], piped)
    assert status in CODES, (status, err)
    clean_lines(err)
    if syntax_error:  # nothing ran
        assert (status, out, len(sandbox.requests)) == (EXIT_USAGE, "", before)
        assert err.count("\n") == 1 and err.startswith("aish: syntax error")


@fuzz(25)
@given(data=st.binary(max_size=4000))
def test_random_bytes_piped_into_an_agent(sandbox: RefServer, data: bytes) -> None:
    assume(data.strip())
    status, out, err = run_main(["athena", "what is this?"], data)
    assert status == 0, err
    assert out.startswith("Athena (offline demo):")
    assert err in ("",) or (err.count("\n") == 1 and err.startswith("aish: warning: standard input is not UTF-8"))


@fuzz(40)
@example(data=b"echo<\x00")  # found by the long run: a NUL in a file name was "unexpected error"
@example(data=b"echo x > a\x00b")
@given(data=st.binary(max_size=300) | st.lists(st.sampled_from(SAFE), max_size=30).map(lambda p: "".join(p).encode()))
def test_script_files_of_random_bytes(sandbox: RefServer, tmp_path: Path, data: bytes) -> None:
    data = data.translate(bytes.maketrans(b"!/~", b"xxx"))
    path = tmp_path / "fuzzed.aish"
    path.write_bytes(data)
    status, _, err = run_main([str(path)])
    assert status in CODES, (status, err)
    clean_lines(err)


# ------------------------------------------------------------- configuration

AGENT_KEYS = [
    *("transport", "url", "codec", "model", "api_key_env", "renderer", "description", "connect_timeout"),
    *("idle_timeout", "backoff_initial", "backoff_max", "headers", "max_retries", "resume", "session", "options"),
    *("api_key", "nonsense"),
]
SETTINGS_KEYS = [
    *("renderer", "history", "history_path", "disable_plugins", "plugins", "plugin_agents", "debug", "stats"),
    *("parallel_renderer", "colour"),
]
scalars = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["sse", "websocket", "openai-chat", "aish-ws", "http://127.0.0.1:1/v1", "ws://[::1", "X-A"]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-300, 1e300]),
    st.booleans(),
    st.datetimes(timezones=st.none() | st.just(datetime.UTC)),
    st.dates(),
    st.times(),
)
toml_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
agent_tables = st.fixed_dictionaries(
    {
        "transport": st.sampled_from(["sse", "websocket", "nope"]) | toml_values,
        "codec": st.sampled_from(["openai-chat", "aish-ws", "anthropic-messages", "text", "nope"]) | toml_values,
        "url": st.sampled_from(["http://127.0.0.1:9/v1", "ws://127.0.0.1:9/ws", "http://127.0.0.1:99999/"])
        | toml_values,
    },
    optional={key: toml_values for key in AGENT_KEYS if key not in ("transport", "codec", "url")},
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "settings": st.dictionaries(st.sampled_from(SETTINGS_KEYS), toml_values, max_size=4) | toml_values,
        "agents": st.dictionaries(st.sampled_from(["bot", "x-1", "echo", "bad name", ""]), agent_tables, max_size=2)
        | toml_values,
        "groups": st.dictionaries(st.text(max_size=5), toml_values, max_size=2),
        "extra": toml_values,
    },
)


def use_agent(app: App, name: str) -> None:
    """What a run does with an agent before any network: prepare it, build its codec, encode a prompt."""
    from aish.context import Context
    from aish.validate import headers_problem

    agent = app.agent(name)
    request = app.codec(agent).encode(Prompt("hi", Context(pipeline_id="fuzz", agent=name)))
    assert isinstance(request.body, bytes)
    problem = headers_problem(request.headers)
    if problem is not None:
        raise AishError(problem)


@fuzz(200)
@example(document={"agents": {"\n": ""}})  # found by the long run: a multi-line message
@example(
    document={"agents": {"bot": {"transport": "sse", "codec": "text", "url": "http://h/", "options": {"\n": math.nan}}}}
)
@given(document=documents)
def test_any_toml_value_in_any_key(document: dict[str, Any]) -> None:
    try:
        config = parse_config(document)
    except AishError as exc:
        one_line_error(exc)
        return
    assert isinstance(config, Config)
    app = build_app(config, entry_points=True)
    for name in config.agents:
        try:
            use_agent(app, name)
        except AishError as exc:
            one_line_error(exc)


GOOD = (
    b'[settings]\nrenderer = "plain"\n\n[agents.bot]\ntransport = "sse"\ncodec = "openai-chat"\n'
    b'url = "http://127.0.0.1:9/v1"\nheaders = { X-A = "v" }\n[agents.bot.options]\ntemperature = 0.2\n'
)


@fuzz(150)
@given(
    data=st.binary(max_size=200)
    | st.tuples(st.integers(0, len(GOOD)), st.binary(min_size=1, max_size=8)).map(
        lambda cut: GOOD[: cut[0]] + cut[1] + GOOD[cut[0] :]
    )
    | st.integers(0, 6000).map(lambda n: b"[agents.bot.options]\nx = " + b"[" * n + b"]" * n + b"\n")
)
def test_config_files_of_random_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    try:
        load_config(str(path), environ={})
    except AishError as exc:
        one_line_error(exc)
        assert str(exc).startswith(f"{path}: ")


# -------------------------------------------------------------- stream input


@pytest.fixture(scope="module")
def components() -> App:
    return build_app(Config())


SSE_PIECES = [
    *(b"data: ", b"data:", b"event: ", b"id: ", b"retry: ", b": ping", b"\n", b"\r\n", b"\r", b"[DONE]", b"{", b"}"),
    *(b'{"choices":[{"delta":{"content":"hi"}}]}', b'{"choices":[]}', b'"\\ud800"', b'{"type":"content_block_delta"'),
    *(b'{"error":{"message":"\x1b[2Jboom"}}', b'{"type":"error"}', b"null", b"[]", b"1e999", b"\xff", b"\xc3", b"\x00"),
    *(b'{"delta":{"text":"x"},"index":"a"}', b'{"usage":{"prompt_tokens":"many"}}', b'"finish_reason":5'),
]
sse_streams = st.lists(st.sampled_from(SSE_PIECES) | st.binary(max_size=12), max_size=40).map(b"".join)


def renderers(app: App, tty: bool) -> list[tuple[str, Any, io.StringIO, io.StringIO]]:
    made = []
    for name in sorted(app.components.get("renderer", {})):
        out, err = io.StringIO(), io.StringIO()
        made.append((name, app.renderer(name, RenderTarget(out=out, err=err, tty=tty)), out, err))
    return made


@fuzz(100)
@given(stream=sse_streams, cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=6), tty=st.booleans())
def test_random_bytes_through_parser_codecs_and_renderers(
    components: App, stream: bytes, cuts: list[int], tty: bool
) -> None:
    from aish.kit.sse import SSEParser

    parser = SSEParser()
    items = []
    edges = sorted({c for c in cuts if c <= len(stream)})
    for a, b in zip([0, *edges], [*edges, len(stream)], strict=True):
        items.extend(parser.feed(stream[a:b]))
    items.extend(parser.close())
    messages = [item for item in items if isinstance(item, WireMessage)]
    for codec_name in sorted(components.components["codec"]):
        agent = AgentConfig(name="bot", transport="sse", url="http://127.0.0.1:9/v1", codec=codec_name, model="m")
        decoder = components.codec(agent).decoder()
        events: list[Any] = [StreamStart(model="m")]
        try:
            for message in messages:
                events.extend(decoder.decode(message))
            finish = getattr(decoder, "finish", None)
            if finish is not None:
                events.extend(finish())
        except AishError as exc:
            one_line_error(exc)
            events.append(StreamError(error=exc, partial=len(events) > 1))
        for name, renderer, _out, err in renderers(components, tty):
            for event in events:
                renderer.feed(event)
            renderer.flush()
            renderer.close()
            for line in err.getvalue().splitlines():
                assert visible(line) == line or name == "markdown", (name, line)


MARK = "ERROR-TEXT:"
"""Starts the message of every generated error, to find where a renderer shows one."""


@fuzz(80)
@example(events=[TextDelta("\x1b"), TextDelta("error")], tty=True, agent="a")  # the answer is shown as it is
@given(
    events=st.lists(
        st.one_of(
            st.builds(TextDelta, st.text(max_size=30)),
            st.builds(Heartbeat),
            st.builds(Usage, st.none() | st.integers(-5, 10**9), st.none() | st.integers(-5, 10**9)),
            st.builds(StreamEnd, st.none() | st.text(max_size=10)),
            st.builds(StreamError, st.text(max_size=40).map(lambda t: AishError(MARK + t)), st.booleans()),
        ),
        max_size=25,
    ),
    tty=st.booleans(),
    agent=st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True),  # what a config may name an agent
)
def test_renderers_survive_any_event_sequence(components: App, events: list[Any], tty: bool, agent: str) -> None:
    for name, renderer, out, err in renderers(components, tty):
        renderer.feed(StreamStart(model="m", agent=agent))
        for event in events:
            event.agent = agent
            renderer.feed(event)
        renderer.flush()
        renderer.close()
        for line in (out.getvalue() + err.getvalue()).split("\n"):  # a shown error: its text escaped
            shown = line.partition(MARK)[2]
            assert visible(shown) == shown.rstrip("\r") or "\x1b[" in shown, (name, line)
