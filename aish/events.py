"""The stream event model: what every answer is made of, whatever the transport.

A stage's stream is always::

    StreamStart  (TextDelta | Reasoning | ToolCall | Heartbeat | Usage)*  (StreamEnd | StreamError)

Codecs create the middle events from wire messages (and ``StreamEnd`` when the
dialect's end marker arrives); the stream layer (:mod:`aish.stream`) adds
``StreamStart``, the closing ``StreamError`` when anything fails, turns wire
comments into ``Heartbeat``, and stamps every event with its ``agent`` and a
per-stream ``seq`` (0, 1, 2, ... in the order consumers see them). Renderers and
history backends consume them.

Events are small slotted classes built for speed (an answer may be 50,000
events): treat them as immutable once stamped. Dispatch on ``type(event)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aish.errors import AishError


@dataclass(slots=True)
class StreamStart:
    """A stage began: the request was accepted. ``model`` when the agent names one."""

    model: str | None = None
    agent: str = ""
    seq: int = 0


@dataclass(slots=True)
class TextDelta:
    """A piece of the answer's text, in order. Concatenating them gives the answer."""

    text: str
    agent: str = ""
    seq: int = 0


@dataclass(slots=True)
class Reasoning:
    """A piece of the model's reasoning ("thinking"), in order, apart from the answer.

    Reasoning models stream it before (or between) the answer's text:
    OpenAI-compatible servers as ``delta.reasoning_content`` (llama.cpp,
    DeepSeek, Qwen) or ``delta.reasoning``, Anthropic as ``thinking_delta``
    blocks. It is never part of the answer: not in the stage's text, not passed
    to the next stage, not written by a renderer to a pipe or file. History
    keeps it apart (``meta["reasoning"]``).
    """

    text: str
    agent: str = ""
    seq: int = 0


@dataclass(slots=True)
class ToolCall:
    """The model asks for a tool to be run; aish runs none.

        One event per complete call, once the decoder has all its pieces:
        ``name`` of the tool, ``arguments`` as the model wrote them (JSON text),
        and the call's ``id`` when the endpoint gave one. A stage that asked for a
        tool ends with exit status 6 (``EXIT_TOOL_CALL``) and its pipeline stops
        there, with one line naming each call; renderers on a terminal show each
    call as it comes (``[tool call: NAME ARGUMENTS]``).
    """

    name: str
    arguments: str = ""
    id: str | None = None
    agent: str = ""
    seq: int = 0

    def describe(self, limit: int = 200) -> str:
        """``NAME ARGUMENTS`` in one line, the arguments cut at ``limit`` characters."""
        arguments = " ".join(self.arguments.split())
        if len(arguments) > limit:
            arguments = arguments[: limit - 3] + "..."
        return f"{self.name} {arguments}".rstrip()


@dataclass(slots=True)
class Heartbeat:
    """The peer is alive but has nothing to say yet (an SSE comment, a ping event)."""

    agent: str = ""
    seq: int = 0


@dataclass(slots=True)
class Usage:
    """Token counts and any other metadata the endpoint reported (model, ids, timings)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    agent: str = ""
    seq: int = 0


@dataclass(slots=True)
class StreamEnd:
    """The answer is complete: the dialect's end marker arrived."""

    finish_reason: str | None = None
    agent: str = ""
    seq: int = 0


@dataclass(slots=True)
class StreamError:
    """The stage failed. ``partial`` says whether some text had already arrived.

    Always the last event of a failed stream; ``error`` is the :class:`AishError`
    the user is shown (one line).
    """

    error: AishError
    partial: bool = False
    agent: str = ""
    seq: int = 0


Event = StreamStart | TextDelta | Reasoning | ToolCall | Heartbeat | Usage | StreamEnd | StreamError
"""Any stream event."""
