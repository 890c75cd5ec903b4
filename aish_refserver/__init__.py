"""aish's reference agent server: an OpenAI-compatible, stdlib-only test server.

It serves the offline demo agents ``apollo``, ``athena`` and ``hermes`` (and
``echo``) over ``/v1/models`` and ``/v1/chat/completions``, streamed or not,
with deterministic text and configurable pacing; the same text in Anthropic's
dialect over ``/v1/messages``, and as plain ``data:`` events over
``/v1/text/MODEL``. Tests and benchmarks start it in-process
(:class:`RefServer`) or as ``python -m aish_refserver``.

Request extension fields: ``aish_tokens`` (exact number of content tokens; 0
gives an empty answer), ``aish_pace`` (seconds between tokens for this
request), ``aish_finish`` (the finish reason to end with, e.g.
``content_filter``) and ``aish_fault``
(faults to inject: drops, stalls, heartbeats, malformed events, drips, HTTP
statuses, event ids with or without resume; see :mod:`.faults`, also
available as the ``X-Aish-Fault`` header).

:class:`NDJSONRefServer` adds a newline-delimited-JSON-over-TCP listener (the
``aish-ndjson`` example's protocol) sharing the same answers and faults, so the
transport contract suite runs against a transport that is not HTTP.
"""

from __future__ import annotations

from .demo_text import MODELS, PERSONAS, ReplyPlan, plan_reply
from .faults import Faults, parse_faults
from .log import RecordedRequest, RequestLog
from .ndjson import NDJSONRefServer
from .protocol import ApiError, ChatRequest, ChunkEncoder, parse_chat_request
from .server import RefServer

__all__ = [
    "MODELS",
    "PERSONAS",
    "ApiError",
    "ChatRequest",
    "ChunkEncoder",
    "Faults",
    "NDJSONRefServer",
    "RecordedRequest",
    "RefServer",
    "ReplyPlan",
    "RequestLog",
    "parse_chat_request",
    "parse_faults",
    "plan_reply",
]
