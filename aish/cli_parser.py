"""The ``aish`` command line's argparse parser: built only for what the quick path leaves to it
(``--test``, ``--opt=value``, abbreviations, ``--``, a usage error).

argparse costs ~5 ms to import with gettext and shutil; :func:`aish.cli._quick_args` answers the
usual command lines without it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from aish.cli import QUICK_VALUES
from aish.errors import UsageError


def parser() -> argparse.ArgumentParser:
    """``aish``'s options (the usual command lines never build it: :func:`aish.cli._quick_args`)."""

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:  # one line, as every other usage error
            from aish.cli_hints import option_guess

            raise UsageError(f"{message}{option_guess(self, message)} (see 'aish --help')")

        def parse_args(self, args: Sequence[str] | None = None, namespace: None = None) -> argparse.Namespace:  # type: ignore[override]
            return super().parse_args(dash_c_values(list(sys.argv[1:] if args is None else args)))

    p = Parser(
        prog="aish",
        description="aish, the AI shell: AI endpoints as commands, composed like Unix tools.",
        epilog="Exit codes: 0 ok, 1 failure, 2 usage/syntax, 3 unknown agent, 4 connection, "
        "5 remote error, 6 tool call asked, 130 interrupted, 141 output closed.",
    )
    p.add_argument("-c", dest="command", metavar="LINE", help="run LINE and exit")
    p.add_argument("--config", metavar="PATH", help="configuration file (default: $AISH_CONFIG or XDG)")
    p.add_argument("--renderer", "--format", dest="renderer", metavar="NAME", help="renderer to show answers")
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    p.add_argument("--stats", action="store_true", help="per-stage time to first token, duration, tokens, tokens/s")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument("--test", nargs="*", metavar="FILE", help="run transcript files and report any difference")
    p.add_argument("--record", metavar="FILE", help="record this session into a transcript file")
    p.add_argument(
        "--continue", dest="cont", action="store_true", help="continue the last recorded conversation (of the agent)"
    )
    p.add_argument("--cid", metavar="ID", help="continue the recorded conversation ID")
    p.add_argument("--no-history", action="store_true", help="record nothing in history (the shell: set history off)")
    p.add_argument(
        "target", nargs="?", help="an agent, a script file, or a command (agents, plugins, history, models...)"
    )
    p.add_argument(
        "words",
        nargs=argparse.REMAINDER,
        help="text for the agent, after its options: -m MODEL, -s SYSTEM, -o KEY VALUE, -x, -e ('--' ends them)",
    )
    return p


def dash_c_values(words: list[str]) -> list[str]:
    """``-c -x`` as ``-c=-x``: -c takes the next word whatever it is (a line may start with '-')."""
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in QUICK_VALUES and i + 1 < len(words):
            out += [f"-c={words[i + 1]}"] if word == "-c" and words[i + 1].startswith("-") else words[i : i + 2]
            i += 2
        elif word.startswith("-") and word != "--":
            out.append(word)
            i += 1
        else:  # '--', or the target: the rest is not options
            out += words[i:]
            break
    return out
