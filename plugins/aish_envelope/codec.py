"""The ``aish-envelope`` codec: the input and the whole context object, as JSON.

``POST {url}`` with::

    {"aish_envelope": 1, "agent": "athena", "model": "athena",
     "input": "...", "context": {...Context.to_dict()...}, "options": {...},
     "turns": [{"prompt": "...", "answer": "..."}, ...]}

``turns`` are the earlier turns of the agent's conversation, oldest first
(empty for a one-shot stage); ``context.conversation_id`` names it.

The reply is an event stream of JSON objects: ``{"type": "text", "text"}``
pieces, then ``{"type": "end", "finish_reason", "usage": {"input_tokens",
"output_tokens"}}``, or ``{"type": "error", "message"}``. See
``docs/pipelines.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

from aish import (
    AgentConfig,
    Event,
    MalformedEvent,
    Prompt,
    RemoteError,
    Request,
    StreamEnd,
    TextDelta,
    Usage,
    WireMessage,
    error_detail,
    json_body,
    json_object,
    with_api_key,
)

VERSION = 1


class EnvelopeCodec:
    """Encodes prompts as aish envelopes; decodes text/end/error events."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    def encode(self, prompt: Prompt) -> Request:
        agent = self.agent
        body = {
            "aish_envelope": VERSION,
            "agent": agent.name,
            "model": agent.model,
            "input": prompt.content,  # a long one in pieces (decision 31)
            "context": prompt.context.to_dict(),
            "options": dict(agent.options),
            "turns": [{"prompt": t.prompt, "answer": t.answer} for t in prompt.turns],
        }
        headers, secrets = with_api_key(
            agent, {"Content-Type": "application/json", "Accept": "text/event-stream", **agent.headers}
        )
        return Request(url=agent.url, body=json_body(body), headers=headers, secrets=secrets)

    def decoder(self) -> EnvelopeDecoder:
        return EnvelopeDecoder()

    def error_message(self, status: int, body: str) -> str | None:
        return error_detail(body)


class EnvelopeDecoder:
    """Stateless: ``end`` is the end marker."""

    __slots__ = ()

    def decode(self, message: WireMessage) -> Sequence[Event]:
        obj = json_object(message.data)
        kind = obj.get("type")
        if kind == "text":
            text = obj.get("text")
            return (TextDelta(text),) if isinstance(text, str) and text else ()
        if kind == "end":
            usage = obj.get("usage") if isinstance(obj.get("usage"), dict) else None
            events: list[Event] = []
            if usage:
                events.append(Usage(usage.get("input_tokens"), usage.get("output_tokens")))
            events.append(StreamEnd(obj.get("finish_reason") or "stop"))
            return events
        if kind == "error":
            raise RemoteError(f"error event: {str(obj.get('message') or 'unknown error')[:300]}")
        raise MalformedEvent(f"unknown event: {message.data[:80]!r}")
