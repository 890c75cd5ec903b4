"""Tab completion for aish lines in the shell.

Where a command goes (the start of a line, after ``|``, ``&``, ``;``, ``&&``,
``||`` or ``(``) Tab offers agent names, the shell's commands and the built-in
stages ``echo`` and ``cat``; after ``<``, ``>``, ``>>``, in ``cat``'s and in a
program's arguments (``!ls``, ``grep x``) it offers file paths; in a shell command's arguments it asks the
command (``plugins enable <Tab>`` offers plugin names); after ``-m`` in an
agent's controls (``athena[-m <Tab>``) it offers the agent's models. Chat mode
completes nothing but its ``/`` commands, ``/model``'s name and ``/file``'s path: every other line there is
literal text.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

_OPS = ("||", "&&", ">>", "|", "&", ";", "<", ">", "(", ")")
_STAGE_START = frozenset({"|", "||", "&", "&&", ";", "(", "\n"})
_REDIRECTS = frozenset({"<", ">", ">>"})
MODEL_OPTIONS = frozenset({"-m", "--model"})
BUILTIN_STAGES = {"echo": "print its words (a stage like any other)", "cat": "print files, or pass input on"}


@dataclass(frozen=True)
class Sources:
    """Where the completer finds what it offers (called at each Tab, so always current)."""

    agents: Callable[[], Mapping[str, str]]
    """Agent name -> description."""
    commands: Callable[[], Mapping[str, str]]
    """Shell command name -> one-line summary."""
    arguments: Callable[[str, list[str], str], Iterable[str]]
    """(command, words before the cursor's word, the word so far) -> candidates."""
    active: Callable[[], bool] = lambda: True
    """False in chat mode: nothing is completed there but ``/`` commands, ``/model``'s name and ``/file``'s path."""
    models: Callable[[str], Iterable[str]] = lambda agent: ()
    """Agent name -> the models Tab offers after ``-m`` (its own first)."""
    chat_agent: Callable[[], str | None] = lambda: None
    """The agent of chat mode, whose models ``/model <Tab>`` offers."""


class AishCompleter(Completer):
    """prompt_toolkit completer for the aish language."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources
        self._paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        if not self.sources.active():
            yield from self._chat(document.text_before_cursor, complete_event)
            return
        tokens, current, typed = split_raw_before_cursor(document.text_before_cursor)
        if current is None:  # inside a quote: a prompt's text, nothing to offer
            return
        # A word completed whole (a name, a file) is followed by a blank, as bash adds, unless one is
        # already after the cursor. A directory (its ``/``), a model in ``[...]`` and chat's ``/``
        # commands get none: what is typed next goes on in the same word or bracket.
        blank = "" if document.text_after_cursor[:1].isspace() else " "
        previous = tokens[-1] if tokens else None
        if previous in _REDIRECTS:
            yield from self._path(current, typed, complete_event, blank)
            return
        stage = _current_stage(tokens)
        if not stage:
            yield from self._names(current, blank)
            return
        command, words = stage[0], stage[1:]
        name, bracket, first = command.partition("[")
        if bracket and name in self.sources.agents():  # ``athena[-m <Tab>``: the stage's controls
            controls = [first, *words] if first else words
            if controls and controls[-1] in MODEL_OPTIONS and not any(w.endswith("]") for w in controls):
                yield from self._models(name, current, typed)
            return
        if command in self.sources.commands():
            for candidate in sorted(set(self.sources.arguments(command, words, current))):
                if candidate.startswith(current):
                    yield Completion(escaped(candidate) + blank, -typed, display=candidate)
        elif command == "cat" or (command not in self.sources.agents() and command != "echo"):
            yield from self._path(current, typed, complete_event, blank)  # a program's words (``!ls``, ``grep x``)

    def _names(self, current: str, blank: str) -> Iterable[Completion]:
        offered: dict[str, str] = {}
        offered.update(BUILTIN_STAGES)
        offered.update(self.sources.commands())
        offered.update({name: f"agent: {desc}" if desc else "agent" for name, desc in self.sources.agents().items()})
        for name in sorted(offered):
            if name.startswith(current):
                yield Completion(name + blank, -len(current), display=name, display_meta=offered[name][:60])

    def _models(self, agent: str, current: str, typed: int) -> Iterable[Completion]:
        for model in self.sources.models(agent):
            if model.startswith(current):
                yield Completion(escaped(model), -typed, display=model)

    def _chat(self, text: str, event: CompleteEvent) -> Iterable[Completion]:
        """Chat mode: the line is the agent's text, but for a ``/`` command's name, ``/model NAME`` and
        ``/file PATH``."""
        agent = self.sources.chat_agent()
        command, blank, current = text.partition(" ")
        if not blank and command.startswith("/") and not command.startswith("//"):
            from aish.shell_chat import COMMANDS

            for usage, what in COMMANDS.items():
                name = usage.split()[0]
                if name.startswith(command):
                    yield Completion(name, -len(command), display=usage, display_meta=what[:60])
        elif agent is not None and command == "/model" and blank and " " not in current:
            yield from self._models(agent, current, len(current))
        elif command == "/file" and blank and " " not in current:
            yield from self._path(current, len(current), event, " ")

    def _path(self, current: str, typed: int, event: CompleteEvent, blank: str) -> Iterable[Completion]:
        """Files and directories; a directory with its ``/``, so Tab goes on into it (as bash's does).
        The whole word is replaced, blanks and the language's operators escaped (``sp\\ ace/``)."""
        for found in self._paths.get_completions(Document(current, len(current)), event):
            whole = current[: len(current) + found.start_position] + found.text
            if found.text and not found.text.endswith("/") and os.path.isdir(os.path.expanduser(whole)):
                whole += "/"
            end = "" if whole.endswith("/") else blank  # a directory: Tab goes on into it
            yield Completion(escaped(whole) + end, -typed, display=found.display)


def split_before_cursor(text: str) -> tuple[list[str], str | None]:
    """Words and operators before the word being typed, and that word (None inside a quote)."""
    tokens, current, _ = split_raw_before_cursor(text)
    return tokens, current


def split_raw_before_cursor(text: str) -> tuple[list[str], str | None, int]:
    """:func:`split_before_cursor`, and how many characters the word being typed takes as typed
    (``sp\\ ace`` is the word ``sp ace``, seven characters typed)."""
    tokens: list[str] = []
    word: list[str] = []
    i, n = 0, len(text)
    quote = ""
    start = 0
    while i < n:
        c = text[i]
        if not word and not quote:
            start = i
        if quote:
            if c == quote:
                quote = ""
            else:
                word.append(c)
            i += 1
        elif c in "\"'" and not word:
            quote = c
            i += 1
        elif c == "\\":  # outside quotes, a backslash makes the next character literal
            word.append(text[i + 1 : i + 2])
            i += 2
        elif c in " \t":
            if word:
                tokens.append("".join(word))
                word = []
            i += 1
        elif c == "\n" or c in "|&;<>()":
            if word:
                tokens.append("".join(word))
                word = []
            op = "\n" if c == "\n" else next(o for o in _OPS if text.startswith(o, i))
            tokens.append(op)
            i += len(op)
        else:
            word.append(c)
            i += 1
    if quote:
        return tokens, None, 0
    return tokens, "".join(word), (n - start if word else 0)


_SPECIAL = frozenset(" \t\\\"'|&;<>()#")


def escaped(word: str) -> str:
    """``word`` as it must be typed to be one word of the language: blanks, quotes, backslashes and
    operators after a backslash (a file named ``sp ace`` is ``sp\\ ace``)."""
    if _SPECIAL.isdisjoint(word):
        return word
    return "".join(f"\\{c}" if c in _SPECIAL else c for c in word)


class _Agents(Protocol):
    def is_agent(self, name: str) -> bool: ...


def glues_controls(text: str, app: _Agents) -> bool:
    """Does ``text`` (before the cursor) end with an agent's name where a command goes, and the one
    blank completing it added? Then a ``[`` typed next starts the agent's controls."""
    tokens, current, _ = split_raw_before_cursor(text)
    return (
        text.endswith(" ")
        and not text.endswith("  ")
        and current == ""
        and len(_current_stage(tokens)) == 1
        and app.is_agent(tokens[-1])
    )


def _current_stage(tokens: list[str]) -> list[str]:
    """The words of the stage the cursor is in (empty: the cursor is where a command goes)."""
    stage: list[str] = []
    for tok in reversed(tokens):
        if tok in _STAGE_START:
            break
        stage.append(tok)
    return list(reversed(stage))


__all__ = [
    "BUILTIN_STAGES",
    "AishCompleter",
    "Sources",
    "escaped",
    "glues_controls",
    "split_before_cursor",
    "split_raw_before_cursor",
]
