"""SSE conformance and speed: aish's own parser against sseclient-py 1.9.

Run from the repository root::

    .venv/bin/python benchmarks/sse_conformance.py [--runs 5] [--events 50000]

Part 1 feeds the same WHATWG "event stream interpretation" cases to
``aish.kit.sse.SSEParser`` and to ``sseclient.SSEClient(chunks).events()``
and prints a markdown table, pass/fail per parser.

What is compared is what a caller can observe from each library: the dispatched
messages as (event type, data, id), and the reconnection time the stream asked
for (``SSEParser.retry``; for sseclient-py the last ``Event.retry`` seen,
counted as right when it is the expected number written in ASCII digits).
sseclient-py's empty ids are read as "no id", like ours. Comments are compared
only in the one case marked as an aish extension (the spec ignores them).

Part 2 is the micro-benchmark: 50,000 tiny OpenAI-style chunks fed in 64 KiB
pieces, events per second, median of 5 runs each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aish.kit.sse import SSEParser
from aish.wire import WireComment, WireMessage

Message = tuple[str, str, str | None]  # (event type, data, id)
# (messages, retry, comments or None when comments are not compared)
Observation = tuple[tuple[Message, ...], int | str | None, tuple[str, ...] | None]

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Case:
    name: str
    chunks: tuple[bytes, ...]
    messages: tuple[Message, ...]
    retry: int | None = None
    comments: tuple[str, ...] | None = None  # compared only when not None

    @property
    def expected(self) -> Observation:
        return self.messages, self.retry, self.comments


def m(data: str, event: str = "message", id: str | None = None) -> Message:
    return (event, data, id)


CASES: list[Case] = [
    Case("LF line endings", (b"data: a\n\ndata: b\n\n",), (m("a"), m("b"))),
    Case("CRLF line endings", (b"data: a\r\n\r\ndata: b\r\n\r\n",), (m("a"), m("b"))),
    Case("CR line endings", (b"data: a\r\rdata: b\r\r",), (m("a"), m("b"))),
    Case("[1] blank line as LF CRLF", (b"data: a\n\r\ndata: b\n\n",), (m("a"), m("b"))),
    Case("[1] blank line as CR CRLF", (b"data: a\r\r\ndata: b\n\n",), (m("a"), m("b"))),
    Case("CRLF split across chunks", (b"data: a\r", b"\ndata: b\r\n\r\n"), (m("a\nb"),)),
    Case(
        "event split at every chunk",
        tuple(bytes([c]) for c in b"data: ab\n\n"),
        (m("ab"),),
    ),
    Case("data lines joined with LF", (b"data: a\ndata:\ndata: b\n\n",), (m("a\n\nb"),)),
    Case("'data' with no colon", (b"data\n\ndata\ndata\n\n",), (m(""), m("\n"))),
    Case("'data:' with no space", (b"data:x\n\ndata:  y\n\n",), (m("x"), m(" y"))),
    Case(
        "event type, reset after dispatch",
        (b"event: delta\ndata: 1\n\ndata: 2\n\n",),
        (m("1", "delta"), m("2")),
    ),
    Case("unknown fields ignored", (b"foo: 1\nDATA: 2\ndata: 3\n\n",), (m("3"),)),
    Case("comments ignored inside event", (b": hi\ndata: a\n: ho\n\n",), (m("a"),)),
    Case("[2] retry-only event", (b"retry: 1500\n\ndata: a\n\n",), (m("a"),), 1500),
    Case("[2] invalid retry ignored", (b"retry: soon\ndata: a\n\n",), (m("a"),)),
    Case(
        "[3] id carries over to later events",
        (b"id: 1\ndata: a\n\ndata: b\n\n",),
        (m("a", id="1"), m("b", id="1")),
    ),
    Case("[4] id-only event sets the id", (b"id: 9\n\ndata: b\n\n",), (m("b", id="9"),)),
    Case(
        "[5] id with NUL ignored",
        (b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",),
        (m("a", id="1"), m("b", id="1")),
    ),
    Case(
        "empty id clears it",
        (b"id: 1\ndata: a\n\nid\ndata: b\n\n",),
        (m("a", id="1"), m("b")),
    ),
    Case("[6] leading BOM stripped", (BOM + b"data: a\n\ndata: b\n\n",), (m("a"), m("b"))),
    Case("[6] BOM split across chunks", (BOM[:1], BOM[1:] + b"data: a\n\n"), (m("a"),)),
    Case("BOM stripped only once", (BOM + BOM + b"data: a\n\ndata: b\n\n",), (m("b"),)),
    Case(
        "[7] invalid UTF-8 -> U+FFFD",
        (b"data: a\xffb\n\ndata: c\n\n",),
        (m("a\ufffdb"), m("c")),
    ),
    Case("UTF-8 char split across chunks", (b"data: \xe2\x82", b"\xac\n\n"), (m("€"),)),
    Case("[8] unterminated event discarded", (b"data: a\n\ndata: b\n",), (m("a"),)),
    Case("[8] partial line discarded", (b"data: a\n\ndata: b",), (m("a"),)),
    Case(
        "[9] comments visible (aish extension)",
        (b": ping\ndata: a\n\n:pong\n",),
        (m("a"),),
        comments=("ping", "pong"),
    ),
]


def observe_ours(case: Case) -> Observation:
    parser = SSEParser()
    items: list[WireMessage | WireComment] = []
    for chunk in case.chunks:
        items += parser.feed(chunk)
    items += parser.close()
    messages = tuple((i.event, i.data, i.id) for i in items if isinstance(i, WireMessage))
    comments = tuple(i.text for i in items if isinstance(i, WireComment))
    return messages, parser.retry, comments if case.comments is not None else None


def observe_sseclient(case: Case) -> Observation | str:
    import sseclient

    try:
        events = list(sseclient.SSEClient(iter(case.chunks)).events())
    except Exception as exc:
        return f"raised {type(exc).__name__}"
    messages = tuple((e.event, e.data, e.id or None) for e in events)
    raw = [e.retry for e in events if e.retry is not None]
    retry: int | str | None = raw[-1] if raw else None
    if isinstance(retry, str) and retry.isascii() and retry.isdigit():
        retry = int(retry)
    return messages, retry, () if case.comments is not None else None


def describe(obs: Observation | str) -> str:
    if isinstance(obs, str):
        return obs
    messages, retry, comments = obs
    parts = []
    for event, data, ident in messages:
        text = repr(data)
        if event != "message":
            text = f"{event}:{text}"
        if ident is not None:
            text += f"#{ident!r}"
        parts.append(text)
    out = "[" + ", ".join(parts) + "]"
    if retry is not None:
        out += f" retry={retry!r}"
    if comments is not None:
        out += f" comments={list(comments)}"
    return out.replace("|", "\\|")


def conformance() -> tuple[int, int]:
    print("| case | expected | ours | sseclient-py 1.9 |")
    print("|---|---|---|---|")
    ours_ok = theirs_ok = 0
    notes = []
    for case in CASES:
        ours = observe_ours(case)
        theirs = observe_sseclient(case)
        ok1, ok2 = ours == case.expected, theirs == case.expected
        ours_ok += ok1
        theirs_ok += ok2
        if not ok2:
            notes.append(f"- {case.name}: sseclient-py gave {describe(theirs)}")
        if not ok1:
            notes.append(f"- {case.name}: ours gave {describe(ours)}")
        cells = [
            case.name,
            describe(case.expected),
            *("pass" if ok else "FAIL" for ok in (ok1, ok2)),
        ]
        print("| " + " | ".join(cells) + " |")
    n = len(CASES)
    print(f"| **total** | {n} cases | **{ours_ok}/{n}** | **{theirs_ok}/{n}** |")
    print("\n[n] = deviation n of sseclient-py in docs/decisions.md.\n")
    print("\n".join(notes))
    return ours_ok, theirs_ok


CHUNK = b'data: {"choices":[{"delta":{"content":"x"}}]}\n\n'


def run_ours(pieces: Sequence[bytes]) -> int:
    parser = SSEParser()
    n = 0
    for piece in pieces:
        n += len(parser.feed(piece))
    parser.close()
    return n


def run_sseclient(pieces: Sequence[bytes]) -> int:
    import sseclient

    n = 0
    for _ in sseclient.SSEClient(iter(pieces)).events():
        n += 1
    return n


def bench(events: int, runs: int, piece: int = 64 * 1024) -> dict[str, float]:
    stream = CHUNK * events
    pieces = [stream[i : i + piece] for i in range(0, len(stream), piece)]
    impls: dict[str, Callable[[Sequence[bytes]], int]] = {
        "ours (SSEParser)": run_ours,
        "sseclient-py 1.9": run_sseclient,
    }
    print(f"\n{events:,} events of {len(CHUNK)} bytes ({len(stream):,} bytes)")
    print(f"fed in {len(pieces)} pieces of {piece:,} bytes; median of {runs} runs\n")
    print("| parser | events/s (median) | min..max | µs/event |")
    print("|---|---:|---:|---:|")
    medians: dict[str, float] = {}
    for name, fn in impls.items():
        rates = []
        for _ in range(runs):
            t0 = time.perf_counter()
            got = fn(pieces)
            rates.append(got / (time.perf_counter() - t0))
            assert got == events, (name, got)
        med = medians[name] = statistics.median(rates)
        print(f"| {name} | {med:,.0f} | {min(rates):,.0f}..{max(rates):,.0f} | {1e6 / med:.2f} |")
    a, b = medians.values()
    print(f"\nours / sseclient-py = {a / b:.1f}x")
    return medians


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--piece", type=int, default=64 * 1024, help="bytes per feed")
    args = ap.parse_args(argv)
    print(f"Python {sys.version.split()[0]}\n")
    ours_ok, _ = conformance()
    bench(args.events, args.runs, args.piece)
    return 0 if ours_ok == len(CASES) else 1


if __name__ == "__main__":
    raise SystemExit(main())
