"""Chat mode: every line goes to one agent as typed; ``/`` commands steer the chat.

The shell holds a :class:`Chat` while chat mode is on (``chat AGENT`` or the
agent's name alone) and hands it each line. A message runs as the one-stage
pipeline ``AGENT[OPTIONS] 'TEXT'`` through the shell's Runner, so it is
recorded, rendered, interrupted and remembered (the agent's conversation)
like any line typed at ``aish>``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TextIO

from aish.app import App
from aish.contracts import Turn
from aish.conversations import Conversation
from aish.errors import AishError, UsageError, closest
from aish.history.store import command_line, is_private, text_line
from aish.lang import Command, Controls, ControlsError, Pipeline, Redirect, Word, lone_command, parse_controls
from aish.layout import fitted, two_columns
from aish.runner import Runner

COMMANDS = {
    "/exit": "leave the chat (also: exit, quit, Ctrl-D)",
    "/new": "start a fresh conversation with the agent",
    "/retry": "ask the last message again (with this chat's options now); the new answer replaces the old",
    "/model NAME": "ask this model from now on (as -m; /model alone: the agent's own again)",
    "/system TEXT": "use this system prompt from now on (as -s; /system alone drops it)",
    "/option KEY VALUE": "send this request option from now on (as -o; /option KEY alone drops it)",
    "/options": "the options of this chat",
    "/copy": "copy the last answer to the clipboard (with -x, its code)",
    "/file PATH [TEXT]": "send the file as the message's input, with TEXT (as AGENT TEXT < PATH)",
    "/help": "this list",
}
EXIT = frozenset({"/exit", "/quit", "/bye", "exit", "quit"})
_NAMES = sorted({*EXIT, *(usage.split()[0] for usage in COMMANDS)} - {"exit", "quit"})
"""The ``/`` commands a mistyped one is compared with."""


@dataclass
class Chat:
    """A chat with ``agent``; ``controls`` are its per-call options as words (the last for a key wins)."""

    agent: str
    runner: Runner
    out: TextIO
    controls: list[str] = field(default_factory=list)
    leaves_aish: bool = False
    """Started by ``aish AGENT``: leaving the chat leaves aish (else it returns to ``aish>``)."""
    last: str | None = None
    """The last message sent in this chat (what ``/retry`` asks again), None before any or after ``/new``."""
    last_file: str | None = None
    """The file the last message sent as its input (``/file``), which ``/retry`` reads again."""
    answer: Turn | None = None
    """The turn of the agent's conversation the last message became (None: it failed before any
    text arrived, or the agent keeps no conversation): the turn ``/retry`` replaces."""
    reply: str | None = None
    """The last answer's text in this chat, partial ones too (what ``/copy`` copies)."""

    @property
    def prompt(self) -> str:
        return f"{self.agent}> "

    def banner(self) -> str:
        model = chat_model(self.runner.app, self.agent, self.controls)
        return fitted(chat_banner(self.agent, self.leaves_aish, model), self.out)

    def handle(self, text: str) -> bool:
        """Send ``text`` or run its ``/`` command; False when the chat ends. Errors are reported here."""
        word = text.strip()
        head, _, rest = word.partition(" ")
        try:
            if word in EXIT:
                return False
            if word == "/new":
                self.new_conversation()
            elif head == "/retry":
                self.retry(rest.strip())
            elif head in ("/model", "/system", "/option", "/options"):
                self.set_option(head, rest.strip())
            elif head == "/copy":
                self.copy(rest.strip())
            elif head == "/file":
                path, text = _path_and_text(rest.strip())
                self.send(text, file=path)
            elif word == "/help":
                two_columns(COMMANDS, self.out)  # wrapped to the terminal, as ``help`` is
            elif word.startswith("//"):
                self.send(text.replace("//", "/", 1))
            else:
                _not_a_command(head, rest)
                self.send(text)
        except AishError as exc:
            self.runner.report(exc)
        return True

    def send(self, text: str, *, again: bool = False, file: str | None = None) -> int:
        """One message, as typed, through the runner; returns its status. ``again``: it is the last
        message asked again (``/retry``), and its answer, if any text arrives, replaces the last one's;
        ``file``: a file whose text is the message's input (``/file``), read as ``< FILE`` reads it."""
        controls = parsed(self.controls)
        words = (Word(text, 0, True),) if text else ()
        stdin = Redirect("<", file, 0) if file is not None else None
        pipeline = Pipeline((Command(self.agent, words, 0, controls),), stdin)
        head = f"{self.agent}[{command_line(list(controls.words))}]" if controls else self.agent
        line = f"{head} {text_line([text])}" if text else head
        line += f" < {command_line([file])}" if file is not None else ""
        conversation = self._conversation()
        before = conversation.turns[-1] if conversation is not None and conversation.turns else None
        if conversation is not None:
            conversation.retrying = again and self.answer is not None and before is self.answer
        earlier = self.runner.last_results
        try:
            # a message typed with a blank first is kept out of run history, as at aish> (decision 50)
            return self.runner.run_line(line, pipeline, record=not is_private(text))
        finally:
            results = self.runner.last_results
            if results is not earlier and results and results[-1].text:
                self.reply = results[-1].text
            after = conversation.turns[-1] if conversation is not None and conversation.turns else None
            if conversation is not None:
                conversation.retrying = False
            if after is not before:
                self.answer = after  # a new turn, or the last one replaced
            elif not again:
                self.answer = None  # failed before any text: no turn (a failed retry leaves the old one)
            self.last, self.last_file = text, file

    def retry(self, rest: str = "") -> int:
        """``/retry``: the last message again, with the turns before it and the chat's options now."""
        if rest:
            raise UsageError("/retry takes no words (it asks the last message again; '//retry' sends a text)")
        if self.last is None:  # a chat entered again, or one on a resumed conversation: its last turn
            conversation = self._conversation()
            if conversation is None or not conversation.turns:
                raise UsageError("/retry: nothing to retry yet")
            self.last, self.last_file, self.answer = conversation.turns[-1].prompt, None, conversation.turns[-1]
        return self.send(self.last, again=True, file=self.last_file)

    def copy(self, rest: str = "") -> None:
        """``/copy``: the last answer of this chat to the clipboard (its code alone with ``-x``)."""
        if rest:
            raise UsageError("/copy takes no words (it copies the last answer; '//copy' sends a text)")
        text = self.reply
        if text is None:  # a chat entered again, or one on a resumed conversation: its last turn
            conversation = self._conversation()
            text = conversation.turns[-1].answer if conversation is not None and conversation.turns else None
        if not text:
            raise UsageError("/copy: no answer yet in this chat")
        if parsed(self.controls).extract:
            from aish.pipeline.extract import code_of

            text = code_of(text)
        from aish.clipboard import copy_and_say

        copy_and_say(text, "the last answer", self.out)

    def _conversation(self) -> Conversation | None:
        conversations = self.runner.conversations
        return conversations.for_agent(self.agent) if conversations is not None else None

    def set_option(self, command: str, value: str) -> None:
        """``/model``, ``/system``, ``/option`` change the options from the next message; ``/options`` shows them."""
        words = list(self.controls)
        if command == "/model":
            words = _without(words, "model") if not value else [*words, "-m", value]
        elif command == "/system":
            words += ["-s", value]
        elif command == "/option":
            key, _, raw = value.partition(" ")
            if "=" in key and not raw.strip():
                words += ["-o", key]  # /option KEY=VALUE
            elif not key:
                raise UsageError("/option needs a key and a value (/option KEY VALUE; /option KEY alone drops it)")
            elif not raw.strip():
                if not any(k == key for k, _ in _groups(words)):
                    raise UsageError(f"/option {key}: no such option in this chat (/options lists them)")
                words = _without(words, key)
            else:
                words += ["-o", key, raw.strip()]
        controls = parsed(words)
        self.controls = canonical(words)
        shown = [f"model = {controls.model}"] if controls.model else []
        shown += [f"{key} = {value!r}" for key, value in controls.options if not (key == "system" and value == "")]
        shown += ["extract = on (-x: the answer's first code block alone)"] if controls.extract else []
        self.out.write(("\n".join(shown) or "(no options: the agent's own)") + "\n")

    def new_conversation(self) -> None:
        if self.runner.conversations is not None:
            self.runner.conversations.reset(self.agent)
        self.last = self.answer = self.last_file = None
        self.out.write(f"(a fresh conversation with {self.agent})\n")


