"""Chat mode: every line goes to one agent as typed; ``/`` commands steer the chat.

The shell holds a :class:`Chat` while chat mode is on (``chat AGENT`` or the
agent's name alone) and hands it each line. A message runs as the one-stage
pipeline ``AGENT[OPTIONS] 'TEXT'`` through the shell's Runner, so it is
recorded, rendered, interrupted and remembered (the agent's conversation)
like any line typed at ``aish>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TextIO

from aish.errors import AishError, UsageError, closest
from aish.history.store import command_line
from aish.lang import Command, Controls, ControlsError, Pipeline, Word, parse_controls
from aish.runner import Runner

COMMANDS = {
    "/exit": "leave the chat (also: exit, quit, Ctrl-D)",
    "/new": "start a fresh conversation with the agent",
    "/model NAME": "ask this model from now on (as -m)",
    "/system TEXT": "use this system prompt from now on (as -s; /system alone drops it)",
    "/option KEY VALUE": "send this request option from now on (as -o)",
    "/options": "the options of this chat",
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

    @property
    def prompt(self) -> str:
        return f"{self.agent}> "

    def banner(self) -> str:
        return (
            f"Chatting with {self.agent}: every line goes to it as typed (Alt-Enter for a new line, "
            f"a pasted block is one message). /new starts over; Ctrl-D or /exit {self._leave()}.\n"
        )

    def _leave(self) -> str:
        return "leaves aish" if self.leaves_aish else "returns to aish>"

    def handle(self, text: str) -> bool:
        """Send ``text`` or run its ``/`` command; False when the chat ends. Errors are reported here."""
        word = text.strip()
        head, _, rest = word.partition(" ")
        try:
            if word in EXIT:
                return False
            if word == "/new":
                self.new_conversation()
            elif head in ("/model", "/system", "/option", "/options"):
                self.set_option(head, rest.strip())
            elif word == "/help":
                width = max(len(k) for k in COMMANDS)
                self.out.write("".join(f"  {k.ljust(width)}  {v}\n" for k, v in COMMANDS.items()))
            elif word.startswith("//"):
                self.send(text.replace("//", "/", 1))
            else:
                _not_a_command(head, rest)
                self.send(text)
        except AishError as exc:
            self.runner.report(exc)
        return True

    def send(self, text: str) -> int:
        """One message, as typed, through the runner; returns its status."""
        controls = parsed(self.controls)
        pipeline = Pipeline((Command(self.agent, (Word(text, 0, True),), 0, controls),))
        head = f"{self.agent}[{command_line(list(controls.words))}]" if controls else self.agent
        return self.runner.run_line(f"{head} {command_line([text])}", pipeline)

    def set_option(self, command: str, value: str) -> None:
        """``/model``, ``/system``, ``/option`` change the options from the next message; ``/options`` shows them."""
        words = list(self.controls)
        if command == "/model":
            if not value:
                raise UsageError("/model needs a model name (/model NAME)")
            words += ["-m", value]
        elif command == "/system":
            words += ["-s", value]
        elif command == "/option":
            key, _, raw = value.partition(" ")
            if "=" in key and not raw.strip():
                words += ["-o", key]  # /option KEY=VALUE
            elif not key or not raw.strip():
                raise UsageError("/option needs a key and a value (/option KEY VALUE)")
            else:
                words += ["-o", key, raw.strip()]
        controls = parsed(words)
        self.controls = words
        shown = [f"model = {controls.model}"] if controls.model else []
        shown += [f"{key} = {value!r}" for key, value in controls.options if not (key == "system" and value == "")]
        self.out.write(("\n".join(shown) or "(no options: the agent's own)") + "\n")

    def new_conversation(self) -> None:
        if self.runner.conversations is not None:
            self.runner.conversations.reset(self.agent)
        self.out.write(f"(a fresh conversation with {self.agent})\n")


def parsed(words: list[str]) -> Controls:
    """Chat options as :class:`Controls`; a bad one is a UsageError."""
    try:
        return parse_controls(words)[0]
    except ControlsError as exc:
        raise UsageError(str(exc)) from None


__all__ = ["COMMANDS", "Chat", "parsed"]


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
