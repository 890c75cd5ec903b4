"""History: what recording costs a stream, and how fast search is over 100,000 runs.

Run from the repository root with the project's interpreter::

    .venv/bin/python benchmarks/history_bench.py [--runs 15] [--corpus 100000] [--only record,search]

(1) Recording overhead: ``aish -c 'bench go'`` answered with exactly 10,000
    tokens by the reference server (in a process of its own), stdout on a
    pipe: at pace 0, the worst case, where the whole stream arrives as fast
    as aish can read it (about 0.1 s), and at 2,000 tokens/s (5 s, still
    faster than any hosted model). History ``off``, ``sqlite`` and ``jsonl``
    are run interleaved, round by round; figures are medians of the wall time
    from spawn to exit, the child's CPU time, the same line run in-process
    (``Runner.run_source`` plus closing the recorder, which waits for the last
    write; no interpreter start-up), and the line as the shell runs it: one
    recorder (store open) for every round, ``run_source`` timed, the
    recorder's background writes left to finish while "the user reads" (a
    ``sync`` outside the timing). The overhead of a backend
    is the median over rounds of its difference to ``off`` in the same round
    (so background load, which comes and goes, hits both alike), as a
    fraction of ``off``'s median wall time. Target: at most 1% (issue 15).
(2) Search: each backend is filled through its public API with N runs (a
    line of 4 words and a 60-word answer from a 3,000-word vocabulary with a
    Zipf-like spread, written in two appends, as aish streams); the first
    search, which brings the backend's index up to date (recording leaves
    that to readers), is timed on its own; then each query is timed 7 times
    after a warm-up; figures are medians in ms.
    Target: at most 20 ms (issue 15).

Children run without PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE, as on a
user's machine (the warm-up round writes the bytecode caches); they and the
stores live in a temporary directory. The exit status is 0
whatever the targets say: it is a report.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins"))

from aish.app import build_app  # noqa: E402
from aish.config import load_config  # noqa: E402
from aish.contract_tests.processes import load_factory, record_run  # noqa: E402
from aish.contracts import HistoryBackend  # noqa: E402
from aish.history.store import make_recorder  # noqa: E402
from aish.runner import Runner  # noqa: E402

TOKENS = 10_000
MODES = ("off", "sqlite", "jsonl")
SESSION_ROUNDS = 30
"""Rounds of the shell's way measured with the same sessions, which are then made anew."""
AGAIN = "off again"
"""A second shell session with history off, measured like the others: its difference to ``off``
is the noise floor of the shell's way (an A/A comparison), shown beside recording's."""
BACKENDS = {"sqlite": "aish_history_sqlite:make_backend", "jsonl": "aish_history_jsonl:make_backend"}
TARGET_OVERHEAD = 0.01
TARGET_SEARCH_MS = 20.0
QUERIES = {
    "rare word (10 runs)": "zephyrine",
    "common word": "{common}",
    "two words": "{common} zephyrine",
    "phrase": '"{common} {second}"',
    "substring": "{infix}",
    "hostile a|b -x": "a|b -x",
    "no match": "qqxyzzyqq",
}


def config(tmp: Path, mode: str, url: str, pace: float) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / f"{mode}-{pace}.toml"
    path.write_text(
        f'[settings]\nhistory = "{mode}"\nplugin_agents = false\n\n'
        f'[agents.bench]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{url}"\nmodel = "athena"\n\n'
        f"[agents.bench.options]\naish_tokens = {TOKENS}\naish_pace = {pace}\n",
        encoding="utf-8",
    )
    return path


def env_for(tmp: Path, mode: str, url: str, pace: float) -> dict[str, str]:
    unlike_a_user = ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")  # as benchmarks/run.py: bytecode is cached
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISH_") and k not in unlike_a_user}
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        env[var] = str(tmp / mode / var.lower())
    env["AISH_CONFIG"] = str(config(tmp, mode, url, pace))
    return env


class BenchError(Exception):
    """A measured run failed: the figures of this part cannot be had."""


