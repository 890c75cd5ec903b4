"""Helpers every codec needs: the agent's key on a request, reading one event's JSON, explaining an
error body, earlier turns in words, reading a list of models."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aish.agents import AgentConfig
from aish.contracts import Turn
from aish.errors import MalformedEvent

_loads = json.loads


def with_api_key(
    agent: AgentConfig, headers: Mapping[str, str], *, header: str = "Authorization", scheme: str = "Bearer "
) -> tuple[dict[str, str], tuple[str, ...]]:
    """``headers`` plus the agent's API key (``Authorization: Bearer KEY`` by default), and the
    secrets a :class:`~aish.contracts.Request` must keep out of errors: the key, when there is one,
    and the credentials in the agent's URL (:meth:`~aish.AgentConfig.secrets`)."""
    key = agent.api_key()
    if not key:
        return dict(headers), agent.secrets()
    return {**headers, header: f"{scheme}{key}"}, agent.secrets()


def endpoint(url: str, path: str) -> str:
    """The agent's ``url`` with ``path`` (``/chat/completions``, ``/models?limit=100``) added to its
    path: before its query, which is kept (``.../deployments/d?api-version=1`` ->
    ``.../deployments/d/chat/completions?api-version=1``, as Azure OpenAI wants), a fragment dropped."""
    url = url.partition("#")[0]
    base, _, query = url.partition("?")
    path, _, extra = path.partition("?")
    query = "&".join(q for q in (query, extra) if q)
    return base.rstrip("/") + path + ("?" + query if query else "")


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
        if text.startswith("<") and ">" in text:  # an HTML page (a proxy's, a server's default): its words
            text = _html_words(text)
        return text.splitlines()[0].strip()[:200] if text else None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:300]
    for key in ("error", "message", "detail"):
        if isinstance(data.get(key), str):
            return str(data[key])[:300]
    return None


def _html_words(page: str) -> str:
    """The words of an HTML error page on one line: its title, or its text, tags and scripts left out
    (``<html><body><h1>502 Bad Gateway</h1>...`` is ``502 Bad Gateway``)."""
    import html
    import re

    title = re.search(r"<title[^>]*>(.*?)</title>", page, re.I | re.S)
    if title and title.group(1).strip():
        page = title.group(1)
    else:
        page = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", page, flags=re.I | re.S)
        page = re.sub(r"<[^>]*>", " ", page)
    return " ".join(html.unescape(page).split())


def describe_turns(turns: Sequence[Turn], agent: str = "") -> str:
    """A conversation's earlier turns in words, for a dialect that has no messages list (``text``).

    Empty when there are none; otherwise ``Earlier in this conversation:``
    then ``User:`` and ``Assistant:`` (named ``agent`` when given) paragraphs.
    """
    if not turns:
        return ""
    who = f"Assistant ({agent})" if agent else "Assistant"
    lines = ["Earlier in this conversation:"]
    for turn in turns:
        lines.append(f"User: {turn.prompt.rstrip()}")
        lines.append(f"{who}: {turn.answer.rstrip()}")
    return "\n\n".join(lines)


def model_ids(body: str) -> list[str]:
    """The ids of a ``GET /models`` answer (``{"data": [{"id": ...}, ...]}``, OpenAI's and Anthropic's shape).

    Raises :class:`MalformedEvent` for any other body.
    """
    data = json_object(body).get("data")
    if not isinstance(data, list) or not all(isinstance(m, dict) and isinstance(m.get("id"), str) for m in data):
        raise MalformedEvent("not a list of models")
    return [str(m["id"]) for m in data]
