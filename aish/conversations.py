"""Conversations: what each agent remembers during a session.

The shell holds one :class:`Conversations` (``runner.conversations``); a
one-shot ``aish -c`` holds none, unless ``--continue`` or ``--cid`` asked to
continue a recorded conversation. A pipeline whose only agent stage is one
agent continues that agent's conversation: its earlier turns travel with the
request (:attr:`aish.contracts.Prompt.turns`, cut to the agent's budget) and
the new prompt and answer become its next turn. Pipelines of several agents
run as before, one-shot (see ``docs/usage.md``, "Conversations").

Turns are recorded in history through each stage's ``meta["conversation"]``
(:mod:`aish.history.conversations` reads them back). Chat mode's ``/retry``
asks the last turn again: the request carries the turns before it, and its
answer takes the turn's place (the stage's ``meta["replaces"]`` names the run
of the turn it replaced, so history, which keeps both, reads back the same).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from aish.agents import AgentConfig
from aish.contracts import Turn
from aish.joined import Joined, text_of


def new_id() -> str:
    """A fresh conversation id: 12 hex digits (what ``--cid`` takes)."""
    return os.urandom(6).hex()


class Conversation:
    """One agent's conversation: its id and its turns, oldest first.

    (Plain classes, not dataclasses: ``aish -c`` imports this module, and each
    dataclass costs about a millisecond to create.)
    """

    __slots__ = ("agent", "fits", "id", "last_run", "retrying", "turns", "warned")

    def __init__(
        self, agent: str, id: str | None = None, turns: list[Turn] | None = None, last_run: str | None = None
    ) -> None:
        self.agent = agent
        self.id = id if id is not None else new_id()
        self.turns: list[Turn] = turns if turns is not None else []
        self.warned = False
        """Whether the user was told that the budget leaves turns out (said once per conversation)."""
        self.last_run = last_run
        """The id of the recorded run whose stage is the last turn (None: not recorded, or no turn)."""
        self.retrying = False
        """The next request asks the last turn again (``/retry``): it carries the turns before that
        one, and its answer, if any text arrives, replaces it."""
        self.fits: int | None = None
        """The characters of earlier turns a request may carry, learned when the server refused more as
        longer than the model's context (:class:`aish.pipeline.agent.AgentStage`, :meth:`Conversations.fitted`);
        later requests carry the newest turns within it, and at least the newest one: a turn too long to
        carry once does not leave the chat with no memory, nor one long answer with a memory of one turn."""

    def __repr__(self) -> str:
        return f"Conversation({self.agent!r}, {self.id!r}, {len(self.turns)} turns)"


class Window:
    """What one request carries: the conversation's id, the turns that fit, how many were left out."""

    __slots__ = ("dropped", "id", "notice", "replaces", "turns")

    def __init__(
        self, id: str, turns: tuple[Turn, ...], dropped: int, notice: str | None, replaces: str | None = None
    ) -> None:
        self.id = id
        self.turns = turns
        self.dropped = dropped
        self.notice = notice
        """A line to show the user (the first time turns are left out), or None."""
        self.replaces = replaces
        """The request asks a turn again: the id of the run that recorded it (kept in the new stage's
        meta, so history reads the conversation back with the new answer in its place), or None."""


def size(turns: Sequence[Turn]) -> int:
    """The characters of ``turns``, as :func:`fit` counts them."""
    return sum(len(turn.prompt) + len(turn.answer) for turn in turns)


def fit(turns: Sequence[Turn], max_turns: int, max_chars: int) -> tuple[Turn, ...]:
    """The most recent turns that fit ``max_turns`` turns and ``max_chars`` characters, oldest first."""
    kept: list[Turn] = []
    size = 0
    for turn in reversed(turns):
        size += len(turn.prompt) + len(turn.answer)  # as :func:`size` counts
        if len(kept) >= max_turns or size > max_chars:
            break
        kept.append(turn)
    return tuple(reversed(kept))


Loader = Callable[[str], "Conversation | None"]
"""Finds a recorded conversation to continue for an agent (``--continue``), or None."""


