"""Peak memory of reading history back over runs with a big piped input (decision 33).

    .venv/bin/python benchmarks/history_memory.py [--size MIB] [--count N] [--rounds R] [--before REV]

Each round, for each backend (``sqlite``, ``jsonl``) and each code version (this tree, and with
``--before REV`` the tree of that git revision, unpacked into ``benchmarks/.work/``; ``--after REV``
measures that revision's tree instead of the working tree): a fresh
store, ``aish athena < input`` COUNT times (SIZE MiB of text piped in; one-shot runs, so each
writes a journal), then ``aish history`` (which first applies the journals: the fold), ``aish
history`` again (the listing alone), ``aish history search athena`` (matching every run),
``aish history search zzqqxx`` (matching none), ``aish history show 1``, ``aish history export
--jsonl`` and ``aish history export``; beside ``aish history`` over an empty store. Figure: each
command's peak RSS (its own ``VmHWM``, not its parent's), median over the rounds. The demo agent
answers from a reference server in this process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]
from aish.testing import AISH_WITH_PEAK  # noqa: E402

LINE = "the quick brown fox jumps over the lazy dog, again and again; " * 2 + "\n"
COMMANDS = [
    ("history, empty store", ["history"]),
    ("history (applies the journals: the fold)", ["history"]),
    ("history", ["history"]),
    ("history search athena (every run)", ["history", "search", "athena"]),
    ("history search zzqqxx (none)", ["history", "search", "zzqqxx"]),
    ("history show 1", ["history", "show", "1"]),
    ("history export --jsonl", ["history", "export", "--jsonl"]),
    ("history export", ["history", "export"]),
]


def peak_mib(args: list[str], env: dict[str, str], stdin: Path | None = None) -> float:
    with open(stdin or os.devnull, "rb") as piped:
        done = subprocess.run(
            [sys.executable, "-c", AISH_WITH_PEAK, *args],
            stdin=piped,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            timeout=900,
            check=False,
        )
    err = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        raise RuntimeError(f"aish {' '.join(args)}: exit {done.returncode}: {err[-500:]}")
    return int(err.rsplit("VmHWM ", 1)[1].split()[0]) / 1024


def unpack(rev: str) -> Path:
    """The tree of ``rev``, unpacked once into benchmarks/.work/tree-REV."""
    sha = subprocess.run(["git", "rev-parse", rev], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    target = WORK / f"tree-{sha.strip()[:12]}"
    if not target.is_dir():
        building = target.with_suffix(".building")
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(building)], input=archive, check=True)
        building.rename(target)
    return target


def one_round(name: str, tree: Path | None, backend: str, piped: Path, count: int, url: str) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix=f"hmem-{backend}-", dir=WORK))
    try:
        config = home / "config.toml"
        config.write_text(f'[settings]\nhistory = "{backend}"\n', encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AISH_", "XDG_"))}
        env.update(AISH_DEMO_URL=url, AISH_CONFIG=str(config))
        for var in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
            env[var] = str(home / var.lower())
        if tree is not None:
            env["PYTHONPATH"] = f"{tree}{os.pathsep}{tree / 'plugins'}"
        peak_mib(["history"], env)  # builds the entry-point cache: not what is measured
        found = {COMMANDS[0][0]: peak_mib(COMMANDS[0][1], env)}
        for _ in range(count):
            peak_mib(["athena"], env, piped)
        for label, args in COMMANDS[1:]:
            found[label] = peak_mib(args, env)
        return found
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", type=int, default=20, help="MiB piped into each run (20)")
    parser.add_argument("--count", type=int, default=10, help="runs stored (10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, interleaved (3)")
    parser.add_argument("--before", help="also measure the tree of this git revision")
    parser.add_argument("--after", help="measure the tree of this git revision, not the working tree")
    args = parser.parse_args()
    from aish_refserver import RefServer

    WORK.mkdir(parents=True, exist_ok=True)
    piped = WORK / f"history-memory-{args.size}.txt"
    size = args.size << 20
    if not piped.exists() or piped.stat().st_size != size // len(LINE) * len(LINE):
        piped.write_text(LINE * (size // len(LINE)), encoding="utf-8")
    versions: list[tuple[str, Path | None]] = [
        (f"after ({args.after})", unpack(args.after)) if args.after else ("after", None)
    ]
    if args.before:
        versions.insert(0, (f"before ({args.before})", unpack(args.before)))
    samples: dict[tuple[str, str, str], list[float]] = {}
    server = RefServer(pace=0.0).start()
    try:
        for i in range(args.rounds):
            for backend in ("sqlite", "jsonl"):
                for name, tree in versions:
                    print(f"\r  round {i + 1}/{args.rounds}: {backend}, {name}   ", end="", file=sys.stderr, flush=True)
                    for label, value in one_round(name, tree, backend, piped, args.count, server.base_url).items():
                        samples.setdefault((backend, name, label), []).append(value)
    finally:
        server.stop()
    print(file=sys.stderr)
    mib = piped.stat().st_size / 2**20
    print(f"peak RSS (MiB, median of {args.rounds}), {args.count} runs of {mib:.1f} MiB piped in")
    header = [f"{backend} {name}" for backend in ("sqlite", "jsonl") for name, _ in versions]
    print("| command | " + " | ".join(header) + " |")
    print("|---" * (len(header) + 1) + "|")
    for label, _ in COMMANDS:
        cells = [
            f"{statistics.median(samples[(backend, name, label)]):.1f}"
            for backend in ("sqlite", "jsonl")
            for name, _ in versions
        ]
        print(f"| `aish {label}` | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
