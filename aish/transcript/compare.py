"""Comparing a command's output with a transcript, and showing the difference as a unified diff.

The diff is numbered with the transcript's own lines and written in
transcript syntax, as ``aish --record`` would write it: actual lines have
their slashes escaped and the sandbox's variable parts (the reference
server's port) written as regular expressions, and a line that
an expected line matches (through its regular expressions) is shown as that
line is written. So the diff reads, and applies, as a patch that would
update the transcript.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

from aish.transcript.format import Entry, Expected, escape_output, output_lines


def matches(expected: list[Expected], actual: list[str]) -> bool:
    """Whether every line matches, expected output given without its trailing blank lines."""
    return len(expected) == len(actual) and all(e.matches(a) for e, a in zip(expected, actual, strict=True))


def trimmed(expected: list[Expected]) -> list[Expected]:
    """``expected`` without blank lines at the end."""
    end = len(expected)
    while end and not expected[end - 1].source:
        end -= 1
    return expected[:end]


def check(entry: Entry, output: str, path: str, variables: Sequence[tuple[str, str]] = ()) -> list[str]:
    """The diff between what ``entry`` expects and ``output``; empty when they match.

    ``variables`` are written as ``aish --record`` writes them (see :func:`escape_output`).
    """
    expected = trimmed(entry.expected)
    actual = output_lines(output)
    if matches(expected, actual):
        return []
    return unified_diff(expected, actual, path, entry.output_line, variables)


def unified_diff(
    expected: list[Expected],
    actual: list[str],
    path: str,
    first_line: int,
    variables: Sequence[tuple[str, str]] = (),
) -> list[str]:
    """A unified diff, numbered from ``first_line`` of the transcript ``path``."""
    sources = [e.source for e in expected]
    shown = _as_written(expected, actual, variables)
    lines = [f"--- {path}", f"+++ {path} (actual output)"]
    matcher = SequenceMatcher(None, sources, shown, autojunk=False)
    for group in matcher.get_grouped_opcodes(3):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        lines.append(f"@@ -{_span(first_line + i1, i2 - i1)} +{_span(first_line + j1, j2 - j1)} @@")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                lines += [" " + line for line in sources[a1:a2]]
                continue
            lines += ["-" + line for line in sources[a1:a2]]
            lines += ["+" + line for line in shown[b1:b2]]
    return lines


def _as_written(expected: list[Expected], actual: list[str], variables: Sequence[tuple[str, str]]) -> list[str]:
    """``actual`` in transcript syntax; a line that an expected line matches is shown as that line is written."""
    shown = [escape_output(line, variables) for line in actual]
    sources = [e.source for e in expected]
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, sources, shown, autojunk=False).get_opcodes():
        if tag == "replace":
            for k in range(min(i2 - i1, j2 - j1)):
                if expected[i1 + k].matches(actual[j1 + k]):
                    shown[j1 + k] = sources[i1 + k]
    return shown


def _span(start: int, count: int) -> str:
    if count == 1:
        return str(start)
    return f"{start - 1 if count == 0 else start},{count}"
