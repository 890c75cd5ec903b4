"""The OpenAI-compatible chat completions dialect, without any transport.

This module validates request bodies and builds the response objects and
Server-Sent Events; :mod:`aish_refserver.server` moves them over HTTP. A later
transport (WebSocket) can reuse everything here.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .demo_text import (
    MODELS,
    ReplyPlan,
    count_prompt_tokens,
    last_user_text,
    plan_reply,
)

DONE_EVENT = b"data: [DONE]\n\n"
"""The SSE event that ends every stream."""

OWNER = "aish-refserver"


class ApiError(Exception):
    """An error answered as ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = "invalid_request",
        param: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = error_type
        self.code = code
        self.param = param
        self.headers = tuple(headers)
        """Extra response headers (``Retry-After``)."""

    def body(self) -> dict[str, Any]:
        """The JSON error object, as OpenAI sends it."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A validated ``POST /v1/chat/completions`` body.

    ``pace`` is ``None`` unless the request overrides the server's pacing with
    the ``aish_pace`` extension field.
    """

    model: str
    messages: tuple[Mapping[str, object], ...]
    stream: bool
    include_usage: bool
    plan: ReplyPlan
    prompt_tokens: int
    pace: float | None

    @property
    def usage(self) -> dict[str, int]:
        """The ``usage`` object for this reply."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.plan.count,
            "total_tokens": self.prompt_tokens + self.plan.count,
        }


def _int_field(body: Mapping[str, object], name: str, minimum: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ApiError(400, f"'{name}' must be an integer >= {minimum}", param=name)
    return value


def finish_field(body: Mapping[str, object]) -> str | None:
    """The ``aish_finish`` extension field: the stop reason a reply ends with (None: its own)."""
    value = body.get("aish_finish")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise ApiError(400, "'aish_finish' must be a short non-empty string", param="aish_finish")
    return value


def _bool_field(body: Mapping[str, object], name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ApiError(400, f"'{name}' must be a boolean", param=name)
    return value


def parse_chat_request(body: object) -> ChatRequest:
    """Validate a decoded JSON body; raise :class:`ApiError` when it is wrong.

    Extension fields: ``aish_tokens`` (exact number of content tokens; 0: an
    empty answer), ``aish_pace`` (seconds between tokens, overriding the
    server's default) and ``aish_finish`` (the ``finish_reason`` to end with,
    e.g. ``"content_filter"``).
    ``max_completion_tokens`` is accepted as an alias of ``max_tokens``.
    """
    if not isinstance(body, Mapping):
        raise ApiError(400, "The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "'model' must be a non-empty string", param="model")
    messages = body.get("messages")
    if (
        not isinstance(messages, Sequence)
        or isinstance(messages, str)
        or not all(isinstance(m, Mapping) for m in messages)
    ):
        raise ApiError(400, "'messages' must be an array of objects", param="messages")
    if model not in MODELS:
        raise ApiError(
            404,
            f"The model '{model}' does not exist. Available models: {', '.join(MODELS)}.",
            code="model_not_found",
            param="model",
        )
    stream = _bool_field(body, "stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, Mapping):
        raise ApiError(400, "'stream_options' must be an object", param="stream_options")
    include_usage = _bool_field(options or {}, "include_usage")
    max_tokens = _int_field(body, "max_tokens", 1)
    if max_tokens is None:
        max_tokens = _int_field(body, "max_completion_tokens", 1)
    exact = _int_field(body, "aish_tokens", 0)
    pace = body.get("aish_pace")
    if pace is not None and (isinstance(pace, bool) or not isinstance(pace, int | float) or not 0 <= pace < 3600):
        raise ApiError(400, "'aish_pace' must be a number of seconds >= 0", param="aish_pace")
    message_list = tuple(messages)
    finish = finish_field(body)
    plan = plan_reply(
        model, last_user_text(message_list), max_tokens=max_tokens, exact_tokens=exact, finish_reason=finish
    )
    return ChatRequest(
        model=model,
        messages=message_list,
        stream=stream,
        include_usage=include_usage,
        plan=plan,
        prompt_tokens=count_prompt_tokens(message_list),
        pace=None if pace is None else float(pace),
    )


def models_list(created: int = 0) -> dict[str, Any]:
    """The ``GET /v1/models`` answer."""
    return {"object": "list", "data": [model_object(name, created) for name in MODELS]}


def model_object(name: str, created: int = 0) -> dict[str, Any]:
    """One entry of the models list."""
    return {"id": name, "object": "model", "created": created, "owned_by": OWNER}


def new_completion_id() -> str:
    """A fresh ``chatcmpl-...`` id."""
    return "chatcmpl-" + uuid.uuid4().hex[:24]


def completion_object(request: ChatRequest) -> dict[str, Any]:
    """The whole non-streaming ``chat.completion`` answer."""
    return {
        "id": new_completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": request.plan.text()},
                "finish_reason": request.plan.finish_reason,
            }
        ],
        "usage": request.usage,
    }


def sse_event(obj: object) -> bytes:
    """One unnamed SSE event carrying ``obj`` as compact JSON."""
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


class ChunkEncoder:
    """Builds the ``chat.completion.chunk`` events of one streamed reply.

    All chunks share one id, ``created`` time and model, like the real API.
    Content events are the hot path (tens of thousands per second), so they
    are built from a pre-encoded template around the JSON-encoded token.
    """

    _SENTINEL = "\x00aish-token\x00"

    def __init__(self, model: str) -> None:
        self.id = new_completion_id()
        self.created = int(time.time())
        self.model = model
        template = sse_event(self._chunk({"content": self._SENTINEL}, None))
        head, tail = template.split(json.dumps(self._SENTINEL).encode(), 1)
        self._content_head = head
        self._content_tail = tail

    def _base(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
        }

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
        chunk = self._base()
        chunk["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
        return chunk

    def role_event(self) -> bytes:
        """The first event: ``delta: {"role": "assistant"}``."""
        return sse_event(self._chunk({"role": "assistant"}, None))

    def content_event(self, token: str) -> bytes:
        """One token as ``delta: {"content": token}``."""
        return self._content_head + json.dumps(token).encode() + self._content_tail

    def finish_event(self, finish_reason: str) -> bytes:
        """The event with an empty delta and the finish reason."""
        return sse_event(self._chunk({}, finish_reason))

    def usage_event(self, usage: Mapping[str, int]) -> bytes:
        """The ``stream_options.include_usage`` event: no choices, only usage."""
        chunk = self._base()
        chunk["choices"] = []
        chunk["usage"] = dict(usage)
        return sse_event(chunk)
