"""The aish language: a quote-aware tokenizer and a parser into a small AST.

cmd2 never parses aish lines; :func:`parse` does, for the REPL, ``-c`` and scripts.
"""

from aish.lang.ast import Command, Group, Pipeline, Redirect, Script, Stage, Word
from aish.lang.parser import parse
from aish.lang.tokens import Incomplete, Token, is_incomplete, tokenize

__all__ = [
    "Command",
    "Group",
    "Incomplete",
    "Pipeline",
    "Redirect",
    "Script",
    "Stage",
    "Token",
    "Word",
    "is_incomplete",
    "parse",
    "tokenize",
]
