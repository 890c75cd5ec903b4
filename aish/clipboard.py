"""``copy [N]``: an answer to the clipboard, as aichat's ``.copy`` does.

The text is the one ``history answer [N]`` prints. It goes to the first
clipboard that can take it:

1. a clipboard program of the desktop aish runs in: ``wl-copy`` (Wayland),
   ``xclip`` or ``xsel`` (X11), ``pbcopy`` (macOS), ``clip.exe`` (WSL);
2. inside tmux, tmux's paste buffer (``tmux load-buffer -w -``, which also
   hands it to the outer terminal's clipboard when tmux may);
3. the terminal itself, through the OSC 52 sequence (what works over ssh:
   most terminals take it, some only once allowed in their settings).

Without any of them it is an error saying so.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from aish.errors import EXIT_OK, AishError
from aish.tty import isatty

if TYPE_CHECKING:
    from aish.app import App

OSC52_LIMIT = 1 << 20
"""The most characters sent through OSC 52 (terminals cap it: xterm at about 100 kB of base64 by
default, others at a few MiB); longer text needs a clipboard program."""

Which = Callable[[str], str | None]


def programs(environ: Mapping[str, str], which: Which = shutil.which) -> list[list[str]]:
    """The clipboard programs to try, best first, for the desktop ``environ`` describes."""
    found: list[list[str]] = []
    candidates: list[list[str]] = []
    if environ.get("WAYLAND_DISPLAY"):
        candidates.append(["wl-copy"])
    if environ.get("DISPLAY"):
        candidates += [["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]]
    if sys.platform == "darwin":
        candidates.append(["pbcopy"])
    if environ.get("WSL_DISTRO_NAME"):
        candidates.append(["clip.exe"])
    for argv in candidates:
        path = which(argv[0])
        if path:
            found.append([path, *argv[1:]])
    return found


def copy_text(
    text: str,
    terminal: TextIO,
    environ: Mapping[str, str] | None = None,
    which: Which = shutil.which,
) -> str:
    """Put ``text`` on a clipboard; how it went there (``xclip``, ``tmux``, ``the terminal (OSC 52)``).

    ``terminal``: where OSC 52 is written (the shell's output), used only when it is a terminal.
    """
    env = os.environ if environ is None else environ
    data = text.encode("utf-8", "surrogatepass")
    failures: list[str] = []
    for argv in programs(env, which):
        if _run(argv, data, failures):
            return os.path.basename(argv[0])
    tmux = which("tmux") if env.get("TMUX") else None
    if tmux and (_run([tmux, "load-buffer", "-w", "-"], data, failures) or _run([tmux, "load-buffer", "-"], data, [])):
        return "tmux"  # (-w, which also sets the outer terminal's clipboard, is tmux 3.2's)
    if isatty(terminal):
        if len(text) > OSC52_LIMIT:
            raise AishError(
                f"copy: {len(text):,} characters is more than a terminal's clipboard takes "
                "(install wl-copy, xclip or xsel, or use 'history answer > FILE')"
            )
        terminal.write(f"\x1b]52;c;{base64.b64encode(data).decode('ascii')}\x07")
        terminal.flush()
        return "the terminal (OSC 52)"
    tried = f" ({'; '.join(failures)})" if failures else ""
    raise AishError(
        "copy: no clipboard here: not on a terminal, and no clipboard program "
        f"(wl-copy, xclip, xsel, pbcopy) for this session{tried}"
    )


def _run(argv: list[str], data: bytes, failures: list[str]) -> bool:
    """Feed ``data`` to a clipboard program; False (its failure noted) when it did not take it."""
    name = os.path.basename(argv[0])
    try:  # no pipe but stdin: xclip and wl-copy leave a process behind that serves the clipboard
        done = subprocess.run(argv, input=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=5)
    except (OSError, subprocess.TimeoutExpired) as exc:
        failures.append(f"{name}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}")
        return False
    if done.returncode != 0:
        failures.append(f"{name} exited with status {done.returncode}")
        return False
    return True


def copy_command(app: App, args: Sequence[str], out: TextIO, current: str | None = None) -> int:
    """``copy [N | -N | last]``: the answer ``history answer`` prints, to the clipboard; one line says where
    (``current``: the run of the line being run, which ``-N`` does not count)."""
    import io

    from aish.history.commands import answered_run
    from aish.history.show import write_answer
    from aish.history.store import opened

    with opened(app) as backend:
        run = answered_run(backend, args, "copy", current=current)
    text = io.StringIO()
    write_answer(run, text)  # exactly, as into a pipe
    copy_and_say(text.getvalue(), f"run {run.number}'s answer", out)
    return EXIT_OK


def copy_and_say(text: str, what: str, out: TextIO) -> None:
    """Put ``text`` on a clipboard (:func:`copy_text`) and say on ``out`` what went, and how."""
    how = copy_text(text, out)
    n = len(text)
    out.write(f"copied {what} ({n:,} character{'s' if n != 1 else ''}) with {how}\n")


__all__ = ["OSC52_LIMIT", "copy_command", "copy_text", "programs"]
