"""Failures reworded for the user: one line, naming the agent, never a secret."""

from __future__ import annotations

import os
from collections.abc import Sequence

from aish.agents import AgentConfig
from aish.contracts import Codec
from aish.errors import AishError, HTTPStatusError, StreamFailure
from aish.scrub import scrubber

_WHAT = {
    400: "request rejected (context too long?)",
    401: "authentication failed",
    403: "access denied (authentication failed)",
    407: "proxy authentication required",
    404: "not found (check the agent's url)",
    408: "request timed out",
    413: "request too large (context too long?)",
    429: "rate limited",
}


_CODEC_PATHS = ("/chat/completions", "/messages", "/completions")
"""Paths the built-in codecs append to an agent's url (OpenAI's and Anthropic's first)."""
_ENDPOINTS = (*_CODEC_PATHS, "/v1")
"""Paths a codec appends to an agent's url, which a url copied from an API's docs often ends with already."""
_FORMATS = _CODEC_PATHS[:2]
"""OpenAI's and Anthropic's paths: one after the other, the url was meant for the other codec."""


def explain(
    agent: str, exc: StreamFailure, codec: Codec, secrets: Sequence[str], why: str = "", *, unset_key: str | None = None
) -> AishError:
    """``exc`` as the user sees it: the agent's name first, HTTP bodies read by the codec, secrets scrubbed.

    ``why`` (e.g. ``gave up after 3 retries``) is appended after a ``;``. ``unset_key``: the
    environment variable the agent's key comes from, when it is not set or empty: a refused
    authentication says which (else an unset variable reads exactly like a wrong key).
    """
    scrub = scrubber(secrets)
    message = str(exc)
    if isinstance(exc, HTTPStatusError):
        body = scrub(exc.body)  # before the codec shortens it, so no prefix of a key survives
        detail = codec.error_message(exc.code, body) if body else None
        message = http_message(agent, exc, detail)
        if unset_key and exc.code in (401, 403) and not exc.proxy:
            state = "empty" if os.environ.get(unset_key) == "" else "not set"
            message += f" (${unset_key} is {state}: keys set {unset_key} stores a key)"
    elif not message.startswith(f"{agent}:"):
        message = f"{agent}: {message}"
    if why:
        message = f"{message}; {why}"
    clean = exc.reworded(scrub(message))
    if isinstance(clean, HTTPStatusError):
        clean.body = scrub(clean.body)
    return clean


def http_message(agent: str, exc: HTTPStatusError, detail: str | None) -> str:
    """``agent: what: HTTP code from URL: detail``."""
    what = _WHAT.get(exc.code, "server error" if exc.code >= 500 else "request rejected")
    if exc.proxy and exc.code != 407:  # the proxy's own rule, not the agent's key
        what = "the proxy refused the connection"
    if exc.code == 400 and not _mentions_length(detail):
        what = "request rejected"
    path = exc.url.split("?")[0]
    doubled = next((p for p in _ENDPOINTS if f"{p}{p}" in path), None)
    crossed = next(((a, b) for a in _FORMATS for b in _FORMATS if a != b and path.endswith(a + b)), None)
    if exc.code == 404 and doubled:  # url = "http://host/v1/chat/completions": the codec adds that part
        what = f"not found (the agent's url should end before {doubled}: the codec adds it)"
    elif exc.code == 404 and crossed:  # url = ".../v1/messages" with openai-chat: Anthropic's path, another codec
        ends, adds = crossed
        what = f"not found (the url ends with {ends}, another wire format's path; this agent's codec adds {adds})"
    elif exc.code == 404 and not exc.proxy and (root := _host_only(path)):  # url = "http://localhost:11434"
        what = f"not found (servers of this API usually answer under /v1: is the agent's url {root}/v1?)"
    tail = f": {detail}" if detail else ""
    return f"{agent}: {what}: HTTP {exc.code} from {exc.url}{tail}"


def _host_only(url: str) -> str:
    """The url's scheme and host when a codec's path follows the host directly, else "": the url
    lacks the ``/v1`` such servers answer under (Ollama, vLLM)."""
    scheme, sep, rest = url.partition("://")
    host, slash, tail = rest.partition("/")
    return f"{scheme}{sep}{host}" if f"{slash}{tail}" in _CODEC_PATHS else ""


def refused_as_too_long(exc: HTTPStatusError, codec: Codec) -> bool:
    """Whether the server refused the request as longer than the model's context: what
    :func:`http_message` words ``(context too long?)``, read from the status and the body."""
    if exc.proxy or exc.code not in (400, 413):
        return False
    return exc.code == 413 or _mentions_length(codec.error_message(exc.code, exc.body) if exc.body else None)


def too_long(error: AishError) -> bool:
    """``error`` is a server's refusal of a request as longer than its context, as :func:`http_message` words it."""
    return isinstance(error, HTTPStatusError) and error.code in (400, 413) and _WHAT[error.code] in str(error)


def _mentions_length(detail: str | None) -> bool:
    text = (detail or "").lower()
    return any(word in text for word in ("context", "too long", "too many tokens", "token limit", "exceed"))


def unset_key(agent: AgentConfig) -> str | None:
    """The variable the agent's key comes from, if it is not set or empty (None: set, or no key configured)."""
    return agent.api_key_env if agent.api_key_env and agent.api_key() is None else None
