"""aish plugin: the built-in commands (agents, plugins, history, models, new, conversations, set, chat, ...).

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

HISTORY_SUBCOMMANDS = ("show", "answer", "search", "export", "rm", "clear", "help")
PLUGINS_USAGE = "usage: plugins [enable NAME | disable NAME]"
KEYS_USAGE = """\
usage: keys                  every variable an agent reads its key from: in the environment, stored or missing
       keys set NAME         store a key for $NAME, typed at a prompt that does not show it
       keys remove NAME      forget the key stored for $NAME
A variable set in the environment is used before the stored key. The store is
keys.json in aish's configuration directory, readable by you alone. With the
built-in keys plugin, keys set OPENAI_API_KEY (or ANTHROPIC_API_KEY) gives you the
agent gpt (or claude)."""


AGENTS_USAGE = """\
usage: agents                       every agent: name, transport, codec, model and URL
       agents add NAME URL [-m MODEL] [--codec CODEC] [--key-env VAR] [-d DESCRIPTION]
                                    a server as an agent, in the configuration file (agents add --help)
       agents remove NAME           an agent out of the configuration file
       agents edit                  the configuration file in $VISUAL or $EDITOR, saved once valid"""
AGENTS_SHORT = (
    "usage: agents [add NAME URL [-m MODEL] [--codec CODEC] [--key-env VAR] [-d DESCRIPTION] | remove NAME | edit]"
)


def agents(inv: Invocation) -> int:
    """``agents``: name, transport, codec, model and URL of every agent (never a key);
    ``agents add NAME URL ...``: a new agent in the configuration file; ``agents remove NAME``: out of
    it; ``agents edit``: the file in the user's editor."""
    from aish.errors import UsageError

    if inv.args[:1] == ["add"]:
        from .agent_add import add_agent

        return add_agent(inv.app, inv.args[1:], inv.out, inv.forget_typed)
    if inv.args[:1] == ["edit"]:
        from .agent_edit import edit_agents

        return edit_agents(inv.app, inv)
    if inv.args[:1] in (["remove"], ["rm"]):
        from .agent_remove import remove_agent

        return remove_agent(inv.app, inv.args[1:], inv.out)
    if inv.args:
        raise UsageError(f"agents: unknown subcommand {inv.args[0]!r} ({AGENTS_SHORT})")
    from aish.listing import list_agents

    list_agents(inv.app, inv.out)
    return 0


def complete_agents_command(inv: Invocation, words: list[str]) -> list[str]:
    if len(words) == 1:
        return ["add", "edit", "remove"]
    if len(words) == 2 and words[0] in ("remove", "rm"):
        return sorted(inv.app.config.agents)
    if words[0] == "add" and len(words) > 3 and len(words) % 2 == 0:  # an option's place, after NAME URL
        return ["-m", "--codec", "--key-env", "-d"]
    if words[0] == "add" and len(words) > 3 and words[-2] == "--codec":
        return sorted(inv.app.components.get("codec", {}))
    return []


def plugins(inv: Invocation) -> int:
    """``plugins``: every plugin and what it registered; ``plugins enable|disable NAME``."""
    if not inv.args:
        from aish.listing import list_plugins

        list_plugins(inv.app, inv.out, inv.err)
        return 0
    from aish.config import config_file
    from aish.plugin_toggle import plugins_command

    return plugins_command(inv.args, known=inv.app.host.plugins, path=config_file(inv.app.config), out=inv.out)


def complete_plugins(inv: Invocation, words: list[str]) -> list[str]:
    if len(words) == 1:
        return ["enable", "disable"]
    if len(words) == 2 and words[0] in ("enable", "disable"):
        from aish.completion import names

        return names(inv.app, "plugins", [])  # never an essential one: it is always on
    return []


def history(inv: Invocation) -> int:
    """``history ...``: recorded runs (see ``history help``)."""
    if inv.args[:1] in (["help"], ["-h"], ["--help"]):
        inv.out.write(f"{HISTORY_USAGE}\n")
        return 0
    from aish.history.commands import history_line

    return history_line(inv.app, inv.line, inv.out, confirm=inv.confirm, current=_current_run(inv))


def copy(inv: Invocation) -> int:
    """``copy [N]``: the newest answer (or run N's) to the clipboard (:mod:`aish.clipboard`)."""
    from aish.clipboard import copy_command

    return copy_command(inv.app, inv.args, inv.out, _current_run(inv))


