"""How runs are shown: the numbered list and one run in full."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from aish.contracts import RunRecord, StageRecord
from aish.errors import visible
from aish.joined import text_of
from aish.terminal import cells, terminal_safe, terminal_size
from aish.tty import isatty
from aish.wordwrap import WordWrap

_WRITE = 1 << 18
"""Characters written at a time (see :func:`_write_long`)."""


def when(timestamp: float, seconds: bool = False) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M", time.localtime(timestamp))


def first_line(line: str) -> str:
    """What a run's line is listed as: its first line, or a script's first line of code (not a
    comment, not blank), with `` ...`` when there is more."""
    lines = line.strip("\n").splitlines() or [""]
    code = [text for text in lines if text.strip() and not text.lstrip().startswith("#")]
    shown = code[0] if code else lines[0]
    return shown + (" ..." if len(lines) > 1 else "")


def write_list(runs: Iterable[RunRecord], out: TextIO) -> int:
    """``   12  2026-11-24 14:02  complete     athena hi`` per run, oldest first; how many. On a
    terminal a line too long for it goes on under itself, broken between words."""
    width = terminal_size(out).columns if isatty(out) else 0
    count = 0
    for run in runs:
        replay = f"  (replay of {run.replay_of})" if run.replay_of else ""
        head = f"{run.number:>5}  {when(run.started)}  {run.status:<11}  "
        row = f"{head}{visible(first_line(run.line))}{replay}"
        if width and cells(row) >= width:
            from aish.layout import hanging  # a long line on a terminal only

            hanging(row, out, at=len(head), width=width)
        else:
            out.write(row + "\n")
        count += 1
    return count


def write_run(run: RunRecord, out: TextIO, numbers: Mapping[str, int] | None = None) -> None:
    """The whole run: its line, then each stage's facts, input, answer and error. ``numbers``: the
    numbers of runs by id, for a retry's stage to name the run whose answer it replaces."""
    head = [f"run {run.number}", when(run.started, seconds=True), run.status]
    if run.ended is not None:
        head.append(f"{run.ended - run.started:.2f}s")
    if run.replay_of:
        head.append(f"replay of {run.replay_of}")
    out.write("  ".join(head) + "\n")
    out.write(f"$ {_visible_lines(run.line.rstrip(chr(10)))}\n")
    for stage in run.stages:
        _write_stage(stage, out, numbers or {})
    if run.status == "error" and not run.stages:
        out.write(f"\n(no agent stage was recorded; '!{run.number}' runs the line again and shows what failed)\n")


def last_answers(run: RunRecord) -> list[StageRecord]:
    """What ``history answer`` prints of ``run``: its last stage that gave text, with the stages
    before it at the same position (a parallel group's lanes); empty when no stage gave text."""
    answered = [stage for stage in run.stages if stage.text]
    if not answered:
        return []
    position = answered[-1].meta.get("position")
    group = [answered[-1]]
    for stage in reversed(answered[:-1]):
        if position is None or stage.meta.get("position") != position:
            break
        group.insert(0, stage)
    return group


def write_answer(run: RunRecord, out: TextIO) -> None:
    """The run's answer alone, as ``llm logs -r`` prints the last response: its text into a pipe or a
    file, its last line ended (as a run's answer there); on a terminal its control characters escaped
    too. A parallel group's answers each under ``[agent]``, as a group's are when they go to a pipe."""
    stages = last_answers(run)
    safe = isatty(out)
    for i, stage in enumerate(stages):
        if len(stages) > 1:
            out.write(f"{chr(10) if i else ''}[{stage.agent}]\n")
        _write_long(out, stage.text, safe, _wrap(out, safe))
        if not stage.text.endswith(chr(10)):  # a line of its own, as an answer off a terminal ends
            out.write(chr(10))


def _visible_lines(text: str) -> str:
    """A (multi-line) command line as typed, each line with its control characters escaped."""
    return "\n".join(visible(line) for line in text.split("\n"))


