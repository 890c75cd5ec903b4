"""The stream layer: one agent stage from request to last event, whatever the transport.

:class:`AgentStream` owns what is the same for every transport: building the
request through the codec, opening connections, turning wire items into
stamped :mod:`aish.events` (comments become heartbeats), retrying and resuming
after failures (:mod:`aish.stream.retry`), cancellation from any thread, and
mapping failures to aish's error tree with the partial text kept
(:mod:`aish.stream.messages`). Transports only move bytes; what the layer needs
for resuming they expose as ``last_event_id`` and ``retry_delay``.

Consumers see one stream per stage, however many connections it took:
``StreamStart``, the events in order with consecutive ``seq``, one terminal event.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator, Sequence

from aish.agents import AgentConfig
from aish.contracts import CancelToken, Codec, Connection, Decoder, Prompt, Request, Transport
from aish.encoding import clean
from aish.errors import (
    AishError,
    ConfigError,
    ConnectionFailure,
    HTTPStatusError,
    Interrupted,
    StreamFailure,
    StreamIncomplete,
)
from aish.events import (
    Event,
    Heartbeat,
    Reasoning,
    Retrying,
    StreamEnd,
    StreamError,
    StreamStart,
    TextDelta,
    ToolCall,
    Usage,
)
from aish.stops import is_empty
from aish.stream.result import CANCELLED, COMPLETE, EMPTY, ERROR, PARTIAL, EventSink, StageResult
from aish.stream.retry import RetryPolicy, plan, reason
from aish.validate import headers_problem
from aish.wire import WireComment, WireItem, WireMessage


class _Cancelled(Exception):
    """The stream was cancelled (``cancel()`` or Ctrl-C)."""


class _Failed(Exception):
    """The stage ends with ``error``; ``why`` says why it was not retried."""

    def __init__(self, error: StreamFailure, why: str = "") -> None:
        super().__init__(str(error))
        self.error = error
        self.why = why


class AgentStream:
    """Runs one prompt against one agent, feeding every event to ``sink``.

    ``flush`` is called after each batch of events that arrived together.
    :meth:`cancel` may be called from another thread at any time: before the
    run, while waiting for response headers, while streaming, or while waiting
    to retry. ``policy`` defaults to the agent's retry settings.

    :attr:`parts` is the answer's text so far, one string per text delta: a
    list that only grows while :meth:`run` streams, so other threads (the
    history recorder) may read it without a copy of every event.

    The text pieces of one batch that follow each other reach ``sink`` as one
    :class:`TextDelta` (its ``pieces`` counts them, decision 60), unless
    :attr:`every_piece` is set.
    """

    def __init__(
        self, agent: AgentConfig, transport: Transport, codec: Codec, *, policy: RetryPolicy | None = None
    ) -> None:
        self.agent = agent
        self.transport = transport
        self.codec = codec
        self.policy = policy or RetryPolicy.for_agent(agent)
        self._token = CancelToken()
        self._conn: Connection | None = None
        self._unhook: Callable[[], None] | None = None
        self._seq = 0
        self.parts: list[str] = []
        self.reasoning: list[str] = []
        """The reasoning's text so far, one string per :class:`Reasoning` event."""
        self.every_piece = False
        """True: each of the endpoint's text events reaches ``sink`` as its own TextDelta
        (a renderer's ``every_piece``, as ``jsonl`` shows the event stream)."""
        self.waiting: Callable[[], None] | None = None
        """Work to do while a request waits for its answer (the history recorder's
        :meth:`~aish.history.recorder.StageRecording.waiting`): called when the transport says the
        request is on the wire (:attr:`Request.sent`), else when its ``open`` returns. It never raises."""

    def cancel(self) -> None:
        """Stop the stream at once, from any thread; the run ends ``cancelled`` with its partial text."""
        self._token.cancel()

    def run(
        self,
        prompt: Prompt,
        sink: EventSink,
        flush: Callable[[], None],
        *,
        smaller: Callable[[Prompt], Prompt | None] | None = None,
    ) -> StageResult:
        """Stream ``prompt``'s answer to ``sink``. ``smaller``: when the server refuses the request
        as longer than the model's context before any text came, a smaller prompt to ask instead
        (fewer turns of a conversation), or None to fail; the consumer sees one stream."""
        result = StageResult(agent=self.agent.name, started=time.monotonic())
        parts = self.parts
        del parts[:]
        del self.reasoning[:]
        secrets: Sequence[str] = ()
        name = self.agent.name
        try:
            self._emit(sink, StreamStart(model=self.agent.model))
            while True:
                request = self.codec.encode(prompt)
                if not isinstance(request.body, bytes) and not getattr(self.transport, "sends_pieces", False):
                    request = request.replace(body=bytes(request.body))  # a Body, for a transport of bytes only
                secrets = request.secrets
                problem = headers_problem(request.headers)
                if problem is not None:  # checked here, before any transport sees a header
                    raise ConfigError(f"agent {name!r}: {problem}")
                try:
                    self._stream(request.replace(cancel=self._token, sent=self._sent), sink, flush, parts, result)
                    break
                except _Failed as failed:
                    fewer = smaller(prompt) if smaller is not None and not parts and self._too_long(failed) else None
                    if fewer is None:
                        raise
                    prompt = fewer
        except (KeyboardInterrupt, _Cancelled):
            self._token.cancel()
            self._fail(result, parts, Interrupted(f"{name}: interrupted"), sink, CANCELLED)
        except _Failed as failed:
            from aish.stream.messages import explain, unset_key  # a failure's message: a success never needs it

            error = explain(name, failed.error, self.codec, secrets, failed.why, unset_key=unset_key(self.agent))
            self._fail(result, parts, error, sink, None)
        except StreamFailure as exc:
            if self._token.cancelled:
                self._fail(result, parts, Interrupted(f"{name}: interrupted"), sink, CANCELLED)
            else:
                from aish.stream.messages import explain, unset_key

                error = explain(name, exc, self.codec, secrets, unset_key=unset_key(self.agent))
                self._fail(result, parts, error, sink, None)
        except AishError as exc:
            self._fail(result, parts, exc, sink, ERROR)
        finally:
            self._release()
            result.duration = time.monotonic() - result.started
            result.text = "".join(parts)
            result.reasoning = "".join(self.reasoning)
            if result.status == COMPLETE and is_empty(result.text) and not (result.reasoning or result.tool_calls):
                result.status = EMPTY  # reasoning only and tool calls are reported as such (decision 17)
            flush()
        return result

    # ----------------------------------------------------------- connections
    def _stream(
        self, request: Request, sink: EventSink, flush: Callable[[], None], parts: list[str], result: StageResult
    ) -> None:
        """Connect, stream, and after a failure retry or resume as :func:`plan` says."""
        token, agent = self._token, self.agent
        decoder = self.codec.decoder()
        resume_id: str | None = None  # continue after this id on the next connection
        first_id: list[str | None] = [None]  # the stage's first event id (a restart repeats it)
        hint: float | None = None
        failures = 0
        recovering = False
        last_error: StreamFailure | None = None
        while True:
            if token.cancelled:
                raise _Cancelled
            resuming = recovering and resume_id is not None
            attempt = request.replace(last_event_id=resume_id) if resuming else request
            deltas = result.deltas
            conn: Connection | None = None
            try:
                conn = self._open(attempt)
                probe = self._probe(decoder, resume_id if resuming else None, first_id, last_error)
                self._pump(conn, decoder, sink, flush, parts, result, probe)
                return
            except StreamFailure as exc:
                self._release()  # no socket is held while waiting to try again
                if token.cancelled:
                    raise _Cancelled from exc
                failures = 1 if result.deltas > deltas else failures + 1
                if conn is not None:
                    resume_id = (getattr(conn, "last_event_id", None) or None) if agent.resume else None
                    told = getattr(conn, "retry_delay", None)
                    hint = hint if told is None else told
                resumable = resume_id is not None
                step = plan(
                    exc,
                    self.policy,
                    failures=failures,
                    connected=conn is not None,
                    recovering=recovering,
                    resumable=resumable,
                    has_text=bool(parts),
                    hint=hint,
                    no_resume_reason="the server sends no event ids" if agent.resume else "resume is off",
                )
                if not step.retry:
                    why = step.why or ("while reconnecting" if recovering and conn is None else "")
                    raise _Failed(exc, why) from exc
                if conn is not None:
                    recovering = True
                    last_error = exc
                    if not resumable:  # nothing was shown yet: start the answer over
                        decoder, resume_id, first_id[0] = self.codec.decoder(), None, None
                _count(result, "resumes" if recovering and resume_id else "retries")
                self._emit(sink, Retrying(step.delay, reason(exc, connected=conn is not None), failures))
                flush()  # shown while the wait lasts
                if token.wait(step.delay):
                    raise _Cancelled from exc
            finally:
                self._release()

    def _too_long(self, failed: _Failed) -> bool:
        """Whether the server refused the request as longer than the model's context."""
        from aish.stream.messages import refused_as_too_long  # a failure's path only

        return isinstance(failed.error, HTTPStatusError) and refused_as_too_long(failed.error, self.codec)

    def _sent(self) -> None:
        """The request is on the wire: :attr:`waiting`'s moment."""
        waiting = self.waiting
        if waiting is not None:
            waiting()

    def _open(self, request: Request) -> Connection:
        try:
            conn = self.transport.open(request)
        except OSError as exc:  # a socket's error the transport did not translate
            raise _lost(exc) from exc
        self._conn = conn
        self._unhook = self._token.on_cancel(conn.cancel)  # at once if already cancelled
        self._sent()  # a transport that did not say so: before anything is read
        return conn

    def _release(self) -> None:
        unhook, conn = self._unhook, self._conn
        self._unhook = self._conn = None
        if unhook is not None:
            unhook()
        if conn is not None:
            conn.close()

    # ----------------------------------------------------------- the hot path
    def _pump(
        self,
        conn: Connection,
        decoder: Decoder,
        sink: EventSink,
        flush: Callable[[], None],
        parts: list[str],
        result: StageResult,
        probe: Callable[[Sequence[WireItem]], bool] | None,
    ) -> None:
        """Stream one connection until the end marker; raise a StreamFailure otherwise.

        A decoder with ``decode_many`` (see :class:`~aish.contracts.Decoder`)
        decodes each batch in one call; when it declines (None), or without
        one, the batch is decoded message by message.
        """
        decode = decoder.decode
        one_by_one = self.every_piece  # a decoder's decode_many may join pieces too
        decode_many: Callable[[Sequence[WireItem]], list[Event] | None] | None = (
            None if one_by_one else getattr(decoder, "decode_many", None)
        )
        token = self._token
        name = self.agent.name
        batches = iter(conn)
        texts: list[str] = []
        """The batch's text since its last other event: consumers get it as one TextDelta."""
        pieces = 0
        """How many of the endpoint's text events ``texts`` holds."""
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except OSError as exc:  # reading: a socket's error the transport did not translate
                raise _lost(exc) from exc
            if token.cancelled:
                raise _Cancelled
            if probe is not None and probe(batch):
                probe = None
            events = decode_many(batch) if decode_many is not None else None
            try:
                for event in _decoded(batch, decode) if events is None else events:
                    kind = type(event)
                    if kind is TextDelta:
                        if not parts:
                            result.first_token = time.monotonic() - result.started
                        text = clean(event.text)  # type: ignore[union-attr]  # a JSON \udXXX escape (decision 21)
                        parts.append(text)
                        texts.append(text)
                        n = event.pieces  # type: ignore[union-attr]
                        pieces += n
                        result.deltas += n
                        if one_by_one:
                            self._texts(sink, texts, pieces)
                            pieces = 0
                        continue
                    if texts:
                        self._texts(sink, texts, pieces)
                        pieces = 0
                    if kind is Usage:
                        result.usage = event  # type: ignore[assignment]
                    elif kind is Reasoning:
                        self.reasoning.append(event.text)  # type: ignore[union-attr]
                    elif kind is ToolCall:
                        result.tool_calls.append(event)  # type: ignore[arg-type]
                    elif kind is StreamEnd:
                        result.finish_reason = event.finish_reason  # type: ignore[union-attr]
                        self._emit(sink, event)
                        return
                    elif kind is StreamStart:
                        continue  # the layer sent the stream's StreamStart already
                    event.agent = name  # what _emit does, inline: this runs for many events
                    event.seq = self._seq
                    self._seq += 1
                    sink(event)
            finally:  # a failure in the batch: what came before it is shown too
                if texts:
                    self._texts(sink, texts, pieces)
                    pieces = 0
            flush()
        if token.cancelled:
            raise _Cancelled
        finish: Callable[[], Sequence[Event]] | None = getattr(decoder, "finish", None)
        for event in finish() if finish is not None else ():
            if type(event) is TextDelta:
                event.text = clean(event.text)
                parts.append(event.text)
                result.deltas += event.pieces
            elif type(event) is Reasoning:
                self.reasoning.append(event.text)
            elif type(event) is ToolCall:
                result.tool_calls.append(event)
            elif type(event) is StreamEnd:
                result.finish_reason = event.finish_reason
                self._emit(sink, event)
                return
            self._emit(sink, event)
        raise StreamIncomplete("the stream ended before its end marker")

    def _probe(
        self, decoder: Decoder, resume_id: str | None, first_id: list[str | None], last_error: StreamFailure | None
    ) -> Callable[[Sequence[WireItem]], bool] | None:
        """A check of each batch until the first message: it records the stage's first
        event id and, after a resumed reconnection, makes sure the server really resumed.

        A resuming server tags its events, never repeats the stage's first id,
        continues a numbering (``s1:41`` after ``s1:40``) and does not open a new
        answer; anything else is an answer started over, and the stage ends
        before any of it is repeated.
        """
        if first_id[0] is not None and resume_id is None:
            return None
        is_start: Callable[[WireMessage], bool] | None = getattr(decoder, "is_answer_start", None)

        def probe(batch: Sequence[WireItem]) -> bool:
            for item in batch:
                if type(item) is not WireMessage:
                    continue
                if resume_id is None:
                    first_id[0] = item.id
                    return True
                if (
                    item.id in (None, "", resume_id, first_id[0])
                    or not _continues(resume_id, item.id)
                    or (is_start is not None and is_start(item))
                ):
                    assert last_error is not None
                    raise _Failed(last_error, "not resumed: the server started the answer over")
                return True
            return False

        return probe

    # --------------------------------------------------------------- events
    def _texts(self, sink: EventSink, texts: list[str], pieces: int) -> None:
        """One stamped TextDelta for the consecutive text of one batch (``texts``, emptied; ``pieces``
        of the endpoint's events): a fast stream brings hundreds in one read, and a consumer's work
        per event is what limits its rate (decision 60)."""
        event = TextDelta(texts[0] if len(texts) == 1 else "".join(texts), self.agent.name, self._seq, pieces)
        self._seq += 1
        texts.clear()
        sink(event)

    def _emit(self, sink: EventSink, event: Event) -> None:
        event.agent = self.agent.name
        event.seq = self._seq
        self._seq += 1
        sink(event)

    def _fail(
        self, result: StageResult, parts: list[str], error: AishError, sink: EventSink, status: str | None
    ) -> None:
        partial = bool(parts)
        result.error = error
        result.status = status or (PARTIAL if partial else ERROR)
        self._emit(sink, StreamError(error=error, partial=partial))


