"""``models AGENT``: the models an agent's server lists, and a warning for a model it does not list.

A codec that can list its server's models has two optional methods:
``models_request() -> Request`` (``GET {url}/models`` with the agent's key
and headers, for ``openai-chat`` and ``anthropic-messages``) and
``model_ids(body) -> list[str]``. The request goes through the agent's own
transport, so timeouts, proxies and the scrubbing of keys from errors are
those of its answers.

In the shell, Tab after ``-m`` offers the agent's model and its server's list
(:meth:`ModelChecks.known`).

When a model is checked: ``models AGENT`` checks the agent's configured
model; a call with ``-m MODEL`` checks that model in the background while the
answer streams (one list per server and aish process), and the warning comes
after the answer. Nothing else is checked, so a request never waits for a
list. A server that cannot list its models gives no warning.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from aish.agents import AgentConfig, shown_url
from aish.app import App
from aish.contracts import Codec, Request
from aish.errors import EXIT_OK, AishError, MalformedEvent, StreamFailure, UsageError
from aish.lang import Pipeline
from aish.wire import WireMessage
from aish.wordwrap import say

if TYPE_CHECKING:
    from aish.commands import Invocation

CHECK_WAIT = 2.0
"""Seconds a finished answer waits for its model check before giving up on it."""


USAGE = "usage: models [AGENT...]"
IN_USE = "  (in use)"
"""After the agent's own model, in the ``AGENT  MODEL`` table of several agents."""
LIST_WAIT = 15.0
"""Seconds ``models`` with several agents waits for all their servers before listing without the late ones."""


def models(inv: Invocation) -> int:
    """``models AGENT``: one model id per line; a warning when the agent's model is not among them.
    ``models`` (every agent) or ``models AGENT AGENT...``: an ``AGENT  MODEL`` table (a header, as
    ``agents`` has; the agent's own model marked ``(in use)``), the servers asked at once; an agent
    whose server cannot say is a warning, and the others are still listed.

    Registered by the built-in commands plugin (``aish_commands``), so it runs the same in
    the shell, ``aish -c``, scripts and ``aish models AGENT``.
    """
    if len(inv.args) != 1:
        return _several(inv, inv.args or list(inv.app.agents()))
    agent = inv.app.agent(inv.args[0])
    ids = fetch_models(inv.app, agent)
    for model in ids:
        inv.out.write(f"{model}\n")
    inv.out.flush()
    if agent.model and agent.model not in ids:
        say(inv.err, f"aish: {unlisted(agent, agent.model)}")
    return EXIT_OK


def _several(inv: Invocation, names: list[str]) -> int:
    agents = [inv.app.agent(name) for name in names]  # an unknown name fails before any request
    found: dict[str, list[str] | AishError] = {}

    def ask(agent: AgentConfig) -> None:
        try:
            found[agent.name] = fetch_models(inv.app, agent)
        except AishError as exc:
            found[agent.name] = exc

    threads = [threading.Thread(target=ask, args=(agent,), daemon=True) for agent in agents]
    for thread in threads:
        thread.start()
    width = max((len(agent.name) for agent in agents), default=0)
    width = max(width, len("AGENT"))
    listed = False
    deadline = time.monotonic() + LIST_WAIT
    for agent, thread in zip(agents, threads, strict=True):
        thread.join(max(0.0, deadline - time.monotonic()))
        ids = found.get(agent.name)
        if ids is None:  # still waiting: its server is slow or hung; the others are not held up
            say(inv.err, f"aish: warning: {agent.name}: no list of models within {LIST_WAIT:g}s")
            continue
        if isinstance(ids, AishError):
            say(inv.err, f"aish: warning: {ids}")
            continue
        if not listed:
            inv.out.write(f"{'AGENT'.ljust(width)}  MODEL\n")
        listed = True
        inv.out.writelines(
            f"{agent.name.ljust(width)}  {model}{IN_USE if model == agent.model else ''}\n" for model in ids
        )
        inv.out.flush()
        if agent.model and agent.model not in ids:
            say(inv.err, f"aish: {unlisted(agent, agent.model)}")
    if not listed and agents:
        raise UsageError("models: no agent's server listed its models (see the warnings above)")
    return EXIT_OK


