"""Recording runs while they stream: the runner's side of history.

The runner opens a :class:`RunRecording` per line and a
:class:`StageRecording` per agent stage. A stage's text is read from the
stream's own list of text parts (nothing is added per event) and handed to
the backend about every ``interval`` seconds (at the first batch boundary
after it; the writer applies it within another ``interval``), so a crash
loses at most about twice that; the final text, status and
metadata follow when the stage ends. Every write goes through a background
:class:`~aish.history.writer.Writer`: recording never waits for the store. A failing store is
reported once, as a warning, and the runs go on unrecorded.

The records themselves are made where they are written: the run's thread
takes what they are made of (the line, the stage's input, its result) and
hands the writer a function that makes them (:meth:`Sink.submit_later`), so
scrubbing the secrets out, cleaning the text and gathering a stage's metadata
happen on the writer's thread, after the run, not between a run's last token
and its prompt. The secrets are read on the run's thread: a key changed after
the run cannot let one of the run's own through.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from aish.agents import AgentConfig
from aish.contracts import RUNNING, HistoryBackend, RunRecord, StageRecord
from aish.encoding import clean
from aish.errors import EXIT_INTERRUPTED, EXIT_OK, visible
from aish.history.writer import Writer
from aish.joined import Joined
from aish.scrub import Scrubber, scrubber
from aish.wordwrap import say

if TYPE_CHECKING:
    from aish.events import ToolCall
    from aish.stream import StageResult

INTERVAL = 0.1
"""Seconds between writes of a streaming stage's text."""
STOPPED = "the run ended before this stage did"


class Sink(Protocol):
    """Where a recorder's backend calls go: a :class:`~aish.history.writer.Writer` (into the
    store, on a thread) or a :class:`~aish.history.journal.Journal` (a one-shot process's file)."""

    failure: BaseException | None

    def submit(self, method: str, *args: Any) -> None: ...

    def submit_later(self, method: str, make: Callable[[], tuple[Any, ...]]) -> None:
        """Like ``submit(method, *make())``, ``make`` called where the call is applied (in order).
        A sink may hold the run's start (``begin_run``, ``begin_stage``) until :meth:`idle` or a
        later call."""

    def idle(self) -> None:
        """The run waits (a request sent, a program started): a moment to write what is held. Never raises."""

    def sync(self, timeout: float | None = None) -> bool: ...

    def close(self, timeout: float | None = None) -> bool: ...


class Recorder:
    """Records runs into a history backend (opened on first use, on the writer thread), or
    through ``sink`` when one is given (a one-shot process's journal)."""

    def __init__(
        self,
        open_backend: Callable[[], HistoryBackend] | None,
        err: TextIO,
        *,
        interval: float = INTERVAL,
        secrets: Callable[[], list[str]] = list,
        sink: Sink | None = None,
    ) -> None:
        if sink is None:
            if open_backend is None:
                raise TypeError("Recorder needs open_backend or sink")
            sink = Writer(open_backend, linger=interval)
        self._writer = sink
        self.err = err
        self.interval = interval
        self.secrets = secrets
        """The values (API keys) to replace by ``***`` wherever they appear in a run."""
        self._warned = False

    def begin(
        self, line: str, replay_of: int | None = None, stdin: str | None = None, typed: Sequence[str] = ()
    ) -> RunRecording:
        """Start recording ``line``; ``stdin`` is what was piped into aish for it (replayed by ``!N``);
        ``typed``: secrets typed on the line, kept out of the run as :attr:`secrets` are
        (:func:`aish.commands.typed_secrets`)."""
        self.check()
        secrets = [s for s in [*self.secrets(), *typed] if s]
        run_id, started, pid = os.urandom(16).hex(), time.time(), os.getpid()

        def record() -> tuple[RunRecord]:
            scrub = scrubber(secrets)
            text = None if stdin is None else _clean(scrub(stdin))
            return (RunRecord(run_id, _clean(scrub(line)), started, replay_of=replay_of, pid=pid, stdin=text),)

        self._writer.submit_later("begin_run", record)
        return RunRecording(self, run_id, secrets)

    def submit(self, method: str, *args: Any) -> None:
        self._writer.submit(method, *args)

    def submit_later(self, method: str, make: Callable[[], tuple[Any, ...]]) -> None:
        self._writer.submit_later(method, make)

    def idle(self) -> None:
        """The run waits (a request sent, a program started): the sink writes what it holds (:meth:`Sink.idle`)."""
        self._writer.idle()

    def sync(self, timeout: float = 10.0) -> None:
        """Wait until everything recorded so far is stored (before reading history back)."""
        if not self._writer.sync(timeout):
            self.warn(f"the history store has not answered for {timeout:g}s")
        self.check()

    def close(self, timeout: float = 10.0) -> None:
        """Store what is pending and release the backend (at exit)."""
        if not self._writer.close(timeout):
            self.warn(f"the history store has not answered for {timeout:g}s; the last run may be incomplete")
        self.check()

    def check(self) -> None:
        """Warn (once) if the store failed."""
        if self._writer.failure is not None:
            self.warn(str(self._writer.failure) or type(self._writer.failure).__name__)

    def warn(self, message: str) -> None:
        if self._warned:
            return
        self._warned = True
        say(self.err, f"aish: history: {visible(message)}; runs are not being recorded")
        self.err.flush()


