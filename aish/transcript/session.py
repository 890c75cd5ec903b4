"""Where transcripts run: a sandbox, and a shell whose output is captured.

Every transcript runs in a **sandbox**: a fresh reference agent server
(``RefServer(pace=0)``, deterministic and instant) that the demo agents use
through ``AISH_DEMO_URL``, an empty temporary working directory, fresh
``XDG_DATA_HOME``/``XDG_STATE_HOME``/``XDG_CONFIG_HOME`` (so no user
configuration, shell history or run history leaks in), no ``AISH_CONFIG``,
``AISH_PLUGINS`` or ``AISH_DISABLE_PLUGINS``, all undone afterwards. Only
aish's own plugins load, plus those the transcript's configuration names in
``[settings] plugins``: an installed third-party plugin cannot change a
transcript's output.

Commands run in the interactive shell (:class:`aish.shell.AishShell`, so shell
commands such as ``agents`` work too) with standard output and standard
error captured into one text, in the order they were written, the way a
terminal shows ``2>&1``. Output is not a terminal, so renderers write the
answer's exact text. One rule keeps lines apart: when standard error is
written while standard output is in the middle of a line (an answer without
a final newline, then ``aish: ...``), the error starts on a new line.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, redirect_stderr
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from aish.app import App

SANDBOX_VARIABLES = ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME")
PLUGIN_VARIABLES = ("AISH_PLUGINS", "AISH_DISABLE_PLUGINS", "AISH_CONFIG")
"""Unset in the sandbox: the transcript's own configuration says which plugins load."""
DEMO_URL_VARIABLE = "AISH_DEMO_URL"


class Merged:
    """Standard output and standard error of a session, merged in the order written."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._last = ""
        self._at_line_start = True

    def write(self, channel: str, text: str) -> None:
        if not text:
            return
        if channel == "err" and self._last == "out" and not self._at_line_start:
            self._parts.append("\n")
        self._parts.append(text)
        self._last, self._at_line_start = channel, text.endswith("\n")

    def take(self) -> str:
        """Everything written since the last call."""
        text = "".join(self._parts)
        self._parts.clear()
        self._last, self._at_line_start = "", True
        return text


class Channel(io.StringIO):
    """A text stream that writes into a :class:`Merged` capture (and, optionally, echoes elsewhere).

    It is never a terminal.
    """

    def __init__(self, merged: Merged, name: str, echo: TextIO | None = None) -> None:
        """Write into ``merged`` as channel ``name`` (``out`` or ``err``), and to ``echo`` if given."""
        super().__init__()
        self.merged, self.name, self.echo = merged, name, echo

    def write(self, text: str) -> int:
        self.merged.write(self.name, text)
        if self.echo is not None:
            self.echo.write(text)
        return len(text)

    def flush(self) -> None:
        if self.echo is not None:
            self.echo.flush()

    def isatty(self) -> bool:
        return False


def config_for(transcript: str | Path, default: str | None = None) -> str | None:
    """The configuration a transcript runs with: ``FILE.toml`` beside it, else ``default``, else none."""
    sidecar = Path(transcript).with_suffix(".toml")
    if sidecar.is_file():
        return str(sidecar.resolve())
    return str(Path(default).resolve()) if default else None


@dataclass(frozen=True)
class Sandbox:
    """Where a transcript runs: its working directory and the reference server's base URL."""

    root: Path
    work: Path
    url: str

    def variables(self) -> list[tuple[str, str]]:
        """Text that differs from one sandbox to the next, and how a transcript matches it (``/regex/``)."""
        address = urlsplit(self.url).netloc
        host = address.rsplit(":", 1)[0]
        return [(address, f"{host}:/\\d+/"), (str(self.root), "/\\S+/")]


