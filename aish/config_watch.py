"""The shell reads its configuration file again when it changes between lines.

Edited in another window (or with ``!vim``), the file is read again before the
next line runs or Tab completes a name: its agents, groups and settings are
used from then on, and one line says what changed. A file that no longer
parses is reported once, and the configuration read before stays in use. What
is settled when aish starts (the plugins loaded, the history's store) takes
effect when aish next starts, and the line says so.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TextIO

from aish.errors import AishError
from aish.wordwrap import say

if TYPE_CHECKING:
    from aish.app import App
    from aish.config import Config

AT_START = ("disable_plugins", "plugins", "history", "history_path", "stats", "debug")
"""Settings read once, when aish starts (``set`` changes the session's ``stats`` and ``debug``)."""


class ConfigWatch:
    """The file ``app``'s configuration came from (or would have), watched by its ``stat``."""

    def __init__(self, app: App) -> None:
        from aish.config import config_file

        self.app = app
        self.path = str(config_file(app.config))
        self._stamp = _stamp(self.path)

    def check(self, err: TextIO) -> bool:
        """Read the file again if it changed since it was last read; True if the configuration was replaced."""
        stamp = _stamp(self.path)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        from aish.config import Config, load_config

        try:
            config = load_config(self.path) if stamp is not None else Config()
        except AishError as exc:
            say(err, f"aish: {exc} (the configuration read before stays in use)")
            return False
        said = changes(self.app.config, config)
        adopt(self.app, config)
        if said:  # nothing is new when aish wrote the file itself (``agents add``)
            say(err, f"aish: {_where(self.path)} read again: {said}")
        return True


def adopt(app: App, config: Config) -> None:
    """Use ``config`` from now on, with the settings read only at start-up as this session has them."""
    for key in AT_START:
        setattr(config.settings, key, getattr(app.config.settings, key))
    app.replace_config(config)


def changes(old: Config, new: Config) -> str:
    """What a new configuration changes, in words: agents added, removed or changed, settings ("": nothing)."""
    said = []
    for label, names in (
        ("added", sorted(new.agents.keys() - old.agents.keys())),
        ("removed", sorted(old.agents.keys() - new.agents.keys())),
        ("changed", sorted(n for n in new.agents.keys() & old.agents.keys() if new.agents[n] != old.agents[n])),
    ):
        if names:
            said.append(f"{'agent' if len(names) == 1 else 'agents'} {', '.join(names)} {label}")
    if new.groups != old.groups:
        said.append("groups changed")
    later = [key for key in AT_START if getattr(new.settings, key) != getattr(old.settings, key)]
    settings = [
        key
        for key in new.settings.__slots__
        if key not in AT_START and getattr(new.settings, key) != getattr(old.settings, key)
    ]
    if settings:
        said.append(f"{', '.join(settings)} changed")
    if later:
        said.append(f"{', '.join(later)} take{'s' if len(later) == 1 else ''} effect when aish next starts")
    return "; ".join(said)


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _where(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home) :] if home not in ("", "/") and path.startswith(home + os.sep) else path
