"""The contract of history backends: the records they keep and the protocol they follow.

Part of :mod:`aish.contracts` (which re-exports every name here); see there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from aish.joined import Joined
from aish.records import Record

RUNNING = "running"
STAGE_STATUSES = ("running", "complete", "empty", "partial", "error", "cancelled")
"""What a stage's ``status`` may be (``empty``: it ended normally without any text, a warning)."""
RUN_STATUSES = ("running", "complete", "error", "cancelled", "interrupted")
"""What a run's ``status`` may be (``interrupted``: its aish process died mid-run)."""


class StageRecord(Record):
    """One agent stage of a recorded run (never a secret: no headers, no keys).

    ``meta`` holds what the stream reported: ``first_token`` and ``duration``
    (seconds), ``tokens_in``/``tokens_out``, ``model``, ``finish_reason``,
    ``reconnects``, the stage's ``pipeline``/``position`` in the line, and
    ``conversation``, the id of the conversation the stage is a turn of (its
    ``input`` the turn's prompt, its ``text`` the answer), and ``replaces``, on
    a stage that asked that turn again (chat mode's ``/retry``), the ``id`` of
    the run whose turn its answer replaces. Values are JSON scalars.
    """

    __slots__ = ("index", "agent", "transport", "codec", "input", "text", "status", "error", "meta")
    index: int
    """0-based, unique within the run, in the order stages started."""
    agent: str
    transport: str
    codec: str
    input: str | Joined
    """What the stage was sent. While it is recorded, a long input made of the run's piped input and
    the stage's words is an :class:`aish.Joined` of them (decision 31): a backend stores it by
    reference to the run's ``stdin`` (``input.parts[0]``), or ``str(input)``, or writes it with
    :func:`aish.json_chunks`. A record read back holds a ``str``."""
    text: str
    status: str
    """One of :data:`STAGE_STATUSES`."""
    error: str | None
    meta: dict[str, Any]

    def __init__(
        self,
        index: int,
        agent: str,
        transport: str = "",
        codec: str = "",
        input: str | Joined = "",
        text: str = "",
        status: str = RUNNING,
        error: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.index = index
        self.agent = agent
        self.transport = transport
        self.codec = codec
        self.input = input
        self.text = text
        self.status = status
        self.error = error
        self.meta = meta if meta is not None else {}


class RunRecord(Record):
    """One line the user ran (as typed), with its agent stages."""

    __slots__ = ("id", "line", "started", "number", "status", "ended", "replay_of", "pid", "stdin", "stages")
    id: str
    """Unique, chosen by aish before the run starts (32 hex digits)."""
    line: str
    started: float
    """Unix time."""
    number: int
    """What users type (``history show N``, ``!N``): assigned by the backend,
    1, 2, 3, ... in the order runs began, never reused (until ``clear``)."""
    status: str
    """One of :data:`RUN_STATUSES`."""
    ended: float | None
    replay_of: int | None
    """The number of the run this one replays (``!N``)."""
    pid: int
    """The aish process that recorded it (to tell a dead run from a live one)."""
    stdin: str | None
    """The input piped into aish for this run (``cat f | aish athena``), which
    ``!N`` sends again; None when nothing was piped."""
    stages: list[StageRecord]

    def __init__(
        self,
        id: str,
        line: str,
        started: float,
        number: int = 0,
        status: str = RUNNING,
        ended: float | None = None,
        replay_of: int | None = None,
        pid: int = 0,
        stdin: str | None = None,
        stages: list[StageRecord] | None = None,
    ) -> None:
        self.id = id
        self.line = line
        self.started = started
        self.number = number
        self.status = status
        self.ended = ended
        self.replay_of = replay_of
        self.pid = pid
        self.stdin = stdin
        self.stages = stages if stages is not None else []

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``history export`` writes)."""
        return self.as_dict()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        """The inverse of :meth:`to_dict`."""
        values = dict(data)
        stages = [StageRecord(**stage) for stage in values.pop("stages", ())]
        return cls(**values, stages=stages)


@runtime_checkable
class HistoryBackend(Protocol):
    """Stores runs as they stream, so a crash leaves the partial answer behind.

    aish calls the write methods from one thread (a background writer; for a
    one-shot process's runs, whichever later process applies its journal:
    :mod:`aish.history.journal`), one call at a time, in the order below; each call's data must survive a crash
    of the process once the call returns (written to the OS, not buffered).
    Several processes may write to the same store at once. Reads return what
    was stored, including runs still ``running`` (aish itself tells a dead
    run from a live one). Translate storage failures into
    :class:`aish.errors.HistoryError`.

    Two optional methods make reading faster; without them aish does the same
    with the methods below:

    - ``conversation(conversation_id) -> list[RunRecord]``, the runs that hold a
      stage whose ``meta["conversation"]`` is ``conversation_id``, oldest first
      (without it aish reads every run);
    - ``brief(limit=20, text=None) -> list[RunRecord]``, what ``runs(limit)``
      (or, with ``text``, ``search(text, limit)``) returns, ``limit`` None
      meaning all, without reading inputs: each run's ``stdin`` None, each
      stage's ``input`` ``""`` and its ``text`` a prefix of the answer that is
      empty only when the answer is (:mod:`aish.history.brief`). ``history``
      and ``history search`` list runs with it (without it aish reads whole
      runs and drops their inputs).
    """

    def begin_run(self, run: RunRecord) -> None:
        """Store a new run (status ``running``, no stages) and give it the next number."""

    def begin_stage(self, run_id: str, stage: StageRecord) -> None:
        """Add stage ``stage.index`` to the run (status ``running``, text empty)."""

    def append_text(self, run_id: str, index: int, text: str) -> None:
        """Append streamed text to a stage (called about every 100 ms while it streams)."""

    def end_stage(self, run_id: str, stage: StageRecord) -> None:
        """The stage is over: store its final status, error, meta and complete text."""

    def end_run(self, run_id: str, status: str, ended: float) -> None:
        """The run is over: store its final status and end time."""

    def runs(self, limit: int | None = 20) -> list[RunRecord]:
        """The most recent ``limit`` runs (all when None), oldest first."""

    def get(self, number: int) -> RunRecord | None:
        """The run numbered ``number``, or None."""

    def search(self, text: str, limit: int = 20) -> list[RunRecord]:
        """The most recent runs matching ``text``, oldest first (see :func:`aish.search_terms`).

        Any text is valid input: quote it for full-text engines.
        """

    def delete(self, number: int) -> bool:
        """Remove a run; False when there is no such run. Numbers are not reused."""

    def clear(self) -> None:
        """Remove every run; numbering starts again at 1."""

    def close(self) -> None:
        """Release the store. Idempotent."""


HistoryFactory = Callable[[Mapping[str, Any]], HistoryBackend]
"""``factory(options)``: ``options["path"]`` is the file the user chose
(``[settings] history_path``) or None, ``options["data_dir"]`` the directory
for the default file (``$XDG_DATA_HOME/aish``). aish calls it before a run
starts, in the main thread: keep it cheap, and open files or connections on
first use (the writes come from the background writer)."""
