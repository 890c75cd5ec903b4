"""aish plugin: ``heartbeat``, the liveness watchdog of the stream layer.

Any event or heartbeat (an SSE comment such as ``: ping``, a dialect's ping
event) proves a connection alive. While aish waits for the next batch, a
connection that delivers neither for the agent's ``idle_timeout`` is declared
dead within that bound, whatever the transport and even if bytes trickle in
that never complete an event. It ends with ``IdleTimeout``, and the stream
layer resumes or fails as its policy says. Time aish spends showing what
arrived (a slow terminal, a full pipe) is not silence.
"""

from __future__ import annotations

from aish import AgentConfig, RegisterStreamExtension, StreamExtension, hookimpl


def _make(agent: AgentConfig) -> StreamExtension:
    from aish_heartbeat.watchdog import LivenessWatchdog

    return LivenessWatchdog(agent.idle_timeout)


@hookimpl
def aish_register_stream_extensions(register: RegisterStreamExtension) -> None:
    register(
        "heartbeat",
        _make,
        description="liveness: a connection with no event or heartbeat for idle_timeout is declared dead",
    )
