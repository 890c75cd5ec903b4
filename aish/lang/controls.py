"""Per-call controls: ``-m MODEL``, ``-s SYSTEM``, ``-o KEY VALUE``, ``-x``.

The same words work after ``aish AGENT`` (before the text) and inside
``AGENT[...]`` in the language. :func:`parse_controls` reads them;
``aish.pipeline.plan`` applies them to the stage's agent configuration.

``-o`` values are JSON when they parse as JSON (``0.2``, ``true``, ``null``,
``["a","b"]``, ``{"k": 1}``) and text otherwise; a value that starts like JSON
(``[``, ``{`` or ``"``) but is not is an error. ``-o KEY=VALUE`` (one word) is
``-o KEY VALUE``. ``-o model X`` is ``-m X`` and ``-o system X`` is ``-s X``.
The last word for a key wins. ``-x`` (``--extract``) makes the stage's output
the first fenced code block of its answer (:mod:`aish.pipeline.extract`).
``-e`` (``--execute``) asks for a shell command (:func:`execute_system` is the
system prompt, unless ``-s`` gives one) and offers its code to run: on the
shell's next line, or at a prompt (decision 94); it implies ``-x``.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from aish.records import FrozenRecord, freeze

USAGE = "-m MODEL, -s SYSTEM, -o KEY VALUE, -x, -e"
CONTROL_WORDS = frozenset(("-m", "--model", "-s", "--system", "-o", "--option", "-x", "--extract", "-e", "--execute"))
"""The words that start a control."""


@functools.cache
def _key() -> re.Pattern[str]:
    """An ``-o`` key. Compiled on first use, as :func:`_option` is: a line without controls never needs them."""
    return re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@functools.cache
def _option() -> re.Pattern[str]:
    """What looks like an option (``-x``, ``--long``); ``-5`` and ``-`` are text."""
    return re.compile(r"--?[A-Za-z][\w-]*")


class ControlsError(ValueError):
    """A bad control; ``index`` is the word it is about."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


class Controls(FrozenRecord):
    """The controls of one call. ``options`` are ``(key, value)`` pairs, ``system`` among them."""

    __slots__ = ("execute", "extract", "model", "options", "words")
    model: str | None
    options: tuple[tuple[str, Any], ...]
    words: tuple[str, ...]
    """The words as given, so that a recorded line can say them again."""
    extract: bool
    """``-x``: the stage's output is the first fenced code block of its answer."""
    execute: bool
    """``-e``: the answer is a shell command, offered to run (``extract`` is set too)."""

    def __init__(
        self,
        model: str | None = None,
        options: tuple[tuple[str, Any], ...] = (),
        words: tuple[str, ...] = (),
        extract: bool = False,
        execute: bool = False,
    ) -> None:
        freeze(self, model=model, options=options, words=words, extract=extract or execute, execute=execute)

    def __bool__(self) -> bool:
        return bool(self.words)

    def option_dict(self) -> dict[str, Any]:
        return dict(self.options)


NO_CONTROLS = Controls()
"""No controls: a stage written without ``[...]``."""


def parse_controls(words: list[str] | tuple[str, ...], *, leading: bool = False) -> tuple[Controls, int]:
    """Read controls from ``words``; return them and how many words they used.

    ``leading`` (``aish AGENT ...``): the controls end at the first word that
    is not an option (the text) or after ``--``; otherwise (``AGENT[...]``)
    every word must be part of a control. Raises :class:`ControlsError`.
    """
    model: str | None = None
    options: dict[str, Any] = {}
    extract = execute = False
    i = end = 0
    while i < len(words):
        word = words[i]
        if word == "--" and leading:
            i += 1
            break
        if word in ("-m", "--model"):
            model = _model(_arg(words, i, "a model name"), i)
            i += 2
        elif word in ("-x", "--extract"):
            extract = True
            i += 1
        elif word in ("-e", "--execute"):
            execute = True
            i += 1
        elif word in ("-s", "--system"):
            options["system"] = _arg(words, i, "a system prompt")
            i += 2
        elif word in ("-o", "--option"):
            if i + 1 >= len(words):
                raise ControlsError(f"{word} needs a key and a value ({word} KEY VALUE)", i)
            key = words[i + 1]
            name, equals, text = key.partition("=")
            if equals and _key().fullmatch(name):  # -o KEY=VALUE, as other tools write it
                if not text:
                    raise ControlsError(f"{word} {name} needs a value after '=' ({word} {name}=VALUE)", i + 1)
                value = parse_value(name, text, i + 1)
                if name == "model":
                    model = _model(str(value), i + 1)
                else:
                    options[name] = value
                i += 2
                end = i
                continue
            if not _key().fullmatch(key):
                raise ControlsError(f"{word}: bad key {key!r} (ASCII letters, digits, '_', '.', '-')", i + 1)
            if i + 2 >= len(words):
                raise ControlsError(f"{word} {key} needs a value", i + 1)
            if words[i + 2] == "=":  # -o temperature = 0.5: '=' would be the value, 0.5 the text
                raise ControlsError(f"{word} {key} = ...: write {word} {key} VALUE or {word} {key}=VALUE", i + 2)
            value = parse_value(key, words[i + 2], i + 2)
            if key == "model":
                model = _model(str(value), i + 2)
            else:
                options[key] = value
            i += 3
        elif leading and not _option().fullmatch(word):
            break
        else:
            raise ControlsError(f"unknown option {word!r} (options: {USAGE})", i)
        end = i
    return Controls(model, tuple(options.items()), tuple(words[:end]), extract, execute), i


def execute_system() -> str:
    """The system prompt of ``-e``: one command for this machine's ``/bin/sh``, in a code block."""
    import os

    shell = os.path.basename(os.environ.get("SHELL", "")) or "sh"
    return (
        f"Turn the request into one shell command for /bin/sh on {os.uname().sysname} (the user's shell is "
        f"{shell}). Reply with the command alone in a ```sh code block, without explanation. If one command "
        "cannot do it, give a short script in that block."
    )


def parse_value(key: str, text: str, index: int = 0) -> Any:
    """``-o KEY VALUE``: the value as JSON when it is JSON, else the text."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        if text.lstrip()[:1] in ("[", "{", '"'):
            reason = str(exc)
            if isinstance(exc, json.JSONDecodeError):
                reason = f"{exc.msg.removesuffix(' at')} at character {exc.pos + 1}"
            raise ControlsError(f"-o {key}: value {text!r} is not valid JSON ({reason})", index) from None
        return text


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _arg(words: list[str] | tuple[str, ...], i: int, what: str) -> str:
    if i + 1 >= len(words):
        raise ControlsError(f"{words[i]} needs {what}", i)
    return words[i + 1]


def _model(name: str, index: int) -> str:
    if not name.strip():
        raise ControlsError("-m needs a model name", index)
    return name
