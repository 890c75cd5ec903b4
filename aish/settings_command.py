"""``set``: the session's own settings, seen and changed from the shell (or a script).

    set                      every setting and its value
    set renderer NAME        how answers are shown (any registered renderer; ``default``)
    set stats on|off         per-stage figures after each pipeline (as ``--stats``)
    set history on|off       record runs in history (off: this session records nothing)
    set debug on|off         tracebacks with errors (as ``--debug``)
    set wrap on|off          answers on a terminal broken between words (off: where the terminal must)

They last for the session; the configuration file keeps the defaults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from aish.errors import EXIT_OK, AishError, UsageError, visible

if TYPE_CHECKING:
    from aish.runner import Runner

SETTINGS = ("renderer", "stats", "history", "debug", "wrap")
_ON = {"on": True, "true": True, "yes": True, "1": True, "off": False, "false": False, "no": False, "0": False}


def settings_command(runner: Runner, args: list[str], out: TextIO) -> int:
    """Show or change a setting of ``runner``'s session; a bad name or value is a UsageError."""
    if not args:
        for name in SETTINGS:
            out.write(f"{name} = {_show(runner, name)}\n")
        return EXIT_OK
    name, values = args[0], args[1:]
    if name not in SETTINGS:
        raise UsageError(f"set: unknown setting {name!r} (settings: {', '.join(SETTINGS)})")
    if not values:
        out.write(f"{name} = {_show(runner, name)}\n")
        return EXIT_OK
    if len(values) > 1:
        raise UsageError(f"set {name}: one value, got {len(values)}")
    value = values[0]
    if name == "renderer":
        if value == "default":
            runner.renderer_name = None
        else:
            runner.app.registration("renderer", value, setting_values(runner, name))  # unknown: what Tab offers
            runner.renderer_name = value
    else:
        flag = _flag(name, value)
        if name == "stats":
            runner.stats = flag
        elif name == "debug":
            runner.debug = flag
        elif name == "wrap":
            runner.wrap = flag
        else:
            runner.recording_enabled = flag
    out.write(f"{name} = {_show(runner, name)}\n")
    return EXIT_OK


def setting_values(runner: Runner, name: str) -> list[str]:
    """What ``set NAME <Tab>`` offers."""
    if name == "renderer":  # not one made for parallel groups only (``lanes``: they have it already)
        renderers = runner.app.components.get("renderer", {})
        return ["default", *sorted(n for n, reg in renderers.items() if not reg.parallel)]
    return ["on", "off"] if name in SETTINGS else []


def _flag(name: str, value: str) -> bool:
    try:
        return _ON[value.lower()]
    except KeyError:
        raise UsageError(f"set {name}: expected on or off, got {value!r}") from None


def _show(runner: Runner, name: str) -> str:
    if name == "renderer":
        return runner.renderer_name or "default"
    if name == "history" and runner.history is None:
        return _unrecorded(runner)
    flags = {"stats": runner.stats, "debug": runner.debug, "history": runner.recording_enabled, "wrap": runner.wrap}
    value = flags[name]
    return "on" if value else "off"


def _unrecorded(runner: Runner) -> str:
    """``history`` in a runner that records nothing: the shell's when no store is configured (or the
    name is unknown), or the one of ``aish set`` run from another shell, a command (never recorded):
    that shows the configuration."""
    from aish.history.store import backend_name

    try:
        configured = backend_name(runner.app)
    except AishError as exc:
        return f"off ({visible(str(exc))})"
    return "off (no history store)" if configured is None else "on"


__all__ = ["SETTINGS", "setting_values", "settings_command"]
