"""The commands of conversations: ``new`` and ``conversations``, and ``aish --continue``/``--cid``.

    new [AGENT...]                      a fresh conversation with AGENT (every agent when none)
    conversations [N]                   the last N recorded conversations (default 20)
    conversations show [ID|AGENT]       a recorded conversation's turns (the newest, or AGENT's last)
    conversations resume ID|AGENT       continue conversation ID (or AGENT's last one) in this session

Each command function takes the session's :class:`~aish.conversations.Conversations`
(None where there is no session: ``aish conversations`` from the command line)
and writes to the stream it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from aish.app import App
from aish.conversations import Conversation, Conversations
from aish.errors import EXIT_OK, AishError, UnknownAgentError, UsageError, unknown_subcommand, visible
from aish.history import conversations as recorded
from aish.history.commands import without_list
from aish.history.show import when
from aish.history.store import opened
from aish.layout import clip, columns
from aish.terminal import cells, terminal_safe
from aish.tty import isatty
from aish.wordwrap import say

NEW_USAGE = "usage: new [AGENT...]   start a fresh conversation with AGENT (with every agent when none is named)\n"
USAGE = """\
usage: conversations [list] [N]         the last N recorded conversations (default 20); * marks this session's
       conversations show [ID|AGENT]    a recorded conversation's turns (the newest one, or AGENT's last)
       conversations resume ID|AGENT    continue conversation ID (or AGENT's last one) in this session
In the shell a line that is just AGENT ... continues AGENT's conversation; 'new AGENT' starts afresh.
From the command line: aish --continue [AGENT] TEXT..., aish --cid ID [TEXT...].
"""
DEFAULT_COUNT = 20
PREVIEW = 60
"""Off a terminal, the characters of a first prompt shown (with ``...``); on one, what fits the row."""
PREVIEW_NARROWEST = 12


def new_command(app: App, conversations: Conversations, args: Sequence[str], out: TextIO) -> int:
    """``new [AGENT...]``: set the agents' conversations aside and start afresh."""
    if any(a in ("help", "-h", "--help") for a in args):
        out.write(NEW_USAGE)
        return EXIT_OK
    for name in args:
        if not app.is_agent(name):
            raise UnknownAgentError(name, list(app.agents()))
    targets: list[str | None] = [*dict.fromkeys(args)] or [None]
    for target in targets:
        before = {c.agent: c for c in conversations.active()}
        had = conversations.reset(target)
        who = target or "every agent"
        if not had:
            out.write(f"{who}: new conversation\n")
            continue
        old = ", ".join(f"{before[a].id} ({a}, {_turns(len(before[a].turns))})" for a in had)
        say(out, f"{who}: new conversation (set aside: {old}; 'conversations resume ID' brings one back)")
    return EXIT_OK


def conversations_command(app: App, conversations: Conversations | None, args: Sequence[str], out: TextIO) -> int:
    """``conversations [N] | list [N] | show [ID|AGENT] | resume ID|AGENT``."""
    args = without_list(args, "conversations")
    sub, rest = (args[0], list(args[1:])) if args else ("", [])
    if sub in ("help", "-h", "--help"):
        out.write(USAGE)
        return EXIT_OK
    if sub == "" or (sub.isdigit() and not rest):
        count = int(sub) if sub else DEFAULT_COUNT
        if sub and count == 0:
            raise UsageError(f"conversations {sub}: give a count of 1 or more")
        with opened(app) as backend:
            found = recorded.summaries(backend, count)
        active = {c.id for c in conversations.active()} if conversations is not None else set()
        width = columns(out)  # a terminal: each row ends before its edge
        for s in found:
            mark = "*" if s.id in active else " "
            agent = s.agent + " " * (12 - cells(s.agent))  # padded by terminal cells: 日本 takes four
            head = f"{mark} {s.id}  {when(s.last)}  {agent} {_turns(s.turns):>9}  "
            if width and width - cells(head) - 1 < PREVIEW_NARROWEST:  # narrow: the prompt on a row of its own
                out.write(f"{head.rstrip()}\n")
                head, first = "    ", clip(visible(s.first_prompt), max(width - 5, PREVIEW_NARROWEST))
            elif width:
                first = clip(visible(s.first_prompt), width - cells(head) - 1)
            else:
                prompt = s.first_prompt
                first = visible(prompt if len(prompt) <= PREVIEW else prompt[: PREVIEW - 3] + "...")
            out.write(f"{head}{first}\n")
        if not found:
            out.write("no recorded conversations yet (a line that is just AGENT ... in the shell starts one)\n")
        return EXIT_OK
    if sub == "show":
        if len(rest) > 1:
            raise UsageError("conversations show: give one conversation id or agent (see 'conversations')")
        conversation = _resolve(app, rest[0]) if rest else _newest(app)
        if not rest or app.is_agent(rest[0]):  # chosen for the user: say which one it is
            turns = _turns(len(conversation.turns))
            out.write(f"conversation {conversation.id} with {conversation.agent} ({turns})\n\n")
        safe = terminal_safe if isatty(out) else str  # a terminal: the turns' control characters escaped
        with opened(app) as backend:
            cut = recorded.unfinished(backend, conversation.id)
        for index, turn in enumerate(conversation.turns):
            prompt, answer = safe(turn.prompt.rstrip(chr(10))), safe(turn.answer.rstrip(chr(10)))
            say(out, f"> {prompt}")  # a terminal: broken between words, as history show's
            say(out, f"{conversation.agent}: {answer}")
            out.write(f"[partial answer: {cut[index]}]\n\n" if index in cut else "\n")
        return EXIT_OK
    if sub == "resume":
        wanted = _one(rest, "resume")
        if conversations is None:
            hint = f"--continue {wanted}" if app.is_agent(wanted) else f"--cid {wanted}"
            raise UsageError(f"conversations resume: only in the shell (on the command line: aish {hint} ...)")
        conversation = _resolve(app, wanted)
        conversations.resume(conversation)
        say(out, f"{conversation.agent}: resumed conversation {conversation.id} ({_turns(len(conversation.turns))})")
        return EXIT_OK
    raise unknown_subcommand("conversations", sub, ["show", "resume", "help"])


def _resolve(app: App, wanted: str) -> Conversation:
    """Conversation ``wanted``, or the last one of agent ``wanted``."""
    if app.is_agent(wanted):
        with opened(app) as backend:
            found = recorded.latest(backend, wanted)
        if found is None:
            raise UsageError(f"{wanted}: no recorded conversation yet (see 'conversations')")
        return found
    return _find(app, wanted)


def _newest(app: App) -> Conversation:
    """The conversation that had the newest turn."""
    with opened(app) as backend:
        conversation = recorded.latest(backend, None)
    if conversation is None:
        raise UsageError("conversations show: no recorded conversation yet (a line that is just AGENT ... starts one)")
    return conversation


def recorded_ids(app: App, start: str = "", limit: int = 20) -> list[str]:
    """Up to ``limit`` ids of recorded conversations starting with ``start``, newest first, for
    Tab (the shell's and the completion scripts'): none when history is off or cannot be read."""
    try:
        with opened(app) as backend:
            return recorded.starting_with(backend, start)[:limit]
    except (AishError, OSError):
        return []


PREFIX = 4
"""The shortest start of a conversation id that finds it, as git takes a commit's (``8d4e``)."""


def _find(app: App, conversation_id: str) -> Conversation:
    """Conversation ``conversation_id``, or the one whose id starts with it (at least 4 characters)."""
    with opened(app) as backend:
        found = recorded.load(backend, conversation_id)
        if found is None and len(conversation_id) >= PREFIX:
            ids = recorded.starting_with(backend, conversation_id.lower())  # ids are lower-case hex
            if len(ids) > 1:
                shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
                raise UsageError(f"conversation {conversation_id!r} is ambiguous: it starts {shown}")
            found = recorded.load(backend, ids[0]) if ids else None
    if found is None:
        short = f"; give at least {PREFIX} characters of an id" if len(conversation_id) < PREFIX else ""
        raise UsageError(f"no conversation {conversation_id!r} in history{short} (see 'conversations')")
    return found


def _one(rest: Sequence[str], sub: str) -> str:
    if len(rest) != 1:
        raise UsageError(f"conversations {sub}: give one conversation id (see 'conversations')")
    return rest[0]


def _turns(n: int) -> str:
    return f"{n} turn{'s' if n != 1 else ''}"


# ------------------------------------------------------------ the command line
def continuing(app: App, *, latest: bool, cid: str | None) -> tuple[Conversations, Conversation | None]:
    """The conversations of ``aish --continue`` (each agent's last one, read when it first speaks)
    or ``aish --cid ID`` (that one, returned too); raises when history cannot give them."""
    if latest and cid:
        raise UsageError("--continue and --cid: choose one")
    if cid is not None:
        conversation = _find(app, cid)
        session = Conversations()
        session.resume(conversation)
        return session, conversation
    with opened(app):
        pass  # history is on and readable, or a one-line error now

    def last_of(agent: str) -> Conversation | None:
        with opened(app) as backend:
            return recorded.latest(backend, agent)

    return Conversations(last_of), None


def last_agent(app: App) -> str:
    """The agent of the most recently continued conversation (``aish --continue TEXT``)."""
    with opened(app) as backend:
        found = recorded.summaries(backend, 1)
    if not found:
        raise UsageError("--continue: no recorded conversation to continue (name an agent: aish AGENT TEXT)")
    return found[-1].agent


__all__ = ["continuing", "conversations_command", "last_agent", "new_command"]
