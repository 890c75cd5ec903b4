"""The shell's input history: every line typed, kept across restarts (Up, Ctrl-R).

Apart from aish's run history (:mod:`aish.history`, what ran and what it
answered), this is what a person typed: aish lines, shell commands, chat-mode
messages. A multi-line entry (a continued line, a pasted block) is one entry.

The file lives in the XDG state directory (``$XDG_STATE_HOME/aish/input_history``,
else ``~/.local/state/aish/input_history``), in prompt_toolkit's file format
(``+``-prefixed lines, entries separated by a ``# time`` line), mode 0600 in a
0700 directory. It keeps the newest :data:`MAX_ENTRIES` entries: when it holds
twice as many it is rewritten with the newest half. A line that starts with a
blank is not kept (as bash's ``ignorespace``), nor is a repeat of the entry
before it.

A chat's messages and aish lines are offered apart: Up, Ctrl-R and the grey
suggestion show a chat's messages in a chat and aish lines at ``aish>``. A
message recalled at ``aish>`` would run as a line (``who are you really`` runs
who(1), ``make it shorter`` make). A chat message's entry is marked in the file
by ``chat`` after its time (``# 2026-12-03T08:40:00 chat``).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from pathlib import Path

from prompt_toolkit.history import History

from aish.history.store import is_private
from aish.private_dirs import make_private_dirs

MAX_ENTRIES = 5000
"""Entries kept across restarts."""

FILE_NAME = "input_history"


def input_history_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the shell keeps what was typed (not created here)."""
    env = os.environ if environ is None else environ
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "aish" / FILE_NAME