class RunRecording:
    """One line being recorded."""

    def __init__(self, recorder: Recorder, run_id: str, secrets: list[str]) -> None:
        self.recorder = recorder
        self.run_id = run_id
        self.secrets = secrets
        self.stages: list[StageRecording] = []
        self._lock = threading.Lock()

    def stage(
        self,
        agent: AgentConfig,
        input: str | Joined,
        *,
        position: int = 0,
        conversation: str | None = None,
        replaces: str | None = None,
    ) -> StageRecording:
        """Start recording a stage; safe to call from several threads (parallel stages).

        ``conversation``: the id of the conversation the stage is a turn of (kept in its meta);
        ``replaces``: the id of the run whose turn the stage asks again (``/retry``; kept in its meta).
        """
        secrets = [*self.secrets, *agent.secrets()]
        with self._lock:
            index = len(self.stages)
            stage = StageRecording(
                self.recorder, self.run_id, index, agent, input, position, secrets, conversation, replaces
            )
            self.stages.append(stage)
        return stage

    def waiting(self) -> None:
        """The run waits for a program it started (an OS command): the one-shot journal writes the
        run's start meanwhile, as it does while a stage's server makes its answer."""
        self.recorder.idle()

    def end(self, exit_status: int, why: str = STOPPED) -> None:
        """The run ended with ``exit_status``; ``why``: the error of each stage it left unfinished."""
        cancelled = exit_status == EXIT_INTERRUPTED
        for stage in self.stages:
            if not stage.ended:
                stage.abandon(cancelled, why)
        status = "complete" if exit_status == EXIT_OK else "cancelled" if cancelled else "error"
        self.recorder.submit("end_run", self.run_id, status, time.time())
        self.recorder.check()


