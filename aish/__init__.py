"""aish, the AI shell: AI endpoints as commands, composed like Unix tools.

This module is aish's public API for plugins: the hook markers, the stream
event model, the component contracts and the error tree. Plugins import from
here only.
"""

from aish.agents import AgentConfig
from aish.contracts import (
    Codec,
    Connection,
    Context,
    Decoder,
    HistoryBackend,
    Prompt,
    Renderer,
    RenderTarget,
    Request,
    RunRecord,
    StageRecord,
    Transport,
)
from aish.errors import (
    AishError,
    AishSyntaxError,
    ConfigError,
    ConnectionFailure,
    HTTPStatusError,
    IdleTimeout,
    Interrupted,
    MalformedEvent,
    PluginError,
    RemoteError,
    StreamFailure,
    StreamIncomplete,
    UnknownAgentError,
    UnknownNameError,
    UsageError,
)
from aish.events import Event, Heartbeat, StreamEnd, StreamError, StreamStart, TextDelta, Usage
from aish.hookspecs import hookimpl, hookspec
from aish.wire import WireComment, WireItem, WireMessage

__version__ = "0.1.0"

__all__ = [
    "AgentConfig",
    "AishError",
    "AishSyntaxError",
    "Codec",
    "ConfigError",
    "Connection",
    "ConnectionFailure",
    "Context",
    "Decoder",
    "Event",
    "HTTPStatusError",
    "Heartbeat",
    "HistoryBackend",
    "IdleTimeout",
    "Interrupted",
    "MalformedEvent",
    "PluginError",
    "Prompt",
    "RemoteError",
    "RenderTarget",
    "Renderer",
    "Request",
    "RunRecord",
    "StageRecord",
    "StreamEnd",
    "StreamError",
    "StreamFailure",
    "StreamIncomplete",
    "StreamStart",
    "TextDelta",
    "Transport",
    "UnknownAgentError",
    "UnknownNameError",
    "Usage",
    "UsageError",
    "WireComment",
    "WireItem",
    "WireMessage",
    "__version__",
    "hookimpl",
    "hookspec",
]
