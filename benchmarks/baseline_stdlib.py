"""The floor for a Python client: a minimal standard-library streaming client.

``python benchmarks/baseline_stdlib.py URL JSON_BODY`` POSTs the body with
``http.client`` (HTTP/1.1, chunked answers de-chunked by ``read1``), splits
the SSE stream into lines, JSON-parses every ``data:`` line and writes each
read's ``delta.content`` text to stdout, flushed. No error handling beyond an
exit status, no options: the least any Python program must import and do,
so that aish's start-up can be compared with the interpreter's own.

``python benchmarks/baseline_stdlib.py URL JSON_BODY MODULE...`` imports the
named modules first: the floor plus the import of a dependency aish cannot
drop (``pluggy``, which itself imports ``typing`` and ``inspect``).
"""

import json
import sys
from http.client import HTTPConnection
from urllib.parse import urlsplit


def main() -> int:
    url, body = urlsplit(sys.argv[1]), sys.argv[2].encode()
    for module in sys.argv[3:]:
        __import__(module)
    conn = HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=120)
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    conn.request("POST", url.path, body=body, headers=headers)
    response = conn.getresponse()
    if response.status != 200:
        sys.stderr.write(f"HTTP {response.status}\n")
        return 1
    out, loads, rest = sys.stdout, json.loads, b""
    while chunk := response.read1(65536):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        texts = []
        for line in lines:
            if line.startswith(b"data:") and line[5:].strip() != b"[DONE]":
                choices = loads(line[5:]).get("choices")
                if choices and (content := (choices[0].get("delta") or {}).get("content")):
                    texts.append(content)
        if texts:
            out.write("".join(texts))
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
