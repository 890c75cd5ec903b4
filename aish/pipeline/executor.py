"""Running one pipeline: stages in order, each answer (and its context) into the next.

Built-ins and agent stages run in this thread; a parallel group runs one
thread per lane (:mod:`.parallel`); OS stages are processes fed as text
arrives (:mod:`.oscmd`). An agent stage followed by an OS stage streams its
answer into the process while it is generated; consecutive OS stages are
connected by an OS pipe, and bytes that programs and files pass on (``<
FILE``, ``cat FILE``, a program's output into ``> FILE`` or aish's output)
stay bytes (:mod:`.raw`): only an agent or a built-in gets them as text.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import IO, TYPE_CHECKING, Any, TextIO

from aish.builtins import BUILTINS
from aish.context import Context, label_answers
from aish.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    AishError,
    Interrupted,
    RemoteError,
    ToolCallRequested,
    output_error,
)
from aish.joined import Joined, text_of
from aish.lang import Pipeline
from aish.pipeline import progress
from aish.pipeline.agent import LineEnding, group_texts, has_text, prompt_text, run_single
from aish.pipeline.env import RunEnv, Shown
from aish.pipeline.plan import AGENT, BUILTIN, GROUP, OS, Step, plan
from aish.pipeline.redirect import expanded, open_input, open_output, read_input, refuse_descriptors, say_where
from aish.records import Record
from aish.terminal import after_program
from aish.tty import isatty
from aish.wordwrap import say

if TYPE_CHECKING:
    from aish.pipeline.oscmd import OsProcess


class _Flow(Record):
    """What passes from one stage to the next."""

    __slots__ = (
        "text",
        "original",
        "pipeline_id",
        "previous_agent",
        "previous_answer",
        "previous_answers",
        "failed",
        "files",
    )
    text: str | None
    original: str
    pipeline_id: str
    previous_agent: str | None
    previous_answer: str | None
    previous_answers: tuple[tuple[str, str], ...]
    failed: int
    """A failure that did not stop the pipeline (a lane of a fan-out)."""
    files: list[IO[bytes]]
    """Files whose bytes are the next stage's input, as they are (``< FILE`` or ``cat FILE`` into a
    program, or to the pipeline's output): then ``text`` is None."""

    def __init__(
        self,
        text: str | None,
        original: str,
        pipeline_id: str | None = None,
        previous_agent: str | None = None,
        previous_answer: str | None = None,
        previous_answers: tuple[tuple[str, str], ...] = (),
        failed: int = EXIT_OK,
        files: list[IO[bytes]] | None = None,
    ) -> None:
        self.text = text
        self.files = [] if files is None else files
        self.original = original
        self.pipeline_id = os.urandom(6).hex() if pipeline_id is None else pipeline_id
        self.previous_agent = previous_agent
        self.previous_answer = previous_answer
        self.previous_answers = previous_answers
        self.failed = failed

    def close_files(self) -> None:
        for file in self.files:
            file.close()
        self.files = []


def run_pipeline(env: RunEnv, pipeline: Pipeline, stdin: str | None = None) -> int:
    """Run ``pipeline``; errors of agent stages are reported through ``env.report``."""
    steps = plan(env.app, pipeline.stages)
    if pipeline.stdin is not None or pipeline.stdout is not None:  # ``> $HOME/notes.md``
        refuse_descriptors(pipeline, [step.kind for step in steps])
        pipeline = pipeline.replace(stdin=expanded(pipeline.stdin), stdout=expanded(pipeline.stdout))
    raw = pipeline.stdout is not None or (not env.tty and _takes_bytes(env.out))
    files: list[IO[bytes]] = []
    text = stdin
    if pipeline.stdin is not None and _wants_bytes(steps, 0, raw):
        files, text = [open_input(pipeline.stdin.target)], None
    elif pipeline.stdin is not None:
        text = read_input(pipeline.stdin.target, env.err)
    has_text(steps[0], text)  # before a file is opened or a program started
    where = "standard output" if pipeline.stdout is None else f"{pipeline.stdout.op} {pipeline.stdout.target}"
    written, before, first = None, 0, len(env.results)
    try:
        with ExitStack() as stack:
            for opened in files:
                stack.callback(opened.close)
            dest = Shown(env.out, env.tty)
            if pipeline.stdout is not None:
                file = stack.enter_context(open_output(pipeline.stdout.op, pipeline.stdout.target))
                dest, written, before = Shown(file, False), pipeline.stdout, _size(file)
            if not dest.tty and progress.wanted(dest.out, env.err):
                name = pipeline.stdout.target if pipeline.stdout is not None else progress.stdout_name(dest.out)
                env, dest = _with_progress(env, dest, name, stack)
            status = _Run(env, steps, dest, _Flow(text, text or "", files=files), raw).run()
    except BrokenPipeError:
        raise  # the reader went away: the CLI ends quietly (141)
    except OSError as exc:  # writing the answer failed: a full disk, an I/O error
        raise output_error(exc, where) from None
    finally:
        if env.stats:
            from aish.pipeline.stats import write_stats  # --stats only

            write_stats(env.err, env.results)
    if written is not None:
        nothing = status != 0 and _size_of(written.target) == before  # stopped before the last stage wrote
        from aish.stops import stop_note

        cut = [f"{r.agent}: {note}" for r in env.results[first:] if (note := stop_note(r.finish_reason))]
        say_where(env.err, written.op, written.target, nothing=nothing, partial=status != 0, notes=cut)
    return status


