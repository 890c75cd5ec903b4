"""The stream layer's own costs: resuming after a dropped connection, and CPU per event.

Run from the repository root with the project's interpreter::

    .venv/bin/python benchmarks/stream_bench.py [--runs 15] [--only resume,cpu,e2e]

(resume) time from a dropped connection to the first resumed token. The
         reference server drops the stream after 20 events, with ``retry: R``
         and resume on; the figure is the time from the server's drop to the
         arrival of the first token of the resumed connection at the consumer
         (same clock: the server runs in-process). Target: R + under 50 ms.
(cpu)    CPU time per event of 50,000 tiny OpenAI chunks (the reference
         server's exact bytes, fed in 64 KiB pieces, no network): the bare SSE
         parser, parser + openai-chat decoder, and the whole stream layer
         (AgentStream over an in-memory transport, with and without the
         heartbeat watchdog). The layer's own cost is the difference between
         the last two and parser + decoder.
(e2e)    50,000 chunks from the reference server over loopback, in-process:
         AgentStream + SSE transport + watchdog, events per second.

Every figure is the median of ``--runs`` runs (min..max shown). The exit
status is 0 whatever the figures are: it is a report.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "plugins")]

from aish import AgentConfig, Context, Event, Prompt, Request, TextDelta, WireItem  # noqa: E402
from aish.kit.sse import SSEParser  # noqa: E402
from aish.stream import AgentStream, with_extensions  # noqa: E402
from aish_heartbeat.watchdog import LivenessWatchdog  # noqa: E402
from aish_openai.codec import OpenAIChatCodec  # noqa: E402
from aish_refserver import RefServer  # noqa: E402
from aish_refserver.demo_text import plan_reply  # noqa: E402
from aish_refserver.protocol import DONE_EVENT, ChunkEncoder  # noqa: E402
from aish_sse.transport import SSETransport  # noqa: E402

EVENTS = 50_000
PIECE = 65536
DROP_AFTER = 20
RETRY_DELAYS_MS = (0, 100, 250)
TARGET_RESUME_MS = 50.0
PROMPT = "tell me about owls"


def agent(url: str, **kw: object) -> AgentConfig:
    return AgentConfig(name="bench", transport="sse", url=url, codec="openai-chat", model="athena", **kw)  # type: ignore[arg-type]


def median_range(values: Sequence[float]) -> str:
    return f"{statistics.median(values):9.3f}  ({min(values):.3f}..{max(values):.3f})"


# ------------------------------------------------------------------ resume


def resume_once(server: RefServer, retry_ms: int) -> float:
    """Seconds from the server's drop to the first resumed token at the consumer."""
    fault = {"drop_after": DROP_AFTER, "resume": True, "retry": retry_ms}
    the_agent = agent(server.base_url, backoff_max=5.0, options={"aish_tokens": 40, "aish_fault": fault})
    arrivals: list[float] = []

    def sink(event: Event) -> None:
        if type(event) is TextDelta:
            arrivals.append(time.monotonic())

    server.fault_log.clear()
    transport = with_extensions(SSETransport(the_agent), [LivenessWatchdog(the_agent.idle_timeout)])
    try:
        result = AgentStream(the_agent, transport, OpenAIChatCodec(the_agent)).run(
            Prompt(PROMPT, Context("bench")), sink, lambda: None
        )
    finally:
        transport.close()
    assert result.status == "complete", result.error
    dropped = next(at for kind, at in server.fault_log if kind == "drop")
    return arrivals[DROP_AFTER - 1] - dropped  # tokens 1..19 came before the drop (event 0 is the role)


def bench_resume(runs: int) -> None:
    print(f"\n(resume) dropped connection -> first resumed token, median of {runs} (ms)")
    head = f"{'retry: (ms)':>12}  {'measured':>9}  {'min..max':>16}  {'over retry':>10}"
    print(f"{head}  target (+{TARGET_RESUME_MS:g} ms)")
    with RefServer(pace=0.0) as server:
        for retry_ms in RETRY_DELAYS_MS:
            resume_once(server, retry_ms)  # warm-up
            samples = [resume_once(server, retry_ms) * 1000 for _ in range(runs)]
            med = statistics.median(samples)
            verdict = "PASS" if med - retry_ms < TARGET_RESUME_MS else "FAIL"
            span = f"{min(samples):.1f}..{max(samples):.1f}"
            print(f"{retry_ms:>12}  {med:9.1f}  {span:>16}  {med - retry_ms:10.1f}  {verdict}")


# --------------------------------------------------------------------- cpu


def stream_bytes(events: int = EVENTS) -> list[bytes]:
    """The reference server's SSE bytes for an answer of ``events`` tokens, in 64 KiB pieces."""
    encoder = ChunkEncoder("athena")
    plan = plan_reply("athena", PROMPT, exact_tokens=events)
    body = b"".join([encoder.role_event(), *map(encoder.content_event, plan.tokens())])
    body += encoder.finish_event("stop") + DONE_EVENT
    return [body[i : i + PIECE] for i in range(0, len(body), PIECE)]


