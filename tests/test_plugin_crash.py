"""A plugin's bug while a line runs is one line that names the plugin (this module is the plugin)."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any

from aish import Event, RenderTarget, TextDelta, hookimpl
from aish.app import App
from aish.runner import Runner


class Crashy:
    def __init__(self, target: RenderTarget) -> None:
        self.out = target.out

    def feed(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            raise KeyError("boom in feed")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


@hookimpl
def aish_register_renderers(register: Callable[..., Any]) -> None:
    register("crashy", Crashy)


def run(make_app: Callable[..., App], line: str, *, debug: bool = False) -> tuple[int, str]:
    app = make_app(None, extra_plugins=[("crashy", sys.modules[__name__])])
    out, err = io.StringIO(), io.StringIO()
    status = Runner(app, out=out, err=err, renderer="crashy", debug=debug).run_source(line)
    return status, err.getvalue()


def test_a_renderer_that_raises_is_named(make_app: Callable[..., App]) -> None:
    status, err = run(make_app, "athena hi; echo after")
    assert status == 0  # the line went on after the failed stage
    assert err.splitlines()[0] == (
        "aish: unexpected error in plugin 'crashy': KeyError: 'boom in feed' (run with --debug for the traceback)"
    )


def test_with_debug_the_traceback_is_shown_as_well(make_app: Callable[..., App]) -> None:
    status, err = run(make_app, "athena hi", debug=True)
    assert status == 1
    assert "Traceback (most recent call last)" in err and 'raise KeyError("boom in feed")' in err
    assert err.rstrip().endswith("aish: unexpected error in plugin 'crashy': KeyError: 'boom in feed'")
