"""aish's one error tree.

Every failure a user can meet is an :class:`AishError`; its ``str()`` is the
one line the user sees, and its ``exit_code`` is what ``aish -c`` and scripts
return. Plugins translate their libraries' exceptions into these at their
boundary (see ``docs/plugins/``), so the core never catches a library's
errors (``http.client``, ``ssl``, ``websocket``) by name.

Exit codes (documented in ``docs/usage.md``):

==== =====================================================
0    success
1    any other failure (for example a plugin crashed)
2    usage or syntax error, bad configuration
3    unknown agent (or unknown transport/codec/renderer)
4    connection failure (refused, DNS, TLS, timeout, dropped)
5    remote error (the endpoint answered with an error)
6    the answer asks for a tool to be run (aish runs none)
130  interrupted (Ctrl-C)
==== =====================================================
"""

from __future__ import annotations

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: ``aish --version`` imports this before typing
if TYPE_CHECKING:
    from collections.abc import Iterable

TYPE_CHECKING = False  # not typing's: ``aish --version`` imports this module and neither typing nor re
if TYPE_CHECKING:
    import re

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_UNKNOWN = 3
EXIT_CONNECTION = 4
EXIT_REMOTE = 5
EXIT_TOOL_CALL = 6
EXIT_INTERRUPTED = 130


class AishError(Exception):
    """Base of every error aish reports. ``str(err)`` is one line for the user."""

    exit_code: int = EXIT_FAILURE

    def reworded(self, message: str) -> AishError:
        """A copy of this error (same class and attributes) with another message."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.args = (message,)
        clone.__traceback__ = self.__traceback__
        clone.__cause__ = self.__cause__
        clone.__context__ = self.__context__
        clone.__suppress_context__ = self.__suppress_context__
        return clone

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else type(self).__name__


_INVISIBLE_CHARS = "[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
_invisible: list[re.Pattern[str]] = []
"""``_INVISIBLE_CHARS`` compiled, on first use."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, carried by the surrogateescape handler
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shortened(text: str, width: int = 30) -> str:
    """``text`` as an example in a one-line hint: cut to ``width`` characters with ``...``."""
    return text if len(text) <= width else text[: width - 3] + "..."


def visible(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``), on one line.

    C0 and C1 controls (but tab), DEL, line and paragraph separators, bidi
    controls and lone surrogates become ``\\xHH`` / ``\\uHHHH``: whatever aish
    echoes from input or from a server cannot move the cursor, retitle the
    terminal, reorder what is shown or break the one-line rule.
    """
    if not _invisible:
        import re

        _invisible.append(re.compile(_INVISIBLE_CHARS))
    return _invisible[0].sub(_escape, text)


class UsageError(AishError):
    """The command line or a command's arguments are wrong."""

    exit_code = EXIT_USAGE


_EXCERPT = 60
"""Characters of a syntax error's line shown on each side of the ``-->`` mark."""


