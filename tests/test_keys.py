"""``keys``: API keys stored for the variables agents read them from (decision 91): the store's file,
the environment first, the key sent and never shown, and the hidden prompt in a real terminal."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest
from servers import json_reply, serving
from terminal import dialogue

from aish import Invocation, keystore
from aish.cli import main
from aish.testing import Outcome
from aish_refserver import RefServer

SECRET = "sk-stored-0123456789abcdefXYZ"
TYPED = "sk-typed-9876543210fedcbaQRS"
"""A key typed on the line, which is refused."""


def aish(*argv: str, stdin: str = "") -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return Outcome(status, out.getvalue(), err.getvalue())


@pytest.fixture
def store() -> Path:
    return Path(keystore.keys_path())


@pytest.fixture
def keyed(refserver: RefServer, write_config: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> str:
    """A configuration whose agent ``paid`` reads its key from $AISH_TEST_PAID_KEY (unset)."""
    monkeypatch.delenv("AISH_TEST_PAID_KEY", raising=False)
    path = write_config(
        f'[agents.paid]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{refserver.base_url}"\n'
        'model = "echo"\napi_key_env = "AISH_TEST_PAID_KEY"\n'
    )
    monkeypatch.setenv("AISH_CONFIG", str(path))
    return str(path)


def test_the_store_is_private_and_the_environment_comes_first(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AISH_TEST_K", raising=False)
    assert keystore.api_key("AISH_TEST_K") is None
    assert keystore.store_key("AISH_TEST_K", "stored-one") == str(store)
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700
    assert json.loads(store.read_text()) == {"AISH_TEST_K": "stored-one"}
    assert keystore.api_key("AISH_TEST_K") == "stored-one"
    monkeypatch.setenv("AISH_TEST_K", "")  # empty counts as unset
    assert keystore.api_key("AISH_TEST_K") == "stored-one"
    monkeypatch.setenv("AISH_TEST_K", "from-env")
    assert keystore.api_key("AISH_TEST_K") == "from-env"
    keystore.store_key("AISH_TEST_K", "changed")  # a change is seen at once (no stale cache)
    monkeypatch.delenv("AISH_TEST_K")
    assert keystore.api_key("AISH_TEST_K") == "changed"
    keystore.store_key("AISH_TEST_K", None)
    assert keystore.api_key("AISH_TEST_K") is None
    assert list(store.parent.iterdir()) == [store]  # no temporary file left


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"K": 5}'])
def test_a_store_that_is_not_keys_holds_none_and_is_never_replaced(store: Path, text: str) -> None:
    store.parent.mkdir(parents=True)
    store.write_text(text)
    assert keystore.api_key("K") is None
    with pytest.raises(keystore.KeyStoreError, match="not a keys file"):
        keystore.store_key("K", "x")
    result = aish("keys", "set", "K", stdin="x\n")
    assert result.status == 2 and "not a keys file" in result.err
    assert store.read_text() == text


def test_keys_set_lists_and_removes(store: Path, keyed: str) -> None:
    assert aish("keys") == Outcome(0, "variable            key from  agents\nAISH_TEST_PAID_KEY  not set   paid\n", "")
    result = aish("keys", "set", "AISH_TEST_PAID_KEY", stdin=SECRET + "\n")
    assert result == Outcome(0, f"stored the key for $AISH_TEST_PAID_KEY in {store}; agents that read it: paid\n", "")
    assert aish("keys").out == "variable            key from  agents\nAISH_TEST_PAID_KEY  stored    paid\n"
    assert "$AISH_TEST_PAID_KEY (stored by keys set)\n" in aish("help", "paid").out
    assert (
        aish("keys", "remove", "AISH_TEST_PAID_KEY").out
        == f"removed the key stored for $AISH_TEST_PAID_KEY from {store}\n"
    )
    assert json.loads(store.read_text()) == {}


@pytest.mark.parametrize(
    ("argv", "stdin", "error"),
    [
        (
            ("keys", "set", "K", SECRET),
            "",
            "keys set K: give the key at the prompt 'keys set K' shows, not on the line",
        ),
        (("keys", "set", "1K"), "x\n", "keys set: '1K': expected an environment variable name"),
        (("keys", "set", "K"), "\n", "keys set K: no key given; nothing stored"),
        (("keys", "set"), "", "usage: keys set NAME"),
        (("keys", "remove", "K"), "", "keys remove: no key is stored for $K"),
        (("keys", "show"), "", "keys: unknown subcommand 'show'"),
    ],
)
def test_bad_keys_lines_are_one_line_errors(store: Path, argv: tuple[str, ...], stdin: str, error: str) -> None:
    result = aish(*argv, stdin=stdin)
    assert result.status == 2 and result.out == ""
    assert result.err.startswith(f"aish: {error}") and result.err.count("\n") == 1
    assert SECRET not in result.err
    assert not store.exists()


def test_the_stored_key_is_sent_and_never_shown(refserver: RefServer, keyed: str) -> None:
    assert aish("keys", "set", "AISH_TEST_PAID_KEY", stdin=SECRET + "\n").status == 0
    assert aish("paid", "hi") == Outcome(0, "hi\n", "")
    assert refserver.requests[-1].headers["authorization"] == f"Bearer {SECRET}"
    shown = aish("history", "show", "last").out + aish("history", "export").out + aish("keys").out
    assert "hi" in shown and SECRET not in shown


def test_a_refusal_that_echoes_the_stored_key_is_scrubbed(
    write_config: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AISH_TEST_PAID_KEY", raising=False)
    keystore.store_key("AISH_TEST_PAID_KEY", SECRET)
    with serving(json_reply(401, {"error": {"message": f"Incorrect API key provided: {SECRET}"}})) as server:
        path = write_config(
            f'[agents.paid]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{server.url}/v1"\n'
            'api_key_env = "AISH_TEST_PAID_KEY"\nmax_retries = 0\n'
        )
        result = aish("--config", str(path), "paid", "hi")
    assert result.status == 5
    assert "Incorrect API key provided: ***" in result.err and SECRET not in result.err + result.out


def test_a_refused_request_without_a_key_names_keys_set(
    write_config: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AISH_TEST_PAID_KEY", raising=False)
    with serving(json_reply(401, {"error": {"message": "No API key"}})) as server:
        path = write_config(
            f'[agents.paid]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{server.url}/v1"\n'
            'api_key_env = "AISH_TEST_PAID_KEY"\nmax_retries = 0\n'
        )
        result = aish("--config", str(path), "paid", "hi")
    assert result.err.rstrip().endswith(
        "No API key ($AISH_TEST_PAID_KEY is not set: keys set AISH_TEST_PAID_KEY stores a key)"
    )


def test_a_stored_openai_key_offers_gpt_at_once(refserver: RefServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys plugin offers ``gpt`` for a stored $OPENAI_API_KEY as for a set one; in one process,
    ``keys set`` makes it appear for the rest of the line."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", refserver.base_url)
    assert "gpt" not in aish("agents").out
    result = aish("-c", "keys set OPENAI_API_KEY; gpt[-m echo] hello there", stdin=SECRET + "\n")
    assert result.status == 0, result.err
    assert result.out.endswith("agents that read it: gpt\nhello there\n")
    assert refserver.requests[-1].headers["authorization"] == f"Bearer {SECRET}"
    assert "gpt " in aish("agents").out


def test_the_shell_asks_for_the_key_without_showing_it(
    refserver: RefServer, keyed: str, store: Path, tmp_path: Path
) -> None:
    """In a real terminal: the prompt, nothing echoed, the key stored; neither the screen, the input
    history nor the run history holds it. A key typed on the line is refused, and the line is dropped
    from the input history (found on a tour: it was kept there), after a bad name too (found in review)."""
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "aish"], env=env, encoding="utf-8", timeout=20, dimensions=(40, 160))
    seen = io.StringIO()
    child.logfile_read = seen
    dialogue(
        child,
        (None, "aish>"),
        ("keys set AISH_TEST_PAID_KEY", "key for $AISH_TEST_PAID_KEY (not shown): "),
        (SECRET, "stored the key for $AISH_TEST_PAID_KEY", "aish>"),
        ("paid said hi", "said hi", "aish>"),
        ("keys set AISH_TEST_PAID_KEY", "(not shown): "),
        ("\x03", "keys set AISH_TEST_PAID_KEY: cancelled; nothing stored", "aish>"),
        (f"keys set AISH_TEST_PAID_KEY {TYPED}", "this line is dropped from the input history", "aish>"),
        (f"keys set paid-key {TYPED}", "expected an environment variable name", "aish>"),  # dropped too
        ("paid[-m echo] after", "after", "aish>"),
    )
    typed = (Path(os.environ["XDG_STATE_HOME"]) / "aish" / "input_history").read_text()
    lines = [line for line in typed.splitlines() if line.startswith("+")]
    assert lines[-3:] == ["+keys set AISH_TEST_PAID_KEY", "+paid[-m echo] after", "+quit"], lines
    assert json.loads(store.read_text()) == {"AISH_TEST_PAID_KEY": SECRET}
    assert refserver.requests[-1].headers["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in seen.getvalue()
    state = Path(os.environ["XDG_STATE_HOME"])
    data = Path(os.environ["XDG_DATA_HOME"])
    for file in [*state.rglob("*"), *data.rglob("*")]:
        if file.is_file():
            assert SECRET.encode() not in file.read_bytes(), file
            assert TYPED.encode() not in file.read_bytes(), file


def test_tab_after_keys_set_offers_the_variables_agents_read_and_the_keys_plugins(keyed: str) -> None:
    from aish.app import build_app
    from aish.config import load_config

    app = build_app(load_config())
    complete = app.commands["keys"].complete
    assert complete is not None
    invocation = Invocation(app, [], "", io.StringIO(), io.StringIO())
    assert complete(invocation, ["set", ""]) == ["AISH_TEST_PAID_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY"]
    assert complete(invocation, [""]) == ["set", "remove"]


def test_a_key_an_agent_uses_is_kept_out_of_the_input_history(
    keyed: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """In a real terminal: a line that holds the key of an agent (pasted by mistake) is kept in the
    input history with ``***`` in its place, as the run history keeps it."""
    monkeypatch.setenv("AISH_TEST_PAID_KEY", SECRET)
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "aish"], env=env, encoding="utf-8", timeout=20, dimensions=(40, 160))
    dialogue(child, (None, "aish>"), (f"!echo {SECRET} | wc -c", "30", "aish>"))
    typed = (Path(os.environ["XDG_STATE_HOME"]) / "aish" / "input_history").read_text()
    assert [line for line in typed.splitlines() if line.startswith("+")] == ["+!echo *** | wc -c", "+quit"]


@pytest.mark.parametrize("backend", ["sqlite", "jsonl"])
def test_a_key_typed_on_a_line_that_goes_on_is_kept_out_of_the_run_history(
    keyed: str, backend: str, monkeypatch: pytest.MonkeyPatch, write_config: Callable[[str], Path]
) -> None:
    """``keys set NAME KEY; paid hi`` is one run: it is recorded before ``keys`` refuses the key, so
    the key is ``***`` from the start (``secret_words``). Found in review: the line held the key."""
    config = f'[settings]\nhistory = "{backend}"\n' + Path(keyed).read_text()
    monkeypatch.setenv("AISH_CONFIG", str(write_config(config)))
    for line in [f"keys set AISH_TEST_PAID_KEY {TYPED}; paid[-m echo] hi", f'keys set X {TYPED} "unclosed']:
        assert "give the key at the prompt" in aish("-c", line).err or "unclosed" in line
    listed = aish("history").out
    assert "keys set AISH_TEST_PAID_KEY ***; paid[-m echo] hi" in listed, listed
    assert 'keys set X *** "unclosed' in listed, listed
    for root in (os.environ["XDG_STATE_HOME"], os.environ["XDG_DATA_HOME"]):
        for file in Path(root).rglob("*"):
            if file.is_file():
                assert TYPED.encode() not in file.read_bytes(), file
