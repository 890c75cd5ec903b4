"""What the command line says about a mistake it can guess: a misspelt option or agent name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aish.errors import UsageError, closest

if TYPE_CHECKING:
    import argparse

    from aish.app import App


PER_CALL = frozenset({"-m", "--model", "-s", "--system", "-o", "--option", "-x", "--extract", "-e", "--execute"})


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


def not_a_misspelt_agent(app: App, word: str, why: str = "--continue", to: str = "the last conversation") -> None:
    """``aish --continue stroy what next`` would send 'stroy what next' to the last conversation,
    whichever agent's (and, with a default agent, ``aish atena hi`` to that one): a first word
    close to an agent's name is refused instead."""
    close = closest(word, app.agents())
    if close:
        raise UsageError(
            f"{why}: {word!r} is not an agent, did you mean {close!r}? "
            f"(to send it as text to {to}, quote the whole text)"
        )


def default_agent(app: App, word: str, words: list[str]) -> str:
    """The agent ``aish WORD WORDS...`` asks when WORD names no agent, command or script:
    ``[settings] default_agent``. Without one, the unknown-agent error, which says how to ask."""
    name = app.config.settings.default_agent
    if name is None:
        from aish.builtins import BUILTINS
        from aish.pipeline.plan import TEAM_CHAT, unknown_agent

        if word in BUILTINS or word == TEAM_CHAT:  # ``aish echo hi``: part of the language, not a command
            raise UsageError(
                f"{word} is part of the aish language, not a command: run it in a line (aish -c '{word} ...')"
            )
        error = unknown_agent(app, word)
        from aish.line_hints import ask_example

        example = ask_example(app, [word, *words])
        if (words or " " in word.strip()) and example and not error.suggestion:
            hint = f"to ask an agent, name it first (aish {example}), or set default_agent in [settings]"
            raise error.reworded(f"{error}; {hint}")
        raise error
    if not app.is_agent(name):
        from aish.errors import ConfigError

        raise ConfigError(f"[settings] default_agent: {name!r} is not an agent (see 'aish agents')")
    not_a_misspelt_agent(app, word, why=f"default agent {name}", to=name)
    return name
