"""The markdown renderer's live region: what a redraw costs while a long block streams, and
how fast a fast server's stream goes through it.

1. A 10 KB fenced Python block and a 10 KB paragraph sent as one line arrive in reads of 8
   characters, with a redraw after each read (``frame=0``). Beside aish's live region
   (decision 99: the end of the block, laid out from what an 80x24 screen holds) the baseline
   lays out the whole block at every redraw, as it did before. Figures: the median of
   ``--runs`` runs of the whole stream, and the median cost of the last 100 redraws (where the
   block is longest).
2. The code block from a server that sends 8 characters every millisecond (10 KB in 1.25 s,
   about the pace of llama.cpp's tiny model): what has arrived is read and the stream layer
   calls ``flush``, as over a socket, where reads made late take all that came meanwhile. With
   redraws at most one a frame (decision 100) beside a redraw at every read (before it).
   Figures: the median time to the end of the stream (the server's pace is its floor: late
   reads catch up), and the CPU time the renderer took meanwhile, the ticker's thread's
   included, as a share of one core: on a machine with few cores that is taken from the
   server (llama.cpp's tiny model streamed 1,500 tokens in 3.1 s redrawn at every read,
   in 1.6 s with ``plain``).

    .venv/bin/python benchmarks/render_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins"))

from aish_markdown import live  # noqa: E402
from aish_markdown.live import LiveMarkdown  # noqa: E402

READ = 8
CODE = "Here is the code:\n\n```python\n" + (ROOT / "aish" / "runner.py").read_text()[:10_000] + "\n```\n\nDone.\n"
PROSE = "A paragraph sent as one line: " + " ".join(f"word{i % 97} and more" for i in range(1_000)) + "\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def stream(text: str) -> tuple[float, float]:
    """The whole stream's time, and the median cost of its last 100 redraws (seconds)."""
    view = LiveMarkdown(_Terminal(), frame=0)
    costs = []
    began = time.perf_counter()
    for at in range(0, len(text), READ):
        view.append(text[at : at + READ])
        start = time.perf_counter()
        view.refresh()
        costs.append(time.perf_counter() - start)
    view.close()
    return time.perf_counter() - began, statistics.median(costs[-100:])


def paced(text: str, frame: float, gap: float = 0.001) -> tuple[float, float]:
    """Seconds until the whole of ``text`` is read, READ characters arriving every ``gap`` seconds,
    and the process's CPU seconds meanwhile."""
    view = LiveMarkdown(_Terminal(), frame=frame)
    taken = 0
    cpu = time.process_time()
    began = time.perf_counter()
    while taken < len(text):
        arrived = min(len(text), (int((time.perf_counter() - began) / gap) + 1) * READ)
        if arrived <= taken:
            time.sleep(max(0.0, began + (taken // READ) * gap - time.perf_counter()))
            continue
        view.append(text[taken:arrived])
        taken = arrived
        view.refresh()
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu
    view.close()
    return elapsed, cpu


def whole_block(text: str, rows: int, width: int) -> str:
    """The baseline: the live region laid out from the whole block."""
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(COLUMNS="80", LINES="24")
    windowed = live.live_window
    print(f"{'stream':<34}{'live region':<22}{'whole stream':>14}{'a redraw, last 100':>20}")
    for name, text in (("10 KB code block, 8-char reads", CODE), ("10 KB one-line paragraph", PROSE)):
        rows = {}
        for label, window in (("aish (end of block)", windowed), ("baseline (whole block)", whole_block)):
            live.live_window = window  # type: ignore[assignment]
            runs = [stream(text) for _ in range(args.runs)]
            total = statistics.median(r[0] for r in runs)
            redraw = statistics.median(r[1] for r in runs)
            rows[label] = (total, redraw)
            print(f"{name:<34}{label:<22}{total:>13.2f}s{redraw * 1000:>18.1f} ms")
        (a_total, a_redraw), (b_total, b_redraw) = rows.values()
        print(f"{'':<34}{'aish / baseline':<22}{a_total / b_total:>13.2f}x{a_redraw / b_redraw:>19.2f}x")
    live.live_window = windowed
    print()
    floor = len(CODE) / READ * 0.001
    print(f"{'a server sending 8 chars a ms':<34}{'redraws':<22}{'whole stream':>14}{'CPU, share of a core':>22}")
    cpus = {}
    for label, frame in (("aish (one a frame)", live.FRAME), ("baseline (every read)", 0.0)):
        runs = [paced(CODE, frame) for _ in range(args.runs)]
        total = statistics.median(r[0] for r in runs)
        cpus[label] = share = statistics.median(r[1] / r[0] for r in runs)
        print(f"{'10 KB code block':<34}{label:<22}{total:>13.2f}s{share:>21.0%}")
    print(f"{'':<34}{'the server own pace':<22}{floor:>13.2f}s")
    aish, baseline = cpus.values()
    print(f"{'':<34}{'aish / baseline':<22}{'':>14}{aish / baseline:>21.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
