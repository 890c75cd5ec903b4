"""The ``tekton-rhetor`` codec: Tekton's Rhetor per-specialist SSE stream.

``POST {url}/api/chat/{specialist}/stream`` (the specialist is the agent's
``model``, else its name) with ``{"message", "context_id", "temperature",
"max_tokens", "include_metadata"}``. The ``context_id`` is the conversation's
id when the stage continues one (Rhetor keeps the conversation itself, so
earlier turns are not sent again), else the session id when there is one, else
the pipeline id, so the stages of one pipeline share a Rhetor context; a
pipeline stage's context is also written in words before the message
(``options.context = "none"`` leaves it out). Unnamed events:
``{"type": "chunk", "content"}``, ``{"type": "complete", "summary"}`` (the end)
and ``{"type": "error", "error"}``; the ``: ping`` comments are heartbeats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aish import (
    AgentConfig,
    Event,
    Joined,
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


class RhetorCodec:
    """Encodes prompts as Rhetor chat requests; decodes its chunk/complete/error events."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    def encode(self, prompt: Prompt) -> Request:
        agent = self.agent
        options = dict(agent.options)
        mode = str(options.pop("context", "text"))
        context = prompt.context
        message = prompt.content  # a long one in pieces (decision 31)
        if context.in_pipeline and mode != "none":
            message = Joined.join("\n\nInput:\n", [context.description(), prompt.content])
        body: dict[str, Any] = {
            "message": message,
            "context_id": context.conversation_id or context.session_id or context.pipeline_id,
            "temperature": options.pop("temperature", 0.7),
            "max_tokens": options.pop("max_tokens", 4000),
            "include_metadata": True,
        }
        body.update(options)
        specialist = agent.model or agent.name
        headers, secrets = with_api_key(
            agent, {"Content-Type": "application/json", "Accept": "text/event-stream", **agent.headers}
        )
        return Request(
            url=f"{agent.url.rstrip('/')}/api/chat/{specialist}/stream",
            body=json_body(body),
            headers=headers,
            secrets=secrets,
        )

    def decoder(self) -> RhetorDecoder:
        return RhetorDecoder()

    def error_message(self, status: int, body: str) -> str | None:
        return error_detail(body)


class RhetorDecoder:
    """Per-stream state: none; ``complete`` ends the answer."""

    __slots__ = ()

    def decode(self, message: WireMessage) -> Sequence[Event]:
        obj = json_object(message.data)
        kind = obj.get("type")
        if kind == "chunk":
            content = obj.get("content")
            return (TextDelta(content),) if isinstance(content, str) and content else ()
        if kind == "complete":
            found = obj.get("summary")
            summary: dict[str, Any] = found if isinstance(found, dict) else {}
            tokens = summary.get("total_tokens")
            meta: dict[str, Any] = {k: summary[k] for k in ("model", "specialist_id", "total_time") if k in summary}
            usage = Usage(None, tokens if isinstance(tokens, int) else None, meta)
            return (usage, StreamEnd("stop"))
        if kind == "error":
            raise RemoteError(f"error event: {str(obj.get('error') or 'unknown error')[:300]}")
        return ()
