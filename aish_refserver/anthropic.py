"""The Anthropic Messages dialect of the reference server: ``POST /v1/messages``.

``GET /v1/models`` with an ``anthropic-version`` header answers in Anthropic's shape.

Requests need the ``anthropic-version`` header and a ``max_tokens``; the key
(``x-api-key``) is recorded, never checked. Replies use the same offline
demo text as the OpenAI endpoint, streamed as named events
(``message_start``, ``content_block_start``, ``ping``,
``content_block_delta``..., ``content_block_stop``, ``message_delta``,
``message_stop``) or sent whole as a ``message`` object. The extension fields
``aish_tokens``, ``aish_pace``, ``aish_finish`` and ``aish_fault`` work as on the
OpenAI endpoint (``aish_finish`` values ``stop`` and ``length`` become ``end_turn``
and ``max_tokens``; others, such as ``refusal``, are sent as given).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .demo_text import MODELS, ReplyPlan, count_prompt_tokens, last_user_text, message_text, plan_reply
from .protocol import ApiError, finish_field

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens"}


@dataclass(frozen=True, slots=True)
class MessagesRequest:
    """A validated Messages request."""

    model: str
    stream: bool
    plan: ReplyPlan
    input_tokens: int
    pace: float | None


def error_body(error: ApiError) -> dict[str, Any]:
    """An Anthropic error object: ``{"type": "error", "error": {"type", "message"}}``."""
    kinds = {401: "authentication_error", 404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error"}
    kind = kinds.get(error.status, "api_error" if error.status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": error.message}}


def models_list() -> dict[str, Any]:
    """``GET /v1/models`` in Anthropic's shape (asked with an ``anthropic-version`` header)."""
    data = [
        {"type": "model", "id": name, "display_name": name.title(), "created_at": "2026-01-01T00:00:00Z"}
        for name in MODELS
    ]
    return {"data": data, "has_more": False, "first_id": MODELS[0], "last_id": MODELS[-1]}


def parse_messages_request(body: object, version: str | None) -> MessagesRequest:
    """Validate a Messages body; ``version`` is the ``anthropic-version`` header (required)."""
    if not version:
        raise ApiError(400, "anthropic-version: header is required")
    if not isinstance(body, Mapping):
        raise ApiError(400, "The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or model not in MODELS:
        raise ApiError(404, f"model: {model!r} not found (available: {', '.join(MODELS)})")
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise ApiError(400, "max_tokens: Field required (an integer >= 1)")
    messages = body.get("messages")
    if not isinstance(messages, Sequence) or isinstance(messages, str) or not messages:
        raise ApiError(400, "messages: Field required (a non-empty array)")
    if not all(isinstance(m, Mapping) for m in messages):
        raise ApiError(400, "messages: each message must be an object")
    exact = body.get("aish_tokens")
    if exact is not None and (isinstance(exact, bool) or not isinstance(exact, int) or exact < 0):
        raise ApiError(400, "aish_tokens: an integer >= 0")
    pace = body.get("aish_pace")
    if pace is not None and (isinstance(pace, bool) or not isinstance(pace, int | float) or not 0 <= pace < 3600):
        raise ApiError(400, "aish_pace: a number of seconds >= 0")
    message_list = tuple(messages)
    system = message_text(body.get("system"))
    finish = finish_field(body)
    plan = plan_reply(
        model, last_user_text(message_list), max_tokens=max_tokens, exact_tokens=exact, finish_reason=finish
    )
    return MessagesRequest(
        model=model,
        stream=body.get("stream") is True,
        plan=plan,
        input_tokens=count_prompt_tokens(message_list) + len(system.split()),
        pace=None if pace is None else float(pace),
    )


def _event(name: str, obj: object) -> bytes:
    return f"event: {name}\ndata: {json.dumps(obj, separators=(',', ':'))}\n\n".encode()


class MessagesEncoder:
    """The events of one streamed Messages reply."""

    _SENTINEL = "\x00aish-token\x00"

    def __init__(self, request: MessagesRequest) -> None:
        self.request = request
        self.id = "msg_" + uuid.uuid4().hex[:24]
        delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": self._SENTINEL}}
        head, tail = _event("content_block_delta", delta).split(json.dumps(self._SENTINEL).encode(), 1)
        self._head, self._tail = head, tail

    def head(self) -> list[bytes]:
        """``message_start``, ``content_block_start`` and a ``ping``."""
        message: dict[str, Any] = {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.request.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": self.request.input_tokens, "output_tokens": 1},
        }
        return [
            _event("message_start", {"type": "message_start", "message": message}),
            _event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": _text("")}),
            _event("ping", {"type": "ping"}),
        ]

    def content_event(self, token: str) -> bytes:
        return self._head + json.dumps(token).encode() + self._tail

    def tail(self) -> list[bytes]:
        """``content_block_stop``, ``message_delta`` (stop reason, usage) and ``message_stop``."""
        plan = self.request.plan
        delta = {"stop_reason": STOP_REASONS.get(plan.finish_reason, plan.finish_reason), "stop_sequence": None}
        return [
            _event("content_block_stop", {"type": "content_block_stop", "index": 0}),
            _event("message_delta", {"type": "message_delta", "delta": delta, "usage": {"output_tokens": plan.count}}),
            _event("message_stop", {"type": "message_stop"}),
        ]


def message_object(request: MessagesRequest) -> dict[str, Any]:
    """The whole non-streamed answer."""
    plan = request.plan
    return {
        "id": "msg_" + uuid.uuid4().hex[:24],
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": [_text(plan.text())],
        "stop_reason": STOP_REASONS.get(plan.finish_reason, plan.finish_reason),
        "stop_sequence": None,
        "usage": {"input_tokens": request.input_tokens, "output_tokens": plan.count},
    }


def _text(text: str) -> dict[str, str]:
    return {"type": "text", "text": text}
