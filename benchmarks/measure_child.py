"""Run one command with stdout on a pipe and measure it; used by ``run.py``.

Why a separate, small process: on Linux a child's ``ru_maxrss`` includes the
memory image of the process that spawned it (``exec`` keeps the old image's
high-water mark), so a child spawned by the harness itself would show the
harness's ~30 MiB as a floor. Started as ``python -S -I measure_child.py``
this process is about 9 MiB, which is then the floor.

Reads a JSON request on stdin: ``{"cmd": [absolute path, args...], "env":
{...}, "timeout": seconds, "stderr": path}`` and optionally ``"stdin": path``
(the child's standard input; /dev/null otherwise); writes a JSON result on
stdout: seconds from just before the spawn to the first byte read from the
pipe (``first_byte``, null if none), to the last one (``last_byte``), to end
of file (``eof``) and to the reaping of the child (``exit``), plus
``out_bytes``, ``reads``, ``maxrss_kib``, ``cpu`` (user + system seconds),
``returncode`` and ``timed_out``. The child is killed after ``timeout``
seconds.

With ``"pty": "TEXT"`` the child runs on a pseudo-terminal instead (stdin,
stdout and stderr), as in a terminal emulator, which also answers cursor
position requests: ``first_byte`` is then the time until TEXT (say, the
shell's prompt, without its trailing space, which prompt_toolkit draws as a
cursor move) has appeared on the terminal; then a key (``x``) is typed, and
``key_shown`` is the time until the terminal shows it (the line editor is
live), after which the line is erased (Ctrl-U) and the child is sent Ctrl-D
(end of input) and reaped.
"""

import contextlib
import json
import os
import signal
import sys
import time


def main() -> int:
    spec = json.loads(sys.stdin.read())
    if spec.get("pty"):
        return on_pty(spec)
    cmd = spec["cmd"]
    out_r, out_w = os.pipe()
    devnull = os.open(spec.get("stdin") or os.devnull, os.O_RDONLY)
    err = os.open(spec["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    actions = [
        (os.POSIX_SPAWN_DUP2, devnull, 0),
        (os.POSIX_SPAWN_DUP2, out_w, 1),
        (os.POSIX_SPAWN_DUP2, err, 2),
    ]
    timed_out = False
    pid = 0

    def on_alarm(signum, frame):  # type: ignore[no-untyped-def]
        nonlocal timed_out
        timed_out = True
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)

    signal.signal(signal.SIGALRM, on_alarm)
    read = os.read
    clock = time.perf_counter
    start = clock()
    pid = os.posix_spawn(cmd[0], cmd, spec["env"], file_actions=actions)
    signal.setitimer(signal.ITIMER_REAL, float(spec["timeout"]))
    os.close(out_w)
    os.close(err)
    os.close(devnull)
    first = last = None
    total = reads = 0
    while True:
        chunk = read(out_r, 65536)
        if not chunk:
            break
        last = clock() - start
        if first is None:
            first = last
        total += len(chunk)
        reads += 1
    eof = clock() - start
    _, status, usage = os.wait4(pid, 0)
    ended = clock() - start
    signal.setitimer(signal.ITIMER_REAL, 0)
    os.close(out_r)
    json.dump(
        {
            "first_byte": first,
            "last_byte": last,
            "eof": eof,
            "exit": ended,
            "out_bytes": total,
            "reads": reads,
            "maxrss_kib": usage.ru_maxrss,
            "cpu": usage.ru_utime + usage.ru_stime,
            "returncode": os.waitstatus_to_exitcode(status),
            "timed_out": timed_out,
        },
        sys.stdout,
    )
    return 0


def on_pty(spec: dict) -> int:  # type: ignore[type-arg]
    """The child on a pseudo-terminal: time until ``spec["pty"]`` shows, then Ctrl-D."""
    import pty
    import select

    cmd, wanted = spec["cmd"], spec["pty"].strip().encode()  # a prompt's trailing space is a cursor move
    master, slave = pty.openpty()
    err = os.open(spec["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    env = {**spec["env"], "TERM": spec["env"].get("TERM") or "xterm-256color"}
    clock = time.perf_counter
    deadline = clock() + float(spec["timeout"])
    start = clock()
    pid = os.fork()
    if pid == 0:  # the child: a session of its own with the terminal as its controlling tty
        try:
            os.setsid()
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            os.execve(cmd[0], cmd, env)
        finally:
            os._exit(127)
    os.close(slave)
    os.close(err)
    seen, first, total, timed_out = b"", None, 0, False
    key_shown, after_key, sent_eof = None, b"", False
    while True:
        left = deadline - clock()
        if left <= 0:
            timed_out = True
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            break
        ready, _, _ = select.select([master], [], [], min(left, 0.5))
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        total += len(chunk)
        if b"\x1b[6n" in chunk:  # a cursor position request: answer as a terminal does
            os.write(master, b"\x1b[1;1R")
        if first is None:
            seen = (seen + chunk)[-4096:]
            if wanted in seen:
                first = clock() - start
                os.write(master, b"x")
                continue
        if first is not None and key_shown is None:
            after_key += chunk
            if b"x" in after_key:
                key_shown = clock() - start
        if key_shown is not None and not sent_eof:
            os.write(master, b"\x15\x04")
            sent_eof = True
    eof = clock() - start
    _, status, usage = os.wait4(pid, 0)
    ended = clock() - start
    os.close(master)
    json.dump(
        {
            "first_byte": first,
            "key_shown": key_shown,
            "last_byte": None,
            "eof": eof,
            "exit": ended,
            "out_bytes": total,
            "reads": 0,
            "maxrss_kib": usage.ru_maxrss,
            "cpu": usage.ru_utime + usage.ru_stime,
            "returncode": os.waitstatus_to_exitcode(status),
            "timed_out": timed_out,
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
