"""What one agent stage produced: :class:`StageResult` and its statuses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aish.errors import AishError
from aish.events import Event, ToolCall, Usage

COMPLETE = "complete"
EMPTY = "empty"
"""The answer reached its end marker with no text (or only white space): a warning, not an error."""
PARTIAL = "partial"
ERROR = "error"
CANCELLED = "cancelled"

EventSink = Callable[[Event], None]


@dataclass
class StageResult:
    """How one agent stage ended, and what it produced.

    ``meta`` holds what the stream layer did on the way: ``retries`` (requests
    sent again after a failure) and ``resumes`` (reconnections that continued
    after the last event id), when there were any.
    """

    agent: str
    text: str = ""
    status: str = COMPLETE
    error: AishError | None = None
    started: float = 0.0
    first_token: float | None = None
    """Seconds from start to the first text."""
    duration: float = 0.0
    deltas: int = 0
    usage: Usage | None = None
    finish_reason: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    reasoning: str = ""
    """The model's reasoning (:class:`~aish.events.Reasoning`), apart from ``text``."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    """The tools the answer asks to run (:class:`~aish.events.ToolCall`), in order."""

    @property
    def tokens(self) -> int:
        """Output tokens: the endpoint's count when it sent one, else text events seen."""
        if self.usage is not None and self.usage.output_tokens is not None:
            return self.usage.output_tokens
        return self.deltas