def _path_and_text(rest: str) -> tuple[str, str]:
    """``/file PATH [TEXT]``: the path, its first word as a shell reads it (``'my notes.md'``,
    ``my\\ notes.md``, ``~/notes.md``), and the text after it, as typed."""
    import io
    import os
    import shlex

    if not rest:
        raise UsageError("/file needs a file: /file PATH [TEXT] (the file's text goes with TEXT)")
    stream = io.StringIO(rest)
    lexer = shlex.shlex(stream, posix=True)
    lexer.whitespace_split, lexer.commenters = True, ""
    try:
        path = lexer.get_token() or ""
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"/file: {rest.split()[0]}: {exc}") from None
    return os.path.expanduser(path), rest[stream.tell() :].strip()


def canonical(words: list[str]) -> list[str]:
    """``words`` (valid controls) with one setting per key, the last given, in the order last set:
    a chat's recorded line says what was sent (``-m b``), not every change made (``-m a -m b``)."""
    last: dict[str, list[str]] = {}
    for key, group in _groups(words):
        last.pop(key, None)
        last[key] = group
    return [word for group in last.values() for word in group]


def _without(words: list[str], key: str) -> list[str]:
    return [word for k, group in _groups(words) if k != key for word in group]


def _groups(words: list[str]) -> list[tuple[str, list[str]]]:
    """Valid controls split into ``(key, words)``: ``-m X`` is ``model``, ``-s X`` ``system``,
    ``-o K V`` and ``-o K=V`` are ``K`` (``-o model X`` is ``model`` too)."""
    groups: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(words):
        flag = words[i]
        if flag in ("-m", "--model", "-s", "--system"):
            groups.append(("model" if flag in ("-m", "--model") else "system", words[i : i + 2]))
            i += 2
        elif flag in ("-x", "--extract"):
            groups.append(("extract", words[i : i + 1]))
            i += 1
        else:  # -o / --option
            name, equals, _ = words[i + 1].partition("=")
            size = 2 if equals else 3
            groups.append((name if equals else words[i + 1], words[i : i + size]))
            i += size
    return groups


