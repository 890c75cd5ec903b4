"""Runs parsed aish lines: pipelines of built-ins and agent stages.

The one error boundary of aish: every :class:`~aish.errors.AishError` becomes
one line on stderr (``aish: ...``) and an exit status; a traceback only with
``--debug``. Output goes to the streams the runner is given.
"""

from __future__ import annotations

import os
import sys
import traceback
import uuid
from contextlib import ExitStack
from typing import TextIO

from aish.app import App
from aish.builtins import BUILTINS, read_text
from aish.contracts import Context, Prompt, Renderer, RenderTarget
from aish.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    AishError,
    Interrupted,
    UsageError,
)
from aish.events import Event
from aish.lang import Command, Group, Pipeline, Script, parse
from aish.stream import AgentStream, StageResult


class Runner:
    """Executes aish source against an :class:`App`, writing to injected streams."""

    def __init__(
        self,
        app: App,
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
        tty: bool | None = None,
        renderer: str | None = None,
        debug: bool = False,
    ) -> None:
        self.app = app
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.tty = _isatty(self.out) if tty is None else tty
        self.renderer_name = renderer
        self.debug = debug or app.config.settings.debug
        self.last_results: list[StageResult] = []

    # ------------------------------------------------------------ entry points
    def run_source(self, source: str, stdin: str | None = None) -> int:
        """Parse and run ``source``; report any error as one line; return the exit status."""
        try:
            return self.run_script(parse(source), stdin)
        except KeyboardInterrupt:
            return self.report(Interrupted())
        except AishError as exc:
            return self.report(exc)

    def report(self, exc: AishError) -> int:
        """Print ``exc`` as one line (and its traceback under --debug); return its exit code."""
        if self.debug and not isinstance(exc, Interrupted):
            traceback.print_exception(exc, file=self.err)
        self.err.write(f"aish: {exc}\n")
        self.err.flush()
        return exc.exit_code

    def run_script(self, script: Script, stdin: str | None = None) -> int:
        """Run each pipeline, honouring ``;``, ``&&`` and ``||``."""
        status = EXIT_OK
        for joiner, pipeline in script.items:
            if (joiner == "&&" and status != EXIT_OK) or (joiner == "||" and status == EXIT_OK):
                continue
            status = self.run_pipeline(pipeline, stdin)
            stdin = None
            if status == EXIT_INTERRUPTED:
                break
        return status

    # --------------------------------------------------------------- pipelines
    def run_pipeline(self, pipeline: Pipeline, stdin: str | None = None) -> int:
        """Run one pipeline; errors inside are reported here and give the status."""
        try:
            return self._pipeline(pipeline, stdin)
        except KeyboardInterrupt:
            return self.report(Interrupted())
        except AishError as exc:
            return self.report(exc)
        except BrokenPipeError:
            raise  # the reader went away: the CLI ends quietly
        except Exception as exc:  # a plugin bug must not take the shell down
            if self.debug:
                traceback.print_exception(exc, file=self.err)
            hint = "" if self.debug else " (run with --debug for the traceback)"
            self.err.write(f"aish: unexpected error: {type(exc).__name__}: {exc}{hint}\n")
            return EXIT_FAILURE

    def _pipeline(self, pipeline: Pipeline, stdin: str | None) -> int:
        commands = [self._check(stage) for stage in pipeline.stages]
        text = read_text(pipeline.stdin.target, "<") if pipeline.stdin else stdin
        self.last_results = []
        with ExitStack() as stack:
            dest, dest_tty = self.out, self.tty
            if pipeline.stdout is not None:
                dest = stack.enter_context(_open_output(pipeline.stdout.op, pipeline.stdout.target))
                dest_tty = False
            original = text or ""
            pipeline_id = uuid.uuid4().hex[:12]
            previous: StageResult | None = None
            for index, cmd in enumerate(commands):
                last = index == len(commands) - 1
                builtin = BUILTINS.get(cmd.name)
                if builtin is not None:
                    text = builtin(cmd, text)
                    if last:
                        dest.write(text)
                        dest.flush()
                    continue
                context = Context(
                    pipeline_id=pipeline_id,
                    position=index,
                    stages=len(commands),
                    original_input=original or cmd.text,
                    previous_agent=previous.agent if previous else None,
                    previous_answer=previous.text if previous else None,
                )
                shown = (dest, dest_tty) if last else ((self.out, True) if self.tty else None)
                result = self._agent_stage(cmd, text, context, shown)
                self.last_results.append(result)
                if result.error is not None:
                    suffix = " (partial answer kept)" if result.text else ""
                    status = self.report(result.error.reworded(f"{result.error}{suffix}"))
                    if isinstance(result.error, Interrupted):
                        return EXIT_INTERRUPTED
                    return status
                previous, text = result, result.text
        return EXIT_OK

    def _check(self, stage: Command | Group) -> Command:
        """Validate a stage before anything runs (unknown agents fail here)."""
        if isinstance(stage, Group):
            raise UsageError("parallel stages ('&' and groups) are not supported yet")
        if stage.name not in BUILTINS:
            self.app.agent(stage.name)
        return stage

    def _agent_stage(
        self, cmd: Command, piped: str | None, context: Context, shown: tuple[TextIO, bool] | None
    ) -> StageResult:
        agent = self.app.agent(cmd.name)
        if piped and piped.strip() and cmd.text.strip():
            prompt_text = f"{piped.rstrip()}\n\n{cmd.text}"
        else:
            prompt_text = piped if piped and piped.strip() else cmd.text
        if not prompt_text.strip():
            raise UsageError(f"{cmd.name}: nothing to send (give text, or pipe input into it)")
        renderer: Renderer | None = None
        if shown is not None:
            name = self.renderer_name or agent.renderer or self.app.config.settings.renderer
            target = RenderTarget(out=shown[0], err=self.err, tty=shown[1])
            renderer = self.app.renderer(name or self.app.default_name("renderer"), target)
        stream = AgentStream(agent, self.app.transport(agent), self.app.codec(agent))
        sink = renderer.feed if renderer is not None else _discard
        flush = renderer.flush if renderer is not None else _nothing
        try:
            return stream.run(Prompt(prompt_text, context), sink, flush)
        finally:
            if renderer is not None:
                renderer.close()
            stream.transport.close()


def _open_output(op: str, target: str) -> TextIO:
    try:
        path = os.path.expanduser(target)
        return open(path, "a" if op == ">>" else "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{op} {target}: {exc.strerror}") from None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _discard(_event: Event) -> None:
    return None


def _nothing() -> None:
    return None


__all__ = ["EXIT_FAILURE", "Runner"]
