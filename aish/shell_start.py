"""Starting the interactive shell: its opening lines, and its prompt drawn before cmd2 is loaded.

Importing cmd2, prompt_toolkit and rich is most of the shell's start (decision 43). This module
imports none of them: :func:`start_shell` writes the opening lines and the prompt first
(:class:`EarlyPrompt`), then imports :mod:`aish.shell`, whose line editor takes the terminal over
with whatever was typed meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from aish.layout import fitted
from aish.tty import isatty
from aish.typeahead import PASTE_OFF, PASTE_ON

if TYPE_CHECKING:
    from aish.app import App
    from aish.conversations import Conversations
    from aish.history.recorder import Recorder

PROMPT = "aish> "
CONTINUATION = "....> "


def start_shell(
    app: App,
    *,
    stdin: TextIO | None,
    out: TextIO,
    debug: bool = False,
    renderer: str | None = None,
    history: Recorder | None = None,
    record: bool = True,
    conversations: Conversations | None = None,
    chat: str | None = None,
    chat_controls: list[str] | None = None,
    started: Callable[[], None] = lambda: None,
) -> int:
    """:func:`aish.shell.run_shell`, its opening lines and prompt shown before it is imported."""
    text, prompt = opening(app, conversations, chat, chat_controls or [])
    text = fitted(text, out)  # a terminal: its lines break at words
    early = EarlyPrompt.show(text, prompt, stdin, out)
    try:
        from aish.shell import run_shell
    except BaseException as exc:
        if early is not None:
            early.abandon()
        if isinstance(exc, ImportError):  # a broken install: one line (--debug shows where)
            from aish.errors import AishError

            raise AishError(f"the interactive shell cannot start: {type(exc).__name__}: {exc}") from exc
        raise
    return run_shell(
        app,
        debug=debug,
        renderer=renderer,
        history=history,
        record=record,
        conversations=conversations,
        chat=chat,
        chat_controls=chat_controls,
        started=started,
        early=early,
        opening_lines=text,
    )


class EarlyPrompt:
    """The opening lines and the prompt, on the terminal before the line editor exists.

    What is typed meanwhile waits in the terminal, unechoed (canonical mode and echo are off, as
    the line editor will have them), and the line editor reads it as typed: nothing is lost, and
    it is shown once the editor has drawn the prompt again over this one; a pasted block stays one
    paste (bracketed paste is on, as the editor has it). Ctrl-C meanwhile drops
    what was typed and shows a new prompt, as at any prompt; a second Ctrl-C ends aish (start-up
    stuck somewhere can still be left). zsh's "instant prompt" does the same.
    """

    def __init__(self, fd: int, saved: list[Any], prompt: str, out: TextIO) -> None:
        self._fd = fd
        self.modes = saved
        """The terminal's modes as they were found (and are given back)."""
        self._prompt = prompt
        self._out = out
        self._interrupted = False
        self._previous: Any = signal.getsignal(signal.SIGINT)
        self.done = False

    @classmethod
    def show(cls, text: str, prompt: str, stdin: TextIO | None, out: TextIO) -> EarlyPrompt | None:
        """Write ``text`` and ``prompt`` on the terminal; None (nothing written) unless both
        ``stdin`` and ``out`` are a terminal that can take it."""
        if stdin is None or not (isatty(stdin) and isatty(out)) or os.environ.get("TERM", "dumb") in ("", "dumb"):
            return None
        import threading

        if threading.current_thread() is not threading.main_thread():  # signal handlers are the main thread's
            return None
        try:
            import termios
        except ImportError:  # not a POSIX system
            return None
        fd = stdin.fileno()
        try:
            saved = termios.tcgetattr(fd)
            quiet = [*saved[:6], list(saved[6])]
            quiet[3] &= ~(termios.ECHO | termios.ICANON)
            quiet[6][termios.VMIN], quiet[6][termios.VTIME] = 1, 0
            termios.tcsetattr(fd, termios.TCSANOW, quiet)
        except (termios.error, OSError, ValueError):
            return None
        early = cls(fd, saved, prompt, out)
        signal.signal(signal.SIGINT, early._on_ctrl_c)
        out.write(text + prompt + PASTE_ON)  # a block pasted meanwhile reaches the editor as one paste
        out.flush()
        return early

    def _on_ctrl_c(self, signum: int, frame: FrameType | None) -> None:
        if self._interrupted:
            if self._restore():
                self._out.write(PASTE_OFF + "^C\n")
                self._out.flush()
            raise KeyboardInterrupt
        self._interrupted = True
        import termios

        termios.tcflush(self._fd, termios.TCIFLUSH)  # what was typed goes, as Ctrl-C at a prompt drops the line
        self._out.write("^C\n" + self._prompt)
        self._out.flush()

    def take_over(self) -> None:
        """Give the terminal back as it was, the cursor where the line editor draws its prompt."""
        if self._restore():
            self._out.write("\r")  # the editor draws the same prompt over this one, then what was typed
            self._out.flush()

    def abandon(self) -> None:
        """Start-up failed: the terminal as it was, the cursor on a line of its own for the error."""
        if self._restore():
            self._out.write(PASTE_OFF + "\n")
            self._out.flush()

    def _restore(self) -> bool:
        if self.done:
            return False
        self.done = True
        import termios

        signal.signal(signal.SIGINT, self._previous)
        with contextlib.suppress(termios.error, OSError):  # not TCSAFLUSH: what was typed stays
            termios.tcsetattr(self._fd, termios.TCSANOW, self.modes)
        return True


