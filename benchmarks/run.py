"""aish against curl (the floor), simonw's ``llm`` CLI and a minimal requests script.

Run from anywhere with the project's interpreter::

    .venv/bin/python benchmarks/run.py [--runs 15] [--only a,b,c] [--skip-llm]

Every figure is measured in the same run, tools interleaved run by run, each
child process bounded by a timeout, and the servers are stopped at the end.

(s) start-up: ``aish --version`` and ``aish --help`` beside a bare interpreter
(a) launch to first answer byte on a pipe, 64-token answer, reference server (pace 0),
    and last byte to exit with history on
(r) launch to the interactive shell's prompt on a pseudo-terminal
(b) end to end, 1,500-token answer from llama.cpp (stories260K, temperature 0)
(c) 50,000 tiny chunks from the reference server (pace 0): events/s and peak RSS
(m) peak memory with a large piped input
(h) history: recording's cost on a 10,000-token run (history off as the baseline), search over
    100,000 runs (in-process, and ``aish history search`` beside ``aish --version``), and a
    search's peak memory over 10,000 vs 100,000 runs (stores kept in benchmarks/.work/history-stores)

``llm`` is installed by this script into ``benchmarks/.work/llm-venv`` when
missing. The exit status is 0 whatever the targets say (it is a report);
only a crash of the harness itself is an error. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import selectors
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aish.testing import free_port, http_answers, stop_process

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
LLM_VENV = WORK / "llm-venv"
MODEL = ROOT.parent / "shared" / "models" / "stories260K.gguf"
LLAMA_SERVER = ROOT / "build" / "llama-server" / "llama-server"
BASELINE = BENCH / "baseline_requests.py"
FLOOR = BENCH / "baseline_stdlib.py"
FLOOR_PLUGGY = "stdlib script + import pluggy"
BENCH_SERVER = BENCH / "refserver_bench.py"

A_TOKENS = 64
B_TOKENS = 1500
B_PROMPT = "Once upon a time"
C_EVENTS = 50_000

TARGET_S_MS = 20.0
TARGET_A_FLOOR_RATIO = 1.3
TARGET_A_LLM_FRACTION = 0.25
TARGET_A_EXIT_MS = 5.0
TARGET_R_MS = 350.0
TARGET_B_RATIO = 1.03
TARGET_C_EVENTS = 300_000
TARGET_C_RSS_MIB = 32.0
M_INPUT_MIB = 20
TARGET_M_RATIO = 3.0
H_SIZES = (10_000, 100_000)
H_STORES = WORK / "history-stores"
H_TARGET_RECORD = 0.01
H_PACE = 0.0001
"""Seconds between tokens of the paced recording run: 10,000 tokens/s, a 10,000-token answer in 1 s."""
H_RECORD_ROUNDS = 20
"""Rounds of recording at pace 0 per ``--runs`` (a round is 3 processes of about 65 ms: 1% of one is
0.65 ms; 90 rounds gave 95% intervals 2-4% wide, 300 about 1%: 40 s more)."""
H_SHELL_ROUNDS = 40
"""Rounds of the shell's way per ``--runs`` (in-process, 4 runs of about 12 ms each: 1% of one is 0.12 ms; at
10 x ``--runs`` the median of its A/A comparison moved by 1% from one run to the next)."""
H_TARGET_SEARCH_MS = 20.0
H_TARGET_RSS_GROWTH = 1.05


# --------------------------------------------------------------- measuring
MEASURE = BENCH / "measure_child.py"


@dataclass
class Sample:
    """One run of one child process, times in seconds from just before spawn."""

    first_byte: float | None
    last_byte: float | None
    eof: float
    exit: float
    out_bytes: int
    reads: int
    maxrss_kib: int
    cpu: float
    returncode: int
    timed_out: bool
    stderr: str
    key_shown: float | None = None
    """On a pseudo-terminal: a key typed once the prompt showed, shown by the line editor."""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and self.out_bytes > 0

    @property
    def exit_after_last_byte(self) -> float | None:
        """Last byte on stdout -> the child reaped (the process's own exit work)."""
        return None if self.last_byte is None else self.exit - self.last_byte


def measure(
    cmd: Sequence[str], env: dict[str, str], *, timeout: float, stdin: str | None = None, pty: str | None = None
) -> Sample:
    """Run ``cmd`` with stdout on a pipe: first byte, EOF and exit times, peak RSS, CPU time.

    The spawning and timing happen in ``measure_child.py``, a small process of
    its own (see there why), which kills the child after ``timeout`` seconds.
    """
    exe = shutil.which(cmd[0], path=env.get("PATH")) if os.sep not in cmd[0] else cmd[0]
    if exe is None:
        raise RuntimeError(f"{cmd[0]}: not found")
    with tempfile.NamedTemporaryFile(prefix="stderr-", dir=WORK) as err_file:
        spec = {"cmd": [exe, *cmd[1:]], "env": env, "timeout": timeout, "stderr": err_file.name}
        if stdin is not None:
            spec["stdin"] = stdin
        if pty is not None:
            spec["pty"] = pty
        done = subprocess.run(
            [sys.executable, "-S", "-I", str(MEASURE)],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            timeout=timeout + 30,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"measure_child.py failed: {done.stderr.strip()[-800:]}")
        stderr = Path(err_file.name).read_bytes()[-2000:].decode("utf-8", errors="replace")
    r = json.loads(done.stdout)
    return Sample(
        first_byte=r["first_byte"],
        last_byte=r["last_byte"],
        eof=r["eof"],
        exit=r["exit"],
        out_bytes=r["out_bytes"],
        reads=r["reads"],
        maxrss_kib=r["maxrss_kib"],
        cpu=r["cpu"],
        returncode=r["returncode"],
        timed_out=r["timed_out"],
        stderr=stderr,
        key_shown=r.get("key_shown"),
    )


@dataclass
class Tool:
    """One contender in one section: how to run it."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    stdin: str | None = None
    pty: str | None = None
    """Run on a pseudo-terminal until this text shows (see measure_child.py)."""
    quiet: bool = False
    """Printing nothing is a success (a search that finds nothing)."""
    failures: list[Sample] = field(default_factory=list)
    rounds: dict[int, Sample] = field(default_factory=dict)
    """The successful samples by round (for ratios paired round by round)."""

    @property
    def samples(self) -> list[Sample]:
        """The successful samples, in the order they were taken."""
        return list(self.rounds.values())

    def median(self, value: Callable[[Sample], float | None]) -> float | None:
        values = [v for v in (value(s) for s in self.samples) if v is not None]
        return statistics.median(values) if values else None

    def spread(self, value: Callable[[Sample], float | None]) -> tuple[float, float] | None:
        values = [v for v in (value(s) for s in self.samples) if v is not None]
        return (min(values), max(values)) if values else None

    def error(self) -> str:
        if not self.failures:
            return ""
        s = self.failures[-1]
        why = "timed out" if s.timed_out else f"exit {s.returncode}" if s.returncode else "no output"
        tail = s.stderr.strip().splitlines()[-1:] or [""]
        return f"{len(self.failures)} failed run(s), last: {why} {tail[0][:160]}".rstrip()


def run_rounds(tools: list[Tool], runs: int, warmup: int, timeout: float, label: str) -> None:
    """Warm up, then run every tool ``runs`` times, interleaved (one of each per round)."""
    for _ in range(warmup):
        for tool in tools:
            measure(tool.cmd, tool.env, timeout=timeout, stdin=tool.stdin, pty=tool.pty)
    for i in range(runs):
        for tool in tools:
            sample = measure(tool.cmd, tool.env, timeout=timeout, stdin=tool.stdin, pty=tool.pty)
            ok = sample.ok or (tool.quiet and sample.returncode == 0 and not sample.timed_out)
            if ok:
                tool.rounds[i] = sample
            else:
                tool.failures.append(sample)
        print(f"\r  {label}: round {i + 1}/{runs}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


# ----------------------------------------------------------------- servers
@contextlib.contextmanager
def reference_server(default_tokens: int) -> Iterator[str]:
    """The reference server (pace 0) in a child process; yields its base URL."""
    cmd = [sys.executable, str(BENCH_SERVER), "--port", "0", "--pace", "0", "--default-tokens", str(default_tokens)]
    WORK.mkdir(parents=True, exist_ok=True)
    log_path = WORK / "refserver.log"  # a file, not a pipe: a chatty server must never block
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(30):
                raise RuntimeError("reference server did not start within 30 s")
        line = proc.stdout.readline().decode().strip()
        if "listening on " not in line:
            tail = log_path.read_text(errors="replace")[-800:]
            raise RuntimeError(f"reference server did not start: {line!r}\n{tail}")
        yield line.split("listening on ", 1)[1]
    finally:
        stop_process(proc)
        if proc.stdout is not None:
            proc.stdout.close()


@contextlib.contextmanager
def llama_server(n_ctx: int) -> Iterator[str]:
    """llama.cpp's native server (scripts/build-llama-server) on the shared stories260K model; yields its base URL."""
    port = free_port()
    WORK.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(LLAMA_SERVER),
        "-m", str(MODEL),
        "--alias", "stories260k",
        "--host", "127.0.0.1",
        "--port", str(port),
        "-c", str(n_ctx),
        "-t", "1",  # half the cores, as llama-cpp-python: with -t 2 a busy client stalls its spinning threads
        "--seed", "42",
    ]  # fmt: skip
    log_path = WORK / "llama-server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not http_answers(f"http://127.0.0.1:{port}/health"):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-800:]
                raise RuntimeError(f"llama.cpp server did not start (see {log_path}):\n{tail}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop_process(proc)


# -------------------------------------------------------------------- tools
def aish_cmd() -> list[str]:
    script = Path(sys.executable).parent / "aish"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "aish"]


