"""The renderer contract suite: every :class:`aish.Renderer` must pass it.

Subclass it in your plugin's tests and say how to build your renderer::

    from aish.contract_tests.renderer import RendererContract

    class TestShout(RendererContract):
        exact_text = False  # it changes the text (capitals)

        def make_renderer(self, target):
            return ShoutRenderer(target)

A renderer that shows the answer as is (``exact_text = True``, the default)
must write exactly the streamed text to ``out`` when it is not a terminal. A
renderer that changes the text (``exact_text = False``: capitals, a word count,
JSON) is held only to what every renderer owes: it writes something to ``out``
for a stream with text, and more for two stages than for one; it takes every
kind of event, alone or after a failure, on a terminal or not;
it writes only to its target and never closes it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import ClassVar

import pytest

from aish.contract_tests import undefined
from aish.contracts import Renderer, RenderTarget
from aish.errors import ConnectionFailure, RemoteError
from aish.events import Event, Heartbeat, Retrying, StreamEnd, StreamError, StreamStart, TextDelta, Usage

TEXT = ("Hello ", "wörld\n", "line ", "2")
EXACT = (
    "off a terminal, out must hold exactly the streamed text (exact_text = True, the default); "
    "a renderer that changes the text (prefixes, a count, JSON) sets exact_text = False in its test class"
)


def stream(agent: str = "bot", *, end: Event | None = None) -> list[Event]:
    """One stage's events: start, a retry, text with a heartbeat and usage in between, then ``end``."""
    events: list[Event] = [StreamStart(model="m", agent=agent, seq=0), Retrying(0.5, "HTTP 429", agent=agent)]
    for i, text in enumerate(TEXT):
        events.append(TextDelta(text, agent=agent, seq=i + 1))
        if i == 1:
            events.append(Heartbeat(agent=agent))
    events += [Usage(3, 4, agent=agent), end or StreamEnd("stop", agent=agent)]
    return events


class RendererContract:
    """The tests; subclasses say how to build the renderer."""

    exact_text: ClassVar[bool] = True
    """True: the renderer writes the answer's text exactly when not on a terminal."""

    def make_renderer(self, target: RenderTarget) -> Renderer:
        raise undefined(self, "make_renderer(self, target)", "return your renderer for that RenderTarget")

    # -- helpers ---------------------------------------------------------------

    def render(self, events: Sequence[Event], *, tty: bool = False) -> tuple[str, str]:
        out, err = io.StringIO(), io.StringIO()
        renderer = self.make_renderer(RenderTarget(out=out, err=err, tty=tty))
        for event in events:
            renderer.feed(event)
            renderer.flush()
        renderer.close()
        assert not out.closed and not err.closed, "a renderer must not close its target's streams"
        return out.getvalue(), err.getvalue()

    # -- the contract ------------------------------------------------------------

    def test_is_a_renderer(self) -> None:
        assert isinstance(self.make_renderer(RenderTarget(out=io.StringIO(), err=io.StringIO())), Renderer)

    def test_exact_text_when_not_a_tty(self) -> None:
        out, _err = self.render(stream())
        if self.exact_text:
            assert out.rstrip("\n") == "".join(TEXT), EXACT
        else:
            assert out.strip(), "a renderer must show something for a stream with text"

    def test_writes_only_to_its_target(self, capsys: pytest.CaptureFixture[str]) -> None:
        for tty in (False, True):
            self.render([*stream("a"), *stream("b", end=StreamError(ConnectionFailure("a: gone"), agent="b"))], tty=tty)
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err == "", (
            "the renderer wrote to the process's own stdout or stderr (print?): write to target.out and target.err"
        )

    @pytest.mark.parametrize("tty", [False, True])
    @pytest.mark.parametrize("partial", [False, True])
    def test_survives_a_failed_stream(self, tty: bool, partial: bool) -> None:
        error = StreamError(RemoteError("bot: the server said no"), partial=partial, agent="bot")
        events: list[Event] = stream(end=error) if partial else [StreamStart(agent="bot"), error]
        out, _err = self.render(events, tty=tty)
        if self.exact_text and partial and not tty:
            assert out.rstrip("\n") == "".join(TEXT), EXACT  # the partial answer is shown as it came

    @pytest.mark.parametrize("tty", [False, True])
    def test_every_event_kind_alone(self, tty: bool) -> None:
        kinds: list[Event] = [
            StreamStart(agent="x"),
            TextDelta("", agent="x"),
            Heartbeat(agent="x"),
            Retrying(2.0, "HTTP 429", agent="x"),
            Usage(agent="x"),
            StreamEnd(agent="x"),
            StreamError(ConnectionFailure("x: refused"), agent="x"),
        ]
        for event in kinds:
            self.render([event], tty=tty)

    def test_nothing_fed(self) -> None:
        out, _err = self.render([])
        if self.exact_text:
            assert out == "", "a renderer of the exact text fed no events writes nothing to out"

    def test_several_stages_in_order(self) -> None:
        out, _err = self.render([*stream("a"), *stream("b")])
        if self.exact_text:
            assert out.replace("\n", "") == "".join(TEXT).replace("\n", "") * 2, EXACT
        else:
            one, _err = self.render(stream("a"))
            assert len(out) > len(one), "the second stage must show something too"