def spawn_once(env: dict[str, str], timeout: float = 120.0) -> tuple[float, float, int]:
    """Wall time from spawn to exit, CPU time (user + system) of the child, stdout bytes.

    The child is killed after ``timeout`` seconds (BenchError).
    """
    aish = Path(sys.executable).parent / "aish"
    start = time.perf_counter()
    proc = subprocess.Popen([str(aish), "-c", "bench go"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        size = 0
        while piece := os.read(proc.stdout.fileno(), 65536):
            size += len(piece)
        _pid, status, usage = os.wait4(proc.pid, 0)
    finally:
        watchdog.cancel()
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    if proc.returncode != 0:
        raise BenchError(f"aish -c failed with status {proc.returncode}" + (" (timed out)" if wall > timeout else ""))
    return wall, usage.ru_utime + usage.ru_stime, size


class ShellSession:
    """The interactive shell's way: one app and one recorder for every line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        with _environ(env):
            self.app = build_app(load_config())
            self.err = io.StringIO()
            self.recorder = make_recorder(self.app, self.err)

    def once(self) -> float:
        out = io.StringIO()
        with _environ(self.env):
            runner = Runner(self.app, out=out, err=self.err, history=self.recorder)
            start = time.perf_counter()
            status = runner.run_source("bench go")
            elapsed = time.perf_counter() - start
            if self.recorder is not None:
                self.recorder.sync()  # the user reads the answer meanwhile
        if status != 0 or self.err.getvalue():
            raise BenchError(f"shell-like run failed: {status} {self.err.getvalue()[:300]}")
        return elapsed

    def close(self) -> None:
        if self.recorder is not None:
            self.recorder.close()


@contextmanager
def _environ(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def in_process_once(env: dict[str, str]) -> float:
    """Seconds for one run of the line in this process, the recorder's last write included."""
    with _environ(env):
        app = build_app(load_config())
        out, err = io.StringIO(), io.StringIO()
        start = time.perf_counter()
        recorder = make_recorder(app, err)
        status = Runner(app, out=out, err=err, history=recorder).run_source("bench go")
        if recorder is not None:
            recorder.close()
        elapsed = time.perf_counter() - start
    if status != 0 or err.getvalue():
        raise BenchError(f"in-process run failed: {status} {err.getvalue()[:300]}")
    return elapsed


@contextmanager
def server_process(cmd: list[str] | None = None) -> Iterator[str]:
    """The reference server (or ``cmd``, a server that prints "... listening on URL") in a process of
    its own, so it takes no CPU from a measured process; yields its base URL."""
    cmd = cmd or [sys.executable, "-m", "aish_refserver", "--port", "0", "--pace", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().rsplit(" ", 1)[-1].strip()
    finally:
        proc.terminate()
        proc.wait(10)


def capture_reply(url: str) -> bytes:
    """The event stream the reference server at ``url`` sends for the benchmark's request (at pace 0)."""
    parts = urllib.parse.urlsplit(url)
    body = {
        "model": "athena",
        "messages": [{"role": "user", "content": "go"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "aish_tokens": TOKENS,
        "aish_pace": 0,
    }
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        conn.request("POST", parts.path + "/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        reply = response.read()
    finally:
        conn.close()
    if response.status != 200 or b"[DONE]" not in reply:
        raise BenchError(f"the reference server answered {response.status}, {len(reply)} bytes")
    return reply


@contextmanager
def reply_server(pace: float) -> Iterator[str]:
    """The server of the recording benchmark; yields its base URL.

    At pace 0, :mod:`canned_server` answering every request with one reply of
    the reference server, captured first: a run then takes as long as aish
    needs to read it (the worst case), and the reference server's own
    variation (35-43 ms to make the 10,000 events, quartiles measured with
    curl) stays out of a figure that looks for 1%. Paced, the reference server.
    """
    if pace > 0:
        with server_process() as url:
            yield url
        return
    with server_process() as url:
        reply = capture_reply(url)
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "reply.sse"
        path.write_bytes(reply)
        with server_process([sys.executable, str(Path(__file__).with_name("canned_server.py")), str(path)]) as url:
            yield url


@dataclass
class Recording:
    """Seconds per round and mode (``off``, ``sqlite``, ``jsonl``) of one recording benchmark."""

    pace: float
    runs: int
    walls: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in (*MODES, AGAIN)})
    """Spawn to exit of ``aish -c`` (and at pace 0, :data:`AGAIN`: a second ``off``, in a directory of its own)."""
    cpus: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in (*MODES, AGAIN)})
    """The child's user + system time."""
    inproc: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in MODES})
    """``run_source`` in this process with a new recorder (empty unless asked for)."""
    shell: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in (*MODES, AGAIN)})
    """``run_source`` with the shell's long-lived recorder (and :data:`AGAIN`, a second ``off``)."""
    sizes: set[int] = field(default_factory=set)

    def paired(self, column: str, mode: str) -> float:
        """The median over rounds of (mode - off): background load hits both runs of a round alike."""
        values: dict[str, list[float]] = getattr(self, column)
        return statistics.median(a - b for a, b in zip(values[mode], values["off"], strict=True))

    def overhead(self, column: str, mode: str) -> float:
        """``paired`` as a fraction of ``off``'s median."""
        values: dict[str, list[float]] = getattr(self, column)
        return self.paired(column, mode) / statistics.median(values["off"])

    def interval(self, column: str, mode: str) -> tuple[float, float]:
        """A 95% confidence interval of ``overhead`` (distribution-free: order statistics of the
        per-round differences around their median), to show what the rounds can resolve."""
        values: dict[str, list[float]] = getattr(self, column)
        diffs = sorted(a - b for a, b in zip(values[mode], values["off"], strict=True))
        n = len(diffs)
        half = 0.98 * n**0.5  # 1.96 * sqrt(n) / 2
        lo, hi = max(0, int(n / 2 - half)), min(n - 1, int(n / 2 + half))
        base = statistics.median(values["off"])
        return diffs[lo] / base, diffs[hi] / base


