"""One agent stage: its prompt, its renderer, its history recording, its stream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO, cast

from aish.agents import AgentConfig
from aish.context import Context
from aish.contracts import Prompt, Renderer, RenderTarget, Turn
from aish.errors import AishError, UnknownNameError, UsageError
from aish.events import Event, TextDelta
from aish.joined import Joined, join_text, rstripped
from aish.pipeline.env import RunEnv, Shown
from aish.pipeline.plan import AGENT, GROUP, Step
from aish.stream import EMPTY, AgentStream, StageResult
from aish.terminal import wants_color
from aish.wordwrap import say

Sink = Callable[[Event], None]
Tap = Callable[[str], "bool | None"]
"""Gets the answer's text as it streams (a program's input): False when nobody reads it any
more (``| head -c 20`` has exited), which ends the answer, as SIGPIPE ends a writer."""
"""Receives the answer's text as it streams (an OS stage's stdin)."""


def prompt_text(name: str, own: str, piped: str | None) -> str | Joined:
    """The stage's input: piped text, then the stage's own words.

    Piped text alone is passed on as it is, the same object: ``isspace``, not
    ``strip``, which would copy a long input only to test it (decision 27).
    With words after a long piped text, a :class:`Joined` of the two refers to
    the piped text (decision 31): joined, it would be a second copy of it.
    """
    if piped is not None and (not piped or piped.isspace()):
        piped = None
    has_own = bool(own) and not own.isspace()
    if piped is not None:
        return join_text(rstripped(piped), "\n\n", own) if has_own else piped
    if not has_own:
        raise UsageError(f"{name}: nothing to send (give text, or pipe input into it)")
    return own


def has_text(step: Step, text: str | None) -> None:
    """A first stage of agents with nothing to send fails before anything runs: ``athena >
    notes.md`` (no text) emptied notes.md, then said so."""
    if step.kind == AGENT:
        prompt_text(step.agents[0].name, step.command.text, text)
    elif step.kind == GROUP:
        group_texts(step, text)


def group_texts(step: Step, piped: str | None) -> list[str | Joined]:
    """Each lane's input in a parallel group; nothing to send says whose words the words were."""
    pairs = list(zip(step.agents, step.own_text, strict=True))
    try:
        return [prompt_text(agent.name, own, piped) for agent, own in pairs]
    except UsageError as exc:
        given = [(agent.name, own) for agent, own in pairs if own.strip()]
        if len(given) != 1:
            raise
        name, own = given[0]
        import shlex  # a mistake's path only

        raise exc.reworded(
            f"{exc}; the words after {name} are {name}'s alone: to ask every agent, pipe them in "
            f"(echo {shlex.quote(own.strip())} | {' & '.join(a.name for a, _ in pairs)})"
        ) from None


def make_renderer(env: RunEnv, agent: AgentConfig, shown: Shown) -> Renderer:
    name = env.renderer_name or agent.renderer or env.app.config.settings.renderer
    options = {} if env.wrap else {"wrap": False}
    target = RenderTarget(out=shown.out, err=env.err, tty=shown.tty, options=options, color=wants_color(shown.tty))
    try:
        return env.app.renderer(name or env.app.default_name("renderer"), target)
    except UnknownNameError as exc:
        if env.renderer_name or agent.renderer or env.app.config.path is None:
            raise  # --renderer (named on the command line), or an agent's (checked with the agent)
        raise exc.reworded(f"{env.app.config.path}: settings.renderer: {exc}") from None


