"""The contracts of aish's extension points.

Each extension point is a factory registered by name through a hook (see
:mod:`aish.hookspecs`) and the small protocol its products follow. Everything
streams: transports yield batches of wire items as they arrive, codecs turn
them into :mod:`aish.events`, renderers show events, history backends keep them
(their records and protocol are in :mod:`aish.history.contracts`, re-exported here).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TextIO, runtime_checkable

from aish.agents import AgentConfig
from aish.context import Context as Context
from aish.events import Event
from aish.history.contracts import RUN_STATUSES as RUN_STATUSES
from aish.history.contracts import RUNNING as RUNNING
from aish.history.contracts import STAGE_STATUSES as STAGE_STATUSES
from aish.history.contracts import HistoryBackend as HistoryBackend
from aish.history.contracts import HistoryFactory as HistoryFactory
from aish.history.contracts import RunRecord as RunRecord
from aish.history.contracts import StageRecord as StageRecord
from aish.joined import Joined
from aish.records import FrozenRecord, Record, freeze
from aish.wire import WireItem, WireMessage

# --------------------------------------------------------------------- requests


class Turn(FrozenRecord):
    """One earlier exchange of a conversation: what the agent was sent, and its answer."""

    __slots__ = ("prompt", "answer")
    prompt: str
    answer: str

    def __init__(self, prompt: str, answer: str) -> None:
        freeze(
            self,
            prompt=prompt,
            answer=answer,
        )


class Prompt(FrozenRecord):
    """The input of one stage: its text, its context, and the earlier turns of its conversation."""

    __slots__ = ("content", "context", "turns")
    content: str | Joined
    """The stage's input as it was made: a ``str``, or for a long input made of the piped input and
    the stage's own words an :class:`aish.Joined`, its pieces (decision 31). Put it as it is into
    what :func:`aish.json_body` encodes, which writes it piece by piece; :attr:`text` is the same
    text as one ``str``."""
    context: Context
    turns: tuple[Turn, ...]
    """The agent's conversation so far, oldest first, already cut to the agent's budget
    (``conversation_turns``, ``conversation_chars``): send them before :attr:`text`, in the
    form the dialect speaks (a messages list: a user then an assistant message per turn).
    Empty for a one-shot stage. ``context.conversation_id`` names the conversation."""

    def __init__(self, content: str | Joined, context: Context, turns: tuple[Turn, ...] = ()) -> None:
        freeze(
            self,
            content=content,
            context=context,
            turns=turns,
        )

    @property
    def text(self) -> str:
        """The stage's input as one ``str``: :attr:`content`, joined when it is a ``Joined`` (a copy each
        time: a codec that can send :attr:`content` as it is should)."""
        content = self.content
        return content if type(content) is str else str(content)


class CancelToken:
    """Cancellation of one stream, safe to trigger from any thread.

    The stream layer makes one per stream and puts it in :attr:`Request.cancel`.
    Whatever may block registers a callback with :meth:`on_cancel`: a
    transport for the socket of a request still waiting for its response
    headers, the stream layer for the open connection and its retry waits.
    A callback registered after the token was cancelled runs at once, so
    there is no window in which a cancellation is lost.
    """

    __slots__ = ("_callbacks", "_event", "_lock", "_next")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._callbacks: dict[int, Callable[[], object]] = {}
        self._next = 0

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def cancel(self) -> None:
        """Cancel: run every registered callback once (errors are ignored)."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks = list(self._callbacks.values())
            self._callbacks.clear()
        for callback in callbacks:
            with contextlib.suppress(Exception):
                callback()

    def on_cancel(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Run ``callback`` on cancellation (now, if already cancelled); return an unregister function."""
        with self._lock:
            if not self._event.is_set():
                key = self._next
                self._next += 1
                self._callbacks[key] = callback
                return lambda: self._forget(key)
        with contextlib.suppress(Exception):
            callback()
        return _nothing

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True (at once) if cancelled meanwhile."""
        return self._event.wait(seconds) if seconds > 0 else self._event.is_set()

    def _forget(self, key: int) -> None:
        with self._lock:
            self._callbacks.pop(key, None)


def _nothing() -> None:
    return None


@runtime_checkable
class Body(Protocol):
    """A request body too long to hold twice: made in pieces each time it is sent (decision 27).

    ``len(body)`` is its size in bytes; every iteration yields those bytes in
    pieces; ``bytes(body)`` gives them at once. :func:`aish.json_body` makes
    one for JSON holding a long string (a 20 MB prompt). A transport that can
    send one says so with ``sends_pieces = True`` (see :class:`Transport`); for
    any other the stream layer turns it into bytes first.
    """

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[bytes]: ...

    def __bytes__(self) -> bytes: ...


class Request(FrozenRecord):
    """A transport-neutral request a codec builds and a transport sends."""

    __slots__ = ("url", "body", "headers", "method", "secrets", "last_event_id", "cancel", "control", "sent")
    url: str
    body: bytes | Body
    """Bytes, or a :class:`Body` made in pieces (a transport without ``sends_pieces`` always gets bytes)."""
    headers: Mapping[str, str]
    method: str
    secrets: tuple[str, ...]
    """Values (API keys) that must never appear in an error message or log."""
    last_event_id: str | None
    """Set by the stream layer on a reconnection: resume after this event id.

    A transport that can resume sends it the way its protocol says (SSE: the
    ``Last-Event-ID`` header); codecs leave it unset.
    """
    cancel: CancelToken | None
    """Set by the stream layer: a transport aborts a pending :meth:`Transport.open` when it fires."""
    control: MessageControl | None
    """Set by a codec for message-based transports (WebSocket): its dialect's control messages."""
    sent: Callable[[], None] | None
    """Set by the stream layer: a transport whose :meth:`Transport.open` waits for the answer (HTTP's
    response head) calls it once the request is on the wire, before that wait. aish does work of its
    own meanwhile (a one-shot process writes the run's start to its history). It never raises, and
    may be called again; a transport that does not call it loses nothing: the stream layer calls it
    when ``open`` returns."""

    def __init__(
        self,
        url: str,
        body: bytes | Body = b"",
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
        secrets: tuple[str, ...] = (),
        last_event_id: str | None = None,
        cancel: CancelToken | None = None,
        control: MessageControl | None = None,
        sent: Callable[[], None] | None = None,
    ) -> None:
        freeze(
            self,
            url=url,
            body=body,
            headers=headers if headers is not None else {},
            method=method,
            secrets=secrets,
            last_event_id=last_event_id,
            cancel=cancel,
            control=control,
            sent=sent,
        )


@runtime_checkable
class MessageControl(Protocol):
    """A dialect's control messages, for a transport that talks both ways (WebSocket).

    A codec puts one in :attr:`Request.control`, so that the transport stays
    dialect-neutral: it sends :attr:`Request.body` as the first message (or
    :meth:`resume` when resuming), tags every message it receives with
    :meth:`message_id`, and sends :meth:`cancel` when the stream is cancelled
    or abandoned, so that the server stops generating. A control may also have
    ``is_end(data) -> bool`` (the answer's end message): a transport in session
    mode then keeps the connection for the next request.
    """

    def message_id(self, data: str) -> str | None:
        """The id of a received message (its place in the answer), or None when it has none."""

    def resume(self, body: bytes, last_event_id: str) -> bytes:
        """The message asking to continue the answer of ``body`` after ``last_event_id``."""

    def cancel(self) -> bytes | None:
        """The message asking the server to stop generating, or None."""


# ------------------------------------------------------------------- transports


@runtime_checkable
class Connection(Protocol):
    """One open stream.

    Iterating yields *batches*: the wire items that arrived together (one
    network read). Consumers flush output after each batch, so a token is shown
    as soon as the server sends it while a fast stream costs one flush per
    read, not per token. Iteration ends when the peer ends the stream.

    Failures are raised as :class:`aish.errors.StreamFailure` subclasses
    (``ConnectionFailure``, ``IdleTimeout``, ``HTTPStatusError``), never as a
    library's own exception.

    A connection that can resume also has the attributes of
    :class:`ResumableConnection`; the stream layer reads them with
    ``getattr`` when the connection fails.
    """

    def __iter__(self) -> Iterator[Sequence[WireItem]]: ...

    def cancel(self) -> None:
        """Stop at once, from any thread: unblock a pending read, end iteration."""

    def close(self) -> None:
        """Release the connection. Idempotent."""


@runtime_checkable
class ResumableConnection(Connection, Protocol):
    """What a connection tells the stream layer so that it can resume after a failure.

    ``last_event_id`` is the id of the last complete message received (for
    SSE the "last event ID string", which carries over from the request's
    :attr:`Request.last_event_id`); ``None`` or ``""`` means the server gave no
    ids, so the stream cannot resume. ``retry_delay`` is the reconnection delay
    the server asked for, in seconds (SSE ``retry:``), or ``None``.
    """

    @property
    def last_event_id(self) -> str | None: ...

    @property
    def retry_delay(self) -> float | None: ...


@runtime_checkable
class Transport(Protocol):
    """Moves a :class:`Request` to an endpoint and streams back wire items.

    A transport whose :meth:`open` can send a :class:`Body` in pieces (``len``
    for its size, then each piece iterating it yields) has a class attribute
    ``sends_pieces = True``; any other gets ``request.body`` as bytes.
    """

    def open(self, request: Request) -> Connection:
        """Send ``request``; raise ``ConnectionFailure``/``HTTPStatusError`` if that fails.

        Send ``request.last_event_id`` when set and the protocol can resume,
        and abort promptly when ``request.cancel`` fires while waiting.
        """

    def close(self) -> None:
        """Release pooled resources. Idempotent."""


TransportFactory = Callable[[AgentConfig], Transport]


@runtime_checkable
class StreamExtension(Protocol):
    """Cross-cutting stream behaviour that wraps every connection of an agent (e.g. liveness)."""

    def wrap(self, connection: Connection, request: Request) -> Connection:
        """Return ``connection``, or a connection that wraps it (and forwards what it does not change)."""


StreamExtensionFactory = Callable[[AgentConfig], "StreamExtension | None"]


# ----------------------------------------------------------------------- codecs


@runtime_checkable
class Decoder(Protocol):
    """Per-stream state of a codec: turns wire messages into events."""

    def decode(self, message: WireMessage) -> Sequence[Event]:
        """Events for one message (often one, sometimes none).

        Return a :class:`~aish.events.StreamEnd` when the dialect's end marker
        arrives; raise :class:`aish.errors.MalformedEvent` for data it cannot
        understand and :class:`aish.errors.RemoteError` for an error event.

        Two optional methods refine what the stream layer does:
        ``finish() -> Sequence[Event]`` is called when the connection ends
        cleanly without an end marker (a dialect whose end of stream *is* the
        end returns a ``StreamEnd`` there), and ``is_answer_start(message) ->
        bool`` says whether a message opens a new answer (OpenAI's role chunk,
        Anthropic's ``message_start``), so that a server which starts over
        instead of resuming is caught before any text is repeated.

        For speed, ``decode_many(items) -> list[Event] | None`` may decode a
        whole batch of wire items (what one network read completed) at once:
        the events :meth:`decode` would give for each message in turn, up to
        and including a ``StreamEnd``, except that text pieces that follow
        each other may come as one ``TextDelta`` whose ``pieces`` counts them
        (the layer joins them anyway, decision 60). It returns None, having
        changed nothing, for any batch it does not take whole (a comment, an
        error event, malformed data); the layer then calls :meth:`decode` per
        message, which raises at the right place. A renderer that asks for
        ``every_piece`` gets its stream from :meth:`decode` alone.
        """


@runtime_checkable
class Codec(Protocol):
    """A dialect: how a prompt becomes a request, and how events become text.

    A codec whose servers can list their models may also have
    ``models_request() -> Request`` (the listing request, usually
    ``GET {url}/models`` with the agent's key) and ``model_ids(body: str) ->
    list[str]`` (the ids in the answer); ``models AGENT`` and the check of a
    ``-m MODEL`` use them (:mod:`aish.models`).
    """

    def encode(self, prompt: Prompt) -> Request:
        """The request for ``prompt`` (URL, headers with credentials, body)."""

    def decoder(self) -> Decoder:
        """A fresh decoder for one stream."""

    def error_message(self, status: int, body: str) -> str | None:
        """A readable message from an HTTP error body, or None to use the default."""


CodecFactory = Callable[[AgentConfig], Codec]


# -------------------------------------------------------------------- renderers


class RenderTarget(Record):
    """Where a renderer writes. ``tty`` says whether ``out`` is a terminal; ``color``
    whether it may use colour there (a terminal, and neither ``NO_COLOR`` nor ``TERM=dumb``).
    ``options``: ``"wrap": False`` when the user turned word wrapping off (``set wrap off``,
    ``[settings] wrap``: the terminal alone then breaks long lines), ``"lanes"`` for a renderer
    of parallel groups (the lanes' names)."""

    __slots__ = ("out", "err", "tty", "options", "color")
    out: TextIO
    err: TextIO
    tty: bool
    options: Mapping[str, Any]
    color: bool

    def __init__(
        self,
        out: TextIO,
        err: TextIO,
        tty: bool = False,
        options: Mapping[str, Any] | None = None,
        color: bool = False,
    ) -> None:
        self.out = out
        self.err = err
        self.tty = tty
        self.options = options if options is not None else {}
        self.color = color


@runtime_checkable
class Renderer(Protocol):
    """Shows streams. Fed every event of every stage it is given, in order."""

    def feed(self, event: Event) -> None:
        """Handle one event; may buffer output until :meth:`flush`."""

    def flush(self) -> None:
        """Make everything fed so far visible (called after each batch)."""

    def close(self) -> None:
        """The run is over: finish output (final newline, summaries)."""


RendererFactory = Callable[[RenderTarget], Renderer]
