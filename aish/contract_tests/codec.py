"""The codec contract suite: every :class:`aish.Codec` must pass it.

Subclass it in your plugin's tests and say how to build your codec::

    from aish.contract_tests.codec import CodecContract

    class TestMyCodec(CodecContract):
        def make_codec(self, agent):
            return MyDialectCodec(agent)

It checks that ``encode`` builds a :class:`~aish.Request` whose body carries
the prompt, that an API key goes only into headers (and ``Request.secrets``),
that each ``decoder()`` is fresh, and that junk from a server ends in an aish
error, never a raw ``KeyError`` or ``TypeError``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import pytest

from aish.agents import AgentConfig
from aish.contract_tests import undefined
from aish.contracts import Body, Codec, Context, Decoder, Prompt, Request
from aish.errors import AishError
from aish.events import Heartbeat, Reasoning, StreamEnd, StreamError, StreamStart, TextDelta, ToolCall, Usage
from aish.wire import WireMessage

PROMPT = "tell me about owls zq7"
SECRET = "sk-contract-test-SECRET-4242"
KEY_ENV = "AISH_CONTRACT_TEST_KEY"
EVENT_TYPES = (StreamStart, TextDelta, Reasoning, ToolCall, Heartbeat, Usage, StreamEnd, StreamError)
JUNK = (
    "",
    "not json {",
    "{}",
    "[]",
    "null",
    "42",
    '"text"',
    '{"type": 5}',
    '{"choices": [{}]}',
    '{"choices": null}',
    '{"type": "content_block_delta", "delta": null}',
    '{"event": "chunk", "data": [1, 2]}',
    '{"error": {"message": null}}',
    "\x00\xff",
)
EVENT_NAMES = ("message", "error", "chunk", "complete", "content_block_delta", "message_stop", "done")


class CodecContract:
    """The tests; subclasses say how to build the codec."""

    def make_codec(self, agent: AgentConfig) -> Codec:
        raise undefined(self, "make_codec(self, agent)", "return your codec for that AgentConfig")

    # -- helpers ---------------------------------------------------------------

    def agent(self, **kw: object) -> AgentConfig:
        values: dict[str, object] = {"name": "bot", "transport": "t", "url": "http://127.0.0.1:9/v1", "codec": "c"}
        values.update(model="m", **kw)
        return AgentConfig(**values)  # type: ignore[arg-type]

    def encode(self, agent: AgentConfig | None = None) -> Request:
        codec = self.make_codec(agent or self.agent())
        return codec.encode(Prompt(PROMPT, Context(pipeline_id="p")))

    @pytest.fixture
    def keyed(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[AgentConfig]:
        monkeypatch.setenv(KEY_ENV, SECRET)
        yield self.agent(api_key_env=KEY_ENV)

    # -- encode ------------------------------------------------------------------

    def test_encode_builds_a_request_carrying_the_prompt(self) -> None:
        request = self.encode()
        assert isinstance(request, Request)
        assert isinstance(request.url, str) and request.url
        assert isinstance(request.body, bytes | Body)
        assert PROMPT in bytes(request.body).decode("utf-8")

    def test_a_long_prompt_makes_a_body_that_says_its_size(self) -> None:
        """A :class:`~aish.Body` (decision 27) is the same bytes whole, in pieces, and again."""
        long = ('line "quoted" \u00e9\U0001f600 \\ zq7\n' * 8000) + PROMPT
        request = self.make_codec(self.agent()).encode(Prompt(long, Context(pipeline_id="p")))
        body = bytes(request.body)
        if not isinstance(request.body, bytes):  # a Body (bytes themselves look like one)
            assert isinstance(request.body, Body)
            assert len(request.body) == len(body)
            assert b"".join(request.body) == body == b"".join(request.body)
        assert PROMPT in body.decode("utf-8")

    def test_a_key_goes_only_into_headers_and_secrets(self, keyed: AgentConfig) -> None:
        request = self.encode(keyed)
        assert SECRET not in request.url and SECRET.encode() not in bytes(request.body)
        if any(SECRET in value for value in request.headers.values()):
            assert any(SECRET in secret for secret in request.secrets), "a key in headers must be in secrets too"

    def test_encode_without_a_key_has_no_secrets(self) -> None:
        assert all(secret for secret in self.encode().secrets)

    # -- decode ------------------------------------------------------------------

    def test_each_decoder_is_fresh(self) -> None:
        codec = self.make_codec(self.agent())
        first, second = codec.decoder(), codec.decoder()
        assert first is not second and isinstance(first, Decoder)

    @pytest.mark.parametrize("event", EVENT_NAMES)
    @pytest.mark.parametrize("data", JUNK)
    def test_junk_ends_in_an_aish_error_or_events(self, data: str, event: str) -> None:
        decoder = self.make_codec(self.agent()).decoder()
        try:
            events = decoder.decode(WireMessage(data, event=event, id=None))
        except AishError as exc:
            assert str(exc) and "\n" not in str(exc).strip()
            return
        _check_events(events)

    def test_finish_returns_events(self) -> None:
        decoder = self.make_codec(self.agent()).decoder()
        finish = getattr(decoder, "finish", None)
        if finish is not None:
            with contextlib.suppress(AishError):
                _check_events(finish())

    # -- error bodies --------------------------------------------------------------

    @pytest.mark.parametrize("body", JUNK)
    @pytest.mark.parametrize("status", [400, 401, 429, 500, 503])
    def test_error_message_never_raises(self, status: int, body: str) -> None:
        message = self.make_codec(self.agent()).error_message(status, body)
        assert message is None or isinstance(message, str)


def _check_events(events: Sequence[object]) -> None:
    assert isinstance(events, Sequence), type(events)
    for event in events:
        assert isinstance(event, EVENT_TYPES), event
