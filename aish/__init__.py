"""aish, the AI shell: AI endpoints as commands, composed like Unix tools.

This module is aish's public API for plugins: the hook markers, the stream
event model, the component contracts and the error tree. Plugins import from
here only.

The names are imported on first use (PEP 562): ``import aish.cli`` or ``aish
--version`` pays for none of them, and a plugin pays only for what it imports.
"""

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: importing typing costs ~3 ms
if TYPE_CHECKING:
    from aish.agents import AgentConfig, AgentPreparer, shown_url
    from aish.app import App
    from aish.codec_support import describe_turns, endpoint, error_detail, json_object, model_ids, with_api_key
    from aish.commands import CommandFunc, Completer, Invocation, RegisterCommand
    from aish.context import label_answers
    from aish.contracts import (
        Body,
        CancelToken,
        Codec,
        CodecFactory,
        Connection,
        Context,
        Decoder,
        HistoryBackend,
        HistoryFactory,
        MessageControl,
        Prompt,
        Renderer,
        RendererFactory,
        RenderTarget,
        Request,
        ResumableConnection,
        RunRecord,
        StageRecord,
        StreamExtension,
        StreamExtensionFactory,
        Transport,
        TransportFactory,
        Turn,
    )
    from aish.errors import (
        AishError,
        AishSyntaxError,
        ConfigError,
        ConnectionFailure,
        EventTooLarge,
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
        visible,
    )
    from aish.events import (
        Event,
        Heartbeat,
        Reasoning,
        Retrying,
        StreamEnd,
        StreamError,
        StreamStart,
        TextDelta,
        ToolCall,
        Usage,
    )
    from aish.history.brief import brief_of
    from aish.history.files import private_file
    from aish.history.terms import composed, run_matches, search_terms, searchable
    from aish.hookspecs import (
        RegisterAgent,
        RegisterCodec,
        RegisterHistoryBackend,
        RegisterRenderer,
        RegisterStreamExtension,
        RegisterTransport,
        hookimpl,
        hookspec,
    )
    from aish.joined import Joined
    from aish.jsonbody import json_body, json_chunks
    from aish.keystore import api_key
    from aish.kit.bytestream import ByteStreamConnection, ByteStreamTransport
    from aish.kit.history import RecordHistory, claim_file, private_dir, write_atomically
    from aish.kit.sse import SSEParser
    from aish.records import FrozenRecord, Record, freeze
    from aish.stops import ending, is_empty, status_line, stop_note
    from aish.terminal import cell_widths, cells, note_line_start, terminal_safe, terminal_size
    from aish.tty import isatty
    from aish.waiting import WaitCount
    from aish.wire import WireComment, WireItem, WireMessage
    from aish.wordwrap import WordWrap

__version__ = "0.1.0"

