"""WebSocket vs SSE on the same reference agent: events/s and first-token latency (medians).

    .venv/bin/python benchmarks/ws_bench.py [--tokens N] [--runs R] [--in-process]

Both go through the whole stream layer (+ liveness watchdog): ``sse`` with
``openai-chat``, ``websocket`` with ``aish-ws``, against one RefServer in a
process of its own (``--in-process``: in this one, where the server's threads
share the client's interpreter lock and its cost counts against the client).
Throughput is unpaced (``--tokens`` tokens per stream); first-token latency is
measured on short paced streams (connect, handshake, request, first delta).
The transports take turns, round by round, so background load hits both alike;
``ws/sse`` is the median of each round's ratio. ``client us/event`` is this
process's CPU time per event (the client alone, unless ``--in-process``).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from aish import AgentConfig, Codec, Context, Prompt, Transport
from aish.stream import AgentStream, with_extensions
from aish_heartbeat.watchdog import LivenessWatchdog
from aish_openai.codec import OpenAIChatCodec
from aish_refserver import RefServer
from aish_sse.transport import SSETransport
from aish_websocket.transport import WebSocketTransport
from aish_wsproto.codec import AishWSCodec

Make = tuple[str, str, Callable[[AgentConfig], Transport], Callable[[AgentConfig], Codec]]
MAKES: list[Make] = [
    ("sse", "openai-chat", SSETransport, OpenAIChatCodec),
    ("websocket", "aish-ws", WebSocketTransport, AishWSCodec),
]


@dataclass
class Urls:
    base_url: str
    ws_url: str


def one(server: Urls | RefServer, make: Make, tokens: int, pace: float) -> tuple[float, float, float]:
    """(events/s, first token ms, client CPU us per event) of one stream."""
    name, codec, transport, codec_factory = make
    url = server.ws_url if name == "websocket" else server.base_url
    agent = AgentConfig(name="bench", transport=name, url=url, codec=codec, model="athena",
                        options={"aish_tokens": tokens, "aish_pace": pace})  # fmt: skip
    t = with_extensions(transport(agent), [LivenessWatchdog(agent.idle_timeout)])
    cpu, started = time.process_time(), time.perf_counter()
    result = AgentStream(agent, t, codec_factory(agent)).run(Prompt("owls", Context("b")), lambda e: None, lambda: None)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    t.close()
    assert result.status == "complete" and result.deltas == tokens, result.error
    return tokens / elapsed, (result.first_token or 0.0) * 1000, cpu / tokens * 1e6


def serve() -> None:
    """The child: a reference server until stdin closes; prints ``BASE_URL WS_URL``."""
    with RefServer(pace=0.0) as server:
        print(server.base_url, server.ws_url, flush=True)
        sys.stdin.read()


def measure(server: Urls | RefServer, tokens: int, runs: int) -> None:
    for make in MAKES:
        one(server, make, 100, 0.0)  # warm up
        one(server, make, 3, 0.001)
    rates: dict[str, list[float]] = {m[0]: [] for m in MAKES}
    cpus: dict[str, list[float]] = {m[0]: [] for m in MAKES}
    firsts: dict[str, list[float]] = {m[0]: [] for m in MAKES}
    for _ in range(runs):
        for make in MAKES:
            rate, _, cpu = one(server, make, tokens, 0.0)
            rates[make[0]].append(rate)
            cpus[make[0]].append(cpu)
    for _ in range(runs * 4):
        for make in MAKES:
            firsts[make[0]].append(one(server, make, 3, 0.001)[1])
    median = statistics.median
    print(f"{'transport':<10} {'events/s (median)':>18} {'client us/event':>16} {'first token ms (median)':>24}")
    for name in rates:
        print(f"{name:<10} {median(rates[name]):>18,.0f} {median(cpus[name]):>16.2f} {median(firsts[name]):>24.2f}")
    ratio = median(w / s for w, s in zip(rates["websocket"], rates["sse"], strict=True))
    first = median(w / s for w, s in zip(firsts["websocket"], firsts["sse"], strict=True))
    print(f"ws/sse: events/s x{ratio:.2f}, first token x{first:.2f} (medians of per-round ratios)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--in-process", action="store_true", help="run the server in this process")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    where = "in-process" if args.in_process else "separate process"
    print(f"{args.tokens:,} tokens unpaced x {args.runs} runs, first token x {args.runs * 4}; server: {where}")
    if args.in_process:
        with RefServer(pace=0.0) as server:
            measure(server, args.tokens, args.runs)
        return
    child = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)  # fmt: skip
    try:
        assert child.stdout is not None
        base_url, ws_url = child.stdout.readline().split()
        measure(Urls(base_url, ws_url), args.tokens, args.runs)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(10)


if __name__ == "__main__":
    main()
