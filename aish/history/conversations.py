"""Conversations read back from history: resuming one, finding an agent's last one, listing them.

A stage that was a turn of a conversation carries its id in
``meta["conversation"]`` (the recorder writes it); its ``input`` is the turn's
prompt and its ``text`` the answer. A stage without text (it failed before
answering) is no turn, and nor is a stage whose run a later turn's
``meta["replaces"]`` names (its answer was asked again with ``/retry``: history
keeps both, the conversation the new one). A backend may answer :func:`conversation_runs` itself
(an optional ``conversation(conversation_id)`` method, indexed); otherwise
every run is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from aish.contracts import HistoryBackend, RunRecord, StageRecord, Turn
from aish.conversations import Conversation
from aish.history.brief import brief_runs
from aish.joined import text_of

KEY = "conversation"
"""The stage meta key that holds the conversation id."""
REPLACES = "replaces"
"""The stage meta key that holds the id of the run whose turn the stage's answer replaces."""
WINDOWS = (50, 500, 5000)
"""How many recent runs are read, in turn, when looking for the latest conversations: an agent's
last conversation (``--continue``) and the listing look no further back than the last 5,000 runs
(reading every run of a long history takes seconds; ``--cid ID`` finds any conversation)."""


@dataclass(frozen=True)
class Summary:
    """One recorded conversation, as ``conversations`` lists it."""

    id: str
    agent: str
    turns: int
    started: float
    last: float
    first_prompt: str


def conversation_of(stage: StageRecord) -> str | None:
    value = stage.meta.get(KEY) if isinstance(stage.meta, dict) else None
    return value if isinstance(value, str) and value else None


def conversation_runs(backend: HistoryBackend, conversation_id: str) -> list[RunRecord]:
    """The runs holding a turn of ``conversation_id``, oldest first."""
    finder = getattr(backend, "conversation", None)
    if callable(finder):
        found: list[RunRecord] = finder(conversation_id)
        return found
    return [r for r in backend.runs(None) if any(conversation_of(s) == conversation_id for s in r.stages)]


def _answered(runs: list[RunRecord], conversation_id: str) -> Iterator[tuple[RunRecord, StageRecord]]:
    for run in sorted(runs, key=lambda r: r.number):
        for stage in run.stages:
            if conversation_of(stage) == conversation_id and stage.text.strip():
                yield run, stage


def _turn_stages(runs: list[RunRecord], conversation_id: str) -> list[tuple[RunRecord, StageRecord]]:
    """The conversation's turns, oldest first: its stages with an answer, but those replaced by a later one."""
    answered = list(_answered(runs, conversation_id))
    replaced = {stage.meta.get(REPLACES) for _, stage in answered}
    return [(run, stage) for run, stage in answered if run.id not in replaced]


def load(backend: HistoryBackend, conversation_id: str) -> Conversation | None:
    """The recorded conversation ``conversation_id`` with its turns, or None when history has none."""
    pairs = _turn_stages(conversation_runs(backend, conversation_id), conversation_id)
    if not pairs:
        return None
    turns = [Turn(text_of(stage.input), stage.text) for _, stage in pairs]
    return Conversation(pairs[0][1].agent, conversation_id, turns, pairs[-1][0].id)


def _recent_ids(backend: HistoryBackend, agent: str | None, wanted: int | None) -> list[str]:
    """Conversation ids, most recently used first (of ``agent`` only, when given): from brief runs
    (no inputs read; an answer's first characters tell whether it is blank, see aish.history.brief)."""
    seen: dict[str, None] = {}
    for window in WINDOWS:
        runs = brief_runs(backend, window)
        seen = {}
        for run in reversed(runs):
            for stage in reversed(run.stages):
                cid = conversation_of(stage)
                if cid and cid not in seen and (agent is None or stage.agent == agent) and stage.text.strip():
                    seen[cid] = None
        if len(runs) < window or (wanted is not None and len(seen) >= wanted):
            break
    found = list(seen)
    return found if wanted is None else found[:wanted]


def starting_with(backend: HistoryBackend, prefix: str) -> list[str]:
    """The ids of recorded conversations that start with ``prefix``, most recently used first."""
    return [cid for cid in _recent_ids(backend, None, None) if cid.startswith(prefix)]


def unfinished(backend: HistoryBackend, conversation_id: str) -> dict[int, str]:
    """The conversation's turns whose answer was cut short, by index, with the stage's status:
    ``cancelled`` (Ctrl-C), ``partial`` (a failure after some text) or ``error``. A ``running`` stage is
    not one: it may still be streaming in another aish."""
    pairs = _turn_stages(conversation_runs(backend, conversation_id), conversation_id)
    return {i: stage.status for i, (_, stage) in enumerate(pairs) if stage.status in ("cancelled", "partial", "error")}


def latest(backend: HistoryBackend, agent: str | None) -> Conversation | None:
    """The agent's (any agent's, for None) most recently continued conversation, or None."""
    ids = _recent_ids(backend, agent, 1)
    return load(backend, ids[0]) if ids else None


def summaries(backend: HistoryBackend, limit: int = 20) -> list[Summary]:
    """The ``limit`` most recently continued conversations, oldest first."""
    found = []
    for cid in _recent_ids(backend, None, limit):
        pairs = _turn_stages(conversation_runs(backend, cid), cid)
        if pairs:
            first, last = pairs[0], pairs[-1]
            prompt = " ".join(text_of(first[1].input).split())
            summary = Summary(cid, first[1].agent, len(pairs), first[0].started, last[0].started, prompt)
            found.append(summary)
    return sorted(found, key=lambda s: s.last)


__all__ = [
    "KEY",
    "REPLACES",
    "Summary",
    "conversation_runs",
    "latest",
    "load",
    "starting_with",
    "summaries",
    "unfinished",
]
