"""aish plugin: the built-in commands ``agents``, ``plugins`` and ``history``.

Registered through ``aish_register_commands`` like any plugin's commands, so
they run the same in the shell, ``aish -c``, scripts and ``aish NAME ARGS``.
This module stays cheap to import: each command imports its code when it runs.
The plugin is essential: it cannot be disabled (``aish plugins enable`` lives here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aish import hookimpl

if TYPE_CHECKING:
    from aish import Invocation, RegisterCommand

HISTORY_SUBCOMMANDS = ("show", "search", "export", "rm", "clear", "help")
PLUGINS_USAGE = "usage: plugins [enable NAME | disable NAME]"


def agents(inv: Invocation) -> int:
    """``agents``: name, transport, codec and URL of every agent (never a key)."""
    from aish.errors import UsageError
    from aish.listing import list_agents

    if inv.args:
        raise UsageError("agents takes no arguments")
    list_agents(inv.app, inv.out)
    return 0


def plugins(inv: Invocation) -> int:
    """``plugins``: every plugin and what it registered; ``plugins enable|disable NAME``."""
    if not inv.args:
        from aish.listing import list_plugins

        list_plugins(inv.app, inv.out)
        return 0
    from aish.config import config_file
    from aish.plugin_toggle import plugins_command

    return plugins_command(inv.args, known=inv.app.host.plugins, path=config_file(inv.app.config), out=inv.out)


def complete_plugins(inv: Invocation, words: list[str]) -> list[str]:
    if len(words) == 1:
        return ["enable", "disable"]
    if len(words) == 2 and words[0] in ("enable", "disable"):
        return sorted(inv.app.host.plugins)
    return []


def history(inv: Invocation) -> int:
    """``history ...``: recorded runs (see ``history help``)."""
    if inv.args[:1] in (["help"], ["-h"], ["--help"]):
        inv.out.write(f"{HISTORY_USAGE}\n")
        return 0
    from aish.history.commands import history_line

    return history_line(inv.app, inv.line, inv.out, confirm=inv.confirm)


def complete_history(_inv: Invocation, words: list[str]) -> list[str]:
    if len(words) == 1:
        return list(HISTORY_SUBCOMMANDS)
    if len(words) == 2 and words[0] == "export":
        return ["--json", "--jsonl"]
    if len(words) == 2 and words[0] == "clear":
        return ["--yes"]
    return []


@hookimpl(tryfirst=True)  # aish's own names are taken before any other plugin's
def aish_register_commands(register: RegisterCommand) -> None:
    register("agents", agents, summary="List agents: name, transport, codec and URL (never a key).", usage="agents")
    register(
        "plugins",
        plugins,
        summary="List plugins (name, distribution, status, what each registered); enable or disable one.",
        usage=PLUGINS_USAGE,
        complete=complete_plugins,
    )
    register(
        "history",
        history,
        summary="Recorded runs: list, show, search, export, remove; !N replays run N in the shell.",
        usage=HISTORY_USAGE,
        complete=complete_history,
        raw=True,
    )


HISTORY_USAGE = """\
usage: history [N]                       the last N runs (default 20), numbered
       history show N                    run N in full: its line, and each stage's input and answer
       history search TEXT               runs whose line or answers contain every word of TEXT
       history export [--json | --jsonl] every run as JSON (an array, or one object per line)
       history rm N...                   remove runs
       history clear [--yes]             remove every run (asks first on a terminal)
Replay a run in the shell with !N (!! for the last one)."""
