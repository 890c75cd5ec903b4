"""Checking a pipeline before anything runs: what each stage is.

A stage is a built-in (``echo``, ``cat``), an agent, a parallel group of
agents, ``team-chat`` (every agent, or a ``[groups]`` group), ``!cmd`` (a shell command) or
a program on ``PATH``. Unknown names fail here, before any request is sent.

Two rules of the language are settled here, where the agents are known:

- ``&`` after an agent's own words runs in parallel only when an agent (or a
  parenthesised group) follows it; before any other word (``athena compare a
  & b``) it is text of that agent, with the words after it. After an agent
  without words (``apollo & athena``) ``&`` is always the operator, so a
  misspelt agent there is an error. The built-ins, ``!cmd`` and
  ``team-chat`` after ``&`` stay errors ("only agents can run in parallel").
- ``AGENT[-m MODEL -s SYSTEM -o KEY VALUE]`` derives the stage's
  :class:`~aish.agents.AgentConfig` (:func:`with_controls`), so every codec
  sees the model and the options. Written as on the command line, ``athena
  -m x hi``, the words would reach the agent as text: that is refused, the
  error giving the bracket form (:func:`loose_controls`; quoted, the text is sent).
"""

from __future__ import annotations

from aish.agents import AgentConfig
from aish.app import App
from aish.builtins import BUILTINS
from aish.errors import ConfigError, UnknownAgentError, UsageError
from aish.lang import Command, Controls, ControlsError, Group, Stage, Word, is_shell_escape, parse_controls
from aish.lang.controls import CONTROL_WORDS, NO_CONTROLS
from aish.records import FrozenRecord, freeze

TEAM_CHAT = "team-chat"
GROUP_OPTIONS = ("--group", "-g")
"""``team-chat --group NAME``: the agents of ``[groups] NAME``."""

BUILTIN, AGENT, GROUP, OS = "builtin", "agent", "group", "os"


class Step(FrozenRecord):
    """A checked stage: ``kind`` is one of builtin, agent, group, os."""

    __slots__ = ("kind", "command", "agents", "own_text")
    kind: str
    command: Command
    agents: tuple[AgentConfig, ...]
    own_text: tuple[str, ...]
    """For a group: each lane's own words (``team-chat``'s message for every lane)."""

    def __init__(
        self, kind: str, command: Command, agents: tuple[AgentConfig, ...] = (), own_text: tuple[str, ...] = ()
    ) -> None:
        freeze(self, kind=kind, command=command, agents=agents, own_text=own_text)

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.agents]


def plan(app: App, stages: tuple[Stage, ...]) -> list[Step]:
    """Check every stage of a pipeline; raise before anything runs."""
    return [_step(app, stage) for stage in stages]


def with_controls(agent: AgentConfig, controls: Controls) -> AgentConfig:
    """``agent`` with a call's ``-m`` and ``-o``/``-s`` applied (the agent itself when there are none)."""
    if not controls:
        return agent
    options = {**agent.options, **controls.option_dict()}
    if controls.execute and "system" not in controls.option_dict():  # -e: a command, unless -s says otherwise
        from aish.lang.controls import execute_system

        options["system"] = execute_system()
    return agent.replace(model=controls.model or agent.model, options=options)


def _step(app: App, stage: Stage) -> Step:
    if isinstance(stage, Group):
        stage = text_ampersands(app, stage)
    if isinstance(stage, Group):
        members = _flatten(stage)
        for member in members:
            other = (
                member.name in BUILTINS
                or member.name == TEAM_CHAT
                or _program(member.name)
                or is_shell_escape(member.name)
            )
            if other and (member.name in BUILTINS or not app.is_agent(member.name)):
                raise UsageError(f"{member.name}: only agents can run in parallel ('&')")
        extracting = next((m.name for m in members if m.controls.extract), None)
        if extracting is not None:
            raise UsageError(f"{extracting}[-x]: a parallel group's answers are passed on whole (-x is for one agent)")
        for member in members:
            loose_controls(member)
        agents = tuple(with_controls(app.agent(m.name), m.controls) for m in members)
        names = [a.name for a in agents]
        if len(set(names)) != len(names):
            twice = next(name for name in names if names.count(name) > 1)
            raise UsageError(f"{twice}: an agent can appear only once in a parallel group")
        return Step(GROUP, members[0], agents, tuple(m.text for m in members))
    if stage.controls and not app.is_agent(stage.name):
        known = stage.name in BUILTINS or stage.name == TEAM_CHAT or _program(stage.name)
        if known:
            raise UsageError(f"{stage.name}: options in [...] are for agents only")
        raise _unknown(app, stage.name)
    if stage.name in BUILTINS:
        return Step(BUILTIN, _expanded(stage))
    if stage.name == TEAM_CHAT and not app.is_agent(TEAM_CHAT):
        return _team_chat(app, stage)
    if app.is_agent(stage.name):
        loose_controls(stage)
        return Step(AGENT, stage, (with_controls(app.agent(stage.name), stage.controls),))
    if is_shell_escape(stage.name) or stage.name == "!" or _program(stage.name):
        if stage.name == "!cd" or (stage.name == "!" and stage.args[:1] and stage.args[0].value.split()[:1] == ["cd"]):
            raise UsageError("!cd: a child shell's cd cannot change aish's directory; use cd DIR")
        return Step(OS, stage if is_shell_escape(stage.name) or stage.name == "!" else _expanded(stage))
    raise _unknown(app, stage.name)


