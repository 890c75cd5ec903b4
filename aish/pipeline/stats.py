"""``--stats``: per-stage time to first token, duration, tokens and tokens per second."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from aish.stops import stop_note
from aish.stream import StageResult


def stage_stats(result: StageResult) -> dict[str, object]:
    """The figures of one stage (seconds, tokens) as a JSON-ready dict."""
    streaming = result.duration - (result.first_token or 0.0)
    # a rate needs text that arrived over time: an answer sent whole (one piece) has none
    rate = result.tokens / streaming if result.tokens and streaming > 0 and result.deltas > 1 else None
    return {
        "agent": result.agent,
        "status": result.status,
        "first_token": None if result.first_token is None else round(result.first_token, 4),
        "duration": round(result.duration, 4),
        "tokens": result.tokens,
        "tokens_per_s": None if rate is None else round(rate, 1),
        "finish_reason": result.finish_reason,
    }


def stats_line(result: StageResult) -> str:
    """``[stats] apollo: first token 0.012s, total 0.850s, 42 tokens, 50.1 tokens/s, complete``.

    A stop other than the natural end replaces ``complete``: ``cut at max_tokens`` (another
    status keeps it in parentheses: ``partial (cut at max_tokens)``).
    """
    s = stage_stats(result)
    first = "-" if s["first_token"] is None else f"{s['first_token']:.3f}s"
    rate = "-" if s["tokens_per_s"] is None else f"{s['tokens_per_s']} tokens/s"
    note = stop_note(result.finish_reason)
    status = s["status"] if not note else note if s["status"] == "complete" else f"{s['status']} ({note})"
    tokens = f"{s['tokens']} token{'s' if s['tokens'] != 1 else ''}"
    return f"[stats] {s['agent']}: first token {first}, total {s['duration']:.3f}s, {tokens}, {rate}, {status}"


def write_stats(err: TextIO, results: Sequence[StageResult]) -> None:
    """One line per agent stage, in the order the stages were written."""
    for result in results:
        err.write(stats_line(result) + "\n")
    err.flush()
