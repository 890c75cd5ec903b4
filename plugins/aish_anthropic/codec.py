"""The ``anthropic-messages`` codec: ``POST {url}/messages`` with ``stream: true``.

The agent's ``url`` is the API base including the version, e.g.
``https://api.anthropic.com/v1``. The key goes in ``x-api-key`` and the API
version in ``anthropic-version``. Options (``[agents.NAME.options]``) go into
the body; ``system`` becomes the system prompt (a pipeline stage's context
is described after it; ``context = "none"`` leaves it out) and ``max_tokens``, which the
API requires, defaults to 1024. The earlier turns of the agent's conversation
(:attr:`aish.Prompt.turns`) open the ``messages`` list, a user and an assistant
message each, before the input.

``models AGENT`` lists the models with ``GET {url}/models`` (the same headers).

Named events: ``message_start`` (input tokens), ``content_block_delta``
(``text_delta`` is the text, ``thinking_delta`` is :class:`~aish.Reasoning`,
``input_json_delta`` the arguments of a ``tool_use`` block, which becomes one
:class:`~aish.ToolCall` at its ``content_block_stop``), ``ping`` (a
heartbeat), ``message_delta`` (stop reason and output tokens),
``message_stop`` (the end marker) and ``error``. Input tokens count the
prompt cache too (``cache_read_input_tokens``, ``cache_creation_input_tokens``),
which ``Usage.meta`` also gives apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aish import (
    AgentConfig,
    Event,
    Heartbeat,
    Joined,
    MalformedEvent,
    Prompt,
    Reasoning,
    RemoteError,
    Request,
    StreamEnd,
    TextDelta,
    ToolCall,
    Usage,
    WireMessage,
    endpoint,
    json_body,
    json_object,
    model_ids,
    with_api_key,
)

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024

_loads = json.loads


class AnthropicMessagesCodec:
    """Encodes prompts as Messages requests; decodes the Messages event stream."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    def encode(self, prompt: Prompt) -> Request:
        agent = self.agent
        options = dict(agent.options)
        system = options.pop("system", None)
        body: dict[str, Any] = {
            "max_tokens": options.pop("max_tokens", DEFAULT_MAX_TOKENS),
            "messages": [*turn_messages(prompt), {"role": "user", "content": prompt.content}],
            "stream": True,
        }
        if agent.model:
            body["model"] = agent.model
        context, mode = prompt.context, options.pop("context", "system")
        described = context.description() if context.in_pipeline and mode != "none" else ""
        system_text = Joined.join("\n\n", [part for part in (str(system) if system else "", described) if part])
        if system_text:
            body["system"] = system_text
        body.update(options)
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "anthropic-version": API_VERSION,
            **agent.headers,
        }
        keyed, secrets = with_api_key(agent, headers, header="x-api-key", scheme="")
        return Request(url=endpoint(agent.url, "/messages"), body=json_body(body), headers=keyed, secrets=secrets)

    def decoder(self) -> MessagesDecoder:
        return MessagesDecoder()

    def models_request(self) -> Request:
        """``GET {url}/models?limit=1000`` with the key and version headers (``models AGENT``)."""
        agent = self.agent
        headers = {"Accept": "application/json", "anthropic-version": API_VERSION, **agent.headers}
        keyed, secrets = with_api_key(agent, headers, header="x-api-key", scheme="")
        return Request(url=endpoint(agent.url, "/models?limit=1000"), method="GET", headers=keyed, secrets=secrets)

    def model_ids(self, body: str) -> list[str]:
        return model_ids(body)

    def error_message(self, status: int, body: str) -> str | None:
        return error_text(body)


def turn_messages(prompt: Prompt) -> list[dict[str, str]]:
    """The conversation's earlier turns as alternating user and assistant messages."""
    messages = []
    for turn in prompt.turns:
        messages.append({"role": "user", "content": turn.prompt})
        messages.append({"role": "assistant", "content": turn.answer})
    return messages


def error_text(body: str) -> str | None:
    """``type: message`` of an Anthropic error body, or the body's first line."""
    try:
        data = json.loads(body)
    except ValueError:
        first = body.strip().splitlines()[0].strip() if body.strip() else ""
        return first[:200] or None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        kind = error.get("type")
        message = str(error["message"])[:300]
        return f"{kind}: {message}" if kind else message
    return None