def _with_progress(env: RunEnv, dest: Shown, name: str, stack: ExitStack) -> tuple[RunEnv, Shown]:
    """The run's environment and output with a status line while it writes to a file (:mod:`.progress`)."""
    shown = progress.Progress(dest.out, env.err, name)
    stack.callback(shown.close)
    report = env.report

    def erase_then_report(exc: AishError) -> int:
        shown.erase()
        return report(exc)

    err: Any = shown.err
    out: Any = shown
    return env.replace(err=err, report=erase_then_report), Shown(out, False)


def _terminal_fd(dest: Shown) -> int | None:
    """The descriptor of the terminal the pipeline's output goes to (flushed first), for a last OS
    stage to write to itself; None: its output passes through aish (a file, a pipe, a capture)."""
    if not dest.tty:
        return None
    try:
        dest.out.flush()
        fd = dest.out.fileno()
    except (AttributeError, ValueError, OSError):
        return None
    return fd if os.isatty(fd) else None


def _errors_to(err: TextIO) -> TextIO | None:
    """Where an OS stage's standard error goes: None (the process writes to it itself) when ``err``
    is this process's standard error; else ``err`` (a transcript's captured output)."""
    try:
        if err.fileno() == 2:
            return None
    except (AttributeError, ValueError, OSError):
        pass
    return err


def _takes_bytes(out: TextIO) -> bool:
    from aish.pipeline.raw import takes_bytes

    return takes_bytes(out)


def _wants_bytes(steps: list[Step], index: int, raw: bool) -> bool:
    """Whether the input of stage ``index`` (past the last: the pipeline's output) is best given as
    bytes, unchanged: a program's input; the pipeline's output when it takes bytes (``raw``: a
    file, a pipe, not a terminal); and the input of the built-in ``cat`` (no file) that passes it on
    to one of those. Agents and other built-ins take text."""
    if index == len(steps):
        return raw
    step = steps[index]
    if step.kind == OS:
        return True
    cat = step.kind == BUILTIN and step.command.name == "cat" and not step.command.args
    return cat and _wants_bytes(steps, index + 1, raw)


def _size(file: Any) -> int:
    try:
        return os.fstat(file.fileno()).st_size
    except (OSError, ValueError, AttributeError):
        return -1


def _size_of(path: str) -> int:
    try:
        return os.stat(path).st_size
    except (OSError, ValueError):
        return -2