def unlisted(agent: AgentConfig, model: str) -> str:
    """The warning for a model the agent's server does not list."""
    return f"warning: {agent.name}: model {model!r} is not listed by its server (see 'models {agent.name}')"


def fetch_models(app: App, agent: AgentConfig) -> list[str]:
    """The model ids the agent's server lists; one-line errors (never a key)."""
    codec = app.codec(agent)
    make, read = _lister(codec)
    if make is None or read is None:
        raise UsageError(f"{agent.name}: the {agent.codec} codec cannot list models")
    request = make()
    body = _get(app, agent, codec, request)
    try:
        return read(body)
    except (MalformedEvent, ValueError, KeyError, TypeError, AttributeError):
        raise MalformedEvent(f"{agent.name}: {shown_url(request.url)} did not answer with a list of models") from None


def _lister(codec: Codec) -> tuple[Callable[[], Request] | None, Callable[[str], list[str]] | None]:
    return getattr(codec, "models_request", None), getattr(codec, "model_ids", None)


def _get(app: App, agent: AgentConfig, codec: Codec, request: Request) -> str:
    transport = app.transport(agent)
    try:
        connection = transport.open(request)
        try:
            return "".join(item.data for batch in connection for item in batch if isinstance(item, WireMessage))
        finally:
            connection.close()
    except StreamFailure as exc:
        from aish.stream.messages import explain, unset_key  # a failure's message

        raise explain(agent.name, exc, codec, request.secrets, unset_key=unset_key(agent)) from None
    finally:
        transport.close()


class ModelChecks:
    """Checks the models of ``-m`` calls against their servers' lists, in the background.

    A runner keeps one, so each server is asked once per aish process.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self._lists: dict[str, _Lookup] = {}
        self._lock = threading.Lock()

    def start(self, pipeline: Pipeline) -> list[tuple[AgentConfig, str, _Lookup]]:
        """Start looking up the lists the ``-m`` models of ``pipeline`` need; never raises."""
        started = []
        for command in pipeline.commands():
            model = command.controls.model
            if model is None or not self.app.is_agent(command.name):
                continue
            try:
                agent = self.app.agent(command.name)
                if None in _lister(self.app.codec(agent)):
                    continue
            except AishError:
                continue
            started.append((agent, model, self._lookup(agent)))
        return started

    def report(self, started: list[tuple[AgentConfig, str, _Lookup]], err: TextIO) -> None:
        """Warn about each model its server's list lacks (lists not there within CHECK_WAIT are skipped)."""
        for agent, model, lookup in started:
            ids = lookup.result(CHECK_WAIT)
            if ids is not None and model not in ids:
                say(err, f"aish: {unlisted(agent, model)}")
                err.flush()

    def known(self, name: str, wait: float) -> list[str]:
        """The models to offer for agent ``name`` (Tab after ``-m``): its own, then its server's list,
        asked once and waited for at most ``wait`` seconds (a list still coming is there at the next
        Tab; one that failed is asked for again then). Never raises."""
        try:
            agent = self.app.agent(name)
            own = [agent.model] if agent.model else []
            if None in _lister(self.app.codec(agent)):
                return own
        except AishError:
            return []
        lookup = self._lookup(agent)
        ids = lookup.result(wait)
        if ids is None and lookup.done():
            with self._lock:
                self._lists.pop(agent.url, None)
        return list(dict.fromkeys([*own, *(ids or [])]))

    def _lookup(self, agent: AgentConfig) -> _Lookup:
        with self._lock:
            lookup = self._lists.get(agent.url)
            if lookup is None:
                lookup = self._lists[agent.url] = _Lookup(lambda: fetch_models(self.app, agent))
            return lookup


class _Lookup:
    """One list of models being fetched in a daemon thread; errors give no list."""

    def __init__(self, fetch: Callable[[], list[str]]) -> None:
        self._ids: list[str] | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(fetch,), name="aish-models", daemon=True)
        self._thread.start()

    def _run(self, fetch: Callable[[], list[str]]) -> None:
        try:
            self._ids = fetch()
        except Exception:  # a list we cannot get is no warning
            self._ids = None
        finally:
            self._done.set()

    def result(self, timeout: float) -> list[str] | None:
        self._done.wait(timeout)
        return self._ids

    def done(self) -> bool:
        return self._done.is_set()
