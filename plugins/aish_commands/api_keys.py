"""``keys``: the variables agents read their API keys from, and keys stored for them (decision 91).

``keys set NAME`` asks for the key at a prompt that does not echo it (on a
pipe: reads one line) and stores it in ``aish.keystore``'s file; the key is
never taken from the command line, where it would stay in the input history.
The listing names each variable, where its key comes from and the agents that
read it; it never shows a key.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aish import App, Invocation

SHORT = "usage: keys [set NAME | remove NAME]"


OFFERED = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")
"""The variables for which the built-in ``keys`` plugin offers an agent (``gpt``, ``claude``): Tab
offers them after ``keys set`` before any agent reads them."""


def keys(inv: Invocation) -> int:
    from aish.errors import UsageError

    words = inv.args
    if not words or words == ["list"]:
        return _list(inv)
    if words[0] == "set":
        return _set(inv, words[1:])
    if words[0] in ("remove", "rm"):
        return _remove(inv, words[1:])
    raise UsageError(f"keys: unknown subcommand {words[0]!r} ({SHORT})")


def complete_keys(inv: Invocation, words: list[str]) -> list[str]:
    if len(words) == 1:
        return ["set", "remove"]
    if len(words) == 2 and words[0] == "set":  # the variables agents read, and those the keys plugin offers agents for
        return sorted({*_readers(inv.app), *OFFERED})
    if len(words) == 2 and words[0] in ("remove", "rm"):
        return sorted(_stored(inv))
    return []


def _readers(app: App) -> dict[str, list[str]]:
    """Each variable agents read a key from, with those agents."""
    found: dict[str, list[str]] = {}
    for name, agent in app.agents().items():
        if agent.api_key_env:
            found.setdefault(agent.api_key_env, []).append(name)
    return found


def _stored(inv: Invocation) -> dict[str, str]:
    from aish.keystore import KeyStoreError, stored_keys

    try:
        return stored_keys()
    except KeyStoreError as exc:
        inv.err.write(f"aish: keys: {exc}\n")
        return {}


def _list(inv: Invocation) -> int:
    from aish.keystore import keys_path
    from aish.layout import table

    readers = _readers(inv.app)
    stored = _stored(inv)
    names = sorted(set(readers) | set(stored))
    if not names:
        inv.out.write(
            f"No agent reads a key, and no key is stored ({keys_path()}).\n"
            "An agent reads one from the variable its api_key_env names (agents add NAME URL --key-env VAR);\n"
            "keys set VAR stores a key for it.\n"
        )
        return 0
    rows = [["variable", "key from", "agents"]]
    for name in names:
        if os.environ.get(name):
            source = "environment" + (" (also stored)" if name in stored else "")
        elif stored.get(name):
            source = "stored"
        else:
            source = "not set" if os.environ.get(name) is None else "empty"
        rows.append([name, source, ", ".join(readers.get(name, [])) or "-"])
    table(rows, inv.out, header=True)
    return 0


def _name(words: list[str], what: str) -> str:
    from aish.errors import UsageError
    from aish.validate import env_name_problem

    if not words:
        raise UsageError(f"usage: keys {what} NAME")
    name = words[0]
    problem = env_name_problem(name)
    if problem is not None:
        raise UsageError(f"keys {what}: {name!r}: {problem}")
    return name


def _set(inv: Invocation, words: list[str]) -> int:
    from aish.errors import UsageError
    from aish.wordwrap import say

    typed = len(words) > 1  # a key on the line: gone from the input history before anything is said
    dropped = typed and inv.forget_typed is not None and inv.forget_typed(words[1])
    name = _name(words, "set")
    if typed:
        kept = "this line is dropped from the input history" if dropped else "a shell's history keeps its lines"
        raise UsageError(
            f"keys set {name}: give the key at the prompt 'keys set {name}' shows, not on the line ({kept})"
        )
    value = _read_key(inv, name).strip()
    if not value:
        raise UsageError(f"keys set {name}: no key given; nothing stored")
    path = _store(inv, f"keys set {name}", name, value)
    readers = _readers(inv.app).get(name, [])
    said = f"stored the key for ${name} in {path}"
    said += f"; agents that read it: {', '.join(readers)}" if readers else "; no agent reads it yet (--key-env)"
    if os.environ.get(name):
        said += f"; ${name} is set in the environment, which is used first"
    say(inv.out, said)
    return 0


def _read_key(inv: Invocation, name: str) -> str:
    from aish.errors import UsageError

    if inv.secret is not None:
        try:
            return inv.secret(f"key for ${name} (not shown): ")
        except (EOFError, KeyboardInterrupt):
            inv.err.write("\n")
            raise UsageError(f"keys set {name}: cancelled; nothing stored") from None
    if inv.stdin is not None:
        return inv.stdin.readline().rstrip("\r\n")
    raise UsageError(f"keys set {name}: nobody to ask here (pipe the key in: aish keys set {name} < FILE)")


def _remove(inv: Invocation, words: list[str]) -> int:
    from aish.errors import UsageError

    name = _name(words, "remove")
    stored = _stored(inv)
    if name not in stored:
        known = f" (stored: {', '.join(sorted(stored))})" if stored else ""
        raise UsageError(f"keys remove: no key is stored for ${name}{known}")
    path = _store(inv, f"keys remove {name}", name, None)
    inv.out.write(f"removed the key stored for ${name} from {path}\n")
    return 0


def _store(inv: Invocation, what: str, name: str, value: str | None) -> str:
    """Store (None: remove) the key for ``name``; the session's plugin agents follow at once."""
    from aish.errors import UsageError
    from aish.keystore import KeyStoreError, store_key

    try:
        path = store_key(name, value)
    except KeyStoreError as exc:
        raise UsageError(f"{what}: {exc}") from None
    inv.app.refresh_agents()
    return path