def _current_run(inv: Invocation) -> str | None:
    """The id of the run the command's line is recorded as (``history show -1 | less``), if any:
    ``-N`` counts the runs before it."""
    return inv.runner.recording_id if inv.runner is not None else None


def models(inv: Invocation) -> int:
    """``models AGENT``: the models the agent's server lists (:mod:`aish.models`)."""
    from aish.models import models as run

    return run(inv)


def complete_history(_inv: Invocation, words: list[str]) -> list[str]:
    if len(words) == 1:
        return list(HISTORY_SUBCOMMANDS)
    if len(words) == 2 and words[0] == "export":
        return ["--json", "--jsonl"]
    if len(words) == 2 and words[0] == "clear":
        return ["--yes"]
    return []


def new(inv: Invocation) -> int:
    """``new [AGENT...]``: a fresh conversation with the agents (every agent when none is named)."""
    from aish.conversation_commands import new_command
    from aish.errors import UsageError

    session = inv.runner.conversations if inv.runner is not None else None
    if session is None or session.one_shot:
        raise UsageError("new: conversations are kept in the shell (and with aish --continue); this line is one-shot")
    return new_command(inv.app, session, inv.args, inv.out)


def keys(inv: Invocation) -> int:
    """``keys``: where each agent's key comes from; ``keys set NAME``, ``keys remove NAME``."""
    from .api_keys import keys as keys_command

    return keys_command(inv)


def typed_agent_secrets(words: list[str]) -> list[str]:
    """``agents add NAME http://user:PASSWORD@host/v1``, ``--key-env sk-...`` (a key given by mistake):
    kept out of the run history of a line that goes on (``agents add ...; athena hi``)."""
    if words[:1] != ["add"]:
        return []
    from .agent_add import typed_secrets

    return typed_secrets(words[1:])


def typed_keys(words: list[str]) -> list[str]:
    """``keys set NAME KEY``: a key typed on the line (refused) is kept out of the run history."""
    return words[2:3] if words[:1] == ["set"] else []


def complete_keys(inv: Invocation, words: list[str]) -> list[str]:
    from .api_keys import complete_keys as complete

    return complete(inv, words)


def conversations(inv: Invocation) -> int:
    """``conversations [N] | show [ID|AGENT] | resume ID|AGENT``: recorded conversations."""
    from aish.conversation_commands import conversations_command

    session = inv.runner.conversations if inv.runner is not None else None
    if session is not None and session.one_shot:
        session = None  # aish -c without --continue: nothing to resume into
    if inv.runner is not None and inv.runner.history is not None:
        inv.runner.history.sync()  # what ran before it is stored
    return conversations_command(inv.app, session, inv.args, inv.out)


def complete_conversations(inv: Invocation, words: list[str]) -> list[str]:
    if len(words) == 1:
        return ["show", "resume", "help"]
    if len(words) == 2 and words[0] in ("show", "resume"):
        agents = sorted(inv.app.agents())
        from aish.conversation_commands import recorded_ids

        return agents + recorded_ids(inv.app, words[1])
    return []


