"""The baseline streaming client: the least a Python program must do.

``python benchmarks/baseline_requests.py URL JSON_BODY`` POSTs the body with
requests (``stream=True``), reads the SSE stream with ``raw.read1`` as the
bytes arrive, JSON-parses every ``data:`` line and writes each batch of
``delta.content`` text to stdout, flushed. No error handling beyond an exit
status: a floor to compare aish with, not a tool.
"""

from __future__ import annotations

import json
import sys

import requests


def main() -> int:
    url, body = sys.argv[1], sys.argv[2]
    out = sys.stdout
    loads = json.loads
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    with requests.post(url, data=body.encode(), headers=headers, stream=True, timeout=(10, 120)) as response:
        if response.status_code != 200:
            sys.stderr.write(f"HTTP {response.status_code}\n")
            return 1
        read1 = response.raw.read1
        rest = b""
        for chunk in iter(lambda: read1(65536), b""):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            texts = []
            for line in lines:
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    continue
                choices = loads(data).get("choices")
                if choices:
                    content = (choices[0].get("delta") or {}).get("content")
                    if content:
                        texts.append(content)
            if texts:
                out.write("".join(texts))
                out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
