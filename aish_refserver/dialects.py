"""Two more dialects of the reference server: Tekton's Rhetor stream and the aish envelope.

``POST /api/chat/{specialist}/stream`` answers like Tekton's Rhetor
(``chunk`` events, then ``complete`` with a summary); ``POST /v1/envelope``
answers aish envelopes (``text`` events, then ``end``). The reply is the demo
persona's text for the specialist / ``model`` (``athena`` when unknown), for
the message / ``input``; ``max_tokens`` caps it (envelope: in ``options``).
"""

from __future__ import annotations

import json
from typing import Any

from .demo_text import MODELS, plan_reply
from .protocol import ApiError
from .streaming import Reply


def _data(obj: object) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _model(name: object) -> str:
    return name if isinstance(name, str) and name in MODELS else "athena"


def _cap(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def rhetor_reply(specialist: str, body: Any) -> Reply:
    """Rhetor's per-specialist stream for ``body`` (``message``, ``context_id``, ``max_tokens``)."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        raise ApiError(422, "message: field required", code="invalid_request")
    model = _model(specialist)
    plan = plan_reply(model, body["message"], max_tokens=_cap(body.get("max_tokens")))
    meta = {"specialist_id": specialist, "model": model}

    def chunk(token: str) -> bytes:
        return _data({"type": "chunk", "content": token, "metadata": meta})

    summary = {"total_chunks": plan.count, "total_tokens": plan.count, "total_time": 0.0, **meta}
    tail = [_data({"type": "complete", "content": "", "metadata": meta, "summary": summary})]
    return Reply([], chunk, plan.tokens, plan.count, tail)


def envelope_reply(body: Any) -> Reply:
    """An aish envelope's reply: ``text`` events, then ``end`` with usage."""
    if not isinstance(body, dict) or not isinstance(body.get("input"), str):
        raise ApiError(400, "input: a string is required", code="invalid_request")
    found = body.get("options")
    options: dict[str, Any] = found if isinstance(found, dict) else {}
    model = _model(body.get("model"))
    plan = plan_reply(model, body["input"], max_tokens=_cap(options.get("max_tokens")))

    def text(token: str) -> bytes:
        return _data({"type": "text", "text": token})

    usage = {"input_tokens": len(body["input"].split()), "output_tokens": plan.count}
    tail = [_data({"type": "end", "finish_reason": plan.finish_reason, "usage": usage})]
    return Reply([], text, plan.tokens, plan.count, tail)
