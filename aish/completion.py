"""``aish completion bash|zsh``: Tab completion for aish in the user's own shell.

    eval "$(aish completion bash)"     # in ~/.bashrc
    eval "$(aish completion zsh)"      # in ~/.zshrc (after compinit)

The scripts ask ``aish completion words WORD...`` at each Tab what to offer for
the last word: options, commands and agents, a command's arguments (its own
``complete``, as the shell's Tab: subcommands, conversation ids, plugin names,
variables for ``keys set``), an agent's per-call options and models, or files.
A newly configured agent is offered at once, and a command a plugin registers
completes as in the shell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from aish.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    from aish.app import App
    from aish.runner import Runner

OPTIONS = (
    "-c",
    "--config",
    "--renderer",
    "--format",
    "--debug",
    "--stats",
    "--version",
    "--test",
    "--record",
    "--continue",
    "--cid",
    "--no-history",
    "--help",
)
AGENT_OPTIONS = ("-m", "-s", "-o", "-x", "-e", "--model", "--system", "--option", "--extract", "--execute", "--")
"""What may follow an agent's name on the command line (per-call options), before its text."""
KINDS = ("agents", "commands", "renderers", "plugins", "conversations")

BASH = r"""# aish completion for bash; load it with:  eval "$(aish completion bash)"
_aish() {
    local IFS=$'\n' cur="${COMP_WORDS[COMP_CWORD]}"
    local -a found=($(command aish completion words "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
    if [[ "${found[0]}" == __FILES__ ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    else
        COMPREPLY=("${found[@]}")
    fi
}
complete -o default -o bashdefault -F _aish aish
"""

ZSH = r"""#compdef aish
# aish completion for zsh; load it with:  eval "$(aish completion zsh)"  (after compinit)
_aish() {
    local -a found
    found=(${(f)"$(command aish completion words "${(@)words[2,CURRENT]}" 2>/dev/null)"})
    if [[ "${found[1]}" == __FILES__ ]]; then
        _files
    else
        compadd -a found
    fi
}
if [[ "$funcstack[1]" == "_aish" ]]; then _aish "$@"; else compdef _aish aish; fi
"""
FILES = "__FILES__"
"""What ``completion words`` prints when the word is a file's name: the script offers files."""
VALUE_OPTIONS = ("-c", "--config", "--renderer", "--format", "--record", "--cid")
"""The options of ``aish`` that take the next word as their value."""
MODELS_WAIT = 1.0
"""Seconds Tab after ``-m`` waits for a server's list of models."""


def completion_script(shell: str) -> str:
    """The completion script for ``shell`` (bash or zsh)."""
    scripts = {"bash": BASH, "zsh": ZSH}
    if shell not in scripts:
        raise UsageError(f"completion: no script for {shell!r} (choose: bash, zsh)")
    return scripts[shell].replace("__FILES__", FILES)


def names(app: App, kind: str, commands: list[str]) -> list[str]:
    """What the scripts offer: agent, command, renderer or plugin names."""
    if kind == "agents":
        return list(app.agents())
    if kind == "commands":
        return sorted(commands)
    if kind == "renderers":
        return sorted(app.components.get("renderer", {}))
    if kind == "plugins":
        from aish.plugins import ESSENTIAL

        return sorted(name for name in app.host.plugins if name not in ESSENTIAL)  # never disabled
    if kind == "conversations":  # recorded ones, newest first (none without history)
        from aish.conversation_commands import recorded_ids

        return recorded_ids(app, limit=50)
    raise UsageError(f"completion names: unknown kind {kind!r} (choose: {', '.join(KINDS)})")


def candidates(app: App, words: list[str]) -> list[str] | None:
    """What Tab offers for the last of ``words`` (the words after ``aish``, the last one being
    completed, maybe empty); None: file names. A command's arguments are its own ``complete``'s,
    as in the shell."""
    *before, current = words or [""]
    i = 0
    while i < len(before) and before[i].startswith("-") and before[i] != "--":
        if before[i] == "--test":
            return None  # every word after it is a transcript file
        i += 2 if before[i] in VALUE_OPTIONS else 1
    if before[i : i + 1] == ["--"]:  # the options end: the next word is the target, whatever it is
        i += 1
        if i == len(before):
            return _targets(app, current)
    if i >= len(before):
        return _started(app, before[-1] if i == len(before) + 1 else None, current)
    target, rest = before[i], before[i + 1 :]
    found: list[str] | None = None
    if target in app.commands:
        found = arguments(app, target, rest, current)
    elif app.is_agent(target):
        found = _agent_words(app, target, rest, current)
    return None if found is None else [word for word in found if word.startswith(current)]


def _started(app: App, option: str | None, current: str) -> list[str] | None:
    """Before the target: an option's value (``option``), an option, or the target."""
    if option in ("--config", "--record"):
        return None
    if option in ("--renderer", "--format", "--cid"):
        kind = "conversations" if option == "--cid" else "renderers"
        return [name for name in names(app, kind, []) if name.startswith(current)]
    if option == "-c":
        return []
    if current.startswith("-"):
        return [option for option in OPTIONS if option.startswith(current)]
    return _targets(app, current)


def _targets(app: App, current: str) -> list[str] | None:
    """The commands and agents that ``current`` starts; None (a script file) when none does."""
    found = [name for name in [*sorted(app.commands), *app.agents()] if name.startswith(current)]
    return found or None


def _agent_words(app: App, agent: str, rest: list[str], current: str) -> list[str] | None:
    """After an agent's name: its per-call options, a model after ``-m``, else text (files)."""
    if rest and rest[-1] in ("-m", "--model"):
        from aish.models import ModelChecks

        return ModelChecks(app).known(agent, MODELS_WAIT)
    texts = [word for word in rest if not word.startswith("-")]
    if current.startswith("-") and not texts and "--" not in rest:
        return list(AGENT_OPTIONS)
    return None


def arguments(app: App, command: str, words: list[str], current: str, runner: Runner | None = None) -> list[str]:
    """Candidates for the next argument of ``command`` (its ``complete``; none without one): the
    shell's Tab and ``aish completion words`` both ask here."""
    import io

    from aish.commands import Invocation

    spec = app.commands.get(command)
    if spec is None or spec.complete is None:
        return []
    quiet = io.StringIO()
    invocation = Invocation(app, list(words), " ".join(words), quiet, quiet, runner=runner)
    return spec.complete(invocation, [*words, current])


def completion_command(app: App, args: list[str], commands: list[str], out: TextIO) -> int:
    """``completion bash|zsh`` prints a script; ``completion words WORD...`` what Tab offers for
    the last word (``completion names KIND``: a kind of names, as earlier scripts asked)."""
    if args[:1] == ["words"]:
        found = candidates(app, args[1:])
        out.write("".join(f"{word}\n" for word in found) if found is not None else f"{FILES}\n")
        return EXIT_OK
    if args[:1] == ["names"] and len(args) == 2:
        out.write("".join(f"{name}\n" for name in names(app, args[1], commands)))
        return EXIT_OK
    if len(args) != 1:
        raise UsageError("usage: aish completion bash|zsh  (or: completion words WORD..., completion names KIND)")
    out.write(completion_script(args[0]))
    return EXIT_OK


__all__ = ["arguments", "candidates", "completion_command", "completion_script", "names"]