def parsed(words: list[str]) -> Controls:
    """Chat options as :class:`Controls`; a bad one is a UsageError."""
    try:
        controls = parse_controls(words)[0]
    except ControlsError as exc:
        raise UsageError(str(exc)) from None
    if controls.execute:  # a chat's lines are messages: no next line to put a command on
        raise UsageError("-e is for one line (AGENT[-e] TEXT), not a chat")
    return controls


__all__ = ["COMMANDS", "Chat", "canonical", "parsed"]


def _not_a_command(head: str, rest: str) -> None:
    """Refuse a mistyped ``/`` command rather than send it (to a paid API, it costs a request): a
    ``/word`` alone, or one close to a command. Other text starting with ``/`` (``/usr is ...``) is sent."""
    if not head.startswith("/") or "/" in head[1:] or not head[1:].isalpha():
        return
    close = closest(head, _NAMES, 0.7)
    if close or not rest.strip():
        guess = f", did you mean {close!r}?" if close else ""
        hint = "/help lists them; '//' sends a text that starts with '/'"
        raise UsageError(f"unknown chat command {head!r}{guess} ({hint})")


def chat_model(app: App, agent: str, controls: list[str]) -> str | None:
    """The model a chat asks, as its banner names it: ``-m``'s, else the agent's own as configured
    (no server started for it); None when it is unknown or only repeats the agent's name (the demos')."""
    configured = app.agents().get(agent)
    model = parsed(controls).model or (configured.model if configured is not None else None)
    return model if model and model != agent else None


def chat_banner(agent: str, leaves_aish: bool, model: str | None = None) -> str:
    """The first lines of a chat with ``agent``; ``leaves_aish``: the chat is all of this aish;
    ``model``: the model it asks (named after the agent)."""
    leave = "leaves aish" if leaves_aish else "returns to aish>"
    who = f"{agent} (model {model})" if model else agent
    return (
        f"Chatting with {who}: every line goes to it as typed (Alt-Enter for a new line, "
        f"a pasted block is one message). /new starts over; Ctrl-D or /exit {leave}.\n"
    )


def chat_request(agents: Collection[str], line: str) -> tuple[str, list[str]] | None:
    """The agent to chat with, and its per-call options as words, when ``line`` is an agent's name
    alone (``athena``) or with options alone (``athena[-m MODEL]``); None for any other line."""
    name = line.strip()
    if name in agents:
        return name, []
    if not name.endswith("]") or name.partition("[")[0] not in agents:
        return None
    try:
        stage = lone_command(name)
    except AishError:
        return None  # the runner says what is wrong with it
    # ``athena[-e]``: a line, not a chat
    if stage is None or stage.args or not stage.controls or stage.controls.execute:
        return None
    return stage.name, list(stage.controls.words)
