"""The transcript format: cmd2's classic one, for aish's prompt.

A transcript is a text file::

    This is a comment: lines before the first prompt are ignored.
    aish> echo "hello" | cat
    hello
    aish> echo "a long
    ....> line"
    a long
    line
    aish> nosuch hi
    aish: unknown agent 'nosuch' (known: /.*/)

A line starting with the prompt ``aish> `` is a command; lines right after it
that start with the continuation prompt ``....> `` continue it (joined with
newlines, as the shell joins them). Every other line up to the next command
is the command's expected output. In an expected line, text between two
slashes is a regular expression (``/\\d+\\.\\ds/``), and ``\\/`` is a literal
slash anywhere. Trailing whitespace on a line and blank lines at the end of a
command's output are ignored; everything else must match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROMPT = "aish> "
CONTINUATION = "....> "
HEADER = "Recorded with 'aish --record'; check it with 'aish --test FILE'. Lines before the first prompt are ignored.\n"


class TranscriptError(Exception):
    """A transcript cannot be read or parsed: ``str()`` is ``FILE:LINE: message``."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass(frozen=True)
class Expected:
    """One expected output line: its text as written and the pattern it stands for."""

    source: str
    text: str
    """The line's literal text (``\\/`` unescaped); used when it has no regular expression."""
    pattern: re.Pattern[str] | None = None

    def matches(self, actual: str) -> bool:
        if self.pattern is None:
            return self.text == actual
        return self.pattern.fullmatch(actual) is not None


@dataclass
class Entry:
    """One command of a transcript and the output it should give."""

    command: str
    line: int
    """The 1-based line of the command's prompt."""
    output_line: int
    """The 1-based line where its expected output starts."""
    expected: list[Expected] = field(default_factory=list)


@dataclass
class Transcript:
    path: str
    entries: list[Entry]


def _is_prompt(line: str, prompt: str) -> bool:
    return line.startswith(prompt) or line.rstrip() == prompt.rstrip()


def parse(text: str, path: str = "<transcript>") -> Transcript:
    """Parse a transcript; raise :class:`TranscriptError` naming the line of any problem."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    entries: list[Entry] = []
    current: Entry | None = None
    in_command = False
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r")
        if _is_prompt(line, PROMPT):
            current = Entry(line[len(PROMPT) :], number, number + 1)
            entries.append(current)
            in_command = True
        elif current is not None and in_command and _is_prompt(line, CONTINUATION):
            current.command += "\n" + line[len(CONTINUATION) :]
            current.output_line = number + 1
        elif current is not None:
            in_command = False
            current.expected.append(expected_line(line.rstrip(), path, number))
        elif _is_prompt(line, CONTINUATION):
            raise TranscriptError(path, number, f"{CONTINUATION.strip()!r} continues nothing: no command before it")
    if not entries:
        raise TranscriptError(path, 0, f"no commands (a command is a line starting with {PROMPT!r})")
    return Transcript(path, entries)


def read(path: str | Path) -> Transcript:
    """Read and parse a transcript file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # an editor's byte order mark would hide the first command
    except OSError as exc:
        raise TranscriptError(str(path), 0, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise TranscriptError(str(path), 0, "cannot read: not UTF-8 text") from None
    return parse(text, str(path))


def expected_line(line: str, path: str = "<transcript>", number: int = 0) -> Expected:
    """Compile one expected line: ``/regex/`` parts, ``\\/`` for a literal slash."""
    parts: list[str] = []
    literal: list[str] = []
    has_regex = False
    i = 0
    while i < len(line):
        char = line[i]
        if char == "\\" and line.startswith("/", i + 1):
            literal.append("/")
            i += 2
            continue
        end = _closing_slash(line, i + 1) if char == "/" else None
        if end is None:
            literal.append(char)
            i += 1
            continue
        parts += [re.escape("".join(literal)), f"(?:{line[i + 1 : end]})"]
        literal, has_regex, i = [], True, end + 1
    text = "".join(literal)
    if not has_regex:
        return Expected(line, text)
    try:
        return Expected(line, text, re.compile("".join([*parts, re.escape(text)])))
    except re.error as exc:
        raise TranscriptError(path, number, f"bad regular expression: {exc}") from None


def _closing_slash(line: str, start: int) -> int | None:
    i = start
    while i < len(line):
        if line[i] == "\\":
            i += 2
        elif line[i] == "/":
            return i
        else:
            i += 1
    return None


VOLATILE: tuple[tuple[str, str], ...] = (
    (r"\b\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?\b", "/[-0-9]+ [0-9:]+/"),  # a clock time: history, conversations
    (r"\b\d+(?:\.\d+)? tokens/s\b", "/[0-9.]+/ tokens\\/s"),  # a rate: [stats]
    (r"\b\d+\.\d+s\b", "/[0-9.]+/s"),  # a duration: history show, [stats], lanes
    (r"\b[0-9a-f]{12}\b", "/[0-9a-f]{12}/"),  # a conversation id
    (r"(?<=chatcmpl-)[0-9a-f]{24}\b", "/[0-9a-f]+/"),  # a response id (jsonl), OpenAI's form
    (r"(?<=msg_)[0-9a-f]{24}\b", "/[0-9a-f]+/"),  # and Anthropic's
)
"""What changes on every run of the same session, whatever the sandbox, as ``(regex, written)``:
:func:`escape_output` writes a match as ``written`` (a ``/regex/`` that matches any run's)."""


def escape_output(line: str, variables: Sequence[tuple[str, str]] = ()) -> str:
    """An output line written so that it reads back as exactly itself, and as any other run's.

    ``variables`` are ``(text, written)`` pairs: each occurrence of ``text`` is
    written as ``written`` (transcript syntax, typically a ``/regex/``) instead.
    So are the matches of :data:`VOLATILE` (times, durations, ids).
    """
    alternatives = [(re.escape(text), written) for text, written in variables] + list(VOLATILE)
    found = re.compile("|".join(f"({pattern})" for pattern, _ in alternatives))
    escaped, end = "", 0
    for match in found.finditer(line):
        written = next(alternatives[i][1] for i, text in enumerate(match.groups()) if text is not None)
        escaped += line[end : match.start()].replace("/", "\\/") + written
        end = match.end()
    escaped += line[end:].replace("/", "\\/")
    for prompt in (PROMPT, CONTINUATION):
        word = prompt.rstrip()
        if escaped.startswith(word):
            return f"/{re.escape(word)}/{escaped[len(word) :]}"
    return escaped


def format_entry(command: str, output: str, variables: Sequence[tuple[str, str]] = ()) -> str:
    """A command and its output as transcript text (ending with a newline)."""
    first, *rest = command.split("\n")
    lines = [PROMPT + first, *(CONTINUATION + more for more in rest)]
    lines += [escape_output(line, variables) for line in output_lines(output)]
    return "".join(line + "\n" for line in lines)


def output_lines(output: str) -> list[str]:
    """Output as the comparison sees it: lines without trailing whitespace, no blank lines at the end."""
    lines = [line.rstrip() for line in output.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines
