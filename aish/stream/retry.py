"""When to try again after a failure, and how long to wait first.

Pure functions of the failure and the stream's state, so the whole policy is
tested without a network. The stream layer (:mod:`aish.stream.layer`) asks
:func:`plan` after every failure and either waits and tries again or ends the
stage with the error, reworded to say why it did not try again.

The rules (see ``docs/streams.md`` for the table):

* HTTP 408, 429 and 5xx (but 501, 505) are retried: after ``Retry-After``
  when the server sent one (capped by ``backoff_max``), else after backoff.
  Every other HTTP status fails at once.
* Error events and malformed data fail at once: asking again would not help.
* Connecting fails at once on the first attempt (refused, DNS, TLS, no
  headers, a proxy's 5xx to ``CONNECT``, which the SSE transport raises as a
  ``ConnectionFailure``): the URL is wrong or the server is down, and the user
  should know now. While recovering from a dropped stream, the same failures
  are retried (the server may be restarting). A proxy's 407 or 403 is an HTTP
  status that fails at once.
* A stream that fails after it started resumes when the server gave event ids
  (and the agent allows resuming). Without ids it starts over only when no text
  was received yet, and only after a lost connection (an empty or stalled
  answer would come back the same). Otherwise it ends, partial, saying why.
* Retries are counted while they make no progress: ``max_retries`` consecutive
  failures end the stage. A connection that delivered a message resets the count.
"""

from __future__ import annotations

from collections.abc import Callable

from aish.agents import AgentConfig
from aish.errors import AishError, ConnectionFailure, HTTPStatusError, IdleTimeout, StreamIncomplete
from aish.records import FrozenRecord, freeze

_NOT_TRANSIENT = frozenset({501, 505})


def retryable_status(code: int) -> bool:
    """Whether an HTTP status is worth asking again for: 408, 429 and most 5xx."""
    return code in (408, 429) or (code >= 500 and code not in _NOT_TRANSIENT)


def _uniform() -> float:
    import random  # only when a retry happens

    return random.random()


class RetryPolicy(FrozenRecord):
    """Bounded exponential backoff with jitter, from an agent's settings."""

    __slots__ = ("max_retries", "initial", "maximum", "random")
    max_retries: int
    initial: float
    maximum: float
    random: Callable[[], float]
    """A source of uniform numbers in [0, 1): tests pass a seeded one."""

    def __init__(
        self, max_retries: int = 3, initial: float = 0.5, maximum: float = 30.0, random: Callable[[], float] = _uniform
    ) -> None:
        freeze(self, max_retries=max_retries, initial=initial, maximum=maximum, random=random)

    @classmethod
    def for_agent(cls, agent: AgentConfig) -> RetryPolicy:
        return cls(agent.max_retries, agent.backoff_initial, max(agent.backoff_max, agent.backoff_initial))

    def backoff(self, failures: int, hint: float | None = None) -> float:
        """Seconds before retry number ``failures`` (1 for the first).

        ``hint`` is the delay the server asked for (SSE ``retry:``): the first
        retry waits exactly that, as EventSource does; later ones back off from
        it. Delays double per failure, are capped at :attr:`maximum`, and are
        "equal jitter" randomised (between half and all of the step).
        """
        if hint is not None and failures <= 1:
            return min(max(hint, 0.0), self.maximum)
        base = self.initial if hint is None else max(hint, 0.001)
        step = min(self.maximum, base * 2.0 ** min(max(failures - 1, 0), 62))
        return step / 2 + self.random() * step / 2

    def status_delay(self, error: HTTPStatusError, failures: int) -> float:
        """Seconds before asking again after a retryable status: ``Retry-After``, capped, else backoff."""
        if error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.maximum)
        return self.backoff(failures)


class Plan(FrozenRecord):
    """The decision after a failure: try again after ``delay`` seconds, or fail saying ``why``."""

    __slots__ = ("retry", "delay", "why")
    retry: bool
    delay: float
    why: str

    def __init__(self, retry: bool, delay: float = 0.0, why: str = "") -> None:
        freeze(self, retry=retry, delay=delay, why=why)


def plan(
    error: AishError,
    policy: RetryPolicy,
    *,
    failures: int,
    connected: bool,
    recovering: bool,
    resumable: bool,
    has_text: bool,
    hint: float | None = None,
    no_resume_reason: str = "the server sends no event ids",
) -> Plan:
    """What to do after ``error``.

    :param failures: consecutive failures so far, this one included.
    :param connected: the failure came from an open connection (not while opening one).
    :param recovering: an earlier connection of this stage failed mid-stream.
    :param resumable: the stream can continue after its last event id.
    :param has_text: some text was already passed on.
    :param hint: the server's reconnection delay (SSE ``retry:``), seconds.
    :param no_resume_reason: why the stream cannot resume, for the message.
    """
    if isinstance(error, HTTPStatusError):
        if not retryable_status(error.code):
            return Plan(False)
        return _bounded(policy, failures, policy.status_delay(error, failures))
    if not isinstance(error, ConnectionFailure):
        return Plan(False)  # error events, malformed data: asking again would not help
    if not connected:
        return _bounded(policy, failures, policy.backoff(failures, hint)) if recovering else Plan(False)
    if resumable:
        return _bounded(policy, failures, policy.backoff(failures, hint))
    if has_text:  # starting over would repeat the text: end here, and say why
        return Plan(False, why="" if isinstance(error, StreamIncomplete) else f"not resumed: {no_resume_reason}")
    if isinstance(error, StreamIncomplete | IdleTimeout):
        return Plan(False)
    return _bounded(policy, failures, policy.backoff(failures))


def _bounded(policy: RetryPolicy, failures: int, delay: float) -> Plan:
    if failures > policy.max_retries:
        n = policy.max_retries
        return Plan(False, why=f"gave up after {n} {'retry' if n == 1 else 'retries'}" if n else "")
    return Plan(True, delay)


def reason(error: AishError, *, connected: bool) -> str:
    """Why a stage asks again, in a few words, for :class:`aish.events.Retrying`."""
    if isinstance(error, HTTPStatusError):
        return f"HTTP {error.code}"
    if isinstance(error, IdleTimeout):
        return "no data"
    if isinstance(error, StreamIncomplete):
        return "answer cut short"
    return "connection lost" if connected else "cannot connect"
