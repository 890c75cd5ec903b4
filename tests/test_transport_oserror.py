"""A transport plugin that lets an ``OSError`` out (a socket's error it did not translate) gets a
connection failure naming the agent, with what arrived kept, never "standard output: OSError"
(found by a plugin author's tour: the pipeline took every ``OSError`` for a failure to write)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from aish import AgentConfig, Request, WireItem, WireMessage, hookimpl
from aish.app import App
from aish.errors import EXIT_CONNECTION
from aish.runner import Runner
from aish.testing import Outcome

CONFIG = """
[agents.bt]
transport = "oserror"
codec = "openai-chat"
url = "http://127.0.0.1:9/v1"
max_retries = 0
"""


def chunk(text: str) -> WireMessage:
    return WireMessage(data='{"choices":[{"delta":{"content":"' + text + '"}}]}')


class Lost:
    """Yields one batch of text, then fails as a reset socket does."""

    def __init__(self, error: OSError) -> None:
        self.error = error

    def __iter__(self) -> Iterator[Sequence[WireItem]]:
        yield [chunk("half an "), chunk("answer")]
        raise self.error

    def cancel(self) -> None:
        pass

    def close(self) -> None:
        pass


class OSErrorTransport:
    def __init__(self, agent: AgentConfig, when: str, error: OSError) -> None:
        self.when, self.error = when, error

    def open(self, request: Request) -> Lost:
        if self.when == "open":
            raise self.error
        return Lost(self.error)

    def close(self) -> None:
        pass


class Plugin:
    def __init__(self, when: str, error: OSError) -> None:
        self.when, self.error = when, error

    @hookimpl
    def aish_register_transports(self, register: Callable[..., None]) -> None:
        register("oserror", lambda agent: OSErrorTransport(agent, self.when, self.error))


def run(make_app: Callable[..., App], when: str, error: OSError) -> Outcome:
    app = make_app(CONFIG, extra_plugins=[("oserror", Plugin(when, error))])
    out, err = io.StringIO(), io.StringIO()
    status = Runner(app, out=out, err=err).run_source("bt hi > answer.txt")
    return Outcome(status, out.getvalue(), err.getvalue())


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OSError("boom in transport open"), "boom in transport open"),
        (ConnectionResetError(104, "Connection reset by peer"), "Connection reset by peer"),
        (BrokenPipeError(32, "Broken pipe"), "Broken pipe"),  # not aish's own output closing: no quiet 141
        (TimeoutError(), "TimeoutError"),
    ],
)
@pytest.mark.parametrize("when", ["open", "reading"])
def test_an_oserror_from_a_transport_is_a_connection_failure(
    make_app: Callable[..., App],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    when: str,
    error: OSError,
    reason: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = run(make_app, when, error)
    assert outcome.status == EXIT_CONNECTION, outcome
    assert outcome.err.startswith(f"aish: bt: connection failed: {reason}"), outcome.err
    assert "standard output" not in outcome.err and "answer.txt" not in outcome.err
    kept = (tmp_path / "answer.txt").read_text(encoding="utf-8")
    assert kept == ("" if when == "open" else "half an answer\n")  # what came, its line ended
