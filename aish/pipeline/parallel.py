"""Parallel groups: the same input to several agents at once, one thread per lane.

On a terminal the lanes are shown live by the renderer registered for parallel
groups (``parallel=True``, or ``[settings] parallel_renderer``). An explicitly
chosen renderer (``--renderer``) shows them too: one registered for parallel
groups, or one that labels every event with its agent (``jsonl``), gets every
event of every lane; any other shows the lanes one after the other, each with
a renderer of its own (:mod:`.sequenced`), never mixing their words.
Otherwise each lane's answer is written as a block labelled by its agent, in
the order of the command, as soon as it and the lanes before it are done.
One lane failing does not stop the others; Ctrl-C cancels them all and keeps
what arrived. The lanes read in their threads; the renderer is called in the main
thread only, so Ctrl-C interrupts it even in the middle of a long text.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

from aish.agents import AgentConfig
from aish.context import Context, label_answers
from aish.contracts import Renderer, RenderTarget
from aish.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, Interrupted
from aish.events import Event, Reasoning, TextDelta
from aish.joined import Joined
from aish.pipeline.agent import AgentStage, warn_if_empty
from aish.pipeline.env import RunEnv, Shown
from aish.pipeline.sequenced import Sequenced
from aish.records import Record
from aish.stream import StageResult
from aish.terminal import wants_color


class GroupOutcome(Record):
    """What a group produced: its results in command order, and its exit status."""

    __slots__ = ("results", "status")
    results: list[StageResult]
    status: int

    def __init__(self, results: list[StageResult], status: int) -> None:
        self.results = results
        self.status = status

    @property
    def answers(self) -> list[tuple[str, str]]:
        """``(agent, text)`` of the lanes that completed."""
        return [(r.agent, r.text) for r in self.results if r.error is None]


def parallel_renderer(env: RunEnv, names: list[str], shown: Shown) -> Renderer | None:
    """The renderer for lanes on ``shown``: the chosen one, the lanes one on a terminal, or None (blocks).

    A chosen renderer that cannot show lanes side by side (not registered
    ``parallel=True``, and not ``labels_agents``) shows them one after the
    other, one renderer per lane (:class:`~aish.pipeline.sequenced.Sequenced`).
    """
    options: dict[str, object] = {"lanes": names} if env.wrap else {"lanes": names, "wrap": False}
    target = RenderTarget(out=shown.out, err=env.err, tty=shown.tty, options=options, color=wants_color(shown.tty))
    chosen = env.renderer_name
    if chosen:
        first = env.app.renderer(chosen, target)
        if env.app.registration("renderer", chosen).parallel or getattr(first, "labels_agents", False):
            return first
        return Sequenced(lambda lane_target: env.app.renderer(chosen, lane_target), names, target)
    if not shown.tty:
        return None
    name = env.app.config.settings.parallel_renderer
    if name is None:
        offered = sorted(n for n, reg in env.app.components.get("renderer", {}).items() if reg.parallel)
        name = offered[0] if offered else None
    return env.app.renderer(name, target) if name else None


def run_group(
    env: RunEnv, agents: list[AgentConfig], texts: Sequence[str | Joined], context: Context, shown: Shown | None
) -> GroupOutcome:
    """Run one lane per agent concurrently; show them on ``shown`` (None: not shown)."""
    names = [a.name for a in agents]
    lanes = [
        AgentStage(
            env,
            agent,
            text,
            context.replace(agent=agent.name, parallel_with=tuple(n for n in names if n != agent.name)),
        )
        for agent, text in zip(agents, texts, strict=True)
    ]
    renderer = parallel_renderer(env, names, shown) if shown is not None else None
    every_piece = getattr(renderer, "every_piece", False)
    blocks = _Blocks(shown, len(lanes)) if shown is not None and renderer is None else None
    lock = threading.Lock()
    results: list[StageResult | None] = [None] * len(lanes)
    inbox: queue.SimpleQueue[Event | threading.Event | int] = queue.SimpleQueue()
    """What the lanes send this thread, which alone calls the renderer: events, a batch's end
    (set once it is shown), and a lane's index when it is done."""

    def flush() -> None:
        shown = threading.Event()
        inbox.put(shown)
        shown.wait()  # one batch in flight per lane: a paused terminal holds the lanes' reads back

    raised: list[BaseException] = []
    """What a lane could not handle (writing its block failed: EPIPE, ENOSPC): raised again in this thread."""

    def work(index: int) -> None:
        try:
            lane = lanes[index]
            result = lane.run(inbox.put if renderer else None, flush if renderer else None, every_piece=every_piece)
            results[index] = result
            if blocks is not None:
                with lock:
                    blocks.done(index, result)
        except BaseException as exc:
            raised.append(exc)
        finally:
            inbox.put(index)

    threads = [
        threading.Thread(target=work, args=(i,), name=f"aish-lane-{n}", daemon=True) for i, n in enumerate(names)
    ]
    interrupted = False
    running = set(range(len(lanes)))
    try:
        for thread in threads:
            thread.start()
        _show(inbox, running, renderer)
    except KeyboardInterrupt:
        interrupted = True
        for lane in lanes:
            lane.cancel()
        _show(inbox, running, renderer, interrupted=True)
    except BaseException:  # the renderer failed (a closed pipe): stop the lanes, then say why
        for lane in lanes:
            lane.cancel()
        _show(inbox, running, None, interrupted=True)
        raise
    finally:
        if renderer is not None:
            renderer.close()
    if raised:  # a closed pipe first: it ends aish quietly whatever else failed
        raise next((e for e in raised if isinstance(e, BrokenPipeError)), raised[0])
    done = [
        r if r is not None else StageResult(agent=n, status="cancelled", error=Interrupted(f"{n}: interrupted"))
        for r, n in zip(results, names, strict=True)
    ]
    env.add_results(done)
    for result in done:
        warn_if_empty(env, result, shown if renderer is not None else None)
    return GroupOutcome(done, EXIT_INTERRUPTED if interrupted else _status(done))


