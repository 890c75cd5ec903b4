"""``python -m aish_refserver``: run the reference server until SIGTERM/SIGINT.

Prints exactly one line, ``aish reference server listening on URL``, once
the server accepts connections, and exits 0 quietly on a signal.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .server import RefServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aish_refserver",
        description="aish's OpenAI-compatible reference server (offline demo agents).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port, 0 for any free one (0)")
    parser.add_argument(
        "--pace",
        type=float,
        default=0.025,
        help="seconds between streamed tokens (0.025)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server; return the process exit status."""
    args = _parser().parse_args(argv)
    if args.pace < 0:
        print("--pace must be >= 0", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server = RefServer(host=args.host, port=args.port, pace=args.pace)
    except OSError as exc:
        print(
            f"aish reference server: cannot listen on {args.host}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return 1
    with server:
        print(f"aish reference server listening on {server.base_url}", flush=True)
        while not stop.wait(1.0):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