class AgentStage:
    """An agent stage ready to run; :meth:`cancel` works from any thread."""

    def __init__(
        self,
        env: RunEnv,
        agent: AgentConfig,
        text: str | Joined,
        context: Context,
        turns: tuple[Turn, ...] = (),
        replaces: str | None = None,
        extract: bool = False,
        fences: bool = False,
    ) -> None:
        self.env = env
        self.extract = extract
        """``-x``: what the stage shows and passes on is its answer's first fenced code block."""
        self.fences = fences
        """With ``extract``: the block's fence lines are shown too (on a terminal)."""
        self.agent = agent
        self.text = text
        self.context = context
        self.turns = turns
        self.replaces = replaces
        """The stage asks a turn again: the id of the run that recorded that turn (kept in its meta)."""
        self.sent = turns
        """The earlier turns the request carried: fewer than ``turns`` when the server refused them
        all as longer than the model's context (see :meth:`_fewer_turns`)."""
        self.stream = AgentStream(agent, env.app.transport(agent), env.app.codec(agent))

    def cancel(self) -> None:
        self.stream.cancel()

    def run(
        self,
        sink: Sink | None,
        flush: Callable[[], None] | None = None,
        tap: Tap | None = None,
        *,
        every_piece: bool = False,
    ) -> StageResult:
        """Stream the answer to ``sink`` (a renderer's feed, or None), ``tap`` gets its text;
        ``every_piece``: the sink gets each text event as the endpoint sent it, not a read's joined."""
        self.stream.every_piece = every_piece
        out: Sink = sink if sink is not None else _discard
        if tap is not None:
            out = _tapped(out, tap, self.stream.cancel)
        if self.extract:
            from aish.pipeline.extract import extracting  # -x only

            out = extracting(out, fences=self.fences)
        done: Callable[[], None] = flush if flush is not None else _nothing
        recording = None
        if self.env.recording is not None:
            recording = self.env.recording.stage(
                self.agent,
                self.text,
                position=self.context.position,
                conversation=self.context.conversation_id,
                replaces=self.replaces,
            )
            done = recording.watch(self.stream.parts, done)
            self.stream.waiting = recording.waiting
        smaller = self._fewer_turns if self.turns else None
        try:
            result = self.stream.run(Prompt(self.text, self.context, self.turns), out, done, smaller=smaller)
        finally:
            self.stream.transport.close()
        left_out = len(self.turns) - len(self.sent)
        if left_out:
            result.meta["turns_left_out"] = left_out
        if recording is not None:
            recording.finish(result)
        return result

    def _fewer_turns(self, prompt: Prompt) -> Prompt | None:
        """The prompt with the newer half of its turns (rounded down), after the server refused it as longer than
        the model's context (None when it carried none: the input alone is too long)."""
        if not prompt.turns:
            return None
        turns = prompt.turns
        self.sent = turns[len(turns) - len(turns) // 2 :]  # strictly fewer: one turn becomes none
        return Prompt(prompt.content, prompt.context, self.sent)


def run_single(
    env: RunEnv,
    agent: AgentConfig,
    text: str | Joined,
    context: Context,
    shown: Shown | None,
    tap: Tap | None,
    turns: tuple[Turn, ...] = (),
    replaces: str | None = None,
    extract: bool = False,
) -> StageResult:
    """Run one agent stage in this thread, shown through its renderer when ``shown``.

    ``turns``: the earlier turns of the agent's conversation (``context.conversation_id``) to send;
    ``replaces``: the run of the turn this stage asks again (``/retry``), or None; ``extract``
    (``-x``): the renderer and ``tap`` get only the answer's first fenced code block.
    """
    stage = AgentStage(env, agent, text, context, turns, replaces, extract, fences=shown is not None and shown.tty)
    ending = None if shown is None or shown.tty else LineEnding(shown.out)
    if ending is not None:
        shown = Shown(cast(TextIO, ending), False)
    renderer = make_renderer(env, agent, shown) if shown is not None else None
    try:
        result = stage.run(
            renderer.feed if renderer else None,
            renderer.flush if renderer else None,
            tap,
            every_piece=getattr(renderer, "every_piece", False),
        )
    finally:
        if renderer is not None:
            renderer.close()
        if ending is not None:
            ending.end_line()
    kept, n = len(stage.sent), len(turns)
    if kept < n and result.error is None:
        say(env.err, f"aish: {agent.name}: {_left_out(agent.name, kept, n)}")
        env.err.flush()
    elif n and result.error is not None and _too_long(result.error):  # asked again without any turn
        result.error = result.error.reworded(
            f"{result.error}; even without the conversation's {n} earlier turn{'s' if n != 1 else ''}: "
            "the input alone is longer than the model's context"
        )
    env.add_results([result])
    warn_if_empty(env, result, shown)
    return result


def _left_out(name: str, kept: int, n: int) -> str:
    """What the user is told when the model's context took only ``kept`` of ``n`` earlier turns."""
    if kept:
        took = f"the model's context took only the {kept} newest of the conversation's {n} earlier turns"
        later = "later questions carry no more of it than that"
    else:
        earlier, them = ("the earlier turn", "it") if n == 1 else (f"any of the {n} earlier turns", "them")
        took = f"the model's context had no room for {earlier}, so this question went without {them}"
        later = "later questions carry as many recent turns as fit"
    return f"{took}; {later} (/new in a chat, or 'new {name}', starts afresh)"


def _too_long(error: AishError) -> bool:
    from aish.stream.messages import too_long

    return too_long(error)


def warn_if_empty(env: RunEnv, result: StageResult, shown: Shown | None) -> None:
    """An empty answer is a warning on stderr when no terminal status line said so already."""
    if result.status == EMPTY and (shown is None or not shown.tty):
        say(env.err, f"aish: warning: {result.agent} gave an empty answer")
        env.err.flush()


class LineEnding:
    """A text stream that ends the last line written to it when told (:meth:`end_line`).

    An answer off a terminal (a pipe, a file, a program's input) ends its last line, as text tools'
    output does: ``aish athena hi > f; cat f`` leaves the shell's prompt on a line of its own, and
    ``| while read`` or ``| wc -l`` sees the last line. Only the newline is added; the text is as
    it came.
    """

    def __init__(self, out: TextIO | Callable[[str], object]) -> None:
        self._write = out.write if not callable(out) else out
        self._out = out
        self.open = False
        """Text was written and its last line is not ended."""

    def write(self, text: str) -> Any:
        """Write ``text``; what the stream's (or the function's) write returned."""
        if text:
            self.open = text[-1] != "\n"
        return self._write(text)

    def end_line(self) -> None:
        if self.open:
            self.open = False
            self._write("\n")

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno...: the stream's own
        return getattr(self._out, name)


def _tapped(sink: Sink, tap: Tap, stop: Callable[[], None]) -> Sink:
    def tapped(event: Event) -> None:
        if type(event) is TextDelta and tap(event.text) is False:
            stop()  # the stream layer ends the answer at its next read, what arrived kept
        sink(event)

    return tapped


def _discard(_event: Event) -> None:
    return None


def _nothing() -> None:
    return None
