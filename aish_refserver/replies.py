"""Each endpoint's streamed reply as a dialect-neutral :class:`~aish_refserver.streaming.Reply`."""

from __future__ import annotations

from collections.abc import Mapping

from . import anthropic
from .demo_text import MODELS, plan_reply
from .protocol import DONE_EVENT, ApiError, ChatRequest, ChunkEncoder
from .streaming import Reply


def openai_reply(request: ChatRequest) -> Reply:
    """``chat.completion.chunk`` events: role, one per token, finish, usage (when asked), ``[DONE]``."""
    encoder = ChunkEncoder(request.model)
    tail = [encoder.finish_event(request.plan.finish_reason)]
    if request.include_usage:
        tail.append(encoder.usage_event(request.usage))
    tail.append(DONE_EVENT)
    return Reply([encoder.role_event()], encoder.content_event, request.plan.tokens, request.plan.count, tail)


def anthropic_reply(request: anthropic.MessagesRequest) -> Reply:
    """Messages events: ``message_start`` ... ``content_block_delta`` per token ... ``message_stop``."""
    encoder = anthropic.MessagesEncoder(request)
    malformed = b"event: content_block_delta\ndata: {broken\n\n"
    return Reply(
        encoder.head(), encoder.content_event, request.plan.tokens, request.plan.count, encoder.tail(), malformed
    )


def text_reply(model: str, prompt: str, query: Mapping[str, str]) -> tuple[Reply, float | None]:
    """Plain ``data: TOKEN`` events and nothing else; ``tokens``, ``max_tokens``, ``pace`` from the query."""
    if model not in MODELS:
        raise ApiError(404, f"The model '{model}' does not exist.", code="model_not_found")
    try:
        tokens = int(query["tokens"]) if "tokens" in query else None
        cap = int(query["max_tokens"]) if "max_tokens" in query else None
        pace = float(query["pace"]) if "pace" in query else None
    except ValueError:
        raise ApiError(400, "tokens, max_tokens and pace must be numbers") from None
    if (tokens is not None and tokens < 0) or (cap is not None and cap < 1) or (pace is not None and pace < 0):
        raise ApiError(400, "tokens must be >= 0, max_tokens >= 1 and pace >= 0")
    plan = plan_reply(model, prompt, max_tokens=cap, exact_tokens=tokens)
    return Reply([], _text_event, plan.tokens, plan.count, [], malformed=b"data: \xff\xfe\n\n"), pace


def _text_event(token: str) -> bytes:
    return b"data: " + token.encode() + b"\n\n"
