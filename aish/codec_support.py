"""Helpers every codec needs: reading one event's JSON, and explaining an error body."""

from __future__ import annotations

import json
from typing import Any

from aish.errors import MalformedEvent

_loads = json.loads


def json_object(data: str) -> dict[str, Any]:
    """``data`` parsed as a JSON object, or :class:`MalformedEvent` quoting its start."""
    try:
        obj = _loads(data)
    except ValueError:
        raise MalformedEvent(f"malformed event data: {data[:80]!r}") from None
    if type(obj) is not dict:
        raise MalformedEvent(f"malformed event data: {data[:80]!r}")
    return obj


def error_detail(body: str) -> str | None:
    """A readable message from an HTTP error body, or None.

    Understands the usual JSON shapes (``{"error": {"message": ...}}``,
    ``{"error": "..."}``, ``{"message": ...}``, ``{"detail": ...}``); any other
    body gives its first line.
    """
    text = body.strip()
    if not text:
        return None
    try:
        data = _loads(text)
    except ValueError:
        return text.splitlines()[0].strip()[:200] or None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:300]
    for key in ("error", "message", "detail"):
        if isinstance(data.get(key), str):
            return str(data[key])[:300]
    return None
