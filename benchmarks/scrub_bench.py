"""Scrubbing a long text with an agent's key set: the plain-search pre-checks against the
regular expressions alone (what ``aish.scrub`` did before; a piped 54 MB took 10 s).

    .venv/bin/python benchmarks/scrub_bench.py [--mib N] [--rounds R]

Figure: seconds per scrub of N MiB of lorem ipsum (no key in it; then with ``...`` and ``**``
in it, which the mask pre-check lets through), median over the rounds, both ways interleaved.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from aish import scrub
from aish.scrub import MASK, Scrubber

KEY = "sk-tourb-0123456789abcdef"


def regex_only(scrubber: Scrubber, text: str) -> str:
    assert scrubber._exact is not None
    text = scrubber._exact.sub(MASK, text)
    return scrubber._unmask(text) if scrub._mask_run().search(text) else text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=54)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    line = "lorem ipsum dolor sit amet " * 4 + "\n"
    plain = line * (args.mib * (1 << 20) // len(line))
    marked = plain + "wait... **this** is it\n"
    scrubber = Scrubber([KEY])
    for name, text in (("no mask characters", plain), ("with '...' and '**'", marked)):
        times: dict[str, list[float]] = {"pre-checks": [], "regex only": []}
        for _ in range(args.rounds):
            for way, scrub_it in (("pre-checks", scrubber), ("regex only", lambda t: regex_only(scrubber, t))):
                start = time.perf_counter()
                assert scrub_it(text) == text
                times[way].append(time.perf_counter() - start)
        fast, slow = (statistics.median(times[w]) for w in ("pre-checks", "regex only"))
        print(f"{args.mib} MiB, {name}: pre-checks {fast:.3f} s, regex only {slow:.3f} s ({slow / fast:.1f}x)")


if __name__ == "__main__":
    re.purge()
    main()
