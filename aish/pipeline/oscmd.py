"""Stages that are OS commands: a process with streaming stdin and stdout.

``grep -i blue`` runs the program found on ``PATH`` with its arguments (no
shell); ``!cmd ...`` runs its text through ``/bin/sh -c``. Input is written to
the process as it arrives (an agent's answer token by token), and its output is
passed on as it is read: to the pipeline's output, to the next OS stage, or
collected as the next agent stage's input.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import threading
from collections.abc import Iterator
from typing import IO, TextIO

from aish.errors import UsageError
from aish.lang import Command, is_shell_escape
from aish.pipeline.raw import ByteWriter, Collected, decoding

Output = ByteWriter
"""Gets the process's output as it is read, in pieces of bytes, then ``b""`` at the end."""

SHELL = "/bin/sh"


def find_program(name: str) -> str | None:
    """The program ``name`` runs, when it is one on ``PATH`` (or a path to an executable)."""
    import shutil

    return shutil.which(name)


def argv_for(cmd: Command) -> tuple[str, list[str]]:
    """The program to run and the process's argv: ``!cmd`` through the shell (its text as typed),
    else the program found on ``PATH``, named in ``argv[0]`` as typed (as a shell does, so its
    messages say ``ls: ...``, not ``/usr/bin/ls: ...``)."""
    if is_shell_escape(cmd.name) or cmd.name == "!":
        words = [cmd.name[1:]] if cmd.name != "!" else []
        words += [w.value for w in cmd.args]  # the text after the name, as typed: one word
        line = " ".join(w for w in words if w)
        if not line.strip():
            raise UsageError("!: give a shell command")
        return SHELL, [SHELL, "-c", line]
    program = find_program(cmd.name)
    if program is None:
        raise UsageError(f"{cmd.name}: command not found")
    return program, [cmd.name, *(w.value for w in cmd.args)]


class OsProcess:
    """One running OS stage. Feed it with :meth:`feed`, end its input with :meth:`close_input`."""

    def __init__(
        self,
        cmd: Command,
        output: Output | int,
        *,
        takes_input: bool,
        source: int | IO[bytes] | None = None,
        terminal: bool = False,
        errors: TextIO | None = None,
        keyboard: bool = False,
    ) -> None:
        """``output``: a byte writer that gets the process's output as it is read, or a file
        descriptor the process writes to itself: the terminal (``terminal``: as under a shell,
        ``| less`` pages and ``| grep`` colours) or the pipe to the next program. ``source``: a
        descriptor (or file) the process reads as its input itself (``< FILE``, the pipe from the
        program before); else ``takes_input``: it is fed (:meth:`feed`). ``errors``: where the
        process's standard error goes, when it cannot be aish's own (a transcript's captured
        output); None: aish's standard error. ``keyboard``: a process without input reads aish's
        standard input (the terminal: ``!vim``, ``!python3``) instead of nothing."""
        import subprocess  # ~6 ms that a line without an OS stage does not pay

        self.name = cmd.name
        program, argv = argv_for(cmd)
        takes_input = takes_input and source is None
        stdin: int | IO[bytes] | None = source
        if source is None:
            stdin = subprocess.PIPE if takes_input else None if keyboard else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(
                argv,
                executable=program,
                stdin=stdin,
                stdout=output if isinstance(output, int) else subprocess.PIPE,
                stderr=None if errors is None else subprocess.PIPE,
                start_new_session=False,
            )
        except OSError as exc:
            raise UsageError(f"{cmd.name}: cannot run: {exc.strerror}") from None
        self.owns_terminal = terminal
        """The process writes to the terminal itself: Ctrl-C is its to handle while aish waits."""
        self._encoder = codecs.getincrementalencoder("utf-8")()
        self._input_open = takes_input
        self.stopped_reading = False
        """The process closed its input before the end of it (``head -c 20``): what feeds it may stop."""
        self.collected: Collected | None = None
        """Set by the pipeline when it keeps the output as the next stage's input."""
        self.failure: OSError | ValueError | None = None
        """Writing the process's output failed (a full disk, a closed pipe): :meth:`wait` raises it."""
        self._readers = [
            threading.Thread(target=self._read, args=(pipe, to), name=f"aish-os-{cmd.name}", daemon=True)
            for pipe, to in ((self.proc.stdout, output), (self.proc.stderr, errors and decoding(errors)))
            if pipe is not None and to is not None and not isinstance(to, int)
        ]
        for reader in self._readers:
            reader.start()

    def feed(self, text: str) -> bool:
        """Write ``text`` to the process (as UTF-8); False once it stopped reading (``head`` exited)."""
        return self.feed_bytes(self._encoder.encode(text))

    def feed_bytes(self, data: bytes) -> bool:
        """Write ``data`` to the process; False once it stopped reading (``head`` exited)."""
        stdin = self.proc.stdin
        if not self._input_open or stdin is None:
            return not self.stopped_reading
        try:
            stdin.write(data)
            stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            self._input_open = False
            self.stopped_reading = True
            return False
        return True

    def close_input(self) -> None:
        """End of input: the process sees EOF."""
        if self.proc.stdin is not None and self._input_open:
            self._input_open = False
            with contextlib.suppress(BrokenPipeError, OSError, ValueError):
                self.proc.stdin.close()

    def wait(self) -> int:
        """Wait for the process and for its output to be passed on; its exit status (128 + N when
        signal N ended it: 130 after Ctrl-C, which then stops a script as aish's own Ctrl-C does)."""
        self.close_input()
        with _ctrl_c_is_theirs(self.owns_terminal):
            status = self.proc.wait()
        for reader in self._readers:
            reader.join()
        if self.failure is not None:
            raise self.failure
        return 128 - status if status < 0 else status  # killed by signal N: 128 + N, as a shell says

    def kill(self) -> None:
        """Stop the process (Ctrl-C, or a failure elsewhere in the pipeline)."""
        import subprocess

        self.close_input()
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.terminate()
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for reader in self._readers:
            reader.join(2)

    def _read(self, stdout: IO[bytes] | None, output: Output) -> None:
        """Pass what the process writes to ``stdout`` (its output, or its standard error) to
        ``output``, as it is read, then ``b""``. When ``output`` fails, the pipe is closed: the
        process gets SIGPIPE at its next write, as under a shell."""
        assert stdout is not None
        fd = stdout.fileno()
        try:
            while True:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                try:
                    output(data)
                except (OSError, ValueError) as exc:
                    if self.failure is None:
                        self.failure = exc
                    break
                if not data:
                    break
        finally:
            stdout.close()


@contextlib.contextmanager
def _ctrl_c_is_theirs(owns_terminal: bool) -> Iterator[None]:
    """While a process that has the terminal runs, Ctrl-C is for it, as under a shell: ``less``
    takes it to stop a search, ``python3`` to abandon a line. aish ignores SIGINT meanwhile
    (the process, in the same process group, still gets it) and takes it back after."""
    import signal

    if not owns_terminal or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
