"""The ``ndjson-chat`` codec: Tekton-style JSON lines.

Request: ``{"type": "chat", "content": PROMPT, "model": ..., "options": {...}}``.
Replies: ``stream_chunk`` lines (``content``, numbered by ``seq``), ``ping``
while quiet, then ``stream_end`` or ``error``. A server that can resume names
its answer with ``stream``; a line's id is then ``STREAM:SEQ``, and a new
connection resumes with ``{"type": "resume", "stream": ..., "after": SEQ, "request": {...}}``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aish import (
    AgentConfig,
    Event,
    Heartbeat,
    HTTPStatusError,
    MalformedEvent,
    Prompt,
    RemoteError,
    Request,
    StreamEnd,
    TextDelta,
    Usage,
    WireMessage,
    with_api_key,
)


class NDJSONControl:
    """Ids, resume and cancel lines for the transport (an :class:`aish.MessageControl`)."""

    def message_id(self, data: str) -> str | None:
        if '"stream"' not in data:
            return None
        try:
            message = json.loads(data)
            return f"{message['stream']}:{message['seq']}"
        except (ValueError, KeyError, TypeError):
            return None

    def resume(self, body: bytes, last_event_id: str) -> bytes:
        stream, _, seq = last_event_id.rpartition(":")
        return json.dumps({"type": "resume", "stream": stream, "after": int(seq), "request": json.loads(body)}).encode()

    def cancel(self) -> bytes | None:
        return b'{"type": "cancel"}'


CONTROL = NDJSONControl()


class NDJSONCodec:
    """Encodes a prompt as one ``chat`` line; an API key travels only as a header."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    def encode(self, prompt: Prompt) -> Request:
        agent = self.agent
        message = {"type": "chat", "content": prompt.text, "model": agent.model, "options": dict(agent.options)}
        headers, secrets = with_api_key(agent, agent.headers)
        return Request(
            url=agent.url, body=json.dumps(message).encode(), headers=headers, secrets=secrets, control=CONTROL
        )

    def decoder(self) -> NDJSONDecoder:
        return NDJSONDecoder(self.agent.url)

    def error_message(self, status: int, body: str) -> str | None:
        try:
            message = json.loads(body)
        except ValueError:
            return body.strip()[:200] or None
        if isinstance(message, dict) and isinstance(message.get("message"), str):
            return str(message["message"])
        return body.strip()[:200] or None


class NDJSONDecoder:
    """Per-stream state: the next ``seq`` expected (a gap would mean lost text)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.next_seq = 0

    def decode(self, message: WireMessage) -> Sequence[Event]:
        try:
            data = json.loads(message.data)
            kind = data["type"]
        except (ValueError, KeyError, TypeError):
            raise MalformedEvent(f"malformed event data: {message.data[:80]!r}") from None
        if kind == "stream_chunk":
            seq, content = data.get("seq", self.next_seq), data.get("content")
            if seq != self.next_seq or not isinstance(content, str):
                raise MalformedEvent(f"malformed event data: {message.data[:80]!r} (expected seq {self.next_seq})")
            self.next_seq += 1
            return (TextDelta(content),)
        if kind == "ping":
            return (Heartbeat(),)
        if kind == "stream_end":
            usage = data.get("usage")
            events: list[Event] = []
            if isinstance(usage, dict):
                events.append(Usage(usage.get("input_tokens"), usage.get("output_tokens")))
            events.append(StreamEnd(data.get("finish_reason")))
            return events
        if kind == "error":
            raise self._error(data)
        return ()  # unknown line types are ignored

    def is_answer_start(self, message: WireMessage) -> bool:
        """A resumed connection whose first line is chunk 0 started over."""
        try:
            data = json.loads(message.data)
        except ValueError:
            return False
        return isinstance(data, dict) and data.get("type") == "stream_chunk" and data.get("seq") == 0

    def _error(self, data: dict[str, Any]) -> RemoteError:
        text = str(data.get("message") or "unknown error")
        status = data.get("status")
        if isinstance(status, int) and 400 <= status <= 599:
            after = data.get("retry_after")
            retry_after = float(after) if isinstance(after, int | float) else None
            return HTTPStatusError(status, "", self.url, json.dumps(data), retry_after)
        return RemoteError(f"error event: {text}")