def measure_recording(
    runs: int,
    pace: float,
    *,
    in_process: bool = True,
    shell: bool = True,
    shell_runs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> Recording:
    """``aish -c`` spawned, then the shell's way and in-process (unless not asked for), modes interleaved;
    ``shell_runs`` rounds of those (``runs`` unless given: they are cheap, and look for a tenth of a ms)."""
    rec = Recording(pace, runs)
    shell_runs = shell_runs or runs
    with tempfile.TemporaryDirectory() as name, reply_server(pace) as url:
        tmp = Path(name)
        # each way of running has its own store: a shell session's open connection would change
        # what a one-shot process pays (SQLite's last close checkpoints; with the shell open it does not)
        envs = {mode: env_for(tmp / "spawn", mode, url, pace) for mode in MODES}
        if pace == 0:  # the noise floor of a figure that looks for 1%: history off twice, A/A
            envs[AGAIN] = env_for(tmp / "spawn-again", "off", url, pace)
        spawned = tuple(envs)
        inproc_envs = {mode: env_for(tmp / "in-proc", mode, url, pace) for mode in MODES}
        shell_envs = {mode: env_for(tmp / "shell", mode, url, pace) for mode in MODES}
        # processes first, on their own: nothing this process does (its writes, their writeback) in between
        for round_ in range(runs + 1):  # round 0 warms caches up and is discarded
            for mode in spawned if round_ % 2 else spawned[::-1]:
                wall, cpu, size = spawn_once(envs[mode])
                rec.sizes.add(size)
                if round_:
                    rec.walls[mode].append(wall)
                    rec.cpus[mode].append(cpu)
            if progress is not None:
                progress(f"aish -c: round {round_}/{runs}")
        if not shell and not in_process:
            return rec
        shell_envs[AGAIN] = env_for(tmp / "shell-again", "off", url, pace)
        ways = (*MODES, AGAIN)
        sessions: dict[str, ShellSession] = {}
        try:
            for round_ in range(shell_runs + 1):
                if shell and (round_ == 0 or (round_ > 1 and round_ % SESSION_ROUNDS == 1)):  # 0 is discarded
                    for session in sessions.values():
                        session.close()
                    # new sessions every SESSION_ROUNDS rounds, each first run discarded: where a session's objects
                    # lie in memory makes it faster or slower than another for as long as it lives (A/A +-0.5%)
                    sessions = {mode: ShellSession(shell_envs[mode]) for mode in ways}
                    for session in sessions.values():
                        session.once()  # opens the store
                for mode in ways if round_ % 2 else ways[::-1]:
                    elapsed = in_process_once(inproc_envs[mode]) if in_process and mode != AGAIN else 0.0
                    in_shell = sessions[mode].once() if shell else 0.0
                    if round_:
                        if in_process and mode != AGAIN:
                            rec.inproc[mode].append(elapsed)
                        if shell:
                            rec.shell[mode].append(in_shell)
                if progress is not None:
                    progress(f"the shell's way: round {round_}/{shell_runs}")
        finally:
            for session in sessions.values():
                session.close()
    return rec


def bench_recording(runs: int, pace: float) -> None:
    rec = measure_recording(runs, pace)
    rate = f"{1 / pace:,.0f} tokens/s" if pace else "pace 0"
    print(f"(1) recording overhead: {TOKENS:,}-token stream, {rate}, {runs} runs each, stdout {sorted(rec.sizes)} B")
    print("    wall = spawn to exit of `aish -c`, cpu = its user+system time, in-proc = run_source in this")
    print("    process with a new recorder, shell = run_source with the shell's long-lived recorder;")
    print("    medians, then the median of the per-round differences to `off` (rounds interleave the modes)")
    head = f"{'wall ms':>9} {'min':>7} {'cpu ms':>8} {'in-proc':>8} {'shell':>7}"
    head += f"  {'wall +ms':>9} {'cpu +ms':>8} {'in-proc +':>9} {'shell +':>8}"
    print(f"    {'history':<8} {head}")
    columns = ("walls", "cpus", "inproc", "shell")
    for mode in MODES:
        w, c, i, s = (statistics.median(getattr(rec, column)[mode]) * 1000 for column in columns)
        row = f"{w:>9.1f} {min(rec.walls[mode]) * 1000:>7.1f} {c:>8.1f} {i:>8.1f} {s:>7.1f}"
        if mode != "off":
            dw, dc, di, ds = (rec.paired(column, mode) * 1000 for column in columns)
            row += f"  {dw:>+9.1f} {dc:>+8.1f} {di:>+9.1f} {ds:>+8.1f}"
        print(f"    {mode:<8} {row}")
    for column, way in (
        ("walls", "aish -c, history off in a directory of its own"),
        ("shell", "the shell's way, history off in a second session"),
    ):
        if getattr(rec, column)[AGAIN]:
            lo, hi = rec.interval(column, AGAIN)
            print(
                f"    {AGAIN} ({way}: the noise floor) {rec.paired(column, AGAIN) * 1000:+.2f} ms "
                f"({rec.overhead(column, AGAIN):+.1%}, {lo:+.1%}..{hi:+.1%})"
            )
    target = f"target <= {TARGET_OVERHEAD:.0%}"
    for mode in MODES[1:]:
        for label, column in (("aish -c wall", "walls"), ("shell", "shell")):
            base = statistics.median(getattr(rec, column)["off"])
            over = rec.overhead(column, mode)
            verdict = "PASS" if over <= TARGET_OVERHEAD else "FAIL"
            print(f"    {mode}: {label} overhead {over:+.1%} of {base * 1000:.0f} ms: {verdict} ({target})")


def corpus(seed: int = 7) -> tuple[Callable[[int], tuple[str, str]], dict[str, str]]:
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "vo", "pe", "da", "zu", "fi", "go", "ha", "ju"]
    vocab = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(6000)})[:3000]
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    words = {"common": vocab[0], "second": vocab[1], "infix": vocab[0][1:-1] or vocab[0]}

    def make(i: int) -> tuple[str, str]:
        picked = rng.choices(vocab, weights, k=64)
        if i % 10_000 == 5_000:
            picked[10] = "zephyrine"
        if i % 5_000 == 17:
            picked[20:22] = ["a|b", "-x"]
        picked[30:32] = [words["common"], words["second"]] if i % 3 == 0 else picked[30:32]
        return "athena " + " ".join(picked[:4]), " ".join(picked[4:])

    return make, words


