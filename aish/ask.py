"""``aish AGENT [-m MODEL -s SYSTEM -o KEY VALUE ... --] TEXT``: one agent asked from the command line."""

from __future__ import annotations

from aish.errors import UsageError
from aish.history.store import command_line, text_line
from aish.lang import Command, ControlsError, Pipeline, Word, parse_controls
from aish.runner import Runner


def ask_agent(runner: Runner, agent: str, words: list[str], piped: str | None) -> int:
    """``aish AGENT [-m MODEL -s SYSTEM -o KEY VALUE ... --] TEXT``: the text's words are one
    argument each, never re-parsed; options come before the text (after it they are text).

    The run is recorded as the language line ``AGENT[OPTIONS] TEXT``, which replays the same call.
    """
    if words[:1] in (["--help"], ["-h"]):  # ``aish athena --help``: what ``help athena`` says
        from aish.shell_help import agent_help

        agent_help(runner.app, agent, runner.out)
        return 0
    try:
        controls, used = parse_controls(words, leading=True)
    except ControlsError as exc:
        hint = "; '--' before the text lets it start with '-'" if str(exc).startswith("unknown option") else ""
        raise UsageError(f"{agent}: {exc}{hint}") from None
    text = words[used:]
    cmd = Command(agent, tuple(Word(w, 0, True) for w in text), 0, controls)
    if not text and piped is None:
        raise UsageError(f"{agent}: nothing to send (give text, or pipe input into it){_took(words[:used])}")
    head = f"{agent}[{command_line(list(controls.words))}]" if controls else agent
    line = f"{head} {text_line(text)}" if text else head
    return runner.run_line(line, Pipeline((cmd,)), piped)


def _took(controls: list[str]) -> str:
    """``aish athena -o temperature hi``: ``-o KEY VALUE`` took the word meant as the text; say so."""
    if len(controls) < 3 or controls[-3] not in ("-o", "--option") or "=" in controls[-2]:
        return ""
    return f"; {controls[-3]} {controls[-2]} took {controls[-1]!r} as its value"