class Conversations:
    """The conversations of one session, one per agent.

    ``loader`` (optional) is asked for an agent's conversation the first time
    the agent speaks in this session: ``aish --continue`` passes one that
    reads the agent's last conversation from history.
    """

    def __init__(self, loader: Loader | None = None, *, one_shot: bool = False) -> None:
        self._by_agent: dict[str, Conversation] = {}
        self._loader = loader
        self._asked: set[str] = set()
        self.last_agent: str | None = None
        """The agent whose answer this session added a turn for last (None: none yet)."""
        self.one_shot = one_shot
        """Every request starts a conversation of its own and carries no earlier turn (``aish -c``,
        scripts, ``aish AGENT TEXT``): recorded in history, it can be continued later."""

    def for_agent(self, name: str) -> Conversation:
        """The agent's current conversation (a new, empty one the first time)."""
        found = self._by_agent.get(name)
        if found is None:
            loaded = None
            if self._loader is not None and name not in self._asked:
                self._asked.add(name)
                loaded = self._loader(name)
            found = self._by_agent[name] = loaded if loaded is not None else Conversation(name)
        return found

    def active(self) -> list[Conversation]:
        """The conversations with at least one turn, in the order they began."""
        return [c for c in self._by_agent.values() if c.turns]

    def reset(self, name: str | None = None) -> list[str]:
        """Start afresh: agent ``name``'s conversation, or every agent's (None). Returns who had turns."""
        names = [name] if name is not None else list(self._by_agent)
        had = [n for n in names if n in self._by_agent and self._by_agent[n].turns]
        for n in names:
            self._by_agent[n] = Conversation(n)
            self._asked.add(n)  # a fresh conversation is not replaced by a recorded one
        return had

    def resume(self, conversation: Conversation) -> None:
        """Make ``conversation`` (read from history) its agent's current one."""
        self._by_agent[conversation.agent] = conversation
        self._asked.add(conversation.agent)

    def window(self, agent: AgentConfig) -> Window:
        """The turns the agent's next request carries, within its budget."""
        if self.one_shot:
            return Window(new_id(), (), 0, None)
        conversation = self.for_agent(agent.name)
        again = conversation.retrying and bool(conversation.turns)
        earlier = conversation.turns[:-1] if again else conversation.turns
        chars = agent.conversation_chars
        if conversation.fits is not None:  # the model's context took no more
            chars = min(chars, conversation.fits)
        turns = fit(earlier, agent.conversation_turns, chars)
        if not turns and conversation.fits is not None:
            turns = fit(earlier, 1, agent.conversation_chars)  # at least the newest
        dropped = len(earlier) - len(turns)
        notice = None
        if dropped and not conversation.warned and conversation.fits is None:
            conversation.warned = True
            count = agent.conversation_turns
            notice = (
                f"{agent.name}: the conversation is longer than its budget "
                f"({count} turn{'' if count == 1 else 's'}, {agent.conversation_chars} characters): "
                f"its oldest turns are no longer sent (/new in a chat, or 'new {agent.name}', starts afresh; "
                "on the command line, leaving out --continue)"
            )
        return Window(conversation.id, turns, dropped, notice, conversation.last_run if again else None)

    def fitted(self, agent: str, sent: Sequence[Turn], kept: int) -> None:
        """The model's context refused the earlier turns ``sent`` and took only the ``kept`` newest
        (:class:`aish.pipeline.agent.AgentStage` halves them): later requests carry no more characters
        of turns than those, or, when none fitted, fewer than the newest one that was refused (shorter
        turns after one long answer are carried again, up to its length)."""
        took = sent[len(sent) - kept :] if kept else ()
        self.for_agent(agent).fits = size(took) if kept else size(sent[-1:]) - 1

    def record(
        self,
        agent: str,
        prompt: str | Joined,
        answer: str,
        conversation_id: str | None = None,
        run: str | None = None,
    ) -> None:
        """Add a turn to the agent's conversation (unless it was started afresh since ``conversation_id``);
        when it asked the last turn again (:attr:`Conversation.retrying`), the turn takes that one's place.

        ``run``: the id of the recorded run the turn is a stage of (None: not recorded).
        """
        if self.one_shot:
            return
        conversation = self.for_agent(agent)
        if conversation_id is not None and conversation.id != conversation_id:
            return
        if answer.strip():
            if conversation.retrying and conversation.turns:
                conversation.turns.pop()
            conversation.turns.append(Turn(text_of(prompt), answer))
            conversation.last_run = run
            self.last_agent = agent
        conversation.retrying = False


__all__ = ["Conversation", "Conversations", "Turn", "Window", "fit", "new_id", "size"]