STORE_VERSION = 1
"""Part of a cached store's key: raise it when ``corpus`` or the way stores are filled changes.
The key also holds the backends' own format versions (SQLite schema, JSONL search cache)."""
REPEATS = 7
"""Timed searches per query (after one untimed)."""


@dataclass
class Store:
    """A history store filled with ``size`` runs of :func:`corpus` (see :func:`build_store`)."""

    backend: str
    size: int
    directory: Path
    filled: float
    """Seconds to record the runs."""
    indexed: float
    """Seconds of the first search, which indexes what recording left unindexed."""
    reused: bool = False

    @property
    def options(self) -> dict[str, Any]:
        return {"path": None, "data_dir": str(self.directory)}

    @property
    def path(self) -> Path:
        """The history file (what ``[settings] history_path`` names)."""
        return self.directory / ("history.sqlite3" if self.backend == "sqlite" else "history.jsonl")

    @property
    def disk_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.directory.iterdir() if p.is_file())

    def open(self) -> HistoryBackend:
        return load_factory(BACKENDS[self.backend])(self.options)


def build_store(backend_name: str, size: int, directory: Path) -> Store:
    """Fill a new store in ``directory`` through the backend's public API, then search it once."""
    make, _words = corpus()
    store = Store(backend_name, size, directory, 0.0, 0.0)
    backend = store.open()
    try:
        started = time.perf_counter()
        for i in range(size):
            line, answer = make(i)
            record_run(backend, line, [answer])
        store.filled = time.perf_counter() - started
        started = time.perf_counter()
        backend.search("qqxyzzyqq")  # the first search indexes what recording left unindexed
        store.indexed = time.perf_counter() - started
    finally:
        backend.close()
    return store