def opening(
    app: App, conversations: Conversations | None, chat: str | None, controls: list[str] | None = None
) -> tuple[str, str]:
    """The shell's first lines and its first prompt: the banner, or a chat's (``aish AGENT``, with
    its per-call options ``controls``)."""
    if chat is not None:
        from aish.shell_chat import chat_banner, chat_model

        note = chat_continuing_note(conversations, chat) if conversations is not None else ""
        model = chat_model(app, chat, controls or [])
        return chat_banner(chat, leaves_aish=True, model=model) + note, f"{chat}> "
    note = continuing_note(conversations) if conversations is not None else ""
    return banner(app) + note, PROMPT


def banner(app: App) -> str:
    """The first lines of the shell: the agents (offline demos apart), how to start, and the plugins
    that failed to load (a one-shot run names them only when what they would have offered is asked for)."""
    return _agents_lines(app) + failed_note(app)


def failed_note(app: App) -> str:
    from aish.plugins import FAILED

    failed = sorted(name for name, info in app.host.plugins.items() if info.status == FAILED)
    return f"Plugins that failed to load: {', '.join(failed)} (see 'plugins').\n" if failed else ""


def _agents_lines(app: App) -> str:
    agents = app.agents()
    if not agents:
        return "aish, the AI shell. No agents yet: see help and docs/configuration.md.  (help, quit)\n"
    demos = [name for name in agents if app.is_demo(name)]
    real = [n for n in agents if n not in demos]
    parts = [f"Agents: {_some(real)}."] if real else []
    if demos:
        parts.append(f"Offline demo agents: {_some(demos)}.")
    first = app.example_agent()
    return f"aish, the AI shell. {' '.join(parts)}\nTry: {first} hello  |  {first} alone to chat  |  help  |  quit\n"


def continuing_note(conversations: Conversations) -> str:
    """What ``aish --continue`` or ``--cid ID`` continues, said under the banner."""
    resumed = conversations.active()
    if resumed:
        turns = ", ".join(
            f"{c.id} with {c.agent} ({len(c.turns)} turn{'s' if len(c.turns) != 1 else ''})" for c in resumed
        )
        return f"Continuing conversation {turns} ('new' starts afresh).\n"
    return "Continuing each agent's last conversation ('conversations' lists them; 'new' starts afresh).\n"


def chat_continuing_note(conversations: Conversations, agent: str) -> str:
    """``aish --continue AGENT`` opening a chat: the conversation it goes on with, or that there is none."""
    conversation = conversations.for_agent(agent)  # read from history now, as the first message would
    n = len(conversation.turns)
    if not n:
        return f"No recorded conversation with {agent} to continue: this one starts afresh.\n"
    turns = f"{n} turn{'s' if n != 1 else ''}"
    return f"Continuing conversation {conversation.id} with {agent} ({turns}; /new starts afresh).\n"


def _some(names: list[str], most: int = 8) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