def _write_stage(stage: StageRecord, out: TextIO, numbers: Mapping[str, int]) -> None:
    """On a terminal the input and the answer have their control characters escaped
    (:func:`aish.terminal_safe`); a pipe or a file gets them exactly."""
    where = "/".join(p for p in (stage.transport, stage.codec) if p)
    out.write(f"\n-- stage {stage.index + 1}: {stage.agent}  {where}  {stage.status}\n")
    safe = isatty(out)
    width = terminal_size(out).columns if safe else 0
    for line in _rows(_facts(stage.meta, numbers), width - 4):
        out.write(f"   {line}\n")
    error = visible(stage.error) if stage.error else stage.error  # one line; a server's controls escaped
    for title, body in (("input", text_of(stage.input)), ("answer", stage.text), ("error", error)):
        if body:
            out.write(f"-- {title}\n")
            _write_long(out, body, safe, _wrap(out, safe))  # 20 MB piped in: never a second string
            out.write("" if body.endswith(chr(10)) else chr(10))


def _wrap(out: TextIO, safe: bool) -> WordWrap | None:
    """On a terminal, a text's lines broken between words, as the ``plain`` renderer shows answers;
    None elsewhere: the text exactly."""
    return WordWrap.for_terminal(out) if safe else None


def _rows(facts: list[str], width: int) -> list[str]:
    """The facts two blanks apart, on as many rows of ``width`` as they need (0: one row)."""
    rows: list[str] = []
    for fact in facts:
        if rows and (width <= 0 or len(rows[-1]) + 2 + len(fact) <= width):
            rows[-1] += "  " + fact
        else:
            rows.append(fact)
    return rows


def _facts(meta: dict[str, Any], numbers: Mapping[str, int]) -> list[str]:
    parts = []
    if meta.get("first_token") is not None:
        parts.append(f"first token {meta['first_token']:.2f}s")
    if meta.get("duration") is not None:
        parts.append(f"duration {meta['duration']:.2f}s")
    tokens_in, tokens_out = meta.get("tokens_in"), meta.get("tokens_out")
    if tokens_out is not None:
        parts.append(f"tokens {tokens_in if tokens_in is not None else '?'} in, {tokens_out} out")
    for key, label in (
        ("model", "model"),
        ("finish_reason", "finish"),
        ("reconnects", "reconnects"),
        ("conversation", "conversation"),
    ):
        if meta.get(key):
            parts.append(f"{label} {meta[key]}")
    if meta.get("replaces"):
        number = numbers.get(meta["replaces"])
        parts.append(f"retry (replaces run {number}'s answer)" if number else "retry (replaces an earlier answer)")
    return parts


def write_export(runs: Iterable[RunRecord], out: TextIO, jsonl: bool) -> None:
    """Every run as JSON: one array (``json.dumps(runs, indent=2)``), or one object per line;
    written run by run and in pieces, so that ``runs`` may hand them over one at a time and a
    long input is never a second string (decision 33)."""
    from aish.jsonbody import json_chunks

    first = True
    for run in runs:
        if jsonl:
            pieces = json_chunks(run.to_dict(), ensure_ascii=False, errors="surrogatepass")
        else:  # an item of the array: each line 2 more spaces in (a JSON string holds no newline)
            out.write("[\n  " if first else ",\n  ")
            chunks = json_chunks(run.to_dict(), ensure_ascii=False, errors="surrogatepass", indent=2)
            pieces = (piece.replace(b"\n", b"\n  ") for piece in chunks)
        for piece in pieces:
            _write_long(out, piece.decode("utf-8", "surrogatepass"))
        if jsonl:
            out.write("\n")
        first = False
        del run, pieces  # not held while the next run is read
    if not jsonl:
        out.write("[]\n" if first else "\n]\n")


def _write_long(out: TextIO, text: str, safe: bool = False, wrap: WordWrap | None = None) -> None:
    """``out.write(text)`` a piece at a time: the stream encodes what it is given whole.
    ``safe``: each piece through :func:`aish.terminal_safe` (a terminal); ``wrap``: then its lines
    broken between words."""
    for start in range(0, max(len(text), 1), _WRITE):
        piece = text[start : start + _WRITE]  # the text itself when it is one piece
        shown = terminal_safe(piece) if safe else piece
        out.write(wrap.text(shown) if wrap is not None else shown)