class _Run:
    def __init__(self, env: RunEnv, steps: list[Step], dest: Shown, flow: _Flow, raw: bool = False) -> None:
        self.env, self.steps, self.dest, self.flow = env, steps, dest, flow
        self.raw = raw
        """The pipeline's output takes bytes: what programs and files write goes to it unchanged."""
        self.procs: dict[int, OsProcess] = {}
        self.talker = _talker(env, steps)
        """The index of the stage that continues its agent's conversation, or None (one-shot)."""

    def run(self) -> int:
        try:
            status = EXIT_OK
            for index in range(len(self.steps)):
                status = self._stage(index)
                if index < len(self.steps) - 1 and status != EXIT_OK and self._stops(index):
                    return status
            return status if status != EXIT_OK else self.flow.failed
        finally:
            for proc in self.procs.values():
                proc.kill()
            self.flow.close_files()

    def _stops(self, index: int) -> bool:
        return self.steps[index].kind != "os"

    def _shown(self, index: int) -> Shown | None:
        """Where stage ``index``'s answer is shown: the last stage's on the pipeline's output; an
        earlier one's on the terminal when it goes into another agent (``apollo | athena``), never
        when it goes into a program or a built-in (``athena hi | less``, ``| cat``): their output
        is what the terminal shows then, as under a shell, never mixed with a copy of the answer."""
        if index == len(self.steps) - 1:
            return self.dest
        if self.steps[index + 1].kind not in (AGENT, GROUP):
            return None
        return Shown(self.env.out, True) if self.env.tty else None

    def _context(self, index: int, agent: str, text: str | Joined, conversation: str | None = None) -> Context:
        """The context of agent stage ``index``, whose input is ``text``.

        The pipeline's original input is what was piped into its first agent stage (after ``echo``,
        ``cat``, ``<``), else that stage's own words: the same for ``athena summarize < FILE`` and
        ``cat FILE | athena summarize``, and never a copy of a long input with the words after it.
        """
        flow = self.flow
        if not flow.original:
            piped = flow.text
            flow.original = piped if piped and not piped.isspace() else text_of(text)  # text: not Joined then
        return Context(
            pipeline_id=flow.pipeline_id,
            position=index,
            stages=len(self.steps),
            original_input=flow.original,
            previous_agent=flow.previous_agent,
            previous_answer=flow.previous_answer,
            session_id=self.env.session_id,
            agent=agent,
            previous_answers=flow.previous_answers,
            conversation_id=conversation,
        )

    def _stage(self, index: int) -> int:
        step, flow, last = self.steps[index], self.flow, index == len(self.steps) - 1
        if step.kind == BUILTIN:
            if (
                step.command.name == "cat"
                and _wants_bytes(self.steps, index + 1, self.raw)
                and self._cat_bytes(step, last)
            ):
                return EXIT_OK
            flow.text = BUILTINS[step.command.name](step.command, flow.text, self.env.err)
            if last:
                self.dest.out.write(flow.text)
                self.dest.out.flush()
            return EXIT_OK
        if step.kind == AGENT:
            return self._agent(index, step)
        if step.kind == GROUP:
            return self._group(index, step)
        return self._os(index)

    def _cat_bytes(self, step: Step, last: bool) -> bool:
        """``cat FILE...`` (or ``cat`` of ``< FILE``) into a program or to the pipeline's output:
        the files' bytes as they are, not their text. False: it has text to pass on instead."""
        flow = self.flow
        if step.command.args:
            flow.close_files()
            from aish.builtins import open_file

            for word in step.command.args:
                flow.files.append(open_file(word.value, "cat"))
            flow.text = None
        if not flow.files:
            return False
        if last:
            from aish.pipeline.raw import copy, writer_to

            write = writer_to(self.dest.out)
            copy(flow.files, write)
            write(b"")
            flow.close_files()
        return True

    def _agent(self, index: int, step: Step) -> int:
        agent = step.agents[0]
        text = prompt_text(agent.name, step.command.text, self.flow.text)
        tap = None
        ending = None
        if index + 1 < len(self.steps) and self.steps[index + 1].kind == "os":
            ending = LineEnding(self._start_os(index + 1).feed)  # ``| wc -l`` counts the last line
            tap = ending.write
        window = None
        if index == self.talker and self.env.conversations is not None:
            window = self.env.conversations.window(agent)
            if window.notice:
                say(self.env.err, f"aish: {window.notice}")
                self.env.err.flush()
        context = self._context(index, agent.name, text, window.id if window else None)
        turns, replaces = (window.turns, window.replaces) if window else ((), None)
        extract = step.command.controls.extract
        result = run_single(self.env, agent, text, context, self._shown(index), tap, turns, replaces, extract)
        program = self.procs.get(index + 1)
        if program is not None:
            if ending is not None and not program.stopped_reading:
                ending.end_line()
            program.close_input()
        if window is not None and self.env.conversations is not None:
            left_out = int(result.meta.get("turns_left_out") or 0)
            if left_out:
                self.env.conversations.fitted(agent.name, turns, len(turns) - left_out)
            run = self.env.recording.run_id if self.env.recording is not None else None
            self.env.conversations.record(agent.name, text, result.text, window.id, run)
        if result.error is not None and program is not None:
            if isinstance(result.error, Interrupted) and program.stopped_reading:
                self._pass_on(agent.name, result.text)  # ``| head``: the answer was ended for it, not by the user
                return EXIT_OK
            if program.owns_terminal:  # Ctrl-C or a failure into ``| less``: it shows what arrived until quit
                program.wait()
                after_program(self.dest.out)
        if result.error is not None:
            return self._report(result.error, bool(result.text))
        if result.tool_calls:
            calls = ", ".join(call.describe() for call in result.tool_calls)
            return self.env.report(
                ToolCallRequested(f"{agent.name}: the answer asks to run {calls}; aish runs no tools")
            )
        if not result.text and result.reasoning:
            size = len(result.reasoning)
            return self.env.report(
                RemoteError(f"{agent.name}: the answer is reasoning only ({size} characters), no text")
            )
        if extract:
            from aish.pipeline.extract import code_of

            self._pass_on(agent.name, code_of(result.text))
        else:
            self._pass_on(agent.name, result.text)
        return EXIT_OK

    def _group(self, index: int, step: Step) -> int:
        texts = group_texts(step, self.flow.text)
        context = self._context(index, "", texts[0])
        from aish.pipeline.parallel import run_group  # a parallel group only (and its renderers)

        outcome = run_group(self.env, list(step.agents), texts, context, self._shown(index))
        for result in outcome.results:
            if result.error is not None and not isinstance(result.error, Interrupted):
                self._report(result.error, bool(result.text))
        if outcome.status == EXIT_INTERRUPTED:
            return self.env.report(Interrupted("interrupted (partial answers kept)"))
        answers = outcome.answers
        if outcome.status != EXIT_OK:
            self.flow.failed = outcome.status
            if not answers:
                return outcome.status
        flow = self.flow
        flow.text = label_answers(answers)
        flow.previous_agent = " & ".join(agent for agent, _ in answers)
        flow.previous_answer = flow.text
        flow.previous_answers = tuple(answers)
        if index + 1 < len(self.steps) and self.steps[index + 1].kind == "os":
            proc = self._start_os(index + 1)
            proc.feed(flow.text)
            proc.close_input()
        return outcome.status if index == len(self.steps) - 1 else EXIT_OK

    def _os(self, index: int) -> int:
        proc = self.procs.get(index)
        if proc is None:
            files = self.flow.files
            proc = self._start_os(index, files[0] if len(files) == 1 else None)  # one file: its stdin
            if len(files) > 1:
                from aish.pipeline.raw import copy

                copy(files, proc.feed_bytes)
            elif self.flow.text is not None and not files:
                proc.feed(self.flow.text)
            self.flow.close_files()
        proc.close_input()
        status = proc.wait()
        if proc.owns_terminal:
            after_program(self.dest.out)
        del self.procs[index]
        if index + 1 in self.procs:
            self.procs[index + 1].close_input()
        if proc.collected is not None:  # the next stage takes text: decoded, with one warning
            from aish.encoding import notice

            notice(f"the output of {proc.name}", proc.collected.bad, self.env.err)
            self.flow.text = proc.collected.text()
            self.flow.previous_agent = None
            self.flow.previous_answer = None
            self.flow.previous_answers = ()
        return status

    def _start_os(self, index: int, source: int | IO[bytes] | None = None) -> OsProcess:
        """Start OS stage ``index`` (and the OS stages right after it, each reading the one before
        through an OS pipe); ``source``: what it reads as its input itself (a file, a pipe)."""
        if index in self.procs:
            return self.procs[index]
        from aish.pipeline.raw import Collected, writer_to

        last = index == len(self.steps) - 1
        collected: Collected | None = None
        output: Callable[[bytes], object] | int
        terminal, pipe = False, None
        if last:
            fd = _terminal_fd(self.dest)
            output, terminal = (writer_to(self.dest.out), False) if fd is None else (fd, True)
        elif self.steps[index + 1].kind == OS:
            reader, pipe = os.pipe()
            try:
                self._start_os(index + 1, reader)
            finally:
                os.close(reader)
            output = pipe
        else:
            output = collected = Collected()
        from aish.pipeline.oscmd import OsProcess  # an OS command only (subprocess, shlex)

        takes_input = index > 0 or self.flow.text is not None or bool(self.flow.files)
        if terminal:
            self.env.err.flush()
        try:
            proc = OsProcess(
                self.steps[index].command,
                output,
                takes_input=takes_input,
                source=source,
                terminal=terminal,
                errors=_errors_to(self.env.err),
                keyboard=not takes_input and (self.env.programs_read_stdin or (self.env.tty and isatty(sys.stdin))),
            )
        finally:
            if pipe is not None:
                os.close(pipe)  # the program has it: the next one sees the end when it exits
        proc.collected = collected
        self.procs[index] = proc
        if self.env.recording is not None:
            self.env.recording.waiting()  # the run waits for a program: a one-shot journal writes its start
        return proc

    def _pass_on(self, agent: str, text: str) -> None:
        flow = self.flow
        flow.text, flow.previous_agent, flow.previous_answer, flow.previous_answers = text, agent, text, ()

    def _report(self, error: AishError, partial: bool) -> int:
        suffix = " (partial answer kept)" if partial else ""
        status = self.env.report(error.reworded(f"{error}{suffix}"))
        return EXIT_INTERRUPTED if isinstance(error, Interrupted) else status


def _talker(env: RunEnv, steps: list[Step]) -> int | None:
    """The stage that continues a conversation: the pipeline's only agent stage (not a group), if
    the session keeps conversations and the agent takes part in them."""
    if env.conversations is None:
        return None
    agents = [i for i, step in enumerate(steps) if step.kind in (AGENT, GROUP)]
    if len(agents) != 1 or steps[agents[0]].kind != AGENT or steps[agents[0]].agents[0].conversation_turns <= 0:
        return None
    return agents[0]
