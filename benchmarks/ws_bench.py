"""WebSocket vs SSE on the same reference agent: events/s and first-token latency (medians).

    .venv/bin/python benchmarks/ws_bench.py [--tokens N] [--runs R]

Both go through the whole stream layer (+ liveness watchdog) against one
in-process RefServer: ``sse`` with ``openai-chat``, ``websocket`` with ``aish-ws``.
Throughput is unpaced (``--tokens`` tokens per stream); first-token latency is
measured on short paced streams (connect, handshake, request, first delta).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from aish import AgentConfig, Codec, Context, Prompt, Transport
from aish.refserver import RefServer
from aish.stream import AgentStream, with_extensions
from aish_heartbeat.watchdog import LivenessWatchdog
from aish_openai.codec import OpenAIChatCodec
from aish_sse.transport import SSETransport
from aish_websocket.transport import WebSocketTransport
from aish_wsproto.codec import AishWSCodec

Make = tuple[str, str, Callable[[AgentConfig], Transport], Callable[[AgentConfig], Codec]]


def one(server: RefServer, make: Make, tokens: int, pace: float) -> tuple[float, float]:
    name, codec, transport, codec_factory = make
    url = server.ws_url if name == "websocket" else server.base_url
    agent = AgentConfig(name="bench", transport=name, url=url, codec=codec, model="athena",
                        options={"aish_tokens": tokens, "aish_pace": pace})  # fmt: skip
    t = with_extensions(transport(agent), [LivenessWatchdog(agent.idle_timeout)])
    started = time.perf_counter()
    result = AgentStream(agent, t, codec_factory(agent)).run(Prompt("owls", Context("b")), lambda e: None, lambda: None)
    elapsed = time.perf_counter() - started
    t.close()
    assert result.status == "complete" and result.deltas == tokens, result.error
    return tokens / elapsed, (result.first_token or 0.0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    makes: list[Make] = [
        ("sse", "openai-chat", SSETransport, OpenAIChatCodec),
        ("websocket", "aish-ws", WebSocketTransport, AishWSCodec),
    ]
    with RefServer(pace=0.0) as server:
        rows = []
        for make in makes:
            one(server, make, 100, 0.0)  # warm up
            rate = statistics.median(one(server, make, args.tokens, 0.0)[0] for _ in range(args.runs))
            first = statistics.median(one(server, make, 3, 0.001)[1] for _ in range(args.runs * 4))
            rows.append((make[0], rate, first))
    print(f"{'transport':<10} {'events/s (median)':>18} {'first token ms (median)':>24}")
    for name, rate, first in rows:
        print(f"{name:<10} {rate:>18,.0f} {first:>24.2f}")


if __name__ == "__main__":
    main()
