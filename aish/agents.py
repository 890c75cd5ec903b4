"""Agents: named AI endpoints, the commands of the aish language."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from aish.records import FrozenRecord, freeze

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_IDLE_TIMEOUT = 120.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_BACKOFF_INITIAL = 0.5
DEFAULT_BACKOFF_MAX = 30.0
DEFAULT_CONVERSATION_TURNS = 20
DEFAULT_CONVERSATION_CHARS = 24000
"""About 6,000 tokens of earlier turns: room for the prompt and the answer in an 8k context."""


class AgentConfig(FrozenRecord):
    """One agent: where it lives and how to talk to it.

    ``transport``, ``codec`` and ``renderer`` are component names chosen from
    what plugins registered. ``api_key_env`` names an environment variable;
    the key itself is read only when a request is built (:meth:`api_key`: the
    variable, else the key ``keys set`` stored under its name) and is never
    listed, logged or recorded.

    ``connect_timeout`` bounds connecting; ``idle_timeout`` bounds the silence
    between two pieces of a stream (text or heartbeat). There is no total
    timeout: a stream that keeps producing is never cut.

    ``max_retries`` bounds consecutive retries (reconnections that made no
    progress, HTTP 429/5xx); waits grow from ``backoff_initial`` and never
    exceed ``backoff_max`` seconds. ``resume`` allows continuing a dropped
    stream after its last event id when the server supports it.

    ``session`` asks a transport that can (``websocket``) to keep the
    agent's connection open across turns instead of connecting for each.

    ``conversation_turns`` and ``conversation_chars`` are the budget of a
    conversation: at most that many earlier turns, and at most that many
    characters of them (prompts and answers), travel with a request; older
    turns are left out. ``conversation_turns = 0``: the agent keeps no
    conversation (every request stands alone).
    """

    __slots__ = (
        "name",
        "transport",
        "url",
        "codec",
        "model",
        "headers",
        "api_key_env",
        "connect_timeout",
        "idle_timeout",
        "max_retries",
        "backoff_initial",
        "backoff_max",
        "resume",
        "session",
        "conversation_turns",
        "conversation_chars",
        "renderer",
        "description",
        "options",
        "source",
    )
    name: str
    transport: str
    url: str
    codec: str
    model: str | None
    headers: Mapping[str, str]
    api_key_env: str | None
    connect_timeout: float
    idle_timeout: float
    max_retries: int
    backoff_initial: float
    backoff_max: float
    resume: bool
    session: bool
    conversation_turns: int
    conversation_chars: int
    renderer: str | None
    description: str
    options: Mapping[str, Any]
    source: str
    """Where the agent was defined: a config file path, or ``plugin:NAME``."""

    def __init__(
        self,
        name: str,
        transport: str,
        url: str,
        codec: str,
        model: str | None = None,
        headers: Mapping[str, str] | None = None,
        api_key_env: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_initial: float = DEFAULT_BACKOFF_INITIAL,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        resume: bool = True,
        session: bool = False,
        conversation_turns: int = DEFAULT_CONVERSATION_TURNS,
        conversation_chars: int = DEFAULT_CONVERSATION_CHARS,
        renderer: str | None = None,
        description: str = "",
        options: Mapping[str, Any] | None = None,
        source: str = "",
    ) -> None:
        freeze(
            self,
            name=name,
            transport=transport,
            url=url,
            codec=codec,
            model=model,
            headers=headers if headers is not None else {},
            api_key_env=api_key_env,
            connect_timeout=connect_timeout,
            idle_timeout=idle_timeout,
            max_retries=max_retries,
            backoff_initial=backoff_initial,
            backoff_max=backoff_max,
            resume=resume,
            session=session,
            conversation_turns=conversation_turns,
            conversation_chars=conversation_chars,
            renderer=renderer,
            description=description,
            options=options if options is not None else {},
            source=source,
        )

    def api_key(self) -> str | None:
        """The API key: the variable ``api_key_env`` names, else the key ``keys set`` stored under that
        name (:mod:`aish.keystore`); None when neither has one."""
        if not self.api_key_env:
            return None
        value = os.environ.get(self.api_key_env)
        if value:
            return value
        from aish.keystore import stored_key

        return stored_key(self.api_key_env)

    def secrets(self) -> tuple[str, ...]:
        """What must never be shown or recorded: the API key, and the credentials in :attr:`url`."""
        key = self.api_key()
        found = url_secrets(self.url)
        return (key, *found) if key else found


def _userinfo(url: str) -> tuple[int, int]:
    """Where the credentials of ``scheme://user:password@host/...`` are in ``url`` (start, end; equal: none)."""
    start = url.find("//")
    if start < 0 or "@" not in url:
        return 0, 0
    start += 2
    end = len(url)
    for char in "/?#":
        found = url.find(char, start)
        if found >= 0:
            end = min(end, found)
    at = url.rfind("@", start, end)
    return (start, at) if at >= 0 else (0, 0)


def url_secrets(url: str) -> tuple[str, ...]:
    """The secret of ``url``'s credentials, as written and percent-decoded: the password, or a user
    name alone (a token, as in ``https://TOKEN@host``); ``()`` when it has none."""
    start, end = _userinfo(url)
    if start == end:
        return ()
    user, colon, password = url[start:end].partition(":")
    secret = password if colon else user
    if not secret:
        return ()
    if "%" not in secret:
        return (secret,)
    from urllib.parse import unquote  # only for credentials with escapes

    return (secret, unquote(secret))


def shown_url(url: str) -> str:
    """``url`` as aish shows it: a password in it, or a user name alone, as ``***``
    (``http://alice:***@host/``, ``https://***@host/``)."""
    start, end = _userinfo(url)
    if start == end:
        return url
    user, colon, _ = url[start:end].partition(":")
    return f"{url[:start]}{user + ':***' if colon else '***'}{url[end:]}"


AgentPreparer = Callable[[AgentConfig], AgentConfig]
"""Called once before an agent is first used (e.g. to start a local server and fill in its URL)."""
