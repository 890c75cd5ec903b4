"""The aish language: a quote-aware tokenizer and a parser into a small AST.

cmd2 never parses aish lines; :func:`parse` does, for the REPL, ``-c`` and scripts.

Ordinary English passes through literally (:mod:`aish.lang.tokens` has the
rules): ``athena what's a monad?``, ``athena summarize (briefly) this`` and
``athena list a) cats b) dogs`` are words; ``&`` between letters (``AT&T``)
is a letter, and after an agent's own words an ``&`` before a word that names
no agent is text (decided by :mod:`aish.pipeline.plan`, which knows the
agents). ``>`` always redirects, and says so on a terminal.

Per-call options go in brackets glued to a stage's name,
``athena[-m MODEL -s SYSTEM -o KEY VALUE] text`` (:mod:`aish.lang.controls`);
a ``[`` anywhere else is text. See docs/usage.md and decision 22.
"""

from aish.lang.ast import Command, Group, Pipeline, Redirect, Script, Stage, Word, is_shell_escape, is_shell_escape_line
from aish.lang.controls import Controls, ControlsError, parse_controls
from aish.lang.parser import lone_command, parse
from aish.lang.tokens import Incomplete, Token, is_incomplete, tokenize, typed_on

__all__ = [
    "Command",
    "Controls",
    "ControlsError",
    "Group",
    "Incomplete",
    "Pipeline",
    "Redirect",
    "Script",
    "Stage",
    "Token",
    "Word",
    "is_incomplete",
    "is_shell_escape",
    "is_shell_escape_line",
    "lone_command",
    "parse",
    "parse_controls",
    "tokenize",
    "typed_on",
]