class StageRecording:
    """One agent stage being recorded: watches the stream's text parts, wraps its flush."""

    def __init__(
        self,
        recorder: Recorder,
        run_id: str,
        index: int,
        agent: AgentConfig,
        input: str | Joined,
        position: int,
        secrets: list[str],
        conversation: str | None = None,
        replaces: str | None = None,
    ) -> None:
        self.recorder = recorder
        self.run_id = run_id
        self.agent = agent
        self.index = index
        self.ended = False
        self._secrets = secrets
        self._input = input
        self._scrubbed: str | Joined | None = None
        """``input`` scrubbed, made once by the writer (begin and end of the stage both carry it)."""
        self._scrubber: Scrubber | None = None
        """The stream's text is scrubbed on the run's thread, as it is written (found on first use)."""
        self._meta: dict[str, Any] = {"position": position, "model": agent.model}
        if conversation is not None:
            self._meta["conversation"] = conversation
        if replaces is not None:
            self._meta["replaces"] = replaces
        self._parts: list[str] = []
        """The stream's text parts (see :meth:`watch`)."""
        self._taken = 0
        """How many of ``_parts`` were read so far."""
        self._held = ""
        """Text read but not written yet: it may end with the start of a secret."""
        self._due = time.monotonic() + recorder.interval
        meta = dict(self._meta)
        recorder.submit_later("begin_stage", lambda: (run_id, self._record(RUNNING, "", None, meta)))

    def waiting(self) -> None:
        """The stage's request is on the wire, waiting for its answer (:attr:`aish.stream.layer.AgentStream.waiting`):
        the one-shot journal writes the run's start meanwhile."""
        self.recorder.idle()

    def watch(self, parts: list[str], flush: Callable[[], None]) -> Callable[[], None]:
        """A flush that also writes out the new ``parts`` every ``interval`` seconds.

        ``parts`` is the stream's list of text parts (it only grows while the
        stage streams); the returned flush is called after each batch of events.
        """
        self._parts = parts

        def recording_flush() -> None:
            flush()
            if time.monotonic() >= self._due:
                self._push()

        return recording_flush

    def finish(self, result: StageResult) -> None:
        """The stream ended: store its status, error, metadata and complete text (made by the writer,
        from a copy of ``result``: the run goes on with it)."""
        meta, calls = dict(result.meta), list(result.tool_calls)  # the rest of it does not change after the stage
        self.ended = True
        self.recorder.submit_later("end_stage", lambda: (self.run_id, self._finished(result, meta, calls)))
        self.recorder.check()

    def _finished(self, result: StageResult, counted: dict[str, Any], tool_calls: list[ToolCall]) -> StageRecord:
        usage = result.usage
        model = usage.meta.get("model") if usage is not None else None
        counts = {k: v for k, v in counted.items() if isinstance(v, int | float | str | bool)}
        meta: dict[str, Any] = {
            **self._meta,
            **counts,
            "first_token": None if result.first_token is None else round(result.first_token, 4),
            "duration": round(result.duration, 4),
            "tokens_in": usage.input_tokens if usage is not None else None,
            "tokens_out": result.tokens,
            "model": str(model) if model else self.agent.model,
            "finish_reason": result.finish_reason,
            "reconnects": sum(int(counts.get(k) or 0) for k in ("reconnects", "retries", "resumes")),
        }
        if usage is not None:
            meta.update({k: v for k, v in usage.meta.items() if k.startswith("cache_") and isinstance(v, int)})
        if result.reasoning:
            meta["reasoning"] = self._scrub(result.reasoning)
        if tool_calls:
            meta["tool_calls"] = [
                {"name": call.name, "arguments": self._scrub(call.arguments), "id": call.id} for call in tool_calls
            ]
        error = self._scrub(str(result.error)) if result.error is not None else None
        return self._record(result.status, self._scrub(result.text), error, meta)

    def abandon(self, cancelled: bool, why: str = STOPPED) -> None:
        """The run ended without the stream finishing (an error outside it, Ctrl-C, SIGTERM)."""
        text = "".join(self._parts)
        status = "cancelled" if cancelled else "partial" if text else "error"
        self.ended = True
        meta = dict(self._meta)
        self.recorder.submit_later(
            "end_stage", lambda: (self.run_id, self._record(status, self._scrub(text), why, meta))
        )
        self.recorder.check()

    def _push(self) -> None:
        self._due = time.monotonic() + self.recorder.interval
        taken = len(self._parts)
        if taken > self._taken:
            self._held += "".join(self._parts[self._taken : taken])
            self._taken = taken
        scrub = self._scrubber = self._scrubber or scrubber(self._secrets)
        cut = scrub.safe_cut(self._held)
        if cut > 0:
            chunk, self._held = self._held[:cut], self._held[cut:]
            self.recorder.submit("append_text", self.run_id, self.index, _clean(scrub(chunk)))

    def _record(self, status: str, text: str, error: str | None, meta: dict[str, Any]) -> StageRecord:
        """The stage's record (on the writer's thread)."""
        scrubbed = self._scrubbed
        if scrubbed is None:
            given = self._input
            scrubbed = self._scrubbed = self._scrub(given) if isinstance(given, str) else given.map(self._scrub)
        agent = self.agent
        return StageRecord(self.index, agent.name, agent.transport, agent.codec, scrubbed, text, status, error, meta)

    def _scrub(self, text: str) -> str:
        """``text`` without secrets (on the writer's thread)."""
        return _clean(scrubber(self._secrets)(text))


def _clean(text: str) -> str:
    """Stored text is valid Unicode whatever arrived (decision 21): any backend can store any run."""
    return clean(text)
