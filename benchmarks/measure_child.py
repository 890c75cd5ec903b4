"""Run one command with stdout on a pipe and measure it; used by ``run.py``.

Why a separate, small process: on Linux a child's ``ru_maxrss`` includes the
memory image of the process that spawned it (``exec`` keeps the old image's
high-water mark), so a child spawned by the harness itself would show the
harness's ~30 MiB as a floor. Started as ``python -S -I measure_child.py``
this process is about 9 MiB, which is then the floor.

Reads a JSON request on stdin: ``{"cmd": [absolute path, args...], "env":
{...}, "timeout": seconds, "stderr": path}``; writes a JSON result on stdout:
seconds from just before the spawn to the first byte read from the pipe
(``first_byte``, null if none), to end of file (``eof``) and to the reaping of
the child (``exit``), plus ``out_bytes``, ``reads``, ``maxrss_kib``, ``cpu``
(user + system seconds), ``returncode`` and ``timed_out``. The child is killed
after ``timeout`` seconds.
"""

import contextlib
import json
import os
import signal
import sys
import time


def main() -> int:
    spec = json.loads(sys.stdin.read())
    cmd = spec["cmd"]
    out_r, out_w = os.pipe()
    devnull = os.open(os.devnull, os.O_RDONLY)
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
    first = None
    total = reads = 0
    while True:
        chunk = read(out_r, 65536)
        if not chunk:
            break
        if first is None:
            first = clock() - start
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


if __name__ == "__main__":
    sys.exit(main())
