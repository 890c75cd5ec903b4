"""Hook specifications: the reference for everything a plugin can do.

Every hook is called with keyword arguments; an implementation may accept any
subset of them (so specs can grow without breaking plugins). Registration hooks
receive a ``register`` callback instead of returning values, so aish owns the
naming, duplicate detection and provenance (which plugin registered what, shown
by ``aish plugins``). They are called once per plugin while aish starts.

Factories, not instances, are registered: aish builds a component only when a
run needs it, so a plugin's heavy imports belong inside its factory (keep the
module the entry point names cheap to import: start-up imports every plugin).

Implement hooks with :data:`aish.hookimpl`::

    from aish import hookimpl

    @hookimpl
    def aish_register_renderers(register):
        register("shout", ShoutRenderer, description="upper-cases everything")

and expose the module under the ``aish.plugins`` entry-point group::

    [project.entry-points."aish.plugins"]
    shout = "aish_shout"

This module's docstrings are checked against ``docs/plugins/hooks.md`` by the
test suite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
    from aish.agents import AgentConfig, AgentPreparer
    from aish.app import App
    from aish.commands import RegisterCommand
    from aish.contracts import (
        CodecFactory,
        HistoryFactory,
        RendererFactory,
        StreamExtensionFactory,
        TransportFactory,
    )

PROJECT = "aish"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class RegisterTransport(Protocol):
    """The ``register`` callback of :func:`aish_register_transports`."""

    def __call__(self, name: str, factory: TransportFactory, *, description: str = "") -> None: ...


class RegisterCodec(Protocol):
    """The ``register`` callback of :func:`aish_register_codecs`."""

    def __call__(self, name: str, factory: CodecFactory, *, description: str = "") -> None: ...


class RegisterRenderer(Protocol):
    """The ``register`` callback of :func:`aish_register_renderers`."""

    def __call__(
        self,
        name: str,
        factory: RendererFactory,
        *,
        description: str = "",
        default: bool = False,
        parallel: bool = False,
    ) -> None: ...


class RegisterStreamExtension(Protocol):
    """The ``register`` callback of :func:`aish_register_stream_extensions`."""

    def __call__(self, name: str, factory: StreamExtensionFactory, *, description: str = "") -> None: ...


class RegisterHistoryBackend(Protocol):
    """The ``register`` callback of :func:`aish_register_history_backends`."""

    def __call__(self, name: str, factory: HistoryFactory, *, description: str = "", default: bool = False) -> None: ...


class RegisterAgent(Protocol):
    """The ``register`` callback of :func:`aish_register_agents`."""

    def __call__(self, agent: AgentConfig, *, prepare: AgentPreparer | None = None, demo: bool = False) -> None: ...


class AishHookSpecs:
    """The hooks aish calls. Module-level functions of a plugin implement them."""

    @hookspec
    def aish_register_transports(self, register: RegisterTransport) -> None:
        """Register transports: how requests reach endpoints and streams come back.

        :param register: call ``register(name, factory, description=...)`` once per
            transport. ``factory(agent: AgentConfig) -> Transport`` (see
            :class:`aish.contracts.Transport`); agents choose it with
            ``transport = "name"``.

        Example: ``register("ndjson-tcp", NdjsonTransport, description="JSON lines over TCP")``.
        """

    @hookspec
    def aish_register_codecs(self, register: RegisterCodec) -> None:
        """Register context codecs: how input and context become a request, and events text.

        :param register: call ``register(name, factory, description=...)`` once per
            codec. ``factory(agent: AgentConfig) -> Codec`` (see
            :class:`aish.contracts.Codec`); agents choose it with ``codec = "name"``.

        Example: ``register("my-dialect", MyDialectCodec)``.
        """

    @hookspec
    def aish_register_renderers(self, register: RegisterRenderer) -> None:
        """Register renderers: how streams are shown.

        :param register: call ``register(name, factory, description=...)`` once per
            renderer. ``factory(target: RenderTarget) -> Renderer`` (see
            :class:`aish.contracts.Renderer`); chosen with ``--renderer name``,
            an agent's ``renderer`` or ``[settings] renderer``. Pass
            ``default=True`` to offer it when none is chosen (the built-in
            plain renderer does; if two plugins claim it, the user must choose).
            Pass ``parallel=True`` to offer it for parallel groups on a terminal
            (the built-in ``lanes`` renderer does; ``[settings] parallel_renderer``
            overrides it); it finds the lanes' names in ``target.options["lanes"]``.
            A renderer chosen with ``--renderer`` that is neither ``parallel`` nor
            ``labels_agents = True`` (a class attribute: its output names every
            event's agent) shows a parallel group one lane after the other, one
            instance per lane, so the lanes' words never mix. A renderer gets the
            text pieces that one network read brought as one ``TextDelta``
            (``pieces`` counts them); with ``every_piece = True`` (a class
            attribute, as ``jsonl`` has) it gets each as the endpoint sent it.

        Example: ``register("shout", ShoutRenderer)``.
        """

    @hookspec
    def aish_register_stream_extensions(self, register: RegisterStreamExtension) -> None:
        """Register stream extensions: behaviour wrapped around every connection of every agent.

        :param register: call ``register(name, factory, description=...)`` once per
            extension. ``factory(agent: AgentConfig) -> StreamExtension | None``
            (see :class:`aish.contracts.StreamExtension`; ``None`` leaves that
            agent alone). Every registered extension applies to every agent,
            the first name innermost; the built-in liveness watchdog is one.

        Example: ``register("trace", TraceExtension, description="logs every batch")``.
        """

    @hookspec
    def aish_register_history_backends(self, register: RegisterHistoryBackend) -> None:
        """Register history backends: where runs are recorded as they stream.

        :param register: call ``register(name, factory, description=...)`` once per
            backend. ``factory(options: Mapping[str, Any]) -> HistoryBackend`` (see
            :class:`aish.contracts.HistoryBackend`); ``options["path"]`` is the file the
            user chose (``[settings] history_path``) or None, ``options["data_dir"]`` the
            directory for a default file. Chosen with ``[settings] history``; pass
            ``default=True`` to be used when none is chosen (the built-in ``sqlite``
            backend does). Test it with :mod:`aish.contract_tests.history`.

        Example: ``register("jsonl", make_jsonl_history)``.
        """

    @hookspec
    def aish_register_agents(self, register: RegisterAgent, app: App) -> None:
        """Offer agents that need no configuration (aish's offline demo agents use it).

        :param register: call ``register(agent, prepare=None, demo=False)`` with an
            :class:`aish.AgentConfig`. ``prepare(agent) -> AgentConfig`` runs once,
            just before the agent is first used (e.g. to start a local server and
            fill in its URL). ``demo=True`` marks an agent to try aish with, not
            to work with (the offline demo agents): the shell's banner lists it
            apart, and examples and hints name another agent when there is one.
            Agents in the user's configuration file win over plugin agents of the
            same name.
        :param app: the :class:`aish.app.App` being built (what ``prepare``
            starts, :func:`aish_shutdown` with the same app stops).

        Example: ``register(AgentConfig(name="echo", transport="ndjson-tcp", url=URL, codec="my-dialect"))``.
        """

    @hookspec
    def aish_register_commands(self, register: RegisterCommand) -> None:
        """Register commands (``agents``, ``history``...): alike in the shell, ``aish -c``, scripts and ``aish NAME``.

        :param register: call ``register(name, func, summary=..., usage=..., complete=None,
            raw=False)`` once per command. ``func(invocation: Invocation) -> int`` (see
            :class:`aish.Invocation`) returns the exit status and raises
            :class:`aish.AishError` subclasses for errors; ``complete(invocation, words)``
            offers Tab completions in the shell; ``raw=True`` gives the command the rest
            of its line unparsed (``history search a|b``). See docs/plugins/commands.md.

        Example: ``register("hello", hello, summary="say hello", usage="hello [NAME]")``.
        """

    @hookspec
    def aish_startup(self, app: App) -> None:
        """aish has loaded its plugins and configuration and is about to run.

        :param app: the :class:`aish.app.App` (configuration, components, agents).
        """

    @hookspec
    def aish_shutdown(self, app: App) -> None:
        """aish is exiting: release what :func:`aish_startup` acquired.

        :param app: the :class:`aish.app.App`. Called even after errors.
        """