def llm_cmd() -> list[str]:
    return [str(LLM_VENV / "bin" / "llm")]


def ensure_llm() -> str | None:
    """Install llm into benchmarks/.work/llm-venv if it is not there; None when ready, else why not."""
    if (LLM_VENV / "bin" / "llm").is_file():
        return None
    print(f"installing llm into {LLM_VENV.relative_to(ROOT)} ...", file=sys.stderr, flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(LLM_VENV)], check=True, timeout=300)
        subprocess.run(
            [str(LLM_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "llm"],
            check=True,
            timeout=900,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        return f"could not install llm: {exc}"
    if not (LLM_VENV / "bin" / "llm").is_file():
        return "could not install llm: no llm script after pip install"
    return None


def write_llm_models(model_id: str, model_name: str, api_base: str) -> None:
    """llm's ``extra-openai-models.yaml``: one OpenAI-compatible model (no key needed)."""
    user = WORK / "llm-user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "extra-openai-models.yaml").write_text(
        f"- model_id: {model_id}\n  model_name: {model_name}\n  api_base: {json.dumps(api_base)}\n",
        encoding="utf-8",
    )


def write_aish_config(name: str, agent: str, url: str, model: str, options: dict[str, Any]) -> Path:
    path = WORK / f"aish-{name}.toml"
    lines = [
        f"[agents.{agent}]",
        'transport = "sse"',
        'codec = "openai-chat"',
        f"url = {json.dumps(url)}",
        f"model = {json.dumps(model)}",
        f"[agents.{agent}.options]",
        *(f"{k} = {json.dumps(v)}" for k, v in options.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def chat_body(model: str, prompt: str, options: dict[str, Any]) -> str:
    """The request body aish's openai-chat codec sends for the same agent."""
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": prompt}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "model": model,
    }
    body.update(options)
    return json.dumps(body)


def curl_cmd(url: str, body: str) -> list[str]:
    return [
        "curl", "-N", "-s", "-X", "POST", url,
        "-H", "Content-Type: application/json",
        "-H", "Accept: text/event-stream",
        "--data-binary", body,
    ]  # fmt: skip


def base_env() -> dict[str, str]:
    """Children's environment: no user configuration, private caches, no aish variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AISH_", "LLM_"))}
    for sub in ("cache", "config-home", "llm-user", "data-home", "state-home"):
        (WORK / sub).mkdir(parents=True, exist_ok=True)
    env["XDG_CACHE_HOME"] = str(WORK / "cache")
    env["XDG_CONFIG_HOME"] = str(WORK / "config-home")
    env["XDG_DATA_HOME"] = str(WORK / "data-home")  # aish records history (on by default) here
    env["XDG_STATE_HOME"] = str(WORK / "state-home")
    env["LLM_USER_PATH"] = str(WORK / "llm-user")
    # As on a user's machine: bytecode is cached, and each tool flushes its output itself.
    env.pop("PYTHONUNBUFFERED", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def contenders(
    *,
    aish: list[str],
    url: str,
    body: str,
    llm: list[str] | None,
    env: dict[str, str],
    aish_env: dict[str, str] | None = None,
) -> list[Tool]:
    tools = [
        Tool("curl -N", curl_cmd(url, body), env),
        Tool("aish", aish, aish_env or env),
    ]
    if llm is not None:
        tools.append(Tool("llm", llm, env))
    tools.append(Tool("requests script", [sys.executable, str(BASELINE), url, body], env))
    tools.append(Tool("stdlib script", [sys.executable, str(FLOOR), url, body], env))
    return tools


# ----------------------------------------------------------------- reporting
@dataclass
class Target:
    section: str
    text: str
    verdict: str  # PASS, FAIL or n/a
    measured: str


def fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.1f} ms"


def fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def paired_ratio(a: Tool, b: Tool, value: Callable[[Sample], float | None]) -> float | None:
    """The median over rounds of ``a``'s value / ``b``'s in the same round.

    The two ran one after the other, so load that comes and goes (these machines are
    shared) hits both runs of a round alike; a ratio of medians mixes rounds and is
    moved by it. Both are printed; the targets are judged on this one.
    """
    ratios = []
    for i in a.rounds.keys() & b.rounds.keys():
        x, y = value(a.rounds[i]), value(b.rounds[i])
        if x is not None and y:
            ratios.append(x / y)
    return statistics.median(ratios) if ratios else None


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True)))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))


def failure_rows(tools: Sequence[Tool], width: int) -> list[list[str]]:
    rows = []
    for tool in tools:
        if tool.failures:
            rows.append([f"  ! {tool.name}: {tool.error()}", *[""] * (width - 1)])
    return rows


def by_name(tools: Sequence[Tool]) -> dict[str, Tool]:
    return {t.name: t for t in tools}


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


# ------------------------------------------------------------------ sections
def section_a(args: argparse.Namespace, env: dict[str, str], llm: list[str] | None) -> list[Target]:
    print(f"\n(a) launch -> first answer byte, {A_TOKENS}-token answer, reference server", file=sys.stderr)
    with reference_server(default_tokens=A_TOKENS) as base:
        options = {"max_tokens": A_TOKENS, "aish_tokens": A_TOKENS}
        body = chat_body("athena", "hi", options)
        if llm is not None:
            write_llm_models("bench-athena", "athena", base)
            llm = [*llm, "-m", "bench-athena", "--no-log", "hi"]
        aish_env = {**env, "AISH_DEMO_URL": base}
        tools = contenders(
            aish=[*aish_cmd(), "-c", "athena hi"],
            url=base + "/chat/completions",
            body=body,
            llm=llm,
            env=env,
            aish_env=aish_env,
        )
        # The floor plus pluggy's import: aish's hooks are called through pluggy (issue 14), and
        # importing it (with the typing and inspect it needs) is a cost no aish change can remove.
        tools.append(Tool(FLOOR_PLUGGY, [sys.executable, str(FLOOR), base + "/chat/completions", body, "pluggy"], env))
        run_rounds(tools, args.runs, args.warmup, timeout=60, label="(a)")
    t = by_name(tools)
    aish_t = t["aish"].median(lambda s: s.first_byte)
    floor_t = t["stdlib script"].median(lambda s: s.first_byte)
    llm_t = t["llm"].median(lambda s: s.first_byte) if "llm" in t else None
    aish_exit = t["aish"].median(lambda s: s.exit_after_last_byte)
    floor = t["stdlib script"]
    rows = []
    for tool in tools:
        med = tool.median(lambda s: s.first_byte)
        lo_hi = tool.spread(lambda s: s.first_byte)
        rows.append([
            tool.name,
            fmt_ms(med),
            fmt_ms(lo_hi[0]) if lo_hi else "-",
            fmt_ms(lo_hi[1]) if lo_hi else "-",
            fmt_ratio(ratio(med, floor_t)),
            fmt_ratio(paired_ratio(tool, floor, lambda s: s.first_byte)),
            fmt_ms(tool.median(lambda s: s.exit_after_last_byte)),
            fmt_ms(tool.median(lambda s: s.exit)),
            fmt_ms(tool.median(lambda s: s.cpu)),
            f"{len(tool.samples)}/{args.runs}",
        ])  # fmt: skip
    rows.append(["aish / llm", fmt_ratio(ratio(aish_t, llm_t)), "", "", "", "", "", "", "", ""])
    pluggy_t = t[FLOOR_PLUGGY].median(lambda s: s.first_byte)
    per_round = paired_ratio(t["aish"], t[FLOOR_PLUGGY], lambda s: s.first_byte)
    rows.append(["aish / (stdlib + pluggy)", fmt_ratio(ratio(aish_t, pluggy_t)), "", "", "", fmt_ratio(per_round),
                 "", "", "", ""])  # fmt: skip
    rows += failure_rows(tools, 10)
    print_table(
        f"(a) launch to first answer byte on a pipe, {A_TOKENS}-token answer, reference server pace 0"
        f" (median of {args.runs}); aish records history (the default)",
        ["tool", "first byte", "min", "max", "vs stdlib", "per round", "last byte -> exit", "exit", "cpu", "ok runs"],
        rows,
    )
    r_floor = paired_ratio(t["aish"], floor, lambda s: s.first_byte)
    r_llm = ratio(aish_t, llm_t)
    return [
        Target("a", f"aish first byte <= {TARGET_A_FLOOR_RATIO}x the stdlib script",
               verdict(None if r_floor is None else r_floor <= TARGET_A_FLOOR_RATIO),
               f"{fmt_ratio(r_floor)} per round ({fmt_ms(aish_t)} / {fmt_ms(floor_t)} = "
               f"{fmt_ratio(ratio(aish_t, floor_t))})"),
        Target("a", "aish <= 1/4 of llm", verdict(None if r_llm is None else r_llm <= TARGET_A_LLM_FRACTION),
               fmt_ratio(r_llm)),
        Target("a", f"aish last byte -> exit <= {TARGET_A_EXIT_MS:.0f} ms (history on)",
               verdict(None if aish_exit is None else aish_exit * 1000 <= TARGET_A_EXIT_MS), fmt_ms(aish_exit)),
    ]  # fmt: skip


def section_s(args: argparse.Namespace, env: dict[str, str], llm: list[str] | None) -> list[Target]:
    print("\n(s) start-up: --version and --help", file=sys.stderr)
    tools = [
        Tool("python -c (bare interpreter)", [sys.executable, "-c", "import sys; sys.stdout.write('0\\n')"], env),
        Tool("aish --version", [*aish_cmd(), "--version"], env),
        Tool("aish --help", [*aish_cmd(), "--help"], env),
        Tool("aish agents", [*aish_cmd(), "agents"], env),
    ]
    if llm is not None:
        tools.append(Tool("llm --version", [*llm, "--version"], env))
    run_rounds(tools, args.runs, args.warmup, timeout=60, label="(s)")
    t = by_name(tools)
    bare = t["python -c (bare interpreter)"].median(lambda s: s.exit)
    rows = []
    for tool in tools:
        med = tool.median(lambda s: s.exit)
        lo_hi = tool.spread(lambda s: s.exit)
        rows.append([
            tool.name,
            fmt_ms(med),
            fmt_ms(lo_hi[0]) if lo_hi else "-",
            fmt_ms(lo_hi[1]) if lo_hi else "-",
            fmt_ratio(ratio(med, bare)),
            fmt_ms(tool.median(lambda s: s.cpu)),
            f"{tool.median(lambda s: s.maxrss_kib / 1024) or 0:.1f} MiB",
            f"{len(tool.samples)}/{args.runs}",
        ])  # fmt: skip
    rows += failure_rows(tools, 8)
    print_table(
        f"(s) start-up, spawn -> exit, stdout on a pipe (median of {args.runs})",
        ["command", "wall", "min", "max", "vs bare", "cpu", "peak RSS", "ok runs"],
        rows,
    )
    targets = []
    for name in ("aish --version", "aish --help"):
        med = t[name].median(lambda s: s.exit)
        ok = None if med is None else med * 1000 <= TARGET_S_MS
        targets.append(Target("s", f"{name} <= {TARGET_S_MS:.0f} ms", verdict(ok),
                              f"{fmt_ms(med)} ({fmt_ratio(ratio(med, bare))} bare python)"))  # fmt: skip
    return targets


CMD2_BARE = "import cmd2; cmd2.Cmd(allow_cli_args=False, persistent_history_file='').cmdloop()"


def section_r(args: argparse.Namespace, env: dict[str, str], llm: list[str] | None) -> list[Target]:
    print("\n(r) launch -> the shell's prompt on a pseudo-terminal", file=sys.stderr)
    with reference_server(default_tokens=A_TOKENS) as base:
        aish_env = {**env, "AISH_DEMO_URL": base}
        tools = [
            Tool("cmd2.Cmd, bare", [sys.executable, "-c", CMD2_BARE], env, pty="(Cmd) "),
            Tool("aish", aish_cmd(), aish_env, pty="aish> "),
        ]
        run_rounds(tools, args.runs, args.warmup, timeout=60, label="(r)")
    t = by_name(tools)
    bare = t["cmd2.Cmd, bare"].median(lambda s: s.first_byte)
    bare_key = t["cmd2.Cmd, bare"].median(lambda s: s.key_shown)
    rows = []
    for tool in tools:
        med = tool.median(lambda s: s.first_byte)
        lo_hi = tool.spread(lambda s: s.first_byte)
        key = tool.median(lambda s: s.key_shown)
        rows.append([
            tool.name,
            fmt_ms(med),
            fmt_ms(lo_hi[0]) if lo_hi else "-",
            fmt_ms(lo_hi[1]) if lo_hi else "-",
            fmt_ratio(ratio(med, bare)),
            fmt_ms(key),
            fmt_ratio(ratio(key, bare_key)),
            fmt_ms(tool.median(lambda s: s.exit)),
            f"{tool.median(lambda s: s.maxrss_kib / 1024) or 0:.1f} MiB",
            f"{len(tool.samples)}/{args.runs}",
        ])  # fmt: skip
    rows += failure_rows(tools, 8)
    print_table(
        f"(r) launch -> prompt shown on a pseudo-terminal; a key typed then, shown (the line editor live); "
        f"Ctrl-U, Ctrl-D (median of {args.runs})",
        ["shell", "prompt", "min", "max", "vs bare cmd2", "key shown", "vs bare cmd2", "exit", "peak RSS", "ok runs"],
        rows,
    )
    med = t["aish"].median(lambda s: s.first_byte)
    key = t["aish"].median(lambda s: s.key_shown)
    ok = None if med is None else med * 1000 <= TARGET_R_MS
    live = f"{fmt_ms(med)}; a key typed shown at {fmt_ms(key)} ({fmt_ratio(ratio(key, bare_key))} bare cmd2)"
    return [Target("r", f"aish prompt <= {TARGET_R_MS:.0f} ms", verdict(ok), live)]


def section_m(args: argparse.Namespace, env: dict[str, str], llm: list[str] | None) -> list[Target]:
    size = M_INPUT_MIB * 1024 * 1024
    print(f"\n(m) {M_INPUT_MIB} MiB piped into an agent", file=sys.stderr)
    piped = WORK / "piped-input.txt"
    line = "the quick brown fox jumps over the lazy dog, again and again; " * 2 + "\n"
    piped.write_text(line * (size // len(line)), encoding="utf-8")
    size = piped.stat().st_size
    file = shlex.quote(str(piped))  # as the language quotes it
    jsonl = WORK / "aish-m-jsonl.toml"  # the other history backend (sqlite is the default)
    jsonl.write_text('[settings]\nhistory = "jsonl"\n', encoding="utf-8")
    with reference_server(default_tokens=A_TOKENS) as base:
        aish_env = {**env, "AISH_DEMO_URL": base}
        jsonl_env = {**aish_env, "AISH_CONFIG": str(jsonl)}
        tools = [
            Tool("cat (the floor)", ["cat"], env, stdin=str(piped)),
            Tool("aish athena < input", [*aish_cmd(), "athena"], aish_env, stdin=str(piped)),
            Tool("aish -c 'athena' < input", [*aish_cmd(), "-c", "athena"], aish_env, stdin=str(piped)),
            Tool("aish athena < input (jsonl)", [*aish_cmd(), "athena"], jsonl_env, stdin=str(piped)),
            Tool("aish -c 'athena' < input (jsonl)", [*aish_cmd(), "-c", "athena"], jsonl_env, stdin=str(piped)),
            # the stage's own words after the piped input: the prompt is made of both (decision 31)
            Tool("aish athena summarize < input", [*aish_cmd(), "athena", "summarize"], aish_env, stdin=str(piped)),
            Tool(
                "aish athena summarize < input (jsonl)",
                [*aish_cmd(), "athena", "summarize"],
                jsonl_env,
                stdin=str(piped),
            ),
            Tool(
                "cat input | aish athena summarize",
                ["sh", "-c", f'cat "$1" | {shlex.join(aish_cmd())} athena summarize', "sh", str(piped)],
                aish_env,
            ),
            # -c reads standard input only for a first stage without words: these read the file themselves
            Tool("aish -c 'athena summarize < FILE'", [*aish_cmd(), "-c", f"athena summarize < {file}"], aish_env),
            Tool(
                "aish -c 'athena summarize < FILE | apollo'",
                [*aish_cmd(), "-c", f"athena summarize < {file} | apollo"],
                aish_env,
            ),
        ]
        runs = max(3, args.runs // 3)
        run_rounds(tools, runs, args.warmup, timeout=300, label="(m)")
    rows = []
    worst = None
    for tool in tools:
        rss = tool.median(lambda s: s.maxrss_kib * 1024)
        if tool is not tools[0] and rss is not None:  # every aish row counts, not the floor
            worst = max(worst or 0.0, rss)
        rows.append([
            tool.name,
            f"{(rss or 0) / 2**20:.1f} MiB",
            fmt_ratio(ratio(rss, size)),
            fmt_ms(tool.median(lambda s: s.exit)),
            f"{len(tool.samples)}/{runs}",
        ])  # fmt: skip
    rows += failure_rows(tools, 5)
    print_table(
        f"(m) peak RSS with {size / 2**20:.1f} MiB piped in (median of {runs})",
        ["command", "peak RSS", "vs input", "wall", "ok runs"],
        rows,
    )
    r = ratio(worst, size)
    return [Target("m", f"aish peak RSS <= {TARGET_M_RATIO:.0f}x the piped input",
                   verdict(None if r is None else r <= TARGET_M_RATIO), fmt_ratio(r))]  # fmt: skip


def section_b(args: argparse.Namespace, env: dict[str, str], llm: list[str] | None) -> list[Target]:
    print(f"\n(b) end to end, {B_TOKENS}-token answer, llama.cpp", file=sys.stderr)
    why_not = None
    if not LLAMA_SERVER.is_file():
        why_not = f"{LLAMA_SERVER} is not built (scripts/build-llama-server)"
    if why_not is None and not MODEL.is_file():
        why_not = f"model not found: {MODEL}"
    if why_not:
        print(f"\n(b) skipped: {why_not}")
        return [Target("b", f"aish <= {TARGET_B_RATIO:.2f}x curl", "n/a", why_not)]
    with llama_server(n_ctx=2048) as base:
        options = {"max_tokens": B_TOKENS, "temperature": 0}
        body = chat_body("stories260k", B_PROMPT, options)
        config = write_aish_config("b", "llama", base, "stories260k", options)
        if llm is not None:
            write_llm_models("bench-llama", "stories260k", base)
            llm = [*llm, "-m", "bench-llama", "--no-log", "-o", "max_tokens", str(B_TOKENS),
                   "-o", "temperature", "0", B_PROMPT]  # fmt: skip
        tools = contenders(
            aish=[*aish_cmd(), "--config", str(config), "-c", f'llama "{B_PROMPT}"'],
            url=base + "/chat/completions",
            body=body,
            llm=llm,
            env=env,
        )
        run_rounds(tools, args.runs, args.warmup, timeout=180, label="(b)")
    t = by_name(tools)
    curl = t["curl -N"]
    curl_t = curl.median(lambda s: s.exit)
    aish_t = t["aish"].median(lambda s: s.exit)
    rows = []
    for tool in tools:
        med = tool.median(lambda s: s.exit)
        lo_hi = tool.spread(lambda s: s.exit)
        rows.append([
            tool.name,
            fmt_ms(med),
            fmt_ms(lo_hi[0]) if lo_hi else "-",
            fmt_ms(lo_hi[1]) if lo_hi else "-",
            fmt_ratio(ratio(med, curl_t)),
            fmt_ratio(paired_ratio(tool, curl, lambda s: s.exit)),
            fmt_ms(tool.median(lambda s: s.first_byte)),
            fmt_ms(tool.median(lambda s: s.cpu)),
            f"{tool.median(lambda s: s.out_bytes) or 0:,.0f}",
            f"{len(tool.samples)}/{args.runs}",
        ])  # fmt: skip
    rows.append(["aish / llm", fmt_ratio(ratio(aish_t, t["llm"].median(lambda s: s.exit) if "llm" in t else None)),
                 "", "", "", "", "", "", "", ""])  # fmt: skip
    rows += failure_rows(tools, 10)
    print_table(
        f"(b) end to end, {B_TOKENS}-token answer from llama.cpp (n_ctx 2048, temperature 0) (median of {args.runs})",
        ["tool", "wall", "min", "max", "vs curl", "per round", "first byte", "cpu", "stdout bytes", "ok runs"],
        rows,
    )
    r = paired_ratio(t["aish"], curl, lambda s: s.exit)
    close = None if r is None else r <= TARGET_B_RATIO
    measured = f"{fmt_ratio(r)} per round ({fmt_ratio(ratio(aish_t, curl_t))} of medians)"
    return [Target("b", f"aish <= {TARGET_B_RATIO:.2f}x curl", verdict(close), measured)]


def section_c(args: argparse.Namespace, env: dict[str, str], llm: list[str] | None) -> list[Target]:
    n = args.events
    print(f"\n(c) {n:,} tiny chunks, reference server", file=sys.stderr)
    with reference_server(default_tokens=n) as base:
        options = {"aish_tokens": n}
        body = chat_body("athena", "hi", options)
        config = write_aish_config("c", "bench", base, "athena", options)
        if llm is not None:
            write_llm_models("bench-flood", "athena", base)
            llm = [*llm, "-m", "bench-flood", "--no-log", "hi"]
        tools = contenders(
            aish=[*aish_cmd(), "--config", str(config), "-c", "bench hi"],
            url=base + "/chat/completions",
            body=body,
            llm=llm,
            env=env,
        )
        run_rounds(tools, args.runs, args.warmup, timeout=600, label="(c)")

    def stream_rate(s: Sample) -> float | None:
        return n / (s.eof - s.first_byte) if s.first_byte is not None and s.eof > s.first_byte else None

    def whole_rate(s: Sample) -> float:
        return n / s.exit

    def rss(s: Sample) -> float:
        return s.maxrss_kib / 1024

    t = by_name(tools)
    rows = []
    for tool in tools:
        rows.append([
            tool.name,
            f"{tool.median(stream_rate) or 0:,.0f}",
            f"{tool.median(whole_rate) or 0:,.0f}",
            fmt_ms(tool.median(lambda s: s.exit)),
            fmt_ms(tool.median(lambda s: s.cpu)),
            f"{tool.median(rss) or 0:.1f} MiB",
            f"{tool.median(lambda s: s.out_bytes) or 0:,.0f}",
            f"{len(tool.samples)}/{args.runs}",
        ])  # fmt: skip
    aish_rate = t["aish"].median(stream_rate)
    aish_rss = t["aish"].median(rss)
    for other in ("curl -N", "llm", "requests script"):
        if other in t:
            rows.append([
                f"aish / {other}",
                fmt_ratio(ratio(aish_rate, t[other].median(stream_rate))),
                fmt_ratio(ratio(t["aish"].median(whole_rate), t[other].median(whole_rate))),
                fmt_ratio(ratio(t["aish"].median(lambda s: s.exit), t[other].median(lambda s: s.exit))),
                fmt_ratio(ratio(t["aish"].median(lambda s: s.cpu), t[other].median(lambda s: s.cpu))),
                fmt_ratio(ratio(aish_rss, t[other].median(rss))),
                "", "",
            ])  # fmt: skip
    rows += failure_rows(tools, 8)
    print_table(
        f"(c) {n:,} tiny OpenAI chunks, reference server pace 0 (median of {args.runs}); "
        "events/s while streaming = events / (EOF - first byte), whole run = events / (spawn -> exit)",
        ["tool", "events/s streaming", "events/s whole run", "wall", "cpu", "peak RSS", "stdout bytes", "ok runs"],
        rows,
    )
    return [
        Target("c", f"aish >= {TARGET_C_EVENTS:,} events/s (streaming)",
               verdict(None if aish_rate is None else aish_rate >= TARGET_C_EVENTS), f"{aish_rate or 0:,.0f}/s"),
        Target("c", f"aish peak RSS < {TARGET_C_RSS_MIB:.0f} MiB",
               verdict(None if aish_rss is None else aish_rss < TARGET_C_RSS_MIB), f"{aish_rss or 0:.1f} MiB"),
    ]  # fmt: skip


def section_h(args: argparse.Namespace, env: dict[str, str], llm: list[str] | None) -> list[Target]:
    """History: recording's cost, search's time and memory (benchmarks/history_bench.py does the measuring).

    Each part reports its own failure (one line, its targets n/a) and the others still run.
    """
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    import history_bench as hb

    print(f"\n(h) history: recording a {hb.TOKENS:,}-token run, search over stores of "
          f"{', '.join(f'{n:,}' for n in H_SIZES)} runs", file=sys.stderr)  # fmt: skip
    try:
        stores = _h_stores(hb)
    except Exception as exc:  # a harness reports, never crashes: the part's targets are n/a
        print(f"\n(h) history stores: failed: {type(exc).__name__}: {exc}")
        stores = None
    targets = []
    parts: list[tuple[str, Callable[[], list[Target]]]] = [
        ("recording", lambda: _h_recording(hb, args)),
    ]
    if stores is not None:
        parts[:0] = [
            ("search in-process", lambda: _h_search(hb, stores)),
            ("aish history search", lambda: _h_search_cli(hb, stores, args, env)),
        ]
    else:
        targets.append(Target("h", "search over 100,000 runs, and its memory", "n/a", "no stores"))
    for name, part in parts:
        try:
            targets += part()
        except Exception as exc:
            print(f"\n(h) {name}: failed: {type(exc).__name__}: {exc}")
            targets.append(Target("h", name, "n/a", f"failed: {type(exc).__name__}"))
    return targets


def _h_progress(text: str) -> None:
    print(f"\r  (h) {text}   ", end="", file=sys.stderr, flush=True)


def _h_stores(hb: Any) -> dict[tuple[str, int], Any]:
    """The stores of 0, 10,000 and 100,000 runs, both backends, reused or built (and kept)."""
    stores = {}
    rows = []
    for size in (0, *H_SIZES):  # the empty store: what `aish history search` costs besides searching
        for backend in hb.BACKENDS:
            _h_progress(f"{'filling' if not (H_STORES / hb.store_key(backend, size)).is_dir() else 'opening'} "
                        f"the {backend} store of {size:,} runs")  # fmt: skip
            store = stores[backend, size] = hb.cached_store(H_STORES, backend, size)
            rows.append([
                f"{backend}, {size:,} runs",
                "reused" if store.reused else "built now",
                f"{store.filled:.1f} s",
                f"{store.indexed:.1f} s",
                f"{store.disk_bytes / 1e6:.1f} MB",
            ])  # fmt: skip
    print(file=sys.stderr)
    print_table(
        f"(h) history stores (benchmarks/.work/{H_STORES.name}/, kept between runs; "
        "built through each backend's API, then searched once to index them)",
        ["store", "this run", "recording them", "first search", "on disk"],
        rows,
    )
    return stores


def _h_search(hb: Any, stores: dict[tuple[str, int], Any]) -> list[Target]:
    """In-process: the backend's own search over the biggest store, every query of history_bench."""
    big = H_SIZES[-1]
    texts = hb.queries()
    timed = {}
    for backend in hb.BACKENDS:
        _h_progress(f"searching the {backend} store in-process")
        opened = stores[backend, big].open()
        try:
            timed[backend] = hb.time_queries(opened, texts)
        finally:
            opened.close()
    print(file=sys.stderr)
    rows = [[label, *(f"{timed[b][label][0] * 1000:.2f} ms ({timed[b][label][1]} hits)" for b in hb.BACKENDS)]
            for label in texts]  # fmt: skip
    worst = {b: max(seconds for seconds, _hits in timed[b].values()) for b in hb.BACKENDS}
    rows.append(["worst", *(fmt_ms(worst[b]) for b in hb.BACKENDS)])
    print_table(
        f"(h) search over {big:,} runs in-process, backend.search() (median of {hb.REPEATS} after one untimed)",
        ["query", *hb.BACKENDS],
        rows,
    )
    targets = []
    for backend in hb.BACKENDS:
        text = f"{backend}: search over {big:,} runs <= {H_TARGET_SEARCH_MS:.0f} ms (worst query)"
        ok = worst[backend] * 1000 <= H_TARGET_SEARCH_MS
        targets.append(Target("h", text, verdict(ok), fmt_ms(worst[backend])))
    return targets


def _h_search_cli(
    hb: Any, stores: dict[tuple[str, int], Any], args: argparse.Namespace, env: dict[str, str]
) -> list[Target]:
    """As a user runs it: `aish history search WORD` beside start-up alone and an empty store; peak RSS by size."""
    word = hb.queries()["rare word (10 runs)"]
    tools = [Tool("aish --version", [*aish_cmd(), "--version"], env)]
    for (backend, size), store in stores.items():
        config = WORK / f"aish-h-{backend}-{size}.toml"
        config.write_text(f'[settings]\nhistory = "{backend}"\nhistory_path = {json.dumps(str(store.path))}\n')
        cmd = [*aish_cmd(), "--config", str(config), "history", "search", word]
        tools.append(Tool(f"{backend}, {size:,} runs", cmd, env, quiet=True))
    run_rounds(tools, args.runs, args.warmup, timeout=120, label="(h) aish history search")
    t = by_name(tools)
    version = t["aish --version"].median(lambda s: s.exit)
    version_rss = t["aish --version"].median(lambda s: s.maxrss_kib / 1024)
    rows = []
    for tool in tools:
        med = tool.median(lambda s: s.exit)
        rss = tool.median(lambda s: s.maxrss_kib / 1024)
        empty = t.get(f"{tool.name.split(',')[0]}, 0 runs")
        empty_t = empty.median(lambda s: s.exit) if empty is not None and empty is not tool else None
        rows.append([
            tool.name,
            fmt_ms(med),
            f"{(med - version) * 1000:+.1f} ms" if med is not None and version is not None else "-",
            f"{(med - empty_t) * 1000:+.1f} ms" if med is not None and empty_t is not None else "-",
            fmt_ms(tool.median(lambda s: s.cpu)),
            f"{rss or 0:.1f} MiB",
            f"{rss - version_rss:+.1f} MiB" if rss is not None and version_rss is not None else "-",
            f"{len(tool.samples)}/{args.runs}",
        ])  # fmt: skip
    rows += failure_rows(tools, 8)
    print_table(
        f"(h) `aish history search {word}` as a user runs it, spawn -> exit, beside `aish --version` and the same "
        f"search in an empty store (median of {args.runs})",
        ["store", "wall", "vs --version", "vs empty store", "cpu", "peak RSS", "vs --version", "ok runs"],
        rows,
    )
    big = H_SIZES[-1]
    targets = []
    for backend in hb.BACKENDS:
        full, empty_store = (t[f"{backend}, {n:,} runs"].median(lambda s: s.exit) for n in (big, 0))
        extra = None if full is None or empty_store is None else full - empty_store
        text = f"{backend}: `aish history search` over {big:,} runs <= {H_TARGET_SEARCH_MS:.0f} ms more than empty"
        ok = None if extra is None else extra * 1000 <= H_TARGET_SEARCH_MS
        targets.append(Target("h", text, verdict(ok), "-" if extra is None else f"{extra * 1000:+.1f} ms"))
    for backend in hb.BACKENDS:
        small, large = (t[f"{backend}, {n:,} runs"].median(lambda s: s.maxrss_kib / 1024) for n in H_SIZES)
        ok = None if small is None or large is None else large <= small * H_TARGET_RSS_GROWTH
        text = f"{backend}: search's peak RSS, {H_SIZES[-1]:,} runs <= {H_TARGET_RSS_GROWTH}x {H_SIZES[0]:,} runs"
        measured = f"{large or 0:.1f} / {small or 0:.1f} MiB = {fmt_ratio(ratio(large, small))}"
        targets.append(Target("h", text, verdict(ok), measured))
    return targets


def _h_recording(hb: Any, args: argparse.Namespace) -> list[Target]:
    """`aish -c` with history off / sqlite / jsonl, then the shell's way (one long-lived recorder); at pace 0
    (the worst case), then `aish -c` alone at a pace still faster than any hosted model."""
    fast_runs = H_RECORD_ROUNDS * args.runs  # a round is 3 short runs; 1% of one is about 1 ms
    paced_runs = args.runs  # a third of it (5 rounds of 1 s) read +1.3% once, on one 13 ms hiccup
    shell_runs = H_SHELL_ROUNDS * args.runs
    rec = hb.measure_recording(fast_runs, 0.0, in_process=False, shell_runs=shell_runs, progress=_h_progress)
    paced = hb.measure_recording(paced_runs, H_PACE, in_process=False, shell=False, progress=_h_progress)
    print(file=sys.stderr)
    rows = []
    for mode in hb.MODES:
        columns = (rec.walls, rec.cpus, rec.shell, paced.walls)
        row = [mode, *(fmt_ms(statistics.median(column[mode])) for column in columns)]
        if mode == "off":
            row += ["(baseline)"] * 4
        else:
            row += [f"{r.paired(c, mode) * 1000:+.1f} ms ({r.overhead(c, mode):+.1%}, "
                    f"{r.interval(c, mode)[0]:+.1%}..{r.interval(c, mode)[1]:+.1%})"
                    for r, c in ((rec, "walls"), (rec, "cpus"), (rec, "shell"), (paced, "walls"))]  # fmt: skip
        rows.append(row)
    # the noise floor: history off twice (a process in a directory of its own, a second shell session)
    again = [(column, getattr(rec, column)[hb.AGAIN]) for column in ("walls", "cpus", "shell")]
    medians = [fmt_ms(statistics.median(values)) if values else "" for _, values in again]
    floors = []
    for column, values in again:
        lo, hi = rec.interval(column, hb.AGAIN) if values else (0.0, 0.0)
        ms, share = (rec.paired(column, hb.AGAIN) * 1000, rec.overhead(column, hb.AGAIN)) if values else (0.0, 0.0)
        floors.append(f"{ms:+.1f} ms ({share:+.1%}, {lo:+.1%}..{hi:+.1%})" if values else "")
    rows.append([f"{hb.AGAIN} (A/A)", *medians, "", *floors, ""])
    print_table(
        f"(h) recording a {hb.TOKENS:,}-token answer ({sorted(rec.sizes)} B on stdout), the server in a process of "
        f"its own; at pace 0, the worst case (a reply of the reference server's, canned; median of {fast_runs}, the "
        f"shell's way of {shell_runs}), and `aish -c` at {1 / H_PACE:,.0f} tokens/s (reference server, median of "
        f"{paced_runs}); modes interleaved round by round, \"+\" = median of per-round differences to off "
        f"(share of off's median, and its 95% confidence interval)",
        ["history", "aish -c", "aish -c cpu", "shell's way", f"aish -c {1 / H_PACE:,.0f}/s",
         "aish -c +", "aish -c cpu +", "shell's way +", f"aish -c {1 / H_PACE:,.0f}/s +"],
        rows,
    )  # fmt: skip
    targets = []
    for mode in hb.MODES[1:]:
        for label, r, column in (("aish -c, pace 0", rec, "walls"), ("the shell's way, pace 0", rec, "shell"),
                                 (f"aish -c, {1 / H_PACE:,.0f} tokens/s", paced, "walls")):  # fmt: skip
            over = r.overhead(column, mode)
            lo, hi = r.interval(column, mode)
            text = f"{mode}: recording <= {H_TARGET_RECORD:.0%} of a {hb.TOKENS:,}-token run, {label}"
            targets.append(Target("h", text, verdict(over <= H_TARGET_RECORD), f"{over:+.2%} ({lo:+.1%}..{hi:+.1%})"))
    return targets


SECTIONS: dict[str, Callable[[argparse.Namespace, dict[str, str], list[str] | None], list[Target]]] = {
    "s": section_s,
    "a": section_a,
    "r": section_r,
    "b": section_b,
    "c": section_c,
    "m": section_m,
    "h": section_h,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="aish vs curl, llm and a requests script.")
    parser.add_argument("--runs", type=int, default=20, help="measured runs per tool and section (20)")
    parser.add_argument("--warmup", type=int, default=1, help="discarded runs per tool first (1)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections to run, e.g. s,a,r (all)")
    parser.add_argument("--skip-llm", action="store_true", help="leave simonw's llm out")
    parser.add_argument("--events", type=int, default=C_EVENTS, help=f"chunks in (c) ({C_EVENTS:,})")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown or args.runs < 1:
        parser.error(f"unknown section(s) {unknown}; use {', '.join(SECTIONS)}" if unknown else "--runs must be >= 1")
    if shutil.which("curl") is None:
        parser.error("curl is not installed")
    WORK.mkdir(parents=True, exist_ok=True)
    env = base_env()
    llm: list[str] | None = None
    llm_note = "skipped (--skip-llm)"
    if not args.skip_llm:
        problem = ensure_llm()
        if problem is None:
            llm = llm_cmd()
            version = subprocess.run([*llm, "--version"], capture_output=True, text=True, timeout=60, env=env)
            llm_note = version.stdout.strip() or "llm"
        else:
            llm_note = problem
            print(f"warning: {problem}; continuing without llm", file=sys.stderr)
    aish_version = subprocess.run([*aish_cmd(), "--version"], capture_output=True, text=True, timeout=60, env=env)
    curl_version = subprocess.run(["curl", "--version"], capture_output=True, text=True, timeout=60)
    print(f"python {sys.version.split()[0]}; {aish_version.stdout.strip()}; "
          f"{curl_version.stdout.split(chr(10))[0].split(' (')[0]}; {llm_note}; "
          f"{os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}; "
          f"{args.runs} runs + {args.warmup} warm-up per tool")  # fmt: skip
    targets: list[Target] = []
    for name in only:
        targets += SECTIONS[name](args, env, llm)
    print_table(
        "Targets",
        ["target", "measured", "verdict"],
        [[f"({t.section}) {t.text}", t.measured, t.verdict] for t in targets],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
