"""Checking a pipeline before anything runs: what each stage is.

A stage is a built-in (``echo``, ``cat``), an agent, a parallel group of
agents, ``team-chat`` (every agent, or a ``[groups]`` group), ``!cmd`` (a shell command) or
a program on ``PATH``. Unknown names fail here, before any request is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from aish.agents import AgentConfig
from aish.app import App
from aish.builtins import BUILTINS
from aish.errors import ConfigError, UnknownAgentError, UsageError
from aish.lang import Command, Group, Stage
from aish.pipeline.oscmd import find_program, is_shell_escape

TEAM_CHAT = "team-chat"
GROUP_OPTIONS = ("--group", "-g")
"""``team-chat --group NAME``: the agents of ``[groups] NAME``."""

BUILTIN, AGENT, GROUP, OS = "builtin", "agent", "group", "os"


@dataclass(frozen=True)
class Step:
    """A checked stage: ``kind`` is one of builtin, agent, group, os."""

    kind: str
    command: Command
    agents: tuple[AgentConfig, ...] = ()
    own_text: tuple[str, ...] = ()
    """For a group: each lane's own words (``team-chat``'s message for every lane)."""

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.agents]


def plan(app: App, stages: tuple[Stage, ...]) -> list[Step]:
    """Check every stage of a pipeline; raise before anything runs."""
    return [_step(app, stage) for stage in stages]


def _step(app: App, stage: Stage) -> Step:
    if isinstance(stage, Group):
        members = _flatten(stage)
        for member in members:
            other = member.name in BUILTINS or find_program(member.name) or is_shell_escape(member.name)
            if other and (member.name in BUILTINS or not app.is_agent(member.name)):
                raise UsageError(f"{member.name}: only agents can run in parallel ('&')")
        agents = tuple(app.agent(m.name) for m in members)
        names = [a.name for a in agents]
        if len(set(names)) != len(names):
            raise UsageError("an agent can appear only once in a parallel group")
        return Step(GROUP, members[0], agents, tuple(m.text for m in members))
    if stage.name in BUILTINS:
        return Step(BUILTIN, stage)
    if stage.name == TEAM_CHAT and not app.is_agent(TEAM_CHAT):
        return _team_chat(app, stage)
    if app.is_agent(stage.name):
        return Step(AGENT, stage, (app.agent(stage.name),))
    if is_shell_escape(stage.name) or stage.name == "!" or find_program(stage.name):
        return Step(OS, stage)
    raise UnknownAgentError(stage.name, list(app.agents()))


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


def _flatten(group: Group) -> list[Command]:
    found: list[Command] = []
    for member in group.members:
        if isinstance(member, Group):
            found.extend(_flatten(member))
        else:
            found.append(member)
    return found
