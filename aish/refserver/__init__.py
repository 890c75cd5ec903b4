"""aish's reference agent server: an OpenAI-compatible, stdlib-only test server.

It serves the offline demo agents ``apollo``, ``athena`` and ``hermes`` (and
``echo``) over ``/v1/models`` and ``/v1/chat/completions``, streamed or not,
with deterministic text and configurable pacing. Tests and benchmarks start
it in-process (:class:`RefServer`) or as ``python -m aish.refserver``.

Request extension fields: ``aish_tokens`` (exact number of content tokens)
and ``aish_pace`` (seconds between tokens for this request).
"""

from __future__ import annotations

from .demo_text import MODELS, PERSONAS, ReplyPlan, plan_reply
from .log import RecordedRequest, RequestLog
from .protocol import ApiError, ChatRequest, ChunkEncoder, parse_chat_request
from .server import RefServer

__all__ = [
    "MODELS",
    "PERSONAS",
    "ApiError",
    "ChatRequest",
    "ChunkEncoder",
    "RecordedRequest",
    "RefServer",
    "ReplyPlan",
    "RequestLog",
    "parse_chat_request",
    "plan_reply",
]
