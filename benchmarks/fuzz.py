"""The fuzz harness, run long: many more examples than the test suite tries.

Run from the repository root with the project's interpreter::

    .venv/bin/python benchmarks/fuzz.py --examples 100000 [--run-examples 2000] [-k parse] [--skip renderers]

It runs ``tests/robustness/test_fuzz.py`` (the same properties as the suite:
a correct result or a one-line error, never another exception; nothing runs
after a syntax error) with ``AISH_FUZZ_EXAMPLES`` set, one pytest process
per property so that each gets its own count:

- ``--examples N`` (default 100,000) for the in-process properties: the
  parser and nesting, every TOML value in every config key, config files of
  random bytes, random bytes through the SSE parser into every codec and
  renderer, random event sequences into every renderer;
- ``--run-examples M`` (default N/50) for the properties that run aish
  itself (``aish -c`` lines against the reference server, random bytes piped
  into an agent, script files of random bytes), which cost tens of
  milliseconds each.

It prints, per property, the examples tried, how long it took and its
result, then the totals; the exit status is 1 when a property failed (its
falsifying example is in the output above the table). Use ``nice``: the run
is CPU-bound and long.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = "tests/robustness/test_fuzz.py"
RUNS_AISH = ("test_dash_c", "test_random_bytes_piped", "test_script_files")
"""Properties that run aish itself: they get ``--run-examples``."""


def properties() -> list[str]:
    text = (ROOT / TESTS).read_text(encoding="utf-8")
    return re.findall(r"^def (test_\w+)\(", text, re.MULTILINE)


def run(name: str, examples: int, timeout: float) -> tuple[str, int, float, str]:
    """(result, examples tried, seconds, output) of one property."""
    env = {**os.environ, "AISH_FUZZ_EXAMPLES": str(examples)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics"]
    command += [f"{TESTS}::{name}", "-x"]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return "timeout", 0, time.monotonic() - started, out
    seconds = time.monotonic() - started
    output = done.stdout + done.stderr
    counts = re.findall(r"(\d+) passing, (\d+) failing", output)  # per phase: generate, shrink...
    tried = sum(int(passing) + int(failing) for passing, failing in counts)
    result = "passed" if done.returncode == 0 else "FAILED"
    return result, tried, seconds, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000, help="examples per in-process property")
    parser.add_argument("--run-examples", type=int, help="examples per property that runs aish (default N/50)")
    parser.add_argument("-k", dest="only", default="", help="only properties whose name holds this text")
    parser.add_argument("--skip", default="", help="leave out properties whose name holds this text")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds allowed per property")
    args = parser.parse_args()
    run_examples = args.run_examples or max(1, args.examples // 50)
    rows = []
    failed = False
    for name in properties():
        if args.only not in name or (args.skip and args.skip in name):
            continue
        examples = run_examples if name.startswith(RUNS_AISH) else args.examples
        result, tried, seconds, output = run(name, examples, args.timeout)
        rows.append((name, examples, tried, seconds, result))
        print(f"{name}: {result}, {tried} examples in {seconds:.0f}s", flush=True)
        if result != "passed":
            failed = True
            print(output[-6000:], flush=True)
    print()
    print(f"{'property':<62} {'asked':>8} {'tried':>8} {'seconds':>8}  result")
    for name, examples, tried, seconds, result in rows:
        print(f"{name:<62} {examples:>8} {tried:>8} {seconds:>8.0f}  {result}")
    total = sum(row[2] for row in rows)
    print(f"{'total':<62} {'':>8} {total:>8} {sum(row[3] for row in rows):>8.0f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
