"""``aish completion bash|zsh``: Tab completion for aish in the user's own shell.

    eval "$(aish completion bash)"     # in ~/.bashrc
    eval "$(aish completion zsh)"      # in ~/.zshrc (after compinit)

The scripts complete options, the commands, agent names, renderer and plugin
names, and files; names come from ``aish completion names KIND`` at each Tab,
so a newly configured agent is offered at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from aish.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    from aish.app import App

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
_aish_names() { command aish completion names "$1" 2>/dev/null; }
_aish() {
    local cur prev i target="" at=0
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    case "$prev" in
        --config|--record|--test) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --renderer|--format) COMPREPLY=($(compgen -W "$(_aish_names renderers)" -- "$cur")); return ;;
        --cid) COMPREPLY=($(compgen -W "$(_aish_names conversations)" -- "$cur")); return ;;
        -c) return ;;
    esac
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            --config|--renderer|--format|-c|--record|--cid) ((i++)) ;;
            -*) ;;
            *) target="${COMP_WORDS[i]}"; at=$((COMP_CWORD - i)); break ;;
        esac
    done
    if [[ -z "$target" ]]; then
        if [[ "$cur" == -* ]]; then
            COMPREPLY=($(compgen -W "__OPTIONS__" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_aish_names commands) $(_aish_names agents)" -- "$cur"))
            [[ ${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
        fi
        return
    fi
    case "$target" in
        plugins|history|completion|models|chat|set)
            [[ $at -gt 2 || ( $at -eq 2 && "$target" != plugins ) ]] && return
            case "$target:$at" in
                plugins:1) COMPREPLY=($(compgen -W "enable disable" -- "$cur")) ;;
                plugins:2) COMPREPLY=($(compgen -W "$(_aish_names plugins)" -- "$cur")) ;;
                history:1) COMPREPLY=($(compgen -W "show search export rm clear help" -- "$cur")) ;;
                completion:1) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
                set:1) COMPREPLY=($(compgen -W "renderer stats history debug" -- "$cur")) ;;
                *) COMPREPLY=($(compgen -W "$(_aish_names agents)" -- "$cur")) ;;
            esac ;;
        *)
            if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "__AGENT_OPTIONS__" -- "$cur"))
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi ;;
    esac
}
complete -o default -o bashdefault -F _aish aish
"""

ZSH = r"""#compdef aish
# aish completion for zsh; load it with:  eval "$(aish completion zsh)"  (after compinit)
_aish_names() { command aish completion names "$1" 2>/dev/null; }
_aish() {
    local -a names
    local target="" i at=0
    for ((i = 2; i < CURRENT; i++)); do
        case "${words[i]}" in
            --config|--renderer|--format|-c|--record|--cid) ((i++)) ;;
            -*) ;;
            *) target="${words[i]}"; at=$((CURRENT - i)); break ;;
        esac
    done
    case "${words[CURRENT-1]}" in
        --config|--record|--test) _files; return ;;
        --renderer|--format) names=(${(f)"$(_aish_names renderers)"}); compadd -a names; return ;;
        --cid) names=(${(f)"$(_aish_names conversations)"}); compadd -a names; return ;;
        -c) return ;;
    esac
    if [[ -z "$target" ]]; then
        if [[ "${words[CURRENT]}" == -* ]]; then
            compadd -- __OPTIONS__
        else
            names=(${(f)"$(_aish_names commands)"} ${(f)"$(_aish_names agents)"})
            compadd -a names
            _files
        fi
        return
    fi
    case "$target" in
        plugins|history|completion|models|chat|set)
            case "$target:$at" in
                plugins:1) compadd enable disable ;;
                plugins:2) names=(${(f)"$(_aish_names plugins)"}); compadd -a names ;;
                history:1) compadd show search export rm clear help ;;
                completion:1) compadd bash zsh ;;
                set:1) compadd renderer stats history debug ;;
                models:1|chat:1) names=(${(f)"$(_aish_names agents)"}); compadd -a names ;;
            esac ;;
        *)
            if [[ "${words[CURRENT]}" == -* ]]; then
                compadd -- __AGENT_OPTIONS__
            else
                _files
            fi ;;
    esac
}
if [[ "$funcstack[1]" == "_aish" ]]; then _aish "$@"; else compdef _aish aish; fi
"""


def completion_script(shell: str) -> str:
    """The completion script for ``shell`` (bash or zsh)."""
    scripts = {"bash": BASH, "zsh": ZSH}
    if shell not in scripts:
        raise UsageError(f"completion: no script for {shell!r} (choose: bash, zsh)")
    script = scripts[shell].replace("__OPTIONS__", " ".join(OPTIONS))
    return script.replace("__AGENT_OPTIONS__", " ".join(AGENT_OPTIONS))


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


def completion_command(app: App, args: list[str], commands: list[str], out: TextIO) -> int:
    """``completion bash|zsh`` prints a script; ``completion names KIND`` the names it offers."""
    if args[:1] == ["names"] and len(args) == 2:
        out.write("".join(f"{name}\n" for name in names(app, args[1], commands)))
        return EXIT_OK
    if len(args) != 1:
        raise UsageError("usage: aish completion bash|zsh  (or: completion names KIND)")
    out.write(completion_script(args[0]))
    return EXIT_OK


__all__ = ["completion_command", "completion_script", "names"]
