"""Seeing what a terminal shows: a tiny screen model for captured output, and tmux.

:func:`screen` replays the few control sequences aish's own renderers write
(newline, carriage return, cursor up, erase line / to the end of the screen,
colours) and returns the lines a terminal would show. :class:`Tmux` runs a
command in a real terminal emulator (a tmux session on a private server) and
reads its screen, for what only a real terminal decides: whether a prompt
erases a line, what a live region looks like mid-stream. :func:`dialogue` types
lines into a shell spawned with pexpect and waits for what each must show.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    import pexpect

_TOKENS = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\n|\r|[^\x1b\n\r]+")


class TerminalText(io.StringIO):
    """Captured output that says it is a terminal (``isatty()``), for a renderer fed by hand."""

    def isatty(self) -> bool:
        return True


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``check`` until it holds or ``timeout`` seconds pass (what a thread draws comes later)."""
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.005)
    return check()


def thread_running(name: str) -> bool:
    """Whether a thread called ``name`` is alive."""
    return any(thread.name == name for thread in threading.enumerate())


def screen(data: str) -> list[str]:
    """What a terminal shows after ``data``: lines without styles or trailing blanks."""
    lines, row, col = [""], 0, 0
    for token in _TOKENS.findall(data):
        if token == "\n":
            row, col = row + 1, 0
            if row == len(lines):
                lines.append("")
        elif token == "\r":
            col = 0
        elif token.startswith("\x1b["):
            final, arg = token[-1], token[2:-1]
            if final == "A":
                row = max(0, row - int(arg or 1))
            elif final == "J" and arg in ("", "0"):
                lines[row] = lines[row][:col]
                del lines[row + 1 :]
            elif final == "K":
                lines[row] = "" if arg == "2" else lines[row][:col] if arg in ("", "0") else lines[row]
        else:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + len(token) :]
            col += len(token)
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


class Tmux:
    """One command in a tmux session of its own (``width`` x ``height``), on a private tmux server."""

    def __init__(
        self, argv: list[str], env: Mapping[str, str], *, width: int = 100, height: int = 30, linger: float = 30
    ) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            missing_tool("tmux")
        self.tmux = tmux
        self.socket = f"aish-test-{uuid.uuid4().hex[:10]}"
        assignments = [f"{k}={v}" for k, v in env.items()]
        # The command's screen stays readable after it exits (``sleep``), so a test can look at the end.
        # COLUMNS and LINES of the terminal the tests run in (tmux passes them on) would contradict the pane's size
        command = f"env -u COLUMNS -u LINES {shlex.join(assignments)} {shlex.join(argv)}; sleep {linger}"
        self._tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), command)
        self.socket_path = self._tmux("display-message", "-p", "#{socket_path}").strip()

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            [self.tmux, "-L", self.socket, "-f", os.devnull, *args], capture_output=True, text=True, timeout=10
        )
        if done.returncode != 0:
            raise AssertionError(f"tmux {args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def lines(self, *, styles: bool = False, joined: bool = False) -> list[str]:
        """The screen's lines (``styles``: with their colour sequences), trailing blank lines dropped;
        ``joined``: a line the terminal wrapped as one line (longer than the width)."""
        options = [*(["-e"] if styles else []), *(["-J"] if joined else [])]
        text = self._tmux("capture-pane", "-p", "-t", "t", *options)
        lines = [line.rstrip() for line in text.splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def wait_for(self, pattern: str, timeout: float = 15, *, styles: bool = False) -> list[str]:
        """Poll the screen until a line matches ``pattern`` (a regex); the lines at that moment."""
        compiled = re.compile(pattern)
        return self.wait_until(lambda lines: any(compiled.search(line) for line in lines), pattern, timeout, styles)

    def wait_until(
        self, check: Callable[[list[str]], bool], what: str, timeout: float = 15, styles: bool = False
    ) -> list[str]:
        """Poll the screen until ``check(lines)`` is true; the lines at that moment."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines(styles=styles)
            if check(lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} never happened; the screen:\n" + "\n".join(lines))
            time.sleep(0.05)

    def send_text(self, text: str) -> None:
        """``text`` typed, without Enter."""
        self._tmux("send-keys", "-t", "t", "-l", text)

    def send_line(self, text: str) -> None:
        self.send_text(text)
        self._tmux("send-keys", "-t", "t", "Enter")

    def send_keys(self, *keys: str) -> None:
        """Keys by tmux's names (``C-c``, ``Enter``)."""
        self._tmux("send-keys", "-t", "t", *keys)

    def resize(self, width: int, height: int) -> None:
        """The window's new size, as a terminal emulator's window resized (the program gets SIGWINCH)."""
        self._tmux("resize-window", "-t", "t", "-x", str(width), "-y", str(height))

    def paste(self, text: str) -> None:
        """``text`` as a terminal pastes it: line ends as Enter, bracketed when the program asked for it."""
        self._tmux("set-buffer", "-b", "pasted", "--", text)
        self._tmux("paste-buffer", "-p", "-d", "-b", "pasted", "-t", "t")

    def close(self) -> None:
        """Stop the session's tmux server and remove its socket file (tmux leaves it behind)."""
        subprocess.run([self.tmux, "-L", self.socket, "kill-server"], capture_output=True, timeout=10)
        if self.socket_path:
            Path(self.socket_path).unlink(missing_ok=True)

    def __enter__(self) -> Tmux:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def missing_tool(name: str) -> NoReturn:
    """Skip a test whose program is not installed, or fail when the suite promises it (scripts/test)."""
    message = f"{name} is not installed (scripts/test-tools installs it)"
    if os.environ.get("AISH_REQUIRE_TOOLS") == "1":
        pytest.fail(f"AISH_REQUIRE_TOOLS=1 but {message}", pytrace=False)
    pytest.skip(message)


def dialogue(child: pexpect.spawn, *exchanges: tuple[str | None, ...]) -> None:
    """Each line typed into ``child`` (None: nothing typed) and what it must then show, in order;
    then ``quit`` and the end of the process. ``child`` is closed whatever happens."""
    import pexpect

    try:
        for line, *shown in exchanges:
            if line is not None:
                child.sendline(line)
            for text in shown:
                child.expect_exact(text)
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
