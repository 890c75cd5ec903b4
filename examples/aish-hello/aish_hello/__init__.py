"""An aish plugin adding the ``hello`` command: it greets a name, or the world."""

from __future__ import annotations

from aish import Invocation, RegisterCommand, UsageError, hookimpl


def hello(inv: Invocation) -> int:
    if len(inv.args) > 1:
        raise UsageError("hello: give at most one name")
    inv.out.write(f"hello {inv.args[0] if inv.args else 'world'}\n")
    return 0


def complete_hello(inv: Invocation, words: list[str]) -> list[str]:
    return sorted(inv.app.agents()) if len(words) == 1 else []


@hookimpl
def aish_register_commands(register: RegisterCommand) -> None:
    register("hello", hello, summary="Say hello.", usage="usage: hello [NAME]", complete=complete_hello)
