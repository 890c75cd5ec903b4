"""The contracts of aish's extension points.

Each extension point is a factory registered by name through a hook (see
:mod:`aish.hookspecs`) and the small protocol its products follow. Everything
streams: transports yield batches of wire items as they arrive, codecs turn
them into :mod:`aish.events`, renderers show events, history backends keep them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO, runtime_checkable

from aish.agents import AgentConfig
from aish.events import Event
from aish.wire import WireItem, WireMessage

# --------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Context:
    """What a stage knows about the pipeline it runs in.

    Codecs decide how (and whether) this reaches the endpoint.
    """

    pipeline_id: str
    position: int = 0
    """0-based index of this stage in its pipeline."""
    stages: int = 1
    original_input: str = ""
    previous_agent: str | None = None
    previous_answer: str | None = None
    session_id: str | None = None
    memory_hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prompt:
    """The input of one stage: its text and its context."""

    text: str
    context: Context


@dataclass(frozen=True)
class Request:
    """A transport-neutral request a codec builds and a transport sends."""

    url: str
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "POST"
    secrets: tuple[str, ...] = ()
    """Values (API keys) that must never appear in an error message or log."""


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
    """

    def __iter__(self) -> Iterator[Sequence[WireItem]]: ...

    def cancel(self) -> None:
        """Stop at once, from any thread: unblock a pending read, end iteration."""

    def close(self) -> None:
        """Release the connection. Idempotent."""


@runtime_checkable
class Transport(Protocol):
    """Moves a :class:`Request` to an endpoint and streams back wire items."""

    def open(self, request: Request) -> Connection:
        """Send ``request``; raise ``ConnectionFailure``/``HTTPStatusError`` if that fails."""

    def close(self) -> None:
        """Release pooled resources. Idempotent."""


TransportFactory = Callable[[AgentConfig], Transport]


# ----------------------------------------------------------------------- codecs


@runtime_checkable
class Decoder(Protocol):
    """Per-stream state of a codec: turns wire messages into events."""

    def decode(self, message: WireMessage) -> Sequence[Event]:
        """Events for one message (often one, sometimes none).

        Return a :class:`~aish.events.StreamEnd` when the dialect's end marker
        arrives; raise :class:`aish.errors.MalformedEvent` for data it cannot
        understand and :class:`aish.errors.RemoteError` for an error event.
        """


@runtime_checkable
class Codec(Protocol):
    """A dialect: how a prompt becomes a request, and how events become text."""

    def encode(self, prompt: Prompt) -> Request:
        """The request for ``prompt`` (URL, headers with credentials, body)."""

    def decoder(self) -> Decoder:
        """A fresh decoder for one stream."""

    def error_message(self, status: int, body: str) -> str | None:
        """A readable message from an HTTP error body, or None to use the default."""


CodecFactory = Callable[[AgentConfig], Codec]


# -------------------------------------------------------------------- renderers


@dataclass
class RenderTarget:
    """Where a renderer writes. ``tty`` says whether ``out`` is a terminal."""

    out: TextIO
    err: TextIO
    tty: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)


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


# ------------------------------------------------------------- history backends


@dataclass
class StageRecord:
    """One stage of a recorded run (what history keeps; never a secret)."""

    agent: str
    input: str = ""
    text: str = ""
    status: str = "running"
    """``running``, ``complete``, ``partial``, ``error`` or ``cancelled``."""
    error: str | None = None
    transport: str = ""
    codec: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunRecord:
    """One line the user ran, with its stages."""

    line: str
    started: float
    id: str | None = None
    stages: list[StageRecord] = field(default_factory=list)
    replay_of: str | None = None


@runtime_checkable
class HistoryBackend(Protocol):
    """Stores runs as they stream, so a crash leaves the partial answer behind."""

    def begin_run(self, run: RunRecord) -> str:
        """Record a new run; return its id."""

    def update_stage(self, run_id: str, index: int, stage: StageRecord) -> None:
        """Store the current state of stage ``index`` (called while streaming)."""

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The most recent runs, newest last."""

    def search(self, text: str, limit: int = 20) -> list[RunRecord]:
        """Runs whose line or answers contain ``text`` (any text is valid)."""

    def close(self) -> None:
        """Flush and release the store."""


HistoryFactory = Callable[[Mapping[str, Any]], HistoryBackend]
