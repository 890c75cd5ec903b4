"""Commands: ``agents``, ``plugins``, ``history`` and any a plugin adds, run the same way everywhere.

A command is a plain callable registered through the ``aish_register_commands``
hook (built-in ones by the built-in ``commands`` plugin). The shell, ``aish -c``,
scripts and ``aish NAME ARGS...`` all run it through the same
:class:`~aish.runner.Runner`, so a line behaves the same wherever it is typed
(docs/plugins/commands.md)::

    from aish import AishError, Invocation, hookimpl

    def hello(inv: Invocation) -> int:
        inv.out.write(f"hello {' '.join(inv.args) or 'world'}\\n")
        return 0

    @hookimpl
    def aish_register_commands(register):
        register("hello", hello, summary="say hello", usage="hello [NAME...]")

This module holds the contract (:class:`Invocation`, :data:`CommandFunc`,
:class:`RegisterCommand`), the registered record (:class:`CommandSpec`) and
how a line is split around raw commands; it imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol, TextIO

from aish.records import FrozenRecord, Record, freeze

if TYPE_CHECKING:
    from aish.app import App
    from aish.runner import Runner

Confirm = Callable[[str], bool]
"""Asks the person at the terminal a yes/no question (the text ends with ``[y/N] ``)."""

AskSecret = Callable[[str], str]
"""Asks the person at the terminal for a secret, not echoed (``keys set``); raises ``EOFError`` or
``KeyboardInterrupt`` when they give none."""


class Invocation(Record):
    """What a command is given each time it runs."""

    __slots__ = (
        "app", "args", "line", "out", "err", "stdin", "interactive", "confirm", "runner", "secret", "forget_typed"
    )  # fmt: skip
    app: App
    """The application: configuration, agents, components, plugins."""
    args: list[str]
    """The words after the command name, quotes removed."""
    line: str
    """The rest of the line exactly as typed (``search a|b`` for ``history search a|b``) when the
    command begins its line; otherwise its words joined by spaces (words with blanks double-quoted)."""
    out: TextIO
    """Where the command writes its output (a file after ``NAME ... > FILE``)."""
    err: TextIO
    """Where it writes warnings; errors are raised as :class:`aish.AishError` subclasses instead."""
    stdin: TextIO | None
    """The process's standard input, if the command may read it (None in the shell)."""
    interactive: bool
    """A person is at a terminal: the command may ask (``confirm``)."""
    confirm: Confirm | None
    """Ask a yes/no question; None when nobody can answer (a pipe, a script, a test)."""
    runner: Runner | None
    """The runner running this line (its history recorder, renderer and session), if any."""
    secret: AskSecret | None
    """Ask for a secret without echoing it (``keys set``); None when nobody can answer."""
    forget_typed: Callable[[str], bool] | None
    """``forget_typed(text)``: a secret was typed on the line (``keys set NAME KEY``): the shell drops
    the entry of its input history that holds ``text`` (True when one was dropped). None outside
    the shell."""

    def __init__(
        self,
        app: App,
        args: list[str],
        line: str,
        out: TextIO,
        err: TextIO,
        stdin: TextIO | None = None,
        interactive: bool = False,
        confirm: Confirm | None = None,
        runner: Runner | None = None,
        secret: AskSecret | None = None,
        forget_typed: Callable[[str], bool] | None = None,
    ) -> None:
        self.app = app
        self.args = args
        self.line = line
        self.out = out
        self.err = err
        self.stdin = stdin
        self.interactive = interactive
        self.confirm = confirm
        self.runner = runner
        self.secret = secret
        self.forget_typed = forget_typed


CommandFunc = Callable[[Invocation], int]
"""A command: returns its exit status; raises :class:`aish.AishError` subclasses for errors."""

Completer = Callable[[Invocation, list[str]], list[str]]
"""Tab completion: given the words after the command name (the last one is the word being
completed, possibly empty), the candidates for that last word."""


SecretWords = Callable[[list[str]], list[str]]
"""Given the words after a command's name, those that are secrets (``keys set NAME KEY``: ``KEY``)."""


class RegisterCommand(Protocol):
    """The ``register`` callback of :func:`aish.hookspecs.AishHookSpecs.aish_register_commands`."""

    def __call__(
        self,
        name: str,
        func: CommandFunc,
        *,
        summary: str,
        usage: str = "",
        complete: Completer | None = None,
        raw: bool | str = False,
        mends_config: str | None = None,
        expands: bool = False,
        secret_words: SecretWords | None = None,
    ) -> None: ...


