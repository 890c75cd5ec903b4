"""What one agent stage produced: :class:`StageResult` and its statuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aish.errors import AishError
from aish.events import Event, ToolCall, Usage
from aish.records import Record

COMPLETE = "complete"
EMPTY = "empty"
"""The answer reached its end marker with no text (or only white space): a warning, not an error."""
PARTIAL = "partial"
ERROR = "error"
CANCELLED = "cancelled"

EventSink = Callable[[Event], None]


class StageResult(Record):
    """How one agent stage ended, and what it produced.

    ``meta`` holds what the stream layer did on the way: ``retries`` (requests
    sent again after a failure) and ``resumes`` (reconnections that continued
    after the last event id), when there were any; and ``turns_left_out``, the
    earlier turns of a conversation that the model's context did not take.
    """

    __slots__ = (
        "agent",
        "text",
        "status",
        "error",
        "started",
        "first_token",
        "duration",
        "deltas",
        "usage",
        "finish_reason",
        "meta",
        "reasoning",
        "tool_calls",
    )
    agent: str
    text: str
    status: str
    error: AishError | None
    started: float
    first_token: float | None
    """Seconds from start to the first text."""
    duration: float
    deltas: int
    usage: Usage | None
    finish_reason: str | None
    meta: dict[str, Any]
    reasoning: str
    """The model's reasoning (:class:`~aish.events.Reasoning`), apart from ``text``."""
    tool_calls: list[ToolCall]
    """The tools the answer asks to run (:class:`~aish.events.ToolCall`), in order."""

    def __init__(
        self,
        agent: str,
        text: str = "",
        status: str = COMPLETE,
        error: AishError | None = None,
        started: float = 0.0,
        first_token: float | None = None,
        duration: float = 0.0,
        deltas: int = 0,
        usage: Usage | None = None,
        finish_reason: str | None = None,
        meta: dict[str, Any] | None = None,
        reasoning: str = "",
        tool_calls: list[ToolCall] | None = None,
    ) -> None:
        self.agent = agent
        self.text = text
        self.status = status
        self.error = error
        self.started = started
        self.first_token = first_token
        self.duration = duration
        self.deltas = deltas
        self.usage = usage
        self.finish_reason = finish_reason
        self.meta = {} if meta is None else meta
        self.reasoning = reasoning
        self.tool_calls = [] if tool_calls is None else tool_calls

    @property
    def tokens(self) -> int:
        """Output tokens: the endpoint's count when it sent one, else text events seen."""
        if self.usage is not None and self.usage.output_tokens is not None:
            return self.usage.output_tokens
        return self.deltas