class AishSyntaxError(UsageError):
    """A line of the aish language does not parse.

    ``position`` is the 0-based offset in ``line`` where the problem is;
    :meth:`pointer` renders the one-line message with a caret under it.
    """

    def __init__(self, message: str, line: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.position = max(0, min(position, len(line)))

    def location(self) -> str:
        """``column C``, or ``line L, column C`` for a multi-line source."""
        line_no = self.line.count("\n", 0, self.position) + 1
        col = self.position - (self.line.rfind("\n", 0, self.position) + 1) + 1
        return f"line {line_no}, column {col}" if "\n" in self.line.rstrip("\n") else f"column {col}"

    def excerpt(self) -> str:
        """The offending physical line with ``-->`` marking the spot."""
        start = self.line.rfind("\n", 0, self.position) + 1
        end = self.line.find("\n", self.position)
        shown = self.line[start : end if end != -1 else len(self.line)]
        cut = self.position - start
        before, after = shown[:cut], shown[cut:]
        if len(before) > _EXCERPT:
            before = "..." + before[-_EXCERPT:]
        if len(after) > _EXCERPT:
            after = after[:_EXCERPT] + "..."
        return f"{visible(before)}-->{visible(after)}".strip()

    def __str__(self) -> str:
        return f"syntax error at {self.location()}: {self.message}: {self.excerpt()}"


def closest(word: str, names: Iterable[str], cutoff: float = 0.75) -> str | None:
    """The name in ``names`` that ``word`` is a likely misspelling of, or None: what every
    "did you mean" of aish asks (difflib is imported here, on a mistake's path only)."""
    import difflib

    close = difflib.get_close_matches(word, list(names), n=1, cutoff=cutoff)
    if not close:
        return None
    short = min(len(word), len(close[0])) <= 4 and sorted(word) != sorted(close[0])
    # one letter of four is a quarter of the word: 'what' is not 'chat', though 'hlep' is 'help'
    if short and difflib.SequenceMatcher(None, word, close[0]).ratio() < 0.85:
        return None
    return close[0]


def unknown_subcommand(command: str, sub: str, known: list[str]) -> UsageError:
    """``history shwo``: one line naming the word, with the subcommand it is close to."""
    close = closest(sub, known, 0.6)
    guess = f", did you mean {close!r}?" if close else ""
    return UsageError(f"{command}: unknown subcommand {visible(sub)!r}{guess} (see '{command} help')")


class ConfigError(UsageError):
    """The configuration file is unreadable or invalid; the message names file, agent, key."""


class UnknownNameError(AishError):
    """A name (agent, transport, codec, renderer, backend) that nothing registered."""

    exit_code = EXIT_UNKNOWN

    def __init__(self, kind: str, name: str, known: list[str] | None = None, also: list[str] | None = None) -> None:
        """``also``: other names the word could have meant (a command, where an agent was looked
        for): suggested when close, not listed."""
        self.kind = kind
        self.name = name
        self.known = sorted(known or [])
        hint = f" (known: {', '.join(self.known)})" if self.known else ""
        self.suggestion = closest(name, [*self.known, *(also or [])])
        guess = f", did you mean {self.suggestion!r}?" if self.suggestion else ""
        super().__init__(f"unknown {kind} {name!r}{guess}{hint}")


class UnknownAgentError(UnknownNameError):
    """A pipeline names an agent that is not configured."""

    def __init__(self, name: str, known: list[str] | None = None, commands: list[str] | None = None) -> None:
        super().__init__("agent", name, known, commands)


class PluginError(AishError):
    """A plugin failed to load or broke its contract; the message names the plugin."""


class StreamFailure(AishError):
    """Base of failures while talking to an endpoint.

    ``partial`` is True when some text had already arrived when it failed.
    """

    partial: bool = False


class ConnectionFailure(StreamFailure):
    """The endpoint could not be reached, or the connection was lost."""

    exit_code = EXIT_CONNECTION


class IdleTimeout(ConnectionFailure):
    """Nothing (not even a heartbeat) arrived within the agent's idle timeout."""


class StreamIncomplete(ConnectionFailure):
    """The stream ended before its end marker (the answer may be cut short)."""


class RemoteError(StreamFailure):
    """The endpoint answered with an error (an HTTP status or an error event)."""

    exit_code = EXIT_REMOTE

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class HTTPStatusError(RemoteError):
    """An HTTP error status. ``body`` is the start of the response (for codecs to explain).

    Transports raise it; the stream layer asks the agent's codec to turn
    ``body`` into a readable message.
    """

    def __init__(
        self,
        status: int,
        reason: str,
        url: str,
        body: str = "",
        retry_after: float | None = None,
        *,
        proxy: bool = False,
    ) -> None:
        super().__init__(f"HTTP {status} {reason} from {url}", status=status)
        self.code = status
        self.reason = reason
        self.url = url
        self.body = body
        self.retry_after = retry_after
        self.proxy = proxy
        """The status is a forward proxy's answer (to ``CONNECT``), not the server's: a 403 there
        is the proxy's rule, not the agent's key."""


class MalformedEvent(RemoteError):
    """An event from the endpoint could not be understood by the codec."""


class EventTooLarge(MalformedEvent):
    """An event (or one line of it) grew past the parser's cap without ending (:data:`aish.kit.sse.MAX_EVENT_BYTES`)."""


class OutputError(AishError):
    """Output could not be written (a full disk, an I/O error); the message names the file.

    A reader that went away (``EPIPE``) is not one: aish then ends quietly with 141.
    """

    target: str = ""
    """What could not be written: a file's name, or ``standard output``."""


def output_error(exc: OSError, name: str) -> OutputError:
    """``exc`` (raised writing to ``name``) as one line: ``NAME: No space left on device``."""
    error = OutputError(f"{name}: {exc.strerror or type(exc).__name__}")
    error.target = name
    return error


class ToolCallRequested(AishError):
    """An answer asks for a tool to be run. aish runs no tools: the pipeline stops there."""

    exit_code = EXIT_TOOL_CALL


class HistoryError(AishError):
    """The run history cannot be read or written (a locked, full or damaged store).

    History backends raise it at their boundary; while a line runs, aish turns
    it into one warning and goes on without recording.
    """


class Interrupted(AishError):
    """The user pressed Ctrl-C."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str = "interrupted") -> None:
        super().__init__(message)