class CommandSpec(FrozenRecord):
    """A registered command and the plugin that registered it."""

    __slots__ = (
        "name",
        "func",
        "plugin",
        "summary",
        "usage",
        "complete",
        "raw",
        "mends_config",
        "expands",
        "secret_words",
    )
    name: str
    func: CommandFunc
    plugin: str
    summary: str
    usage: str
    complete: Completer | None
    raw: bool | str
    """The command takes the rest of its line unparsed: every line of it (True), or a line whose
    first word after the name is this subcommand (``history`` registers ``"search"``: ``history
    search a|b`` searches for ``a|b``, and ``history | grep owl`` is a pipeline)."""
    mends_config: str | None
    """The subcommand (first word) that runs when the configuration file is invalid, to mend it
    (``agents edit``); every other line stops with the file's error."""
    expands: bool
    """The command's words name files and directories (``cd``): in a line they are expanded as a
    program's are (``~``, ``$NAME``, globs: :mod:`aish.lang.expand`)."""
    secret_words: SecretWords | None
    """The words of a call that are secrets: a line that calls the command is recorded (run history)
    with them as ``***``, before it runs (:func:`typed_secrets`)."""

    def __init__(
        self,
        name: str,
        func: CommandFunc,
        plugin: str,
        summary: str,
        usage: str = "",
        complete: Completer | None = None,
        raw: bool | str = False,
        mends_config: str | None = None,
        expands: bool = False,
        secret_words: SecretWords | None = None,
    ) -> None:
        freeze(
            self,
            name=name,
            func=func,
            plugin=plugin,
            summary=summary,
            usage=usage,
            complete=complete,
            raw=raw,
            mends_config=mends_config,
            expands=expands,
            secret_words=secret_words,
        )

    def takes_as_typed(self, rest: str) -> bool:
        """Whether a line ``NAME rest`` is this raw command's, ``rest`` taken as typed."""
        return self.raw is True or (isinstance(self.raw, str) and rest.split(maxsplit=1)[:1] == [self.raw])

    @property
    def help(self) -> str:
        """What ``help NAME`` shows: the summary, then the usage."""
        usage = self.usage.strip("\n")
        return f"{self.summary}\n{usage}\n" if usage else f"{self.summary}\n"


_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NAME_CHARS = _LETTERS | frozenset("0123456789_-")
"""A command's name: an ASCII letter, then letters, digits, ``-`` and ``_`` (sets: no regex to compile at import)."""
RESERVED = frozenset({"help", "quit", "exit", "eof", "echo", "cat", "team-chat"})
"""Names a command may not take: the shell's own (help, quit) and the language's built-ins.
aish's essential built-in plugin (``aish_commands``) registers ``help`` itself."""

OWN = {"help": "commands"}
"""Reserved names the essential built-in plugin named here registers."""


def check_registration(
    name: object,
    func: object,
    summary: object,
    plugin: str,
    mends_config: object = None,
    raw: object = False,
    secret_words: object = None,
) -> str | None:
    """Why this registration is refused (None: it is fine)."""
    if not isinstance(name, str) or name[:1] not in _LETTERS or not _NAME_CHARS.issuperset(name):
        return f"plugin {plugin!r} registered a command with a bad name {name!r} (letters, digits, '-', '_')"
    if name.lower() in RESERVED and OWN.get(name) != plugin:
        return f"plugin {plugin!r} registered command {name!r}, a name aish keeps for itself"
    if not callable(func):
        return f"plugin {plugin!r} registered command {name!r} with {type(func).__name__}, not a callable"
    if not isinstance(summary, str) or not summary.strip() or "\n" in summary.strip():
        return f"plugin {plugin!r} registered command {name!r} without a one-line summary"
    if mends_config is not None and (
        not isinstance(mends_config, str) or not mends_config.strip() or " " in mends_config
    ):
        return f"plugin {plugin!r} registered command {name!r} with mends_config={mends_config!r}, not one word"
    if isinstance(raw, str) and (not raw.strip() or len(raw.split()) != 1 or raw != raw.strip()):
        return f"plugin {plugin!r} registered command {name!r} with raw={raw!r}, not True, False or one word"
    if secret_words is not None and not callable(secret_words):
        return f"plugin {plugin!r} registered command {name!r} with secret_words={secret_words!r}, not a callable"
    return None


# --------------------------------------------------------------- raw commands


class RawCall(FrozenRecord):
    """A raw command and the rest of its line, as typed; ``stdout``: the ``> FILE`` or ``>> FILE``
    that ended the line, as ``(op, FILE)`` (``history export > runs.json``); ``pipe_to``: the aish
    source after a `` | `` that the command's output goes into (``history search owl | head``)."""

    __slots__ = ("name", "rest", "stdout", "pipe_to")
    name: str
    rest: str
    stdout: tuple[str, str] | None
    pipe_to: str | None

    def __init__(self, name: str, rest: str, stdout: tuple[str, str] | None = None, pipe_to: str | None = None) -> None:
        freeze(self, name=name, rest=rest, stdout=stdout, pipe_to=pipe_to)