@contextmanager
def sandbox() -> Iterator[Sandbox]:
    """Run the body in a sandbox (see the module docstring)."""
    from aish_refserver import RefServer

    saved_env = {name: os.environ.get(name) for name in (*SANDBOX_VARIABLES, DEMO_URL_VARIABLE, *PLUGIN_VARIABLES)}
    saved_cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="aish-transcript-") as tmp, RefServer(pace=0.0) as server:
        root = Path(tmp).resolve()
        try:
            for name in SANDBOX_VARIABLES:
                (root / name.lower()).mkdir()
                os.environ[name] = str(root / name.lower())
            os.environ[DEMO_URL_VARIABLE] = server.base_url
            for name in PLUGIN_VARIABLES:
                os.environ.pop(name, None)
            work = root / "work"
            work.mkdir()
            os.chdir(work)
            yield Sandbox(root, work, server.base_url)
        finally:
            os.chdir(saved_cwd)
            for name, value in saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@contextmanager
def noting_ctrl_c() -> Iterator[list[bool]]:
    """Note a Ctrl-C (SIGINT) during the body in the list given, ``[True]``, and raise it as usual.

    The shell takes the ``KeyboardInterrupt`` as the end of the current command (``aish:
    interrupted``) and goes on; the transcript's runner learns from the note that the user
    meant to stop the whole run. Outside the main thread, or where SIGINT is not handled by a
    Python function, nothing is noted."""
    seen = [False]
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield seen
        return
    handler: Callable[[int, FrameType | None], Any] = previous

    def noted(signum: int, frame: FrameType | None) -> None:
        seen[0] = True
        handler(signum, frame)

    signal.signal(signal.SIGINT, noted)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


def builtin_plugins() -> set[str] | None:
    """The names of aish's own plugins (its distribution's ``aish.plugins`` entry points); None if
    aish is not installed as a distribution (then nothing is filtered)."""
    import importlib.metadata

    from aish.plugins import ENTRY_POINT_GROUP

    try:
        dist = importlib.metadata.distribution("aish")
    except importlib.metadata.PackageNotFoundError:
        return None
    return {ep.name for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP}


class ShellSession:
    """The shell, with its output captured: :meth:`run` one command, get its output."""

    def __init__(
        self,
        config: str | None = None,
        *,
        renderer: str | None = None,
        debug: bool = False,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        """A shell on ``config`` (None: no configuration file), captured unless ``stdout`` is given."""
        from aish.app import build_app
        from aish.config import load_config
        from aish.history.store import make_recorder

        self.merged = Merged()
        self.out = Channel(self.merged, "out")
        self.err = Channel(self.merged, "err")
        loaded = load_config(config)
        builtin = builtin_plugins()
        if builtin is not None:  # installed third-party plugins cannot change a transcript's output
            loaded.settings.plugins = sorted(builtin | set(loaded.settings.plugins or ()))
        self.app: App = build_app(loaded)
        if renderer:
            self.app.registration("renderer", renderer)
        self.app.startup()
        with redirect_stderr(self.err) if stdout is None else nullcontext():
            from aish.shell import AishShell

            self.history = make_recorder(self.app, sys.stderr)

            self.shell: Any = AishShell(
                self.app,
                renderer=renderer,
                debug=debug,
                stdin=stdin if stdin is not None else io.StringIO(),
                stdout=stdout if stdout is not None else self.out,
                persistent_history_file="",
                history=self.history,
            )

    def run(self, command: str) -> tuple[str, bool]:
        """Run one command; return its output and whether it ended the session (``quit``).

        Ctrl-C raises ``KeyboardInterrupt`` once the command has ended: it stops the whole
        run (the shell alone would only end the command and go on to the next)."""
        with redirect_stderr(self.err), noting_ctrl_c() as ctrl_c:
            stop = bool(self.shell.onecmd_plus_hooks(command))
        if ctrl_c[0]:
            raise KeyboardInterrupt
        return self.merged.take(), stop

    def close(self) -> None:
        try:
            if self.history is not None:
                self.history.close()
        finally:
            self.app.shutdown()
