"""The HTTP stack for the SSE transport: the standard library's http.client, aish's own client, urllib3, requests.

Run from the repository root with the project's interpreter::

    .venv/bin/python benchmarks/http_stack.py [--runs 15] [--events 50000]

Each stack runs as ``benchmarks/http_client.py STACK`` (a fresh process per
run, stdout on a pipe, as ``run.py`` measures aish), against the reference
server (pace 0), interleaved round by round:

* **import**: the stack's own import time inside the client (median);
* **first byte**: spawn to the first body byte on the pipe, a 64-token answer
  (median), and its ratio to the minimal standard-library client, the floor of
  aish's start-up target (first byte <= 1.3x that floor); then the same less
  the time the aish client spent importing what every aish run imports
  whatever its HTTP stack (the plugin package, the error tree): the stack's
  own share;
* **events/s**: a 50,000-chunk answer, ``events / (EOF - first byte)``.

The figures and the choice they led to are in docs/decisions.md (decisions 16 and 26).
It is a report: the exit status is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (  # type: ignore[import-not-found]
    WORK,
    Sample,
    Tool,
    base_env,
    chat_body,
    fmt_ms,
    print_table,
    reference_server,
    run_rounds,
)

CLIENT = Path(__file__).resolve().parent / "http_client.py"
STACKS = ("stdlib", "aish", "urllib3", "requests")
FIRST_BYTE_TOKENS = 64


def reported_ms(name: str, sample: Sample) -> float | None:
    found = re.findall(rf"\b{name}=([0-9.]+)", sample.stderr)
    return float(found[-1]) if found else None


def import_ms(sample: Sample) -> float | None:
    return reported_ms("import_ms", sample)


def stack_first_byte(sample: Sample) -> float | None:
    """Spawn to first byte less what aish imports whatever its HTTP stack (the stack's own share)."""
    pre = reported_ms("pre_ms", sample)
    return sample.first_byte - pre / 1000 if sample.first_byte and pre is not None else None


def tools(url: str, tokens: int, env: dict[str, str]) -> list[Tool]:
    body = chat_body("athena", "hi", {"aish_tokens": tokens})
    return [Tool(stack, [sys.executable, str(CLIENT), stack, url, body], env) for stack in STACKS]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    env = base_env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).resolve().parents[1] / "plugins"),) if p)
    print(f"load average at start: {os.getloadavg()[0]:.2f}; {args.runs} runs per stack", file=sys.stderr)
    with reference_server(FIRST_BYTE_TOKENS) as base:
        url = base + "/chat/completions"
        first = tools(url, FIRST_BYTE_TOKENS, env)
        run_rounds(first, args.runs, args.warmup, 60, "first byte")
        flood = tools(url, args.events, env)
        run_rounds(flood, max(3, args.runs // 3), args.warmup, 120, "events/s")
    floor = first[0].median(lambda s: s.first_byte)
    bare_floor = first[0].median(stack_first_byte)
    rows = []
    for quick, slow in zip(first, flood, strict=True):
        fb = quick.median(lambda s: s.first_byte)
        rate = slow.median(
            lambda s: args.events / (s.eof - s.first_byte) if s.first_byte and s.eof > s.first_byte else None
        )
        imp = quick.median(import_ms)
        bare = quick.median(stack_first_byte)
        rows.append(
            [
                quick.name,
                f"{imp:.1f} ms" if imp is not None else "n/a",
                fmt_ms(fb),
                f"{fb / floor:.2f}x" if fb and floor else "n/a",
                fmt_ms(bare),
                f"{bare / bare_floor:.2f}x" if bare and bare_floor else "n/a",
                f"{rate:,.0f}" if rate else "n/a",
                f"{len(quick.samples)}/{len(slow.samples)}",
            ]
        )
    print_table(
        "HTTP stacks: import, first byte (64 tokens), events/s (50,000 chunks)",
        ["stack", "import", "first byte", "vs stdlib", "less aish's core", "vs stdlib", "events/s", "ok runs"],
        rows,
    )
    for tool in (*first, *flood):
        if tool.failures:
            print(f"  {tool.name}: {tool.error()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
