"""The stream layer: between transports and the rest of aish (see ``docs/streams.md``).

:class:`AgentStream` runs one agent stage: it connects, decodes, keeps the
stream alive across failures (retry with backoff, resume after the last event
id), honours cancellation from any thread, and ends with exactly one terminal
event. :mod:`aish.stream.retry` is its policy, :mod:`aish.stream.extensions`
the way plugins wrap connections (liveness), :mod:`aish.stream.messages` how
failures read.
"""

from aish.stream.extensions import ExtendedTransport, with_extensions
from aish.stream.layer import AgentStream
from aish.stream.result import CANCELLED, COMPLETE, EMPTY, ERROR, PARTIAL, EventSink, StageResult
from aish.stream.retry import Plan, RetryPolicy, plan, retryable_status

__all__ = [
    "CANCELLED",
    "COMPLETE",
    "EMPTY",
    "ERROR",
    "PARTIAL",
    "AgentStream",
    "EventSink",
    "ExtendedTransport",
    "Plan",
    "RetryPolicy",
    "StageResult",
    "plan",
    "retryable_status",
    "with_extensions",
]
