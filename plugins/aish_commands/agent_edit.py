"""``agents edit``: the configuration file in the user's editor, checked before it is saved.

As ``crontab -e`` and ``visudo`` do: the editor works on a copy, and the file is replaced only
when the copy is a valid configuration. A copy that is not gets its error and, at a terminal,
the question whether to edit it again; a copy left aside is kept beside the file
(``config.toml.rejected``) and named, so nothing typed is lost. The session uses the new
agents at once, as after ``agents add``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aish import App, ConfigError, Invocation, UsageError

if TYPE_CHECKING:
    from pathlib import Path

TEMPLATE = """\
# aish's configuration (docs/configuration.md). An agent per table, for example:
#
# [agents.local]
# transport = "sse"
# codec = "openai-chat"
# url = "http://127.0.0.1:8080/v1"
# model = "llama3"
# api_key_env = "LOCAL_KEY"   # the variable holding the key; the key is never written here
"""
USAGE = "usage: agents edit"


def edit_agents(app: App, inv: Invocation) -> int:
    """Open the configuration file in ``$VISUAL``/``$EDITOR``; save it once it is valid."""
    import os

    from aish.config import config_file, load_config  # aish's own commands use its internals
    from aish.config_edit import read_config_text, write_config_text
    from aish.config_watch import adopt, changes
    from aish.editor import EditorError, edit, editor_command
    from aish.wordwrap import say

    if inv.args[1:]:
        raise UsageError(f"agents edit: takes no arguments, not {' '.join(inv.args[1:])!r} ({USAGE})")
    path = config_file(app.config)
    where = str(path)
    before = read_config_text(path)
    draft = before or TEMPLATE
    try:
        command = editor_command(os.environ)
        while True:
            draft = edit(draft.removesuffix("\n"), command, ".toml") + "\n"
            same = draft.rstrip("\n") == (before or TEMPLATE).rstrip("\n")  # a file without a last newline too
            problem = _problem(draft, path)
            if problem is None and same:
                inv.out.write(f"{where}: unchanged\n")
                return 0
            if problem is None:
                break
            if not (inv.interactive and inv.confirm and inv.confirm(f"{where}: {problem}; edit it again? [y/N] ")):
                if same:  # the file was invalid before (aish went on without it) and still is
                    raise ConfigError(f"{where}: unchanged, and still invalid: {problem}")
                kept = path.with_name(path.name + ".rejected")
                write_config_text(kept, draft)
                raise ConfigError(f"{where}: not changed: {problem} (your edit is in {kept})")
    except EditorError as exc:
        raise UsageError(f"agents edit: {exc}; {where} is unchanged") from None
    write_config_text(path, draft)
    new = load_config(where)
    said = changes(app.config, new)
    adopt(app, new)
    say(inv.out, f"{where}: saved{': ' + said if said else ''}")
    return 0


def _problem(text: str, path: Path) -> str | None:
    """What is wrong with ``text`` as the configuration file ``path`` (None: it is valid)."""
    import tomllib

    from aish.config import parse_config

    try:
        parse_config(tomllib.loads(text), path)
    except tomllib.TOMLDecodeError as exc:
        return f"invalid TOML: {exc}"
    except ConfigError as exc:
        return str(exc).removeprefix(f"{path}: ")
    return None