@functools.cache
def _numbered() -> re.Pattern[str]:
    """An event id that ends in a number. Compiled on first use: only a resumed stream needs it."""
    return re.compile(r"^(.*?)(\d+)$", re.DOTALL)


def _continues(before: str, after: str | None) -> bool:
    """Whether id ``after`` can follow ``before``: when both end in a number, the same prefix and a larger number."""
    numbered = _numbered()
    old, new = numbered.match(before), numbered.match(after or "")
    if old is None or new is None:
        return True  # opaque ids: nothing to tell
    return old.group(1) == new.group(1) and int(new.group(2)) > int(old.group(2))


def _decoded(batch: Sequence[WireItem], decode: Callable[[WireMessage], Sequence[Event]]) -> Iterator[Event]:
    """A batch's events one message at a time: a comment is a Heartbeat, a decoding error raises in place."""
    for item in batch:
        if type(item) is WireComment:
            yield Heartbeat()
        else:
            yield from decode(item)  # type: ignore[arg-type]


def _count(result: StageResult, key: str) -> None:
    result.meta[key] = result.meta.get(key, 0) + 1


def _lost(exc: OSError) -> ConnectionFailure:
    """An ``OSError`` from a transport (``ConnectionResetError``, ``TimeoutError``, a plugin's own)
    as the connection failure it is: a failure writing the answer stays an ``OSError``, which the
    pipeline reports as an output error, so one from the transport must not reach it unchanged."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return ConnectionFailure(f"connection failed: {reason}")
