"""``agents remove NAME``: the agent's table leaves the configuration file.

The other half of ``agents add`` (as ``llm aliases remove`` is of ``llm aliases
set``): ``[agents.NAME]`` goes with its sub-tables (``[agents.NAME.options]``,
``[agents.NAME.headers]``) and the comment lines right above each; every other
byte stays. The result is checked before the file changes: it must be the
same TOML less that table, and still a valid configuration. A group that
names the agent keeps the name (groups may name agents a plugin offers), and
the reply says so. The session stops using the agent at once.
"""

from __future__ import annotations

from typing import TextIO

from aish import App, UsageError

USAGE = "usage: agents remove NAME"


def remove_agent(app: App, words: list[str], out: TextIO) -> int:
    """Remove ``[agents.NAME]`` from the configuration file and stop using it in this session."""
    import tomllib

    from aish.config import config_file, load_config, parse_config  # aish's own commands use its internals
    from aish.config_edit import read_config_text, remove_table, write_config_text
    from aish.config_watch import adopt
    from aish.wordwrap import say

    if words in (["-h"], ["--help"]):
        out.write(f"{USAGE}\nTake [agents.NAME] out of {config_file(app.config)}; the rest of the file stays.\n")
        return 0
    if len(words) != 1 or words[0].startswith("-"):
        raise UsageError(USAGE)
    name = words[0]
    path = config_file(app.config)
    where = str(path)
    text = read_config_text(path)
    if name not in app.config.agents:
        offered = " (a plugin offers it: 'plugins' lists which; 'plugins disable NAME' hides its agents)"
        why = offered if app.is_agent(name) else ""
        raise UsageError(f"agents remove: no agent {name!r} in {where}{why}")
    new = remove_table(text, ("agents", name), where=where)
    parse_config(tomllib.loads(new), path)  # the configuration's own errors, before the change
    write_config_text(path, new)
    adopt(app, load_config(where))
    groups = sorted(group for group, names in app.config.groups.items() if name in names)
    still = f"; group {', '.join(groups)} still names it" if groups else ""
    back = " (the plugin agent of that name is used again)" if app.is_agent(name) else ""
    say(out, f"agent {name} removed from {where}{still}{back}")
    return 0
