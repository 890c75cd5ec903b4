"""The ``aish-ws`` codec: the aish WebSocket protocol's JSON messages (see ``docs/websocket.md``).

The client sends one ``request`` (input, context, options), and may later send
``cancel`` or, on a new connection, ``resume``. The server answers with
``delta`` messages (text, numbered by ``seq``), ``heartbeat``, one ``done``
(finish reason and usage) or an ``error``. A server that can resume names its
answer with ``stream`` on every message; the id of a message is then
``STREAM:SEQ``, which is what the stream layer resumes after.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from json.scanner import make_scanner
from typing import Any, cast

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

CANCEL = b'{"type": "cancel"}'

_scan: Callable[[str, int], tuple[Any, int]] = cast(Any, make_scanner)(json.JSONDecoder())


def parse(data: str) -> Any:
    """``json.loads(data)``, minus its per-call overhead on the usual message.

    The C scanner reads the object; anything it does not end exactly at the
    end of ``data`` with (whitespace around it, garbage after it, not JSON at
    all) goes to ``json.loads``, which accepts or rejects it with its own error.
    """
    try:
        value, end = _scan(data, 0)
    except StopIteration:
        return json.loads(data)
    if end != len(data):
        return json.loads(data)
    return value


class AishWSControl:
    """The protocol's control messages, for the transport (:class:`aish.MessageControl`)."""

    def message_id(self, data: str) -> str | None:
        if '"stream"' not in data:  # the fast path: a server that cannot resume
            return None
        try:
            message = parse(data)
            return f"{message['stream']}:{message['seq']}"
        except (ValueError, KeyError, TypeError):
            return None

    def resume(self, body: bytes, last_event_id: str) -> bytes:
        stream, _, seq = last_event_id.rpartition(":")
        request = json.loads(body)
        return json.dumps({"type": "resume", "stream": stream, "after": int(seq), "request": request}).encode()

    def cancel(self) -> bytes | None:
        return CANCEL

    def is_end(self, data: str) -> bool:
        """Whether ``data`` is the ``done`` message (optional; session mode reuses the connection)."""
        if '"done"' not in data:
            return False
        try:
            message = parse(data)
        except ValueError:
            return False
        return isinstance(message, dict) and message.get("type") == "done"


CONTROL = AishWSControl()


class AishWSCodec:
    """Requests as ``{"type": "request", ...}``; ``url`` is the server's WebSocket endpoint."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    def encode(self, prompt: Prompt) -> Request:
        agent = self.agent
        message: dict[str, Any] = {
            "type": "request",
            "model": agent.model,
            "input": prompt.text,
            "context": prompt.context.as_dict(),
            "options": dict(agent.options),
            "turns": [{"prompt": t.prompt, "answer": t.answer} for t in prompt.turns],
        }
        headers, secrets = with_api_key(agent, agent.headers)
        return Request(
            url=agent.url,
            body=json.dumps(message).encode(),
            headers=headers,
            method="GET",
            secrets=secrets,
            control=CONTROL,
        )

    def decoder(self) -> AishWSDecoder:
        return AishWSDecoder(self.agent.url)

    def error_message(self, status: int, body: str) -> str | None:
        try:
            message = json.loads(body)
        except ValueError:
            return body.strip()[:200] or None
        if isinstance(message, dict) and isinstance(message.get("message"), str):
            return str(message["message"])
        return body.strip()[:200] or None


class AishWSDecoder:
    """Per-stream state: the next ``seq`` expected (a gap means lost text)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.next_seq = 0

    def decode(self, message: WireMessage) -> Sequence[Event]:
        try:
            data = parse(message.data)
            kind = data["type"]
        except (ValueError, KeyError, TypeError):
            raise MalformedEvent(f"malformed event data: {message.data[:80]!r}") from None
        if kind == "delta":
            text = data.get("text")
            if data.get("seq") != self.next_seq or type(text) is not str:
                raise MalformedEvent(f"malformed event data: {message.data[:80]!r} (expected seq {self.next_seq})")
            self.next_seq += 1
            return (TextDelta(text),)
        if kind == "heartbeat":
            return (Heartbeat(),)
        if kind == "done":
            usage = data.get("usage") or {}
            events: list[Event] = []
            if usage:
                events.append(Usage(usage.get("input_tokens"), usage.get("output_tokens")))
            events.append(StreamEnd(data.get("finish_reason")))
            return events
        if kind == "error":
            raise self._error(data)
        return ()  # messages of later versions of the protocol are ignored

    def is_answer_start(self, message: WireMessage) -> bool:
        """A resumed connection whose first message is the first delta started over."""
        try:
            data = parse(message.data)
        except ValueError:
            return False
        return isinstance(data, dict) and data.get("type") == "delta" and data.get("seq") == 0

    def _error(self, data: dict[str, Any]) -> RemoteError:
        text = str(data.get("message") or data.get("code") or "unknown error")
        status = data.get("status")
        if isinstance(status, int) and 400 <= status <= 599:
            retry_after = data.get("retry_after")
            after = float(retry_after) if isinstance(retry_after, int | float) else None
            return HTTPStatusError(status, str(data.get("code") or ""), self.url, json.dumps(data), after)
        code = data.get("code")
        return RemoteError(f"error event: {code}: {text}" if code else f"error event: {text}")