@hookimpl(tryfirst=True)  # aish's own names are taken before any other plugin's
def aish_register_commands(register: RegisterCommand) -> None:
    register(
        "agents",
        agents,
        summary="List agents: name, transport, codec, model and URL (never a key); add, remove or edit them.",
        usage=AGENTS_USAGE,
        complete=complete_agents_command,
        mends_config="edit",  # ``agents edit`` opens an invalid file, as ``crontab -e`` does
        secret_words=typed_agent_secrets,
    )
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
        raw="search",  # ``history search a|b`` looks for ``a|b``; ``history | grep owl`` is a pipeline
    )
    register(
        "models",
        models,
        summary="List the models the agent's server offers (a warning when its model is not among them).",
        usage="usage: models [AGENT...]   (one agent: its ids; several or none: AGENT  MODEL lines)",
        complete=complete_agents,
    )
    register(
        "help",
        help_command,
        summary="The language, the commands and the agents; help COMMAND or help AGENT for one.",
        usage="usage: help [COMMAND | AGENT]",
        complete=complete_help,
    )
    register(
        "set",
        settings,
        summary="Show or change the session's settings: renderer, stats, history, debug, wrap.",
        usage=SET_USAGE,
        complete=complete_settings,
    )
    register(
        "chat",
        chat,
        summary="Chat with an agent: every line goes to it as typed (also: the agent's name alone).",
        usage="usage: chat AGENT [-m MODEL] [-s SYSTEM] [-o KEY VALUE]...   (then /help lists the chat's commands)",
        complete=complete_agents,
    )
    register(
        "completion",
        completion,
        summary="Print a Tab-completion script for bash or zsh.",
        usage='usage: completion bash|zsh     load it with: eval "$(aish completion bash)"',
        complete=complete_completion,
    )
    register(
        "new",
        new,
        summary="Start a fresh conversation with AGENT (with every agent when none is named).",
        usage="usage: new [AGENT...]",
        complete=complete_agents,
    )
    register(
        "copy",
        copy,
        summary="Copy the newest answer (or run N's) to the clipboard.",
        usage="usage: copy [N | -N | last]     the answer 'history answer' prints, to the clipboard",
    )
    register(
        "cd",
        cd,
        summary="Change aish's working directory (home without DIR; cd - goes back).",
        usage="usage: cd [DIR | -]",
        complete=complete_directories,
        expands=True,  # ``cd $HOME/src``, ``cd ~/pro*``
    )
    register(
        "keys",
        keys,
        summary="The variables agents read API keys from (never a key); store a key for one, or remove it.",
        usage=KEYS_USAGE,
        complete=complete_keys,
        secret_words=typed_keys,
    )
    register(
        "conversations",
        conversations,
        summary="Recorded conversations: list, show one, resume one in this session.",
        usage=CONVERSATIONS_USAGE,
        complete=complete_conversations,
    )


SET_USAGE = """\
usage: set                     every setting and its value
       set NAME                one setting
       set renderer NAME       how answers are shown (a renderer's name, or default)
       set stats on|off        per-stage figures after each pipeline (as --stats)
       set history on|off      record runs in history
       set debug on|off        tracebacks with errors (as --debug)
       set wrap on|off         answers on a terminal broken between words
Settings last until the shell ends; the configuration file keeps the defaults."""


SHELL_ONLY = {"quit": "Leave aish (also exit, or Ctrl-D)."}
"""Commands of the interactive shell itself, listed by ``help`` beside the registry's."""


def help_command(inv: Invocation) -> int:
    """``help [COMMAND | AGENT]``: the language, the commands and the agents, or one of them."""
    from aish.shell_help import general_help, topic_help

    summaries = {name: spec.summary for name, spec in sorted(inv.app.commands.items())} | SHELL_ONLY
    if not inv.args:
        general_help(inv.app, summaries, inv.out)
        return 0
    usage = {name: spec.help for name, spec in inv.app.commands.items()} | SHELL_ONLY
    topic_help(inv.app, inv.args[0], summaries, usage, inv.out)
    return 0


def complete_help(inv: Invocation, words: list[str]) -> list[str]:
    """Every topic ``help`` explains: commands, the shell's own, the language's built-ins, agents."""
    from aish.shell_help import ALIASES, BUILT_INS

    return [*inv.app.commands, *SHELL_ONLY, *ALIASES, *BUILT_INS, *inv.app.agents()] if len(words) == 1 else []


def settings(inv: Invocation) -> int:
    """``set [NAME [VALUE]]``: the session's renderer, stats, history and debug."""
    from aish.errors import UsageError
    from aish.settings_command import settings_command

    if inv.runner is None:
        raise UsageError("set: no session to change here")
    return settings_command(inv.runner, inv.args, inv.out)


def complete_settings(inv: Invocation, words: list[str]) -> list[str]:
    from aish.settings_command import SETTINGS, setting_values

    if len(words) == 1:
        return list(SETTINGS)
    if len(words) == 2 and inv.runner is not None:
        return setting_values(inv.runner, words[0])
    return []


def chat(inv: Invocation) -> int:
    """``chat AGENT``: every line goes to the agent as typed (the shell's chat mode)."""
    from aish.errors import UsageError

    if not inv.args:
        raise UsageError("usage: chat AGENT [-m MODEL] [-s SYSTEM] [-o KEY VALUE]...")
    from aish.lang import ControlsError, parse_controls

    name, words = inv.args[0], inv.args[1:]
    inv.app.agent(name)  # an unknown agent: one line, with a suggestion
    try:
        parse_controls(words)
    except ControlsError as exc:
        raise UsageError(f"chat {name}: {exc}") from None
    enter = inv.runner.enter_chat if inv.runner is not None else None
    if enter is not None:  # in the shell
        enter(name, words)
        return 0
    if not inv.interactive:
        raise UsageError("chat needs a terminal (in a script, send lines with: AGENT TEXT)")
    from aish.shell_start import start_shell

    runner = inv.runner
    return start_shell(
        inv.app,
        stdin=inv.stdin,
        out=inv.out,
        debug=runner.debug if runner else False,
        renderer=runner.renderer_name if runner else None,
        history=runner.history if runner else None,
        chat=name,
        chat_controls=words,
    )


