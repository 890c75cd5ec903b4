"""aish, the AI shell: AI endpoints as commands, composed like Unix tools.

This module is aish's public API for plugins: the hook markers, the stream
event model, the component contracts and the error tree. Plugins import from
here only.
"""

from aish.agents import AgentConfig
from aish.codec_support import error_detail, json_object, with_api_key
from aish.context import label_answers
from aish.contracts import (
    CancelToken,
    Codec,
    Connection,
    Context,
    Decoder,
    HistoryBackend,
    MessageControl,
    Prompt,
    Renderer,
    RenderTarget,
    Request,
    ResumableConnection,
    RunRecord,
    StageRecord,
    StreamExtension,
    Transport,
)
from aish.errors import (
    AishError,
    AishSyntaxError,
    ConfigError,
    ConnectionFailure,
    HistoryError,
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
from aish.history.files import private_file
from aish.history.terms import run_matches, search_terms, searchable
from aish.hookspecs import hookimpl, hookspec
from aish.wire import WireComment, WireItem, WireMessage

__version__ = "0.1.0"

__all__ = [
    "AgentConfig",
    "AishError",
    "AishSyntaxError",
    "CancelToken",
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
    "HistoryError",
    "IdleTimeout",
    "Interrupted",
    "MalformedEvent",
    "MessageControl",
    "PluginError",
    "Prompt",
    "RemoteError",
    "RenderTarget",
    "Renderer",
    "Request",
    "ResumableConnection",
    "RunRecord",
    "StageRecord",
    "StreamEnd",
    "StreamError",
    "StreamExtension",
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
    "error_detail",
    "hookimpl",
    "hookspec",
    "json_object",
    "label_answers",
    "private_file",
    "run_matches",
    "search_terms",
    "searchable",
    "with_api_key",
]
