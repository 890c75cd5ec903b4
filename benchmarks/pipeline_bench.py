"""Pipeline benchmark: parallel fan-out cost, and 100 concurrent streams with flat memory.

Run: ``.venv/bin/python benchmarks/pipeline_bench.py``. Uses the reference
server in-process (paced, so that lanes overlap as they would on a network).

1. Fan-out of 10 agents (``a0 & a1 & ... & a9``) against the slowest of the
   same agents run one at a time: target <= 1.1x.
2. 100 concurrent streams (one parallel group of 100 agents), six rounds:
   every stream completes, and the process's peak memory stays flat after
   the warm-up round.
"""

from __future__ import annotations

import io
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aish.app import build_app
from aish.config import load_config
from aish.runner import Runner
from aish_refserver import RefServer

MODELS = ("apollo", "athena", "hermes")


def config(url: str, count: int) -> str:
    return "".join(
        f'[agents.a{i}]\ntransport = "sse"\ncodec = "openai-chat"\nurl = "{url}"\nmodel = "{MODELS[i % 3]}"\n'
        f"[agents.a{i}.options]\naish_tokens = 60\n"
        for i in range(count)
    )


def runner_for(url: str, count: int, tmp: Path) -> Runner:
    path = tmp / f"c{count}.toml"
    path.write_text(config(url, count))
    return Runner(build_app(load_config(str(path))), out=io.StringIO(), err=io.StringIO())


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory() as tmp, RefServer(pace=0.01) as server:
        runner = runner_for(server.base_url, 10, Path(tmp))
        singles = []
        for i in range(10):
            started = time.monotonic()
            assert runner.run_source(f'a{i} "q"') == 0
            singles.append(time.monotonic() - started)
        slowest = max(singles)
        started = time.monotonic()
        status = runner.run_source("echo q | " + " & ".join(f"a{i}" for i in range(10)))
        fan = time.monotonic() - started
        ratio = fan / slowest
        ok &= status == 0 and ratio <= 1.1
        print(f"fan-out of 10: {fan:.3f}s, slowest single {slowest:.3f}s, ratio {ratio:.2f}x (target <= 1.1x)")

        big = runner_for(server.base_url, 100, Path(tmp))
        line = "echo q | " + " & ".join(f"a{i}" for i in range(100))
        peaks = []
        for round_ in range(6):
            server.requests.clear()  # the server's request log is not aish's memory
            started = time.monotonic()
            status = big.run_source(line)
            complete = sum(1 for r in big.last_results if r.status == "complete")
            peaks.append(rss_mb())
            ok &= status == 0 and complete == 100
            print(
                f"round {round_ + 1}: 100 streams, {complete} complete, "
                f"{time.monotonic() - started:.2f}s, peak RSS {peaks[-1]:.1f} MB"
            )
        growth = peaks[-1] - peaks[1]
        ok &= growth < 5
        print(f"peak RSS growth from round 2 to round 6: {growth:.1f} MB (flat: < 5 MB)")
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