def cd(inv: Invocation) -> int:
    """``cd [DIR | -]``: change aish's working directory (home without DIR; ``-``: the one before).

    Like a shell's ``cd``: what runs next (programs, ``< FILE``, ``> FILE``, ``cat``) sees the new
    directory, ``$PWD`` and ``$OLDPWD`` follow it, and ``cd -`` prints where it went.
    """
    import os

    from aish.errors import UsageError

    if len(inv.args) > 1:
        raise UsageError("cd: too many arguments (quote a directory name that has blanks)")
    target = inv.args[0] if inv.args else "~"
    back = target == "-"
    if back:
        target = os.environ.get("OLDPWD", "")
        if not target:
            raise UsageError("cd: -: no previous directory yet")
    path = os.path.expanduser(target)
    if path.startswith("~"):
        raise UsageError(f"cd: {target}: no such user's home directory")
    try:
        before = os.getcwd()
    except OSError:  # the directory aish was in has been removed
        before = os.environ.get("PWD", "")
    try:
        os.chdir(path)
    except FileNotFoundError:
        raise UsageError(f"cd: {target}: no such directory") from None
    except NotADirectoryError:
        raise UsageError(f"cd: {target}: not a directory") from None
    except PermissionError:
        raise UsageError(f"cd: {target}: permission denied") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a directory name"
        raise UsageError(f"cd: {target}: {reason.lower()}") from None
    now = os.getcwd()
    if before:
        os.environ["OLDPWD"] = before
    os.environ["PWD"] = now
    if back:
        inv.out.write(f"{now}\n")
    return 0


def complete_directories(_inv: Invocation, words: list[str]) -> list[str]:
    """Directories for ``cd``'s one argument, each with its ``/`` so Tab goes on into it."""
    import os

    if len(words) != 1:
        return []
    current = words[0]
    head, _, start = current.rpartition("/")
    where = os.path.expanduser(head + "/" if head or current.startswith("/") else ".")
    try:
        entries = list(os.scandir(where))
    except OSError:
        return []
    prefix = head + "/" if head or current.startswith("/") else ""
    hidden = start.startswith(".")
    return sorted(
        f"{prefix}{e.name}/"
        for e in entries
        if e.name.startswith(start) and (hidden or not e.name.startswith(".")) and e.is_dir()
    )


def complete_agents(inv: Invocation, words: list[str]) -> list[str]:
    return list(inv.app.agents()) if len(words) == 1 else []


def completion(inv: Invocation) -> int:
    """``completion bash|zsh``: a Tab-completion script for the aish command."""
    from aish.completion import completion_command

    return completion_command(inv.app, inv.args, list(inv.app.commands), inv.out)


def complete_completion(_inv: Invocation, words: list[str]) -> list[str]:
    if len(words) == 1:
        return ["bash", "zsh", "names"]
    if len(words) == 2 and words[0] == "names":
        from aish.completion import KINDS

        return list(KINDS)
    return []


HISTORY_USAGE = """\
usage: history [list] [N]                the last N runs (default 20), numbered
       history show [N | -N | last]      run N in full: line, inputs, answers (by default the newest that asked)
       history answer [N | -N | last]    run N's answer alone, exactly (the newest answer by default)
       history search TEXT               runs whose line or answers contain every word of TEXT
       history export [--json | --jsonl] every run as JSON (an array, or one object per line)
       history rm N...                   remove runs
       history clear [--yes]             remove every run (asks first on a terminal)
TEXT is taken as typed ("two words" is a phrase); ' | ' after it pipes the runs on: history search owl | head.
Replay a run in the shell with !N (!-N: the Nth last; !!: the last)."""

CONVERSATIONS_USAGE = """\
usage: conversations [list] [N]         the last N recorded conversations (default 20); * marks this session's
       conversations show [ID|AGENT]    a recorded conversation's turns (the newest one, or AGENT's last)
       conversations resume ID|AGENT    continue conversation ID (or AGENT's last one) in this session"""