def store_key(backend_name: str, size: int) -> str:
    """The name of a cached store's directory: what it holds and the versions of its formats."""
    from aish_history_jsonl.cache import VERSION as JSONL_CACHE
    from aish_history_sqlite.schema import VERSION as SQLITE_SCHEMA

    formats = {"sqlite": f"schema{SQLITE_SCHEMA}", "jsonl": f"cache{JSONL_CACHE}"}
    return f"{backend_name}-{size}-v{STORE_VERSION}-{formats[backend_name]}"


def cached_store(root: Path, backend_name: str, size: int) -> Store:
    """The store of ``size`` runs under ``root``, built (and kept there) when missing.

    A store is built in a directory of its own and renamed into place with a
    note of how long building took, so a build that was interrupted is
    started again, never used.
    """
    final = root / store_key(backend_name, size)
    note = final / "built.json"
    if note.is_file():
        built = json.loads(note.read_text(encoding="utf-8"))
        return Store(backend_name, size, final, built["filled"], built["indexed"], reused=True)
    building = root / (final.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    shutil.rmtree(final, ignore_errors=True)
    building.mkdir(parents=True)
    store = build_store(backend_name, size, building)
    (building / "built.json").write_text(json.dumps({"filled": store.filled, "indexed": store.indexed}))
    building.rename(final)
    store.directory = final
    return store


def queries() -> dict[str, str]:
    """The searches timed: label -> text as typed."""
    _make, words = corpus()
    return {label: q.format(**words) for label, q in QUERIES.items()}


def time_queries(
    backend: HistoryBackend, texts: dict[str, str], repeats: int = REPEATS
) -> dict[str, tuple[float, int]]:
    """label -> (median seconds of ``repeats`` searches after an untimed one, hits)."""
    results = {}
    for label, query in texts.items():
        backend.search(query)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            found = backend.search(query)
            times.append(time.perf_counter() - t)
        results[label] = (statistics.median(times), len(found))
    return results


def bench_search(size: int) -> None:
    texts = queries()
    results: dict[str, dict[str, tuple[float, int]]] = {}
    with tempfile.TemporaryDirectory() as name:
        for backend_name in BACKENDS:
            store = build_store(backend_name, size, Path(name) / backend_name)
            print(
                f"    {backend_name}: {size:,} runs written in {store.filled:.1f}s "
                f"({store.filled / size * 1e6:.0f} us/run), first search (indexing them) {store.indexed:.1f}s, "
                f"{store.disk_bytes / 1e6:.1f} MB on disk"
            )
            backend = store.open()
            try:
                results[backend_name] = time_queries(backend, texts)
            finally:
                backend.close()
    print(f"(2) search over {size:,} runs (median of {REPEATS}, ms; hits shown up to the limit of 20)")
    print(f"    {'query':<22} " + " ".join(f"{b + ' ms':>10} {'hits':>5}" for b in BACKENDS))
    for label in texts:
        cells = " ".join(f"{results[b][label][0] * 1000:>10.1f} {results[b][label][1]:>5}" for b in BACKENDS)
        print(f"    {label:<22} {cells}")
    for b in BACKENDS:
        worst = max(seconds for seconds, _hits in results[b].values()) * 1000
        verdict = "PASS" if worst <= TARGET_SEARCH_MS else "FAIL"
        print(f"    {b}: worst {worst:.1f} ms: {verdict} (target <= {TARGET_SEARCH_MS:.0f} ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=41, help="measured runs per mode in (1)")
    parser.add_argument("--corpus", type=int, default=100_000, help="runs in the store for (2)")
    parser.add_argument("--only", default="record,search", help="record, search or both")
    parser.add_argument(
        "--paces", default="0,0.0005", help="seconds between tokens for (1), comma-separated (0.0005: 2,000 tokens/s)"
    )
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"history benchmark: python {sys.version.split()[0]}, {os.cpu_count()} cpus, load {load:.2f}")
    if "record" in args.only:
        for pace in (float(p) for p in args.paces.split(",")):
            bench_recording(args.runs, pace)
    if "search" in args.only:
        print("(2) filling the stores ...")
        bench_search(args.corpus)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
