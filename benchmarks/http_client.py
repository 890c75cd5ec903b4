"""One streamed POST with one HTTP stack, the body copied raw to stdout as it arrives.

``python benchmarks/http_client.py STACK URL JSON_BODY``, STACK one of
``stdlib`` (a minimal ``http.client`` client: the start-up floor),
``aish`` (aish's SSE transport client, ``aish_sse.http11.HTTPStream``, its own HTTP/1.1 on ``socket``),
``urllib3`` and ``requests`` (``stream=True``). Every stack reads with
``read1`` (bytes as they arrive) and writes each read to stdout, flushed: no
SSE parsing, so only the HTTP stack differs. The last lines on stderr are
``pre_ms=N``, the time spent importing what aish imports on every run
whatever its HTTP stack (its plugin package and error tree; 0 for the
others), and ``import_ms=N``, the time the stack's own import took after that.
"""

from __future__ import annotations

import sys
import time
from urllib.parse import urlsplit

HEADERS = {"Content-Type": "application/json", "Accept": "text/event-stream"}


def main() -> int:
    stack, url, body = sys.argv[1], sys.argv[2], sys.argv[3].encode()
    out = sys.stdout.buffer
    begun = time.perf_counter()
    if stack == "aish":  # what aish has imported on every run before its transport, whatever its HTTP stack
        import aish_sse  # noqa: F401  (the plugin package: aish, pluggy, the contracts)
        from aish import ConfigError, HTTPStatusError, MalformedEvent, __version__  # noqa: F401  (the error tree)
    started = time.perf_counter()
    if stack == "stdlib":
        import http.client

        imported = time.perf_counter()
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        conn.request("POST", parts.path, body, HEADERS)
        response = conn.getresponse()
        read = response.read1
    elif stack == "aish":
        from aish_sse.http11 import HTTPStream

        imported = time.perf_counter()
        stream = HTTPStream(url, connect_timeout=30, idle_timeout=30)
        stream.open("POST", body, HEADERS)
        read = stream.read
    elif stack == "urllib3":
        import urllib3

        imported = time.perf_counter()
        pool = urllib3.PoolManager()
        raw = pool.request("POST", url, body=body, headers=HEADERS, preload_content=False, timeout=30)
        read = raw.read1
    elif stack == "requests":
        import requests

        imported = time.perf_counter()
        resp = requests.post(url, data=body, headers=HEADERS, stream=True, timeout=30)
        read = resp.raw.read1
    else:
        sys.stderr.write(f"unknown stack {stack!r}\n")
        return 2
    while data := read(65536):
        out.write(data)
        out.flush()
    sys.stderr.write(f"pre_ms={(started - begun) * 1000:.2f}\n")
    sys.stderr.write(f"import_ms={(imported - started) * 1000:.2f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
