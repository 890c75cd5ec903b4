"""The ``text`` codec: the input goes out as the request body, each event's data is text.

The request is sent to the agent's ``url`` exactly, as ``text/plain``; a
pipeline stage's context and the earlier turns of the agent's conversation
are written in words before the input (``options.context = "none"`` leaves
them out).
(``options.method = "GET"`` sends no body, for plain EventSource endpoints).
Every event's ``data``, whatever its type, is a piece of the answer, in order,
and the end of the stream is the end of the answer. With it, any event stream
can be looked at through aish.
"""

from __future__ import annotations

from collections.abc import Sequence

from aish import AgentConfig, Event, Prompt, Request, StreamEnd, TextDelta, WireMessage, describe_turns, with_api_key


def render_prompt(prompt: Prompt, mode: str = "text") -> str:
    """The prompt's text, after its context and earlier turns in words (``mode`` ``"none"``: never)."""
    context = prompt.context
    parts = [context.describe()] if context.in_pipeline else []
    if prompt.turns:
        parts.append(describe_turns(prompt.turns, context.agent))
    if not parts or mode == "none":
        return prompt.text
    return "\n\n".join(parts) + f"\n\nInput:\n{prompt.text}"


class TextCodec:
    """The simplest dialect: text in, text out."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    def encode(self, prompt: Prompt) -> Request:
        agent = self.agent
        method = str(agent.options.get("method", "POST")).upper()
        headers = {"Accept": "text/event-stream", **agent.headers}
        body = b""
        if method != "GET":
            headers = {"Content-Type": "text/plain; charset=utf-8", **headers}
            body = render_prompt(prompt, str(agent.options.get("context", "text"))).encode()
        keyed, secrets = with_api_key(agent, headers)
        return Request(url=agent.url, body=body, headers=keyed, method=method, secrets=secrets)

    def decoder(self) -> TextDecoder:
        return TextDecoder()

    def error_message(self, status: int, body: str) -> str | None:
        first = body.strip().splitlines()[0].strip() if body.strip() else ""
        return first[:200] or None


class TextDecoder:
    """Every message is text; the end of the stream is the end of the answer."""

    __slots__ = ()

    def decode(self, message: WireMessage) -> Sequence[Event]:
        data = message.data
        if message.event == "response":  # a whole (JSON) body: the answer at once
            return (TextDelta(data), StreamEnd("stop")) if data else (StreamEnd("stop"),)
        return (TextDelta(data),) if data else ()

    def finish(self) -> Sequence[Event]:
        return (StreamEnd("stop"),)