_EXPORTS = {
    "AgentConfig": "aish.agents",
    "AgentPreparer": "aish.agents",
    "AishError": "aish.errors",
    "AishSyntaxError": "aish.errors",
    "App": "aish.app",
    "api_key": "aish.keystore",
    "ByteStreamConnection": "aish.kit.bytestream",
    "ByteStreamTransport": "aish.kit.bytestream",
    "Body": "aish.contracts",
    "CancelToken": "aish.contracts",
    "Codec": "aish.contracts",
    "CodecFactory": "aish.contracts",
    "CommandFunc": "aish.commands",
    "Completer": "aish.commands",
    "ConfigError": "aish.errors",
    "Connection": "aish.contracts",
    "ConnectionFailure": "aish.errors",
    "Context": "aish.contracts",
    "Decoder": "aish.contracts",
    "Event": "aish.events",
    "EventTooLarge": "aish.errors",
    "HTTPStatusError": "aish.errors",
    "FrozenRecord": "aish.records",
    "Heartbeat": "aish.events",
    "HistoryBackend": "aish.contracts",
    "HistoryError": "aish.errors",
    "HistoryFactory": "aish.contracts",
    "IdleTimeout": "aish.errors",
    "Interrupted": "aish.errors",
    "Invocation": "aish.commands",
    "Joined": "aish.joined",
    "MalformedEvent": "aish.errors",
    "MessageControl": "aish.contracts",
    "PluginError": "aish.errors",
    "Prompt": "aish.contracts",
    "RecordHistory": "aish.kit.history",
    "RegisterAgent": "aish.hookspecs",
    "RegisterCodec": "aish.hookspecs",
    "RegisterCommand": "aish.commands",
    "RegisterHistoryBackend": "aish.hookspecs",
    "RegisterRenderer": "aish.hookspecs",
    "RegisterStreamExtension": "aish.hookspecs",
    "RegisterTransport": "aish.hookspecs",
    "Reasoning": "aish.events",
    "Retrying": "aish.events",
    "RemoteError": "aish.errors",
    "RenderTarget": "aish.contracts",
    "Renderer": "aish.contracts",
    "RendererFactory": "aish.contracts",
    "Request": "aish.contracts",
    "ResumableConnection": "aish.contracts",
    "RunRecord": "aish.contracts",
    "SSEParser": "aish.kit.sse",
    "Record": "aish.records",
    "StageRecord": "aish.contracts",
    "StreamEnd": "aish.events",
    "StreamError": "aish.events",
    "StreamExtension": "aish.contracts",
    "StreamExtensionFactory": "aish.contracts",
    "StreamFailure": "aish.errors",
    "StreamIncomplete": "aish.errors",
    "StreamStart": "aish.events",
    "TextDelta": "aish.events",
    "ToolCall": "aish.events",
    "Transport": "aish.contracts",
    "TransportFactory": "aish.contracts",
    "Turn": "aish.contracts",
    "UnknownAgentError": "aish.errors",
    "UnknownNameError": "aish.errors",
    "Usage": "aish.events",
    "UsageError": "aish.errors",
    "WireComment": "aish.wire",
    "WireItem": "aish.wire",
    "WireMessage": "aish.wire",
    "claim_file": "aish.kit.history",
    "describe_turns": "aish.codec_support",
    "endpoint": "aish.codec_support",
    "ending": "aish.stops",
    "error_detail": "aish.codec_support",
    "freeze": "aish.records",
    "hookimpl": "aish.hookspecs",
    "hookspec": "aish.hookspecs",
    "is_empty": "aish.stops",
    "json_body": "aish.jsonbody",
    "json_chunks": "aish.jsonbody",
    "json_object": "aish.codec_support",
    "label_answers": "aish.context",
    "model_ids": "aish.codec_support",
    "private_dir": "aish.kit.history",
    "private_file": "aish.history.files",
    "brief_of": "aish.history.brief",
    "run_matches": "aish.history.terms",
    "search_terms": "aish.history.terms",
    "composed": "aish.history.terms",
    "searchable": "aish.history.terms",
    "shown_url": "aish.agents",
    "status_line": "aish.stops",
    "stop_note": "aish.stops",
    "terminal_safe": "aish.terminal",
    "terminal_size": "aish.terminal",
    "cells": "aish.terminal",
    "cell_widths": "aish.terminal",
    "note_line_start": "aish.terminal",
    "isatty": "aish.tty",
    "WaitCount": "aish.waiting",
    "WordWrap": "aish.wordwrap",
    "visible": "aish.errors",
    "with_api_key": "aish.codec_support",
    "write_atomically": "aish.kit.history",
}
"""Public name -> the module that defines it."""


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'aish' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


del TYPE_CHECKING


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "AgentConfig",
    "AgentPreparer",
    "AishError",
    "AishSyntaxError",
    "App",
    "Body",
    "ByteStreamConnection",
    "ByteStreamTransport",
    "CancelToken",
    "Codec",
    "CodecFactory",
    "CommandFunc",
    "Completer",
    "ConfigError",
    "Connection",
    "ConnectionFailure",
    "Context",
    "Decoder",
    "Event",
    "EventTooLarge",
    "FrozenRecord",
    "HTTPStatusError",
    "Heartbeat",
    "HistoryBackend",
    "HistoryError",
    "HistoryFactory",
    "IdleTimeout",
    "Interrupted",
    "Invocation",
    "Joined",
    "MalformedEvent",
    "MessageControl",
    "PluginError",
    "Prompt",
    "Reasoning",
    "Record",
    "RecordHistory",
    "RegisterAgent",
    "RegisterCodec",
    "RegisterCommand",
    "RegisterHistoryBackend",
    "RegisterRenderer",
    "RegisterStreamExtension",
    "RegisterTransport",
    "RemoteError",
    "RenderTarget",
    "Renderer",
    "RendererFactory",
    "Request",
    "ResumableConnection",
    "Retrying",
    "RunRecord",
    "SSEParser",
    "StageRecord",
    "StreamEnd",
    "StreamError",
    "StreamExtension",
    "StreamExtensionFactory",
    "StreamFailure",
    "StreamIncomplete",
    "StreamStart",
    "TextDelta",
    "ToolCall",
    "Transport",
    "TransportFactory",
    "Turn",
    "UnknownAgentError",
    "UnknownNameError",
    "Usage",
    "UsageError",
    "WaitCount",
    "WireComment",
    "WireItem",
    "WireMessage",
    "WordWrap",
    "__version__",
    "api_key",
    "brief_of",
    "cell_widths",
    "cells",
    "claim_file",
    "composed",
    "describe_turns",
    "ending",
    "endpoint",
    "error_detail",
    "freeze",
    "hookimpl",
    "hookspec",
    "is_empty",
    "isatty",
    "json_body",
    "json_chunks",
    "json_object",
    "label_answers",
    "model_ids",
    "note_line_start",
    "private_dir",
    "private_file",
    "run_matches",
    "search_terms",
    "searchable",
    "shown_url",
    "status_line",
    "stop_note",
    "terminal_safe",
    "terminal_size",
    "visible",
    "with_api_key",
    "write_atomically",
]
