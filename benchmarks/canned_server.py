"""An HTTP server that answers every POST with the same reply, from memory.

``python benchmarks/canned_server.py REPLY_FILE`` prints one line,
``canned server listening on http://127.0.0.1:PORT/v1``, then serves until
terminated: each POST (any path, any body, kept-alive connections) gets
``200``, ``Content-Type: text/event-stream`` and the bytes of REPLY_FILE.

The history benchmark (``history_bench.py``) uses it at pace 0 with a reply
captured once from the reference server: the server then does no work per
request, so a run takes as long as aish needs to read it (the worst case
for recording's share), and the figures are free of the reference server's
own variation (generating 10,000 events takes it 35-43 ms, quartiles by
curl, which is more than the 1% being measured).
"""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def make_handler(reply: bytes) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    return Handler


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: canned_server.py REPLY_FILE", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(Path(argv[0]).read_bytes()))
    server.daemon_threads = True
    print(f"canned server listening on http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
    server.serve_forever()  # until terminated
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
