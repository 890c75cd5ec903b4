"""Secrets never shown or stored: in any case, and in the masked forms servers echo back."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from servers import json_reply, openai_stream, script, serving

from aish.scrub import Scrubber
from aish.testing import run_aish

KEY = "sk-testsecret-0123456789"
FORMS = [
    KEY,
    KEY.upper(),
    "Sk-TestSecret-0123456789",
    "sk-TESTS***********6789",
    "sk-tests••••••6789",
    "sk-testsecret-...",
    "...456789",
    "SK-TE*****",
]


@pytest.mark.parametrize("form", FORMS)
def test_every_form_of_a_key_is_scrubbed(form: str) -> None:
    scrub = Scrubber([KEY])
    assert (
        scrub(f"Incorrect API key provided: {form} (see the docs)") == "Incorrect API key provided: *** (see the docs)"
    )


@pytest.mark.parametrize(
    "text",
    ["a footnote*** here", "well... yes", "sk-***", "sk-other***6789x", "the price is 1234 ***", "x" * 3 + "***"],
)
def test_ordinary_text_and_other_keys_are_left_alone(text: str) -> None:
    assert Scrubber([KEY])(text) == text


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(FORMS),
    st.text(alphabet=" .abc*", max_size=30),
    st.text(alphabet=" .abc*", max_size=30),
    st.lists(st.integers(min_value=0, max_value=80), max_size=8),
)
def test_streamed_text_is_never_written_with_a_piece_of_a_key(
    form: str, before: str, after: str, cuts: list[int]
) -> None:
    """However the text arrives, each written piece, scrubbed on its own, holds no form of the key."""
    scrub = Scrubber([KEY])
    text = f"{before} {form} {after}"
    pieces = [text[a:b] for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), len(text)], strict=True)]
    held, written = "", []
    for piece in pieces:
        held += piece
        cut = scrub.safe_cut(held)
        written.append(scrub(held[:cut]))
        held = held[cut:]
    written.append(scrub(held))
    joined = "".join(written)
    assert joined == scrub(text)
    for word in joined.split():
        assert not any(part in word.lower() for part in ("testsecret", "tests*", "tests\u2022", "6789", "456789"))


UNAUTHORIZED = {"error": {"message": "Incorrect API key provided: sk-TESTS***********6789.", "type": "auth"}}


def without_ids(text: str) -> str:
    """``text`` without run and conversation ids: random hex, which may hold ``6789`` by chance
    (``conversation d678918393a6`` failed a check for the key's last four digits)."""
    return re.sub(r"\b[0-9a-f]{12,32}\b", "<id>", text)


@pytest.mark.parametrize("renderer", ["plain", "markdown", "jsonl"])
def test_a_masked_key_in_an_error_is_scrubbed_in_every_renderer_and_history(
    renderer: str, write_config: Callable[[str], Path]
) -> None:
    with serving(json_reply(401, UNAUTHORIZED)) as server:
        config = write_config(
            f'[agents.bot]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{server.url}"\napi_key_env = "BOT_KEY"\n'
        )
        result = run_aish("--config", str(config), "--renderer", renderer, "-c", "bot hi", env={"BOT_KEY": KEY})
        shown = run_aish("--config", str(config), "history", "show", "1")
    assert result.returncode == 5
    assert "Incorrect API key provided: ***" in result.stdout + result.stderr
    for output in map(without_ids, (result.stdout, result.stderr, shown.stdout)):
        assert "TESTS" not in output and "6789" not in output and "testsecret" not in output.lower()


def test_an_answer_repeating_the_key_in_another_case_is_not_stored(write_config: Callable[[str], Path]) -> None:
    events = openai_stream("your key ", "SK-TESTSECRET", "-0123456789", " is set; masked: sk-TESTS****6789 ok")
    with serving(script(events)) as server:
        config = write_config(
            f'[agents.bot]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{server.url}"\napi_key_env = "BOT_KEY"\n'
        )
        result = run_aish("--config", str(config), "-c", "bot hi", env={"BOT_KEY": KEY})
        exported = run_aish("--config", str(config), "history", "export", "--json")
    assert result.returncode == 0, result.stderr
    stored = without_ids(json.dumps(json.loads(exported.stdout)))
    assert "your key *** is set; masked: *** ok" in json.loads(exported.stdout)[0]["stages"][0]["text"]
    assert "TESTSECRET" not in stored.upper() and "6789" not in stored


def test_the_lanes_renderer_shows_parallel_errors_scrubbed(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from aish.runner import Runner

    monkeypatch.setenv("BOT_KEY", KEY)
    with serving(json_reply(401, UNAUTHORIZED)) as server:
        agents = "".join(
            f'[agents.{name}]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{server.url}"\n'
            'api_key_env = "BOT_KEY"\nmax_retries = 0\n'
            for name in ("bot", "bot2")
        )
        out, err = io.StringIO(), io.StringIO()
        status = Runner(make_app(agents), out=out, err=err, tty=True).run_source("bot hi & bot2 hi")
    shown = out.getvalue() + err.getvalue()
    assert status == 5 and "error: bot" in shown and "Incorrect API key provided: ***" in shown, shown
    assert "TESTS" not in shown and "6789" not in shown and "testsecret" not in shown.lower()
