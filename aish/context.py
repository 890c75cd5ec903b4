"""The context object: what a stage knows about the pipeline it runs in.

The runner builds one :class:`Context` per agent stage; the agent's codec
decides how (and whether) it reaches the endpoint: a system message, prior
turns, explicit fields, or text in the prompt. See ``docs/pipelines.md``.
"""

from __future__ import annotations

from typing import Any

from aish.joined import Joined, join_text, join_with, rstripped, text_of
from aish.records import FrozenRecord, freeze


class Context(FrozenRecord):
    """What a stage knows about the pipeline it runs in.

    Codecs decide how (and whether) this reaches the endpoint.
    """

    __slots__ = (
        "pipeline_id",
        "position",
        "stages",
        "original_input",
        "previous_agent",
        "previous_answer",
        "session_id",
        "agent",
        "previous_answers",
        "parallel_with",
        "conversation_id",
    )
    pipeline_id: str
    position: int
    """0-based index of this stage in its pipeline."""
    stages: int
    original_input: str
    previous_agent: str | None
    """The agent of the stage before (after a parallel group: its agents joined by ``" & "``)."""
    previous_answer: str | None
    """The answer of the stage before (after a group: the answers labelled by agent)."""
    session_id: str | None
    agent: str
    """The agent this stage runs."""
    previous_answers: tuple[tuple[str, str], ...]
    """After a parallel group (fan-in): ``(agent, answer)`` for each of its agents, in command order."""
    parallel_with: tuple[str, ...]
    """The other agents of this stage's parallel group (empty for a single stage)."""
    conversation_id: str | None
    """The conversation this stage continues (its earlier turns are :attr:`Prompt.turns`), or None
    for a one-shot stage. Stateful servers can key their own memory on it."""

    def __init__(
        self,
        pipeline_id: str,
        position: int = 0,
        stages: int = 1,
        original_input: str = "",
        previous_agent: str | None = None,
        previous_answer: str | None = None,
        session_id: str | None = None,
        agent: str = "",
        previous_answers: tuple[tuple[str, str], ...] = (),
        parallel_with: tuple[str, ...] = (),
        conversation_id: str | None = None,
    ) -> None:
        freeze(
            self,
            pipeline_id=pipeline_id,
            position=position,
            stages=stages,
            original_input=original_input,
            previous_agent=previous_agent,
            previous_answer=previous_answer,
            session_id=session_id,
            agent=agent,
            previous_answers=previous_answers,
            parallel_with=parallel_with,
            conversation_id=conversation_id,
        )

    @property
    def in_pipeline(self) -> bool:
        """Whether there is anything to tell the endpoint beyond the prompt itself."""
        return bool(self.stages > 1 or self.previous_answer or self.previous_answers or self.parallel_with)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the ``aish-envelope`` codec sends exactly this)."""
        return {
            "pipeline_id": self.pipeline_id,
            "position": self.position,
            "stages": self.stages,
            "agent": self.agent,
            "original_input": self.original_input,
            "previous_agent": self.previous_agent,
            "previous_answer": self.previous_answer,
            "previous_answers": [{"agent": a, "answer": t} for a, t in self.previous_answers],
            "parallel_with": list(self.parallel_with),
            "session_id": self.session_id,
            "conversation_id": self.conversation_id,
        }

    def describe(self) -> str:
        """The context as a few lines of text, for a system prompt or a text body."""
        return text_of(self.description())

    def description(self) -> str | Joined:
        """:meth:`describe`, as a :class:`aish.Joined` when it holds a long original input (never
        copied: decision 31); put it as it is into what :func:`aish.json_body` encodes."""
        lines: list[str | Joined] = [
            f"You are stage {self.position + 1} of {self.stages} in an aish pipeline (id {self.pipeline_id}).",
        ]
        if self.parallel_with:
            lines.append(f"Agents answering the same input beside you: {', '.join(self.parallel_with)}.")
        if self.original_input and (self.previous_answer or self.previous_answers):
            lines.append(join_text("Original input:\n", rstripped(self.original_input)))
        if self.previous_answers:
            names = ", ".join(agent for agent, _ in self.previous_answers)
            lines.append(f"Your input holds the answers of {names}, each labelled [agent].")
        elif self.previous_agent:
            lines.append(f"Your input is the answer of the previous stage, {self.previous_agent}.")
        if self.session_id:
            lines.append(f"Session: {self.session_id}")
        return join_with("\n", lines)


def label_answers(answers: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
    """Answers as blocks labelled by agent (``[apollo]`` then its text), in the order given."""
    return "\n".join(f"[{agent}]\n{text.rstrip(chr(10))}\n" for agent, text in answers)
