"""How an answer ended, in words a status line can show.

Endpoints say why an answer stopped (OpenAI's ``finish_reason``, Anthropic's
``stop_reason``, ...: :attr:`aish.StreamEnd.finish_reason`). Only the natural
end is "complete"; an answer cut at ``max_tokens``, stopped by a content filter
or ended to call a tool is not, and an answer with no text at all is a warning.
Renderers (built-in and third-party) use :func:`ending` so every screen says
the same thing::

    >>> ending("stop", empty=False)
    'Complete'
    >>> ending("length", empty=False)
    'Cut at max_tokens'
    >>> ending("stop", empty=True)
    'Empty answer'
    >>> status_line("oracle", "Cut at max_tokens", "1.6s, 64 tokens")
    '[oracle: Cut at max_tokens - 1.6s, 64 tokens]'
"""

from __future__ import annotations

NATURAL_ENDS = frozenset({"stop", "end_turn", "stop_sequence", "eos", "eos_token", "complete", "finished", "done"})
"""Finish reasons that mean the model ended its answer itself (and ``None``: none was sent)."""

_CUT = "cut at max_tokens"
_STOPS = {
    "length": _CUT,
    "max_tokens": _CUT,
    "max_output_tokens": _CUT,
    "model_length": "cut at the context length",
    "model_context_window_exceeded": "cut at the context length",
    "content_filter": "stopped by the content filter",
    "refusal": "refused",
    "tool_calls": "stopped to call a tool",
    "tool_use": "stopped to call a tool",
    "function_call": "stopped to call a tool",
    "pause_turn": "paused by the server",
}


def stop_note(finish_reason: str | None) -> str | None:
    """A few words for an end other than the natural one (``None`` for the natural end).

    Known reasons get plain words (``"length"`` -> ``"cut at max_tokens"``);
    any other reason is named as the endpoint sent it (``"stopped: abort"``).
    """
    if finish_reason is None or finish_reason.lower() in NATURAL_ENDS:
        return None
    return _STOPS.get(finish_reason.lower(), f"stopped: {finish_reason}")


def ending(finish_reason: str | None, *, empty: bool) -> str:
    """The status word of an answer that reached its end marker.

    ``Complete`` only for a natural end with some text; ``Empty answer`` when
    no text arrived (with the stop reason in parentheses when there was one);
    otherwise the stop in words, capitalised (``Cut at max_tokens``).
    """
    note = stop_note(finish_reason)
    if empty:
        return f"Empty answer ({note})" if note else "Empty answer"
    return note[0].upper() + note[1:] if note else "Complete"


def status_line(agent: str, word: str, detail: str = "") -> str:
    """A status line naming its agent: ``[oracle: Complete - 1.6s, 64 tokens]``.

    ``detail`` follows `` - `` when given; without an agent (a renderer fed
    unstamped events) it is ``[Complete - 1.6s, 64 tokens]``.
    """
    head = f"{agent}: {word}" if agent else word
    return f"[{head} - {detail}]" if detail else f"[{head}]"


def is_empty(text: str) -> bool:
    """Whether an answer's text says nothing (no text, or only white space)."""
    return not text.strip()


__all__ = ["NATURAL_ENDS", "ending", "is_empty", "status_line", "stop_note"]