class InputHistory(History):
    """A bounded, private, multi-line-aware history file for prompt_toolkit.

    Errors writing the file never interrupt the shell: the entry stays in this
    session's memory and :attr:`error` says what went wrong (shown once).
    """

    def __init__(
        self,
        path: Path,
        *,
        max_entries: int = MAX_ENTRIES,
        chatting: Callable[[], bool] = lambda: False,
        secrets: Callable[[], list[str]] = list,
    ) -> None:
        super().__init__()
        self.path = path
        self.max_entries = max_entries
        self.chatting = chatting
        """Whether the line being typed is a chat's message (else an aish line)."""
        self.secrets = secrets
        """The API keys agents use: a line that holds one is kept with ``***`` in its place, as the run
        history keeps it (:mod:`aish.scrub`)."""
        self.error: str | None = None
        self._count = 0
        self._last: dict[bool, str] = {}
        """The newest entry of aish lines (False) and of chat messages (True)."""
        self._chat: list[bool] = []
        """For each of ``_loaded_strings`` (newest first): whether it is a chat's message."""

    # prompt_toolkit's History API -------------------------------------------------
    def load_history_strings(self) -> Iterable[str]:
        entries = self._read()
        self._count = len(entries)
        self._last = {chat: text for text, chat in entries}
        self._chat = [chat for _text, chat in reversed(entries)]
        return [text for text, _chat in reversed(entries)]  # newest first

    async def load(self) -> AsyncGenerator[str, None]:
        """The entries of the kind being typed (chat messages, or aish lines), newest first."""
        if not self._loaded:
            self._loaded_strings = list(self.load_history_strings())
            self._loaded = True
        for text in self._mine():
            yield text

    def get_strings(self) -> list[str]:
        return self._mine()[::-1]

    def _mine(self) -> list[str]:
        chat = self.chatting()
        return [text for text, kind in zip(self._loaded_strings, self._chat, strict=False) if kind == chat]

    def append_string(self, string: str) -> None:
        chat = self.chatting()
        string = self._scrubbed(string)
        if not string.strip() or is_private(string) or string == self._last.get(chat):
            return
        self._chat.insert(0, chat)
        super().append_string(string)

    def rescrub(self) -> None:
        """After a line ran: the newest entry again, with the secrets known now. A line can bring its
        own (``agents add NAME http://user:password@host/v1``): it goes as ``***`` in memory and in
        the file."""
        if not self._loaded_strings:
            return
        newest = self._loaded_strings[0]
        scrubbed = self._scrubbed(newest)
        if scrubbed == newest:
            return
        chat = self._chat[0] if self._chat else False
        self._loaded_strings[0] = scrubbed
        if self._last.get(chat) == newest:
            self._last[chat] = scrubbed
        self._replace_in_file((newest, chat), (scrubbed, chat))

    def _scrubbed(self, string: str) -> str:
        """``string`` with every secret an agent uses as ``***``."""
        secrets = [secret for secret in self.secrets() if secret]
        if not secrets:
            return string
        from aish.scrub import scrubber

        return scrubber(secrets)(string)

    def store_string(self, string: str) -> None:
        chat = self._chat[0] if self._chat else False
        self._last[chat] = string
        try:
            self._ensure_private()
            with open(self.path, "ab") as f:
                f.write(_entry(string, chat))
            self._count += 1
            if self._count >= 2 * self.max_entries:
                self._compact()
        except OSError as exc:
            self.error = f"cannot save input history to {self.path}: {exc.strerror or exc}"

    def forget(self, text: str) -> bool:
        """Drop the newest entry of the kind being typed when it holds ``text`` (a secret typed on
        the line that runs): from this session's Up and Ctrl-R, and from the file."""
        chat = self.chatting()
        mine = [i for i, kind in enumerate(self._chat[: len(self._loaded_strings)]) if kind == chat]
        if not text or not mine or text not in self._loaded_strings[mine[0]]:
            return False
        entry = self._loaded_strings.pop(mine[0])
        del self._chat[mine[0]]
        self._last[chat] = self._loaded_strings[mine[1] - 1] if len(mine) > 1 else ""
        self._replace_in_file((entry, chat), None)
        return True

    def _replace_in_file(self, entry: tuple[str, bool], by: tuple[str, bool] | None) -> None:
        """The newest ``entry`` of the file replaced ``by`` another (None: dropped), atomically."""
        try:
            entries = self._read()
            at = max((i for i, held in enumerate(entries) if held == entry), default=None)
            if at is not None:
                self._rewrite([*entries[:at], *([by] if by is not None else []), *entries[at + 1 :]])
        except OSError as exc:
            self.error = f"cannot save input history to {self.path}: {exc.strerror or exc}"

    # ------------------------------------------------------------------ helpers
    def _read(self) -> list[tuple[str, bool]]:
        """The entries, oldest first, each with whether it is a chat's message."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            self.error = f"cannot read input history {self.path}: {exc.strerror or exc}"
            return []
        entries: list[tuple[str, bool]] = []
        lines: list[str] = []
        chat = False
        for raw in data.decode("utf-8", errors="replace").split("\n"):
            if raw.startswith("+"):
                lines.append(raw[1:])
                continue
            if lines:
                entries.append(("\n".join(lines), chat))
                lines = []
            if raw.startswith("#"):
                chat = raw.rstrip().endswith(CHAT_MARK)
        if lines:
            entries.append(("\n".join(lines), chat))
        return entries[-self.max_entries :] if len(entries) > 2 * self.max_entries else entries

    def _ensure_private(self) -> None:
        directory = self.path.parent
        if not directory.is_dir():
            make_private_dirs(directory)  # missing parents 0700 too
        if not self.path.exists():
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.close(fd)
            os.chmod(self.path, 0o600)

    def _compact(self) -> None:
        """Rewrite the file with the newest :attr:`max_entries` entries (atomically)."""
        self._rewrite(self._read()[-self.max_entries :])

    def _rewrite(self, keep: list[tuple[str, bool]]) -> None:
        """Replace the file by ``keep`` (0600, through a temporary file and a rename)."""
        from aish.kit.history import write_atomically

        write_atomically(self.path, b"".join(_entry(text, chat) for text, chat in keep).decode("utf-8"))
        self._count = len(keep)


CHAT_MARK = " chat"
"""After the time of an entry that is a chat's message."""


def _entry(string: str, chat: bool = False) -> bytes:
    stamp = datetime.datetime.now().isoformat(timespec="seconds") + (CHAT_MARK if chat else "")
    body = "".join(f"+{line}\n" for line in string.split("\n"))
    return f"\n# {stamp}\n{body}".encode("utf-8", errors="replace")


__all__ = ["MAX_ENTRIES", "InputHistory", "input_history_path"]