def _expanded(stage: Command) -> Command:
    """A program's or a built-in's stage with its words expanded as sh expands them (decision 90).
    sh's command substitution (``$(date)``, backquotes) is refused, not passed on as text."""
    from aish.lang.ast import DOUBLE, OPEN
    from aish.lang.expand import expand_words

    for word in stage.args:
        if any(how in (OPEN, DOUBLE) and ("$(" in part or "`" in part) for how, part in word.parts()):
            raise UsageError(
                f"{stage.name}: '$(...)' and backquotes (command substitution) are sh's, and aish is not sh: "
                f"!{stage.name} ... runs the line in sh (quote them with '...' to pass them as text)"
            )
    args = expand_words(stage.args)
    return stage if args == stage.args else stage.replace(args=args)


def loose_controls(stage: Command) -> None:
    """Refuse ``athena -m x hi``: in the language (the shell, ``-c``, scripts) options go in brackets
    (decision 22), so these words would reach the agent as text, and a call would be spent on them.
    The error gives the bracket form; a quoted first word (``athena "-x marks the spot"``) is text."""
    words = stage.args
    if not words or words[0].quoted or words[0].value not in CONTROL_WORDS:
        return
    from aish.history.store import command_line

    values = [w.value for w in words]
    try:
        controls, used = parse_controls(values, leading=True)
    except ControlsError:
        controls, used = NO_CONTROLS, 0
    if controls:
        fix = f"{stage.name}[{command_line([*stage.controls.words, *values[:used]])}]"
        fix += f" {' '.join(values[used:])}" if used < len(values) else ""
    else:
        fix = f"{stage.name}[{values[0]} ...] TEXT"
    raise UsageError(f"{stage.name}: {values[0]!r} would be sent as text; as an option: {fix} (or quote the text)")


def _unknown(app: App, name: str) -> UnknownAgentError:
    return unknown_agent(app, name)


def unknown_agent(app: App, name: str) -> UnknownAgentError:
    """``name`` is no agent: the error suggests the closest agent or command (``hlep``: ``help``),
    and says when the configuration hides agents (plugins disabled, ``plugin_agents = false``):
    after ``plugins disable demo``, ``athena`` is unknown for a reason the user chose and forgot."""
    error = UnknownAgentError(name, list(app.agents()), [*app.commands, "quit", "exit"])
    settings = app.config.settings
    disabled = sorted(set(settings.disable_plugins))
    hidden = [f"plugins disabled: {', '.join(disabled)} ('plugins enable NAME')"] if disabled else []
    if not settings.plugin_agents:
        hidden.append("agents offered by plugins are hidden (plugin_agents = false)")
    hidden += [f"no plugin is named {n!r} (in the {where})" for n, where in app.host.unmatched.items()]
    if hidden and error.suggestion is None:
        error.args = (f"{error}; {'; '.join(hidden)}",)
    return error


def resolves(app: App, name: str) -> bool:
    """Whether a stage named ``name`` would run something: an agent, a command, a built-in, a program."""
    return (
        app.is_agent(name)
        or name in app.commands
        or name in ("quit", "exit", "!", TEAM_CHAT)
        or name in BUILTINS
        or is_shell_escape(name)
        or _program(name) is not None
    )


def _program(name: str) -> str | None:
    """The program on ``PATH`` that ``name`` runs: asked only of a stage that is not an agent."""
    from aish.pipeline.oscmd import find_program  # OS stages' module: a line of agents does not import it

    return find_program(name)


def _team_chat(app: App, stage: Command) -> Step:
    """``team-chat MESSAGE`` to every agent, ``team-chat --group NAME MESSAGE`` (``-g``) to a group."""
    words = stage.args
    if words and not words[0].quoted and words[0].value in GROUP_OPTIONS:
        if len(words) < 2:
            raise UsageError(f"team-chat: {words[0].value} needs a group name")
        names = _group(app, words[1].value)
        words = words[2:]
    else:
        names = tuple(app.agents())
    agents = tuple(app.agent(name) for name in names)
    if not agents:
        raise UsageError("team-chat: there are no agents (see 'agents')")
    message = " ".join(w.value for w in words)
    return Step(GROUP, stage, agents, tuple(message for _ in agents))


def _group(app: App, name: str) -> tuple[str, ...]:
    config = app.config
    groups = config.groups
    if name not in groups:
        known = ", ".join(sorted(groups)) or "none in the configuration's [groups]"
        raise UsageError(f"team-chat: unknown group {name!r} (groups: {known})")
    for member in groups[name]:
        if not app.is_agent(member):
            where = str(config.path) if config.path else "<config>"
            raise ConfigError(f"{where}: group {name!r}: unknown agent {member!r}")
    return groups[name]


def text_ampersands(app: App, group: Group) -> Stage:
    """``athena compare a & b``: an ``&`` after an agent's own words and before a word that names no
    agent is text (the stage's own, with the words after it); see the module's docstring."""
    members: list[Stage] = []
    for member in group.members:
        if isinstance(member, Group):
            member = text_ampersands(app, member)
        prev = members[-1] if members else None
        if isinstance(member, Command) and isinstance(prev, Command) and _is_text(app, prev, member):
            amp = Word("&", max(member.pos - 2, prev.pos))
            words = (*prev.args, amp, Word(member.name, member.pos), *member.args)
            members[-1] = Command(prev.name, words, prev.pos, prev.controls)
        else:
            members.append(member)
    return members[0] if len(members) == 1 else Group(tuple(members), group.pos)


def _is_text(app: App, prev: Command, member: Command) -> bool:
    if not prev.args or not app.is_agent(prev.name) or app.is_agent(member.name) or member.controls:
        return False
    name = member.name
    return not (name in BUILTINS or name == TEAM_CHAT or name == "!" or is_shell_escape(name))


def _flatten(group: Group) -> list[Command]:
    found: list[Command] = []
    for member in group.members:
        if isinstance(member, Group):
            found.extend(_flatten(member))
        else:
            found.append(member)
    return found