def _show(
    inbox: queue.SimpleQueue[Event | threading.Event | int],
    running: set[int],
    renderer: Renderer | None,
    *,
    interrupted: bool = False,
) -> None:
    """Show what the lanes send until every lane is done, in this (the main) thread: a
    renderer busy with a long text is interrupted by Ctrl-C here, as in a single stage.

    ``interrupted``: after Ctrl-C, and with the lanes cancelled, only how each lane ended is
    shown (the text that arrived is in the results, and in history), and a further Ctrl-C is
    ignored: the cancelled lanes end at once, as they no longer wait for the screen.
    """
    while running:
        item: Event | threading.Event | int | None = None
        try:
            item = inbox.get(timeout=0.05)  # a timeout: a Ctrl-C is not left waiting
            if isinstance(item, int):
                running.discard(item)
            elif isinstance(item, threading.Event):
                if renderer is not None and not interrupted:
                    renderer.flush()
                item.set()
            elif renderer is not None and not (interrupted and type(item) in (TextDelta, Reasoning)):
                renderer.feed(item)
        except queue.Empty:
            continue
        except BaseException:
            if isinstance(item, int):  # taken, then interrupted: a lane's end is never lost,
                running.discard(item)
            elif isinstance(item, threading.Event):  # nor is a lane left waiting for the screen
                item.set()
            if not interrupted:
                raise


def _status(results: list[StageResult]) -> int:
    failed = [r.error for r in results if r.error is not None]
    if not failed:
        return EXIT_OK
    if any(isinstance(e, Interrupted) for e in failed):
        return EXIT_INTERRUPTED
    codes = {e.exit_code for e in failed}
    return codes.pop() if len(codes) == 1 else EXIT_FAILURE


class _Blocks:
    """Writes finished lanes as labelled blocks, in command order, as early as possible."""

    def __init__(self, shown: Shown, count: int) -> None:
        self.shown = shown
        self.pending: dict[int, StageResult] = {}
        self.next = 0
        self.count = count

    def done(self, index: int, result: StageResult) -> None:
        self.pending[index] = result
        while self.next in self.pending:
            lane = self.pending.pop(self.next)
            sep = "\n" if self.next else ""
            self.shown.out.write(sep + label_answers([(lane.agent, lane.text)]))
            self.shown.out.flush()
            self.next += 1
