"""aish's reference server with a default reply length, for clients that cannot send ``aish_tokens``.

``python benchmarks/refserver_bench.py --port 0 --pace 0 --default-tokens 50000``
behaves exactly like ``python -m aish_refserver`` (same one-line banner, same
replies), except that a chat request *without* the ``aish_tokens`` extension
field is answered as if it had ``"aish_tokens": N``. Requests that carry the
field are untouched. The benchmark needs this for simonw's ``llm``, whose
OpenAI plugin only sends the options it knows (``max_tokens`` only caps the
length, and the natural demo reply is about 60 tokens).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aish_refserver import RefServer, parse_chat_request
from aish_refserver import server as server_module


def install_default_tokens(tokens: int) -> None:
    """Make the server read a missing ``aish_tokens`` as ``tokens``."""

    def parse_with_default(body: object) -> Any:
        if tokens and isinstance(body, Mapping) and "aish_tokens" not in body:
            body = {**body, "aish_tokens": tokens}
        return parse_chat_request(body)

    if not hasattr(server_module, "parse_chat_request"):  # pragma: no cover - refactored server
        raise SystemExit("aish_refserver.server no longer calls parse_chat_request: update refserver_bench.py")
    server_module.parse_chat_request = parse_with_default  # type: ignore[assignment]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pace", type=float, default=0.0)
    parser.add_argument("--default-tokens", type=int, default=0, help="aish_tokens when a request has none")
    args = parser.parse_args(argv)
    install_default_tokens(args.default_tokens)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with RefServer(host=args.host, port=args.port, pace=args.pace) as server:
        print(f"aish reference server listening on {server.base_url}", flush=True)
        while not stop.wait(1.0):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
