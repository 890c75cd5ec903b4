"""The ``openai-chat`` codec: ``POST {url}/chat/completions`` with ``stream: true``.

Options of the agent (``[agents.NAME.options]``) go into the request body
(``max_tokens``, ``temperature``, ...), except ``system``, which becomes the
system message, and ``context``, how a pipeline stage's context is sent:
``"system"`` (the default: described in the system message), ``"turns"``
(the previous stage as prior turns: the original input as a user turn, the
previous answer as an assistant turn), ``"both"`` or ``"none"``. A stage that
is not in a pipeline sends no context. The earlier turns of the agent's
conversation (:attr:`aish.Prompt.turns`) come after the system message, a user
and an assistant message each.

``models AGENT`` lists the server's models with ``GET {url}/models``.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
from collections.abc import Sequence
from typing import Any

from aish import (
    AgentConfig,
    Event,
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
    WireItem,
    WireMessage,
    endpoint,
    error_detail,
    json_body,
    model_ids,
    with_api_key,
)

_loads = json.loads
_scan: Any = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed: a class
"""json's C scanner called directly: ``json.loads`` around it costs as much again per
chunk (its Python wrapper, two regex matches for whitespace). A chunk it does not take
whole (whitespace around it, anything invalid) goes through ``json.loads``."""


_scanstring: Any = json.decoder.scanstring  # type: ignore[attr-defined]  # C, not in typeshed
_CONTENT_KEY = '"content":"'


def _template(data: str, content: str, finish: str | None) -> tuple[str, str, str | None] | None:
    """What chunks like ``data`` (parsed: text ``content``, ``finish``) share: the text before
    and after the content string, when ``"content":`` occurs once in it, right before the string.

    A chunk that starts and ends with the same two pieces and has exactly one
    JSON string between them is, by JSON's grammar, the same object with
    another content: only that string needs decoding (see ChunkDecoder.decode_many).
    """
    key = data.find(_CONTENT_KEY)
    if key == -1 or data.find('"content":', key + 1) != -1 or data.find('"content":', 0, key) != -1:
        return None
    start = key + len(_CONTENT_KEY)
    try:
        text, end = _scanstring(data, start, True)
    except ValueError:
        return None
    return (data[:start], data[end:], finish) if text == content else None


def _parse(data: str) -> Any:
    try:
        obj, end = _scan(data, 0)
        if end == len(data):
            return obj
    except (StopIteration, ValueError):
        pass
    return _loads(data)  # the exact rules, and the ValueError for invalid data


class OpenAIChatCodec:
    """Encodes prompts as chat completions; decodes ``chat.completion.chunk`` events."""

    def __init__(self, agent: AgentConfig) -> None:
        self.agent = agent

    def encode(self, prompt: Prompt) -> Request:
        options = dict(self.agent.options)
        system = options.pop("system", None)
        mode = str(options.pop("context", "system"))
        messages = context_messages(prompt, str(system) if system else None, mode)
        body: dict[str, Any] = {"messages": messages, "stream": True, "stream_options": {"include_usage": True}}
        if self.agent.model:
            body["model"] = self.agent.model
        body.update(options)
        headers, secrets = with_api_key(
            self.agent, {"Content-Type": "application/json", "Accept": "text/event-stream", **self.agent.headers}
        )
        return Request(
            url=endpoint(self.agent.url, "/chat/completions"),
            body=json_body(body),
            headers=headers,
            secrets=secrets,
        )

    def decoder(self) -> ChunkDecoder:
        return ChunkDecoder()

    def models_request(self) -> Request:
        """``GET {url}/models`` with the agent's key (``models AGENT``)."""
        headers, secrets = with_api_key(self.agent, {"Accept": "application/json", **self.agent.headers})
        return Request(url=endpoint(self.agent.url, "/models"), method="GET", headers=headers, secrets=secrets)

    def model_ids(self, body: str) -> list[str]:
        return model_ids(body)

    def error_message(self, status: int, body: str) -> str | None:
        return error_text(body)


