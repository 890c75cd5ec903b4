"""Built-in stages of the aish language that are not agents: ``echo`` and ``cat``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import BinaryIO, TextIO

from aish.errors import UsageError
from aish.lang.ast import Command

Builtin = Callable[[Command, str | None, TextIO | None], str]
"""(command, piped input or None, where a warning goes) -> output text."""


def echo(cmd: Command, _stdin: str | None, _err: TextIO | None = None) -> str:
    """``echo WORDS``: the words, joined by spaces, and a newline."""
    return cmd.text + "\n"


def cat(cmd: Command, stdin: str | None, err: TextIO | None = None) -> str:
    """``cat FILE...``: the files' contents; with no file, its input."""
    if not cmd.args:
        if stdin is None:
            raise UsageError("cat: no file given")
        return stdin
    return "".join(read_text(w.value, "cat", err) for w in cmd.args)


def read_text(path: str, who: str, err: TextIO | None = None) -> str:
    """A file's text (U+FFFD for bytes that are not UTF-8, with one warning on ``err``; universal
    newlines); a missing or unreadable file is a one-line error naming it.

    Read as :func:`aish.encoding.read_decoded` reads piped input: never the whole file's
    bytes beside its text (decision 27).
    """
    from aish.encoding import read_decoded

    with open_file(path, who) as file:
        try:
            text, bad = read_decoded(file)
        except OSError as exc:
            raise _cannot_read(exc, path, who) from None
    if bad is not None and err is not None:
        from aish.encoding import notice

        notice(path, bad, err)
    if "\r" in text:  # what text mode does: \r\n and a lone \r are \n
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def open_file(path: str, who: str) -> BinaryIO:
    """A file opened for its bytes, as they are (what ``cat FILE`` and ``< FILE`` give a
    program); a missing or unreadable file is a one-line error naming it."""
    try:
        return open(os.path.expanduser(path), "rb")
    except OSError as exc:
        raise _cannot_read(exc, path, who) from None
    except ValueError:  # a NUL in the name
        raise UsageError(f"{who}: {path}: a file name cannot hold a NUL character") from None


def _cannot_read(exc: OSError, path: str, who: str) -> UsageError:
    if isinstance(exc, FileNotFoundError):
        return UsageError(f"{who}: {path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return UsageError(f"{who}: {path}: is a directory")
    return UsageError(f"{who}: {path}: {exc.strerror}")


BUILTINS: dict[str, Builtin] = {"echo": echo, "cat": cat}
