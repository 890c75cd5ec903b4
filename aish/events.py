"""The stream event model: what every answer is made of, whatever the transport.

A stage's stream is always::

    StreamStart  (TextDelta | Reasoning | ToolCall | Heartbeat | Usage | Retrying)*  (StreamEnd | StreamError)

Codecs create the middle events from wire messages (and ``StreamEnd`` when the
dialect's end marker arrives); the stream layer (:mod:`aish.stream`) adds
``StreamStart``, the closing ``StreamError`` when anything fails, a
``Retrying`` before each wait to ask again, turns wire comments into
``Heartbeat``, and stamps every event with its ``agent`` and a per-stream
``seq`` (0, 1, 2, ... in the order consumers see them). Renderers and history
backends consume them.

Events are small slotted classes built for speed (an answer may be 50,000
events): treat them as immutable once stamped. Dispatch on ``type(event)``.
"""

from __future__ import annotations

from aish.records import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from aish.errors import AishError


class StreamStart(Record):
    """A stage began: the request was accepted. ``model`` when the agent names one."""

    __slots__ = ("model", "agent", "seq")
    model: str | None
    agent: str
    seq: int

    def __init__(self, model: str | None = None, agent: str = "", seq: int = 0) -> None:
        self.model = model
        self.agent = agent
        self.seq = seq


class TextDelta(Record):
    """A piece of the answer's text, in order. Concatenating them gives the answer.

    ``pieces``: how many of the endpoint's text events it carries. The stream layer
    joins the consecutive pieces that one network read brought into one event
    (decision 60), so a renderer that counts tokens without a :class:`Usage` adds
    ``pieces``, not 1.
    """

    __slots__ = ("text", "agent", "seq", "pieces")
    text: str
    agent: str
    seq: int
    pieces: int

    def __init__(self, text: str, agent: str = "", seq: int = 0, pieces: int = 1) -> None:
        self.text = text
        self.agent = agent
        self.seq = seq
        self.pieces = pieces


class Reasoning(Record):
    """A piece of the model's reasoning ("thinking"), in order, apart from the answer.

    Reasoning models stream it before (or between) the answer's text:
    OpenAI-compatible servers as ``delta.reasoning_content`` (llama.cpp,
    DeepSeek, Qwen) or ``delta.reasoning``, Anthropic as ``thinking_delta``
    blocks. It is never part of the answer: not in the stage's text, not passed
    to the next stage, not written by a renderer to a pipe or file. History
    keeps it apart (``meta["reasoning"]``).
    """

    __slots__ = ("text", "agent", "seq")
    text: str
    agent: str
    seq: int

    def __init__(self, text: str, agent: str = "", seq: int = 0) -> None:
        self.text = text
        self.agent = agent
        self.seq = seq


class ToolCall(Record):
    """The model asks for a tool to be run; aish runs none.

        One event per complete call, once the decoder has all its pieces:
        ``name`` of the tool, ``arguments`` as the model wrote them (JSON text),
        and the call's ``id`` when the endpoint gave one. A stage that asked for a
        tool ends with exit status 6 (``EXIT_TOOL_CALL``) and its pipeline stops
        there, with one line naming each call; renderers on a terminal show each
    call as it comes (``[tool call: NAME ARGUMENTS]``).
    """

    __slots__ = ("name", "arguments", "id", "agent", "seq")
    name: str
    arguments: str
    id: str | None
    agent: str
    seq: int

    def __init__(self, name: str, arguments: str = "", id: str | None = None, agent: str = "", seq: int = 0) -> None:
        self.name = name
        self.arguments = arguments
        self.id = id
        self.agent = agent
        self.seq = seq

    def describe(self, limit: int = 200) -> str:
        """``NAME ARGUMENTS`` in one line, the arguments cut at ``limit`` characters."""
        arguments = " ".join(self.arguments.split())
        if len(arguments) > limit:
            arguments = arguments[: limit - 3] + "..."
        return f"{self.name} {arguments}".rstrip()


class Heartbeat(Record):
    """The peer is alive but has nothing to say yet (an SSE comment, a ping event)."""

    __slots__ = ("agent", "seq")
    agent: str
    seq: int

    def __init__(self, agent: str = "", seq: int = 0) -> None:
        self.agent = agent
        self.seq = seq


class Usage(Record):
    """Token counts and any other metadata the endpoint reported (model, ids, timings)."""

    __slots__ = ("input_tokens", "output_tokens", "meta", "agent", "seq")
    input_tokens: int | None
    output_tokens: int | None
    meta: dict[str, Any]
    agent: str
    seq: int

    def __init__(
        self,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        meta: dict[str, Any] | None = None,
        agent: str = "",
        seq: int = 0,
    ) -> None:
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.meta = meta if meta is not None else {}
        self.agent = agent
        self.seq = seq


class Retrying(Record):
    """The stage waits ``delay`` seconds, then asks again: a retry or a resume after a failure.

    ``reason`` says why in a few words (``HTTP 429``, ``HTTP 503``, ``connection lost``,
    ``cannot connect``, ``no data``); ``attempt`` counts the retries in a row (1 for the first).
    It comes before the wait, so a renderer can say ``retrying in 2s (HTTP 429)`` while it lasts.
    """

    __slots__ = ("delay", "reason", "attempt", "agent", "seq")
    delay: float
    reason: str
    attempt: int
    agent: str
    seq: int

    def __init__(self, delay: float, reason: str = "", attempt: int = 1, agent: str = "", seq: int = 0) -> None:
        self.delay = delay
        self.reason = reason
        self.attempt = attempt
        self.agent = agent
        self.seq = seq


class StreamEnd(Record):
    """The answer is complete: the dialect's end marker arrived."""

    __slots__ = ("finish_reason", "agent", "seq")
    finish_reason: str | None
    agent: str
    seq: int

    def __init__(self, finish_reason: str | None = None, agent: str = "", seq: int = 0) -> None:
        self.finish_reason = finish_reason
        self.agent = agent
        self.seq = seq


class StreamError(Record):
    """The stage failed. ``partial`` says whether some text had already arrived.

    Always the last event of a failed stream; ``error`` is the :class:`AishError`
    the user is shown (one line).
    """

    __slots__ = ("error", "partial", "agent", "seq")
    error: AishError
    partial: bool
    agent: str
    seq: int

    def __init__(self, error: AishError, partial: bool = False, agent: str = "", seq: int = 0) -> None:
        self.error = error
        self.partial = partial
        self.agent = agent
        self.seq = seq


Event = StreamStart | TextDelta | Reasoning | ToolCall | Heartbeat | Usage | Retrying | StreamEnd | StreamError
"""Any stream event."""