def context_messages(prompt: Prompt, system: str | None, mode: str) -> list[dict[str, str | Joined]]:
    """The chat messages for ``prompt``: system prompt and context as ``mode`` says, the
    conversation's earlier turns, then the input (a long one as an :class:`aish.Joined`, its
    pieces: :func:`aish.json_body` sends them without joining them, decision 31)."""
    context = prompt.context
    send = context.in_pipeline and mode != "none"
    parts: list[str | Joined] = [system] if system else []
    if send and mode in ("system", "both"):
        parts.append(context.description())
    messages: list[dict[str, str | Joined]] = []
    if parts:
        messages.append({"role": "system", "content": Joined.join("\n\n", parts)})
    for turn in prompt.turns:
        messages.append({"role": "user", "content": turn.prompt})
        messages.append({"role": "assistant", "content": turn.answer})
    if send and mode in ("turns", "both") and context.previous_answer is not None:
        if context.original_input:
            messages.append({"role": "user", "content": context.original_input})
        label = f"[{context.previous_agent}] " if context.previous_agent else ""
        messages.append({"role": "assistant", "content": label + context.previous_answer})
    messages.append({"role": "user", "content": prompt.content})
    return messages


def error_text(body: str) -> str | None:
    """The message of an OpenAI-style error body, or the body's first line."""
    return error_detail(body)