class MemoryConnection:
    """A connection over bytes already in memory: one batch per piece, as one network read each."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    def __iter__(self) -> Iterator[Sequence[WireItem]]:
        feed = SSEParser().feed
        for piece in self.pieces:
            items = feed(piece)
            if items:
                yield items

    def cancel(self) -> None:
        """Nothing blocks."""

    def close(self) -> None:
        """Nothing to release."""


class MemoryTransport:
    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    def open(self, request: Request) -> MemoryConnection:
        return MemoryConnection(self.pieces)

    def close(self) -> None:
        """Nothing to release."""


def cpu_of(work: Callable[[], int]) -> tuple[float, int]:
    gc.collect()
    started = time.process_time()
    count = work()
    return time.process_time() - started, count


def bench_cpu(runs: int) -> None:
    pieces = stream_bytes()
    the_agent = agent("memory://", idle_timeout=60.0)
    codec = OpenAIChatCodec(the_agent)

    def bare() -> int:
        feed = SSEParser().feed
        return sum(len(feed(piece)) for piece in pieces)

    def decoded() -> int:
        feed, decode = SSEParser().feed, codec.decoder().decode
        count = 0
        for piece in pieces:
            for item in feed(piece):
                count += len(decode(item))  # type: ignore[arg-type]
        return count

    def decoded_batches() -> int:
        feed, decode_many = SSEParser().feed, codec.decoder().decode_many
        count = 0
        for piece in pieces:
            events = decode_many(feed(piece))
            assert events is not None
            count += len(events)
        return count

    def layer(watchdog: bool) -> Callable[[], int]:
        def run() -> int:
            seen = [0]

            def sink(event: Event) -> None:
                seen[0] += 1

            extensions = [LivenessWatchdog(60.0)] if watchdog else []
            transport = with_extensions(MemoryTransport(pieces), extensions)
            result = AgentStream(the_agent, transport, codec).run(Prompt(PROMPT, Context("b")), sink, lambda: None)
            assert result.status == "complete" and result.deltas == EVENTS, result.error
            return seen[0]

        return run

    rows = [("bare SSE parser", bare), ("parser + decoder, per message", decoded)]
    rows += [("parser + decoder, per batch", decoded_batches)]
    rows += [("stream layer (AgentStream)", layer(False)), ("stream layer + heartbeat watchdog", layer(True))]
    print(f"\n(cpu) {EVENTS:,} tiny OpenAI chunks in {len(pieces)} pieces of 64 KiB, CPU time, median of {runs}")
    print(f"{'':36}{'us/event':>9}  {'(min..max)':>16}  {'events/s':>10}  {'layer only':>10}")
    samples: dict[str, list[float]] = {name: [] for name, _ in rows}
    for round_ in range(runs + 1):  # interleaved, so that background load hits every row alike
        for name, work in rows:
            seconds, count = cpu_of(work)
            if round_:  # round 0 warms up
                samples[name].append(seconds / max(count, 1) * 1e6)
    base = statistics.median(samples[rows[2][0]])  # the layer decodes per batch (decode_many)
    for name, _ in rows:
        med = statistics.median(samples[name])
        own = f"{med - base:10.3f}" if name.startswith("stream layer") else ""
        print(f"{name:36}{median_range(samples[name])}  {1e6 / med:10,.0f}  {own}")


# --------------------------------------------------------------------- e2e


def bench_e2e(runs: int) -> None:
    print(f"\n(e2e) {EVENTS:,} chunks over loopback, in-process, median of {runs}")
    rates = []
    with RefServer(pace=0.0) as server:
        the_agent = agent(server.base_url, options={"aish_tokens": EVENTS})
        for i in range(runs + 1):
            first: list[float] = []

            def sink(event: Event, first: list[float] = first) -> None:
                if not first and type(event) is TextDelta:
                    first.append(time.monotonic())

            transport = with_extensions(SSETransport(the_agent), [LivenessWatchdog(the_agent.idle_timeout)])
            try:
                result = AgentStream(the_agent, transport, OpenAIChatCodec(the_agent)).run(
                    Prompt(PROMPT, Context("b")), sink, lambda: None
                )
            finally:
                transport.close()
            end = time.monotonic()
            assert result.deltas == EVENTS, result.error
            if i:  # the first run warms up
                rates.append(EVENTS / (end - first[0]))
    print(f"{'events/s while streaming':36}{statistics.median(rates):10,.0f}  ({min(rates):,.0f}..{max(rates):,.0f})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", default="resume,cpu,e2e", help="comma-separated: resume, cpu, e2e")
    args = parser.parse_args(argv)
    sections = {s.strip() for s in args.only.split(",")}
    print(f"python {sys.version.split()[0]}; stream layer benchmark; {args.runs} runs per figure")
    if "resume" in sections:
        bench_resume(args.runs)
    if "cpu" in sections:
        bench_cpu(args.runs)
    if "e2e" in sections:
        bench_e2e(max(3, args.runs // 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
