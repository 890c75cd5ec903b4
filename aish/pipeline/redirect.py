"""Redirection of a pipeline (``< FILE``, ``> FILE``, ``>> FILE``).

A redirect whose target looks like words rather than a file name (no ``.``
and no ``/``, as in ``athena is 3 > 2?``) gets a hint on how to send the
operator as text; on a terminal every output redirect says where the output
went, so a file is never written silently.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import BinaryIO, TextIO

from aish.builtins import open_file, read_text
from aish.errors import UsageError
from aish.lang.ast import Command, Pipeline, Redirect
from aish.tty import isatty


def expanded(redirect: Redirect | None) -> Redirect | None:
    """``redirect`` with its file's name expanded as sh expands a program's words (decision 90):
    ``> $HOME/notes.md``, ``< "$DIR/in.txt"``, ``> ~/x``; a name that comes to no file or to
    several (``> $UNSET``, ``< *.md`` matching two) is refused, as sh refuses it."""
    if redirect is None or (redirect.segments is None and not any(c in redirect.target for c in "~$*?[")):
        return redirect
    from aish.lang.ast import Word
    from aish.lang.expand import expand_words

    words = expand_words([Word(redirect.target, redirect.pos, False, redirect.segments)])
    if len(words) != 1 or not words[0].value:
        names = "no file" if not words or not words[0].value else f"{len(words)} files"
        raise UsageError(f"{redirect.op} {redirect.target}: ambiguous redirect (it names {names})")
    if words[0].value == redirect.target:
        return redirect
    return Redirect(redirect.op, words[0].value, redirect.pos)


def refuse_descriptors(pipeline: Pipeline, kinds: Sequence[str]) -> None:
    """``ls 2>/dev/null``: a number glued to ``<`` or ``>`` redirects a file descriptor in sh. aish
    has no such thing, and would give ``ls`` the word ``2`` and the file its output, so a line
    whose program or built-in (``kinds``: each stage's plan kind) ends so is refused, saying how
    to give it to sh. An agent's ``is 3>2`` has its own error (a comparison: quote it)."""
    for redirect in (pipeline.stdin, pipeline.stdout):
        if redirect is None:
            continue
        for stage, kind in zip(pipeline.stages, kinds, strict=False):
            if kind not in ("os", "builtin") or not isinstance(stage, Command):
                continue
            for word in stage.args:
                if not word.quoted and word.value.isdigit() and word.pos + len(word.value) == redirect.pos:
                    fd = f"{word.value}{redirect.op}"
                    raise UsageError(
                        f"{stage.name}: '{fd}' redirects file descriptor {word.value}, which is sh's (aish would give "
                        f"{stage.name} the word '{word.value}'): !{stage.name} ... {fd}{redirect.target} runs it in sh"
                    )


def open_output(op: str, target: str) -> TextIO:
    """``target`` opened for ``>`` (truncate) or ``>>`` (append); a failure is one line naming it."""
    try:
        path = os.path.expanduser(target)
        return open(path, "a" if op == ">>" else "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{op} {target}: {exc.strerror}") from None
    except ValueError:  # a NUL in the name
        raise UsageError(f"{op} {target}: a file name cannot hold a NUL character") from None


def read_input(target: str, err: TextIO | None = None) -> str:
    """``< target``'s text (a warning on ``err`` when it is not UTF-8); the error of a missing file
    says how to send ``<`` as text when it looks like words."""
    try:
        return read_text(target, "<", err)
    except UsageError as exc:
        if _looks_like_words(target):
            raise exc.reworded(f"{exc}; {_quote_hint('<')}") from None
        raise


def open_input(target: str) -> BinaryIO:
    """``< target`` opened for its bytes (a program reads them as they are), with the errors of
    :func:`read_input`."""
    try:
        return open_file(target, "<")
    except UsageError as exc:
        if _looks_like_words(target):
            raise exc.reworded(f"{exc}; {_quote_hint('<')}") from None
        raise


def say_where(
    err: TextIO, op: str, target: str, *, nothing: bool = False, partial: bool = False, notes: Sequence[str] = ()
) -> None:
    """On a terminal, say which file got the output: ``[Output written to FILE]``; ``nothing``: the
    run stopped before anything was written to it (``[Nothing written to FILE]``); ``partial``: it
    stopped after (an error, Ctrl-C: ``[Partial output written to FILE]``); ``notes``: answers
    that did not end naturally (``athena: cut at max_tokens``), which the screen would have said."""
    if not isatty(err):
        return
    verb = "Nothing written to" if nothing else "appended to" if op == ">>" else "written to"
    if not nothing:
        verb = f"{'Partial output' if partial else 'Output'} {verb}"
    if nothing:
        err.write(f"[{verb} {target}]\n")
        err.flush()
        return
    hint = "".join(f"; {note}" for note in notes)
    hint += f"; {_quote_hint(op)}" if _looks_like_words(target) else ""
    err.write(f"[{verb} {target}{hint}]\n")
    err.flush()


def _quote_hint(op: str) -> str:
    return f"to send '{op}' to the agent, quote it"


def _looks_like_words(target: str) -> bool:
    return "." not in target and "/" not in target