class ChunkDecoder:
    """Per-stream state: the finish reason until ``[DONE]``, tool calls until they are complete.

    ``delta.content`` is the answer; ``delta.reasoning_content`` (llama.cpp,
    DeepSeek, Qwen) or ``delta.reasoning`` is :class:`Reasoning`; the pieces of
    ``delta.tool_calls`` (by ``index``: ``id`` and ``function.name`` first,
    ``function.arguments`` in fragments) become one :class:`ToolCall` each,
    when the choice finishes (or at ``[DONE]``).
    """

    __slots__ = ("_shape", "calls", "finish_reason")

    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self._shape: tuple[str, str, str | None] | None = None
        """The last plain text chunk's text around its content (see _template)."""
        self.calls: dict[int, list[Any]] = {}  # index -> [id, name, argument fragments]

    def decode(self, message: WireMessage) -> Sequence[Event]:
        data = message.data
        if data == "[DONE]":
            return (*self._calls(), StreamEnd(self.finish_reason))
        try:
            obj = _parse(data)
        except ValueError:
            raise MalformedEvent(f"malformed event data: {data[:80]!r}") from None
        if type(obj) is not dict:
            raise MalformedEvent(f"malformed event data: {data[:80]!r}")
        if message.event == "response":
            return self._whole(obj)
        try:
            return self._chunk(obj, data)
        except (AttributeError, KeyError, TypeError, IndexError):
            raise MalformedEvent(f"malformed event data: {data[:80]!r}") from None

    def decode_many(self, items: Sequence[WireItem]) -> list[Event] | None:
        """The events of a whole batch of plain text chunks, as :meth:`decode` gives them one by one,
        the text joined into one TextDelta (``pieces``: how many chunks).

        Up to and including ``[DONE]``. None, with nothing changed, for a batch
        it leaves to :meth:`decode` (a comment, a whole-body answer, an error
        event, anything unusual or malformed): the stream layer then decodes
        the batch one message at a time, which raises at the right place.
        """
        if self.calls:
            return None  # tool calls are gathering: decode() completes them
        events: list[Event] = []
        texts: list[str] = []  # the batch's text since its last other event: one TextDelta
        append = texts.append
        finish = self.finish_reason
        shape = self._shape
        head, tail, shape_finish = shape if shape is not None else ("", "", None)
        body_at, tail_len = len(head), len(tail)
        try:
            for item in items:
                if type(item) is not WireMessage or item.event == "response":
                    return None
                data = item.data
                if shape is not None and data.startswith(head) and data.endswith(tail):  # the last chunk again
                    content, end = _scanstring(data, body_at, True)
                    if end == len(data) - tail_len:
                        if shape_finish:
                            finish = shape_finish
                        if content:
                            append(content)
                        continue
                if data == "[DONE]":
                    if texts:
                        events.append(TextDelta("".join(texts), pieces=len(texts)))
                        texts = []
                    events.append(StreamEnd(finish))
                    break
                obj, end = _scan(data, 0)
                if end != len(data) or type(obj) is not dict:
                    return None
                choices = obj.get("choices")
                if not choices or obj.get("usage") is not None:
                    return None  # usage, an error, an empty chunk: decode() knows
                choice = choices[0]
                delta = choice.get("delta")
                content = delta.get("content") if delta else None
                if content is not None and type(content) is not str:
                    return None
                if delta and (delta.get("reasoning_content") or delta.get("reasoning") or delta.get("tool_calls")):
                    return None  # not only the answer's text: decode() knows
                reason = choice.get("finish_reason")
                if reason:
                    finish = reason
                if content:
                    append(content)
                    if shape is None or not data.startswith(head):
                        shape = _template(data, content, reason)
                        if shape is not None:
                            head, tail, shape_finish = shape
                            body_at, tail_len = len(head), len(tail)
        except (StopIteration, ValueError, AttributeError, KeyError, TypeError, IndexError):
            return None
        if texts:
            events.append(TextDelta("".join(texts), pieces=len(texts)))
        self.finish_reason, self._shape = finish, shape
        return events

    def is_answer_start(self, message: WireMessage) -> bool:
        """A chunk whose delta carries the assistant's role opens an answer (never sent when resuming)."""
        try:
            delta = _loads(message.data)["choices"][0]["delta"]
            return bool(delta.get("role"))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return False

    def _chunk(self, obj: dict[str, Any], data: str) -> Sequence[Event]:
        choices = obj.get("choices")
        events: list[Event]
        if choices:
            choice = choices[0]
            delta = choice.get("delta")
            content = delta.get("content") if delta else None
            if content is not None and type(content) is not str:
                raise TypeError("content is not text")
            finish = choice.get("finish_reason")
            if finish:
                self.finish_reason = finish
            if content and obj.get("usage") is None and not finish:
                return (TextDelta(content),)  # the common case, first
            events = [TextDelta(content)] if content else []
            if delta:
                thought = delta.get("reasoning_content") or delta.get("reasoning")
                if thought:
                    if type(thought) is not str:
                        raise TypeError("reasoning is not text")
                    events.append(Reasoning(thought))
                if delta.get("tool_calls"):
                    self._add_calls(delta["tool_calls"])
            if finish:
                events += self._calls()
        elif "error" in obj:
            raise RemoteError(f"error event: {error_text(data) or data[:200]}")
        else:
            events = []
        usage = obj.get("usage")
        if usage:
            events.append(_usage(usage, obj))
        return events

    def _add_calls(self, pieces: list[dict[str, Any]]) -> None:
        for position, piece in enumerate(pieces):
            index = piece.get("index", position)
            call = self.calls.setdefault(index, [None, "", []])
            if piece.get("id"):
                call[0] = piece["id"]
            function = piece.get("function") or {}
            if function.get("name"):
                call[1] += function["name"]
            arguments = function.get("arguments")
            if arguments:
                call[2].append(arguments if type(arguments) is str else json.dumps(arguments))

    def _calls(self) -> list[Event]:
        """The tool calls gathered so far, complete: one event each, in index order."""
        calls = [
            ToolCall(name or "?", "".join(arguments), ident)
            for _, (ident, name, arguments) in sorted(self.calls.items())
        ]
        self.calls.clear()
        return list(calls)

    def _whole(self, obj: dict[str, Any]) -> Sequence[Event]:
        """A non-streamed ``chat.completion`` body: the whole answer at once."""
        if "error" in obj:
            raise RemoteError(f"error: {error_text(json.dumps(obj))}")
        try:
            choice = obj["choices"][0]
            message = choice["message"]
            content = message.get("content") or ""
            thought = message.get("reasoning_content") or message.get("reasoning") or ""
            if message.get("tool_calls"):
                self._add_calls(message["tool_calls"])
        except (KeyError, IndexError, TypeError, AttributeError):
            raise MalformedEvent("response body is not a chat completion") from None
        events: list[Event] = [Reasoning(thought)] if isinstance(thought, str) and thought else []
        if content:
            events.append(TextDelta(content))
        events += self._calls()
        if obj.get("usage"):
            events.append(_usage(obj["usage"], obj))
        events.append(StreamEnd(choice.get("finish_reason")))
        return events


def _usage(usage: dict[str, Any], obj: dict[str, Any]) -> Usage:
    """``prompt_tokens`` already counts cached tokens; how many were cached goes in ``meta``."""
    meta: dict[str, Any] = {k: obj[k] for k in ("model", "id") if k in obj}
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    if cached:
        meta["cache_read_tokens"] = cached
    return Usage(usage.get("prompt_tokens"), usage.get("completion_tokens"), meta)
