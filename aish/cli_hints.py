"""What the command line says about a mistake it can guess: a misspelt option or agent name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aish.errors import UsageError, closest

if TYPE_CHECKING:
    import argparse

    from aish.app import App


PER_CALL = frozenset({"-m", "--model", "-s", "--system", "-o", "--option"})


def option_guess(parser: argparse.ArgumentParser, message: str) -> str:
    """``, did you mean '--continue'?`` after ``unrecognized arguments: --contineu``; where a
    per-call option came before the agent (``aish -m echo athena hi``, as llm writes it), where it goes."""
    if not message.startswith("unrecognized arguments: -"):
        return ""
    if message.split(": ", 1)[1].split()[0] in PER_CALL:
        return "; per-call options go after the agent's name (aish AGENT -m MODEL TEXT...)"
    if not message.startswith("unrecognized arguments: --"):
        return ""
    word = message.split(": ", 1)[1].split()[0].partition("=")[0]
    close = closest(word, parser._option_string_actions, 0.7)
    return f", did you mean {close!r}?" if close else ""


def not_a_misspelt_agent(app: App, word: str) -> None:
    """``aish --continue stroy what next`` would send 'stroy what next' to the last conversation,
    whichever agent's: a first word close to an agent's name is refused instead."""
    close = closest(word, app.agents())
    if close:
        raise UsageError(
            f"--continue: {word!r} is not an agent, did you mean {close!r}? "
            f"(to send it as text to the last conversation, quote the whole text)"
        )
