"""``help`` in the shell: the language, the commands, the agents; ``help AGENT`` and ``help COMMAND``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from aish.agents import AgentConfig, shown_url
from aish.app import App
from aish.errors import UnknownNameError, visible
from aish.layout import columns, description_column, fitted, hanging, paragraph, table, two_columns

LANGUAGE_LINES = (
    ("athena what is a monad?", "ask an agent; its words are the prompt"),
    ("athena[-m MODEL -x] q", "per-call options: -m -s -o -x -e, glued to the name"),
    ('echo "text" | athena', "| passes each answer (or text) to the next"),
    ("cat app.py | apollo | athena", "a pipeline: context passes between stages"),
    ('echo "q" | apollo & athena', "& runs agents side by side, one lane each"),
    ("echo q | (apollo & athena) | hermes", "fan-in: hermes gets both answers"),
    ('athena "q" > out.md', "< > >> redirect; ; && || sequence lines"),
    ("chat athena", "a chat: each line to athena; Ctrl-D leaves"),
    ("!cmd 2>&1 | athena", "sh runs !cmd as typed; !N / !! replay run N / the last"),
)
LANGUAGE_NOTE = (
    "Quotes work as in a Unix shell; a program's words expand as sh's do (ls *.py ~/x $HOME), an "
    "agent's are sent as typed. An unfinished line (open quote, trailing |) "
    "continues on the next; a pasted block is one entry, run when you press Enter."
)


def general_help(app: App, commands: Mapping[str, str], out: TextIO) -> None:
    """The language, the shell's commands with their summaries, and the agents."""
    out.write("aish lines\n")
    table(LANGUAGE_LINES, out, indent="  ", widths=(29, 0))
    paragraph(LANGUAGE_NOTE, out)
    out.write("\nCommands (help COMMAND for more)\n")
    two_columns(commands, out)
    agents = {name: agent.description for name, agent in app.agents().items()}
    out.write("\nAgents (help AGENT for more)\n")
    if agents:
        two_columns(agents, out)
    else:
        out.write("  none configured: see docs/configuration.md\n")


def agent_help(app: App, name: str, out: TextIO) -> None:
    """One agent: where it lives and how aish talks to it (never a key or a header value)."""
    agent = app.agents()[name]  # as configured: help never starts a server
    rows = [
        ("agent", agent.name),
        ("description", agent.description),
        ("transport", agent.transport),
        ("codec", agent.codec),
        ("url", shown_url(agent.url) if agent.url else "(started on first use)"),
        ("model", agent.model or "(the server's default)"),
        ("renderer", agent.renderer or "(the default)"),
        ("key from", _key_source(agent)),
        ("defined in", agent.source),
        ("extends", _extends(app, name)),
    ]
    if agent.options:
        rows.append(("options", ", ".join(f"{key} = {_value(value)}" for key, value in sorted(agent.options.items()))))
    two_columns(dict(r for r in rows if r[1]), out)
    ask = (
        f"Ask it: {name} TEXT  |  chat with it: {name}  |  its models: models {name}\n"
        f"For one call: {name}[-m MODEL -s SYSTEM -o KEY VALUE -x -e] TEXT (-x: the answer's first code block; "
        f"-e: a shell command, put on your next line to run; on the command line: aish {name} -m MODEL ... TEXT)\n"
    )
    out.write(fitted(ask, out))  # a terminal: its lines break at words


def _extends(app: App, name: str) -> str:
    """The agents a role's ``extends`` leads through in the configuration file (``reviewer -> local``)."""
    from aish.config import extends_chain

    tables = app.config.raw.get("agents", {})
    return " -> ".join(extends_chain(name, tables)[1:]) if name in tables else ""


BUILT_INS = {
    "echo": "Write the words, joined by single spaces, and a newline; piped input is ignored.\nusage: echo [WORD...]\n",
    "cat": (
        "Write the files one after another, as they are; with no file, pass the piped input through.\n"
        "usage: cat [FILE...]   (a program's words: ~, $VAR and globs are expanded)\n"
    ),
    "!": (
        "Run an OS command, or a recorded run again.\n"
        "usage: !COMMAND [TEXT]      /bin/sh -c runs it as typed, up to | || && ; (2>&1, $(...) are sh's)\n"
        "       !N                   run N of the history again (!-N: the Nth last; !!: the last)\n"
    ),
}
"""Help on what is not a command: the built-ins of the language and ``!``."""
ALIASES = {"exit": "quit"}


def topic_help(app: App, topic: str, commands: Mapping[str, str], usage: Mapping[str, str], out: TextIO) -> None:
    """``help TOPIC``: a command's usage, or an agent; an unknown topic gets a suggestion."""
    topic = ALIASES.get(topic, topic) if ALIASES.get(topic) in usage else topic
    text = usage.get(topic) or (BUILT_INS.get(topic) if topic not in app.agents() else None)
    if text is not None:
        usage_text(text, out)
        return
    if topic in app.agents():
        agent_help(app, topic, out)
        return
    raise UnknownNameError("command or agent", topic, [*commands, *app.agents()])


def usage_text(text: str, out: TextIO) -> None:
    """A command's help (a summary, then ``usage:`` lines) wrapped to the terminal: the summary
    as a paragraph, each usage line under its description (after its first wide gap)."""
    first, _, rest = text.rstrip("\n").partition("\n")
    if not columns(out):
        out.write(text.rstrip("\n") + "\n")
        return
    paragraph(first, out, width=10_000)
    lines = rest.split("\n") if rest else []
    at = next((column for column in map(description_column, lines) if column), None)
    for line in lines:
        hanging(line, out, at)


__all__ = ["BUILT_INS", "LANGUAGE_LINES", "agent_help", "general_help", "topic_help", "usage_text"]


def _value(value: object) -> str:
    """An option's value as the configuration writes it (JSON), cut at 40 characters."""
    import json

    text = visible(json.dumps(value, ensure_ascii=False))
    return text if len(text) <= 40 else text[:39] + "\u2026"


def _key_source(agent: AgentConfig) -> str:
    """Where the key comes from, and whether that variable is set (never the key)."""
    if not agent.api_key_env:
        return "(none)"
    import os

    value = os.environ.get(agent.api_key_env)
    if not value and agent.api_key() is not None:
        return f"${agent.api_key_env} (stored by keys set)"
    return f"${agent.api_key_env}" + ("" if value else " (not set)" if value is None else " (empty)")