def split_raw(source: str, commands: Mapping[str, CommandSpec]) -> list[str | RawCall]:
    """``source`` cut around lines that begin with a raw command of ``commands`` (each such line is
    one :class:`RawCall`).

    A line begins a raw command when its first word is a raw command's name and
    it does not continue an unfinished line (open quote, trailing ``|``...).
    The rest stays aish source, in order. A raw line may end with `` > FILE`` or
    `` >> FILE`` outside quotes (a blank before it, FILE one plain word): its output
    goes there, as any command's does (``history search "a > b"`` and ``a>b`` search).
    A `` | `` outside double quotes with a blank on each side and words after it pipes
    the output into the rest of the line, which is aish source (``history search owl |
    head``; ``a|b`` and ``"a | b"`` search).
    """
    from aish.lang import is_incomplete

    parts: list[str | RawCall] = []
    pending = ""
    for physical in source.splitlines(keepends=True) or [source]:
        stripped = physical.strip()
        name = stripped.split(maxsplit=1)[0] if stripped else ""
        spec = commands.get(name)
        if (
            spec is not None
            and spec.takes_as_typed(stripped[len(name) :])
            and not (pending.strip() and is_incomplete(pending))
        ):
            if pending.strip():
                parts.append(pending)
            pending = ""
            rest, pipe_to = _pipe(stripped[len(name) :].strip())
            if pipe_to is not None:
                parts.append(RawCall(name, rest, None, pipe_to))
            else:
                parts.append(RawCall(name, *_trailing_redirect(rest)))
        else:
            pending += physical
    if pending.strip() or not parts:
        parts.append(pending)
    return parts


def _pipe(rest: str) -> tuple[str, str | None]:
    """``rest`` cut at its first `` | `` outside double quotes (a search's only quotes, as for
    :func:`_trailing_redirect`) with words after it: the text before it, and the source after it
    (None: no such pipe)."""
    at = rest.find(" | ")
    while at >= 0:
        if rest.count('"', 0, at) % 2 == 0 and rest[at + 3 :].strip():
            return rest[:at].rstrip(), rest[at + 3 :].strip()
        at = rest.find(" | ", at + 1)
    return rest, None


def _trailing_redirect(rest: str) -> tuple[str, tuple[str, str] | None]:
    """``rest`` without a final ``> FILE`` / ``>> FILE`` outside quotes, and that redirect."""
    at = rest.rfind(">")
    if at < 0:
        return rest, None
    target = rest[at + 1 :].strip()
    if not target or any(c.isspace() or c in "\"'<>|;&" for c in target):
        return rest, None
    op_at = at - 1 if at > 0 and rest[at - 1] == ">" else at
    before = rest[:op_at]
    if not before[-1:].isspace():  # ``a>b``: a word, as typed
        return rest, None
    if before.count('"') % 2:  # inside a phrase: text (a search's only quotes; ``it's`` is a word)
        return rest, None
    return before.rstrip(), (rest[op_at : at + 1], target)


def split_words(text: str) -> list[str]:
    """The words of a raw command's text, split like a shell's (plain blanks after an open quote)."""
    import shlex

    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def typed_secrets(source: str, commands: Mapping[str, CommandSpec]) -> list[str]:
    """The secrets typed in ``source`` as words of commands that declare them (``secret_words``):
    ``keys set NAME KEY; athena hi`` holds ``KEY``. A line aish cannot parse is taken word by word,
    so its secrets are found too (a syntax error is recorded as typed)."""
    declared = {name: spec.secret_words for name, spec in commands.items() if spec.secret_words is not None}
    if not any(name in source for name in declared):  # most lines: nothing to parse again
        return []
    from aish.errors import AishError
    from aish.lang import Command, parse

    found: list[str] = []
    for part in split_raw(source, commands):
        calls: list[tuple[str, list[str]]] = []
        if isinstance(part, RawCall):
            calls.append((part.name, split_words(part.rest)))
            found += typed_secrets(part.pipe_to or "", commands)
        else:
            try:
                for _, pipeline in parse(part).items:
                    calls += [(s.name, [w.value for w in s.args]) for s in pipeline.stages if isinstance(s, Command)]
            except AishError:
                words = part.split()
                calls += [(word, words[at + 1 :]) for at, word in enumerate(words) if word in declared]
        for name, words in calls:
            pick = declared.get(name)
            found += [word for word in (pick(words) if pick is not None else []) if word]
    return found


def join_words(words: list[str]) -> str:
    """Words as a line: a word with blanks is double-quoted (so ``history search`` keeps a phrase)."""
    return " ".join(f'"{w}"' if any(c.isspace() for c in w) and '"' not in w else w for w in words)


__all__ = [
    "CommandFunc",
    "CommandSpec",
    "Completer",
    "Confirm",
    "Invocation",
    "RawCall",
    "RegisterCommand",
    "SecretWords",
    "check_registration",
    "join_words",
    "split_raw",
    "split_words",
    "typed_secrets",
]