class MessagesDecoder:
    """Per-stream state: input tokens and metadata from ``message_start``, the stop reason."""

    __slots__ = ("finish_reason", "input_tokens", "meta", "tools")

    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self.input_tokens: int | None = None
        self.meta: dict[str, Any] = {}
        self.tools: dict[int, list[Any]] = {}  # block index -> [id, name, input so far, JSON fragments]

    def decode(self, message: WireMessage) -> Sequence[Event]:
        data = message.data
        obj = json_object(data)
        kind = message.event
        if kind == "response":
            return self._whole(obj)
        if kind == "message":  # a proxy that drops event names: the type is in the data too
            kind = obj.get("type", "")
        try:
            if kind == "content_block_delta":
                delta = obj["delta"]
                if delta.get("type") != "text_delta":
                    return self._other_delta(obj, delta)
                text = delta["text"]
                if type(text) is not str:
                    raise TypeError("text is not text")
                return (TextDelta(text),) if text else ()
            return self._other(kind, obj)
        except (AttributeError, KeyError, TypeError, IndexError):
            raise MalformedEvent(f"malformed event data: {data[:80]!r}") from None

    def _other_delta(self, obj: dict[str, Any], delta: dict[str, Any]) -> Sequence[Event]:
        """A delta that is not the answer's text: thinking, a tool's input, a signature."""
        kind = delta.get("type")
        if kind == "thinking_delta":
            thought = delta["thinking"]
            if type(thought) is not str:
                raise TypeError("thinking is not text")
            return (Reasoning(thought),) if thought else ()
        if kind == "input_json_delta":
            tool = self.tools.get(obj.get("index", -1))
            if tool is not None:
                tool[3].append(str(delta.get("partial_json") or ""))
        return ()  # signature_delta, and deltas added to the API later

    def _other(self, kind: str, obj: dict[str, Any]) -> Sequence[Event]:
        if kind == "ping":
            return (Heartbeat(),)
        if kind == "message_start":
            start = obj["message"]
            self.meta = {k: start[k] for k in ("model", "id") if k in start}
            self.input_tokens = self._input_tokens(start.get("usage") or {})
            return ()
        if kind == "content_block_start":
            block = obj["content_block"]
            kind = block.get("type")
            if kind == "tool_use":
                self.tools[obj.get("index", -1)] = [
                    block.get("id"),
                    str(block.get("name") or "?"),
                    block.get("input"),
                    [],
                ]
                return ()
            if kind == "thinking":
                thought = block.get("thinking")
                return (Reasoning(thought),) if isinstance(thought, str) and thought else ()
            text = block.get("text") if kind == "text" else None
            return (TextDelta(text),) if isinstance(text, str) and text else ()
        if kind == "content_block_stop":
            tool = self.tools.pop(obj.get("index", -1), None)
            return (_tool_call(*tool),) if tool is not None else ()
        if kind == "message_delta":
            reason = (obj.get("delta") or {}).get("stop_reason")
            if reason:
                self.finish_reason = reason
            usage = obj.get("usage")
            if usage:
                counted = self._input_tokens(usage) if "input_tokens" in usage else self.input_tokens
                return (Usage(counted, usage.get("output_tokens"), self.meta),)
            return ()
        if kind == "message_stop":
            return (StreamEnd(self.finish_reason),)
        if kind == "error":
            raise RemoteError(f"error event: {error_text(json.dumps(obj)) or 'unknown error'}")
        return ()  # events added to the API later

    def _input_tokens(self, usage: dict[str, Any]) -> int | None:
        """Input tokens, prompt cache included; the cache's share is kept in ``meta``."""
        return input_tokens(usage, self.meta)

    def is_answer_start(self, message: WireMessage) -> bool:
        """``message_start`` opens an answer (a resumed stream never repeats it)."""
        if message.event == "message_start":
            return True
        return message.event == "message" and '"message_start"' in message.data

    def _whole(self, obj: dict[str, Any]) -> Sequence[Event]:
        """A non-streamed ``message`` body: the whole answer at once."""
        if obj.get("type") == "error":
            raise RemoteError(f"error: {error_text(json.dumps(obj))}")
        events: list[Event] = []
        try:
            blocks = obj["content"]
            text = "".join(b["text"] for b in blocks if b.get("type") == "text")
            thought = "".join(str(b.get("thinking") or "") for b in blocks if b.get("type") == "thinking")
            tools = [
                _tool_call(b.get("id"), str(b.get("name") or "?"), b.get("input"), [])
                for b in blocks
                if b.get("type") == "tool_use"
            ]
        except (KeyError, TypeError, AttributeError):
            raise MalformedEvent("response body is not a Messages answer") from None
        if thought:
            events.append(Reasoning(thought))
        if text:
            events.append(TextDelta(text))
        events += tools
        usage = obj.get("usage")
        if isinstance(usage, dict):
            meta: dict[str, Any] = {k: obj[k] for k in ("model", "id") if k in obj}
            events.append(Usage(input_tokens(usage, meta), usage.get("output_tokens"), meta))
        events.append(StreamEnd(obj.get("stop_reason")))
        return events


def input_tokens(usage: dict[str, Any], meta: dict[str, Any]) -> int | None:
    """``input_tokens`` plus the prompt cache's reads and writes, which Anthropic counts apart.

    The cache's figures are also put in ``meta`` (``cache_read_tokens``,
    ``cache_creation_tokens``) when the server reported them.
    """
    total = usage.get("input_tokens")
    for key, name in (
        ("cache_read_input_tokens", "cache_read_tokens"),
        ("cache_creation_input_tokens", "cache_creation_tokens"),
    ):
        value = usage.get(key)
        if isinstance(value, int) and value:
            meta[name] = value
            total = (total or 0) + value
    return total if isinstance(total, int) else None


def _tool_call(ident: Any, name: str, given: Any, fragments: list[str]) -> ToolCall:
    """A ``tool_use`` block as a :class:`ToolCall`: its streamed JSON, else the input it started with."""
    arguments = "".join(fragments) or (json.dumps(given) if given else "")
    return ToolCall(name, arguments, str(ident) if ident else None)
