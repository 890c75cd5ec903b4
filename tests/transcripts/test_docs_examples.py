"""The documentation's examples are transcripts (docs/examples/*.transcript): each one must pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aish.transcript import read, run_file

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.transcript"))


def test_there_are_examples() -> None:
    assert {p.stem for p in EXAMPLES} >= {"tour", "language", "errors", "jsonl"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_passes(path: Path) -> None:
    result = run_file(path, name=str(path.relative_to(ROOT)))
    assert result.passed, "\n" + result.report()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_linked_from_the_docs(path: Path) -> None:
    docs = (ROOT / "docs" / "transcripts.md").read_text(encoding="utf-8")
    assert f"examples/{path.name}" in docs, f"docs/transcripts.md does not mention {path.name}"


NEEDS_A_SERVER_AT_A_FIXED_PORT = ("aish: bad: not found",)
"""Error lines in the docs that no sandbox can reproduce (the reference server's port changes)."""


SHOWN_BY_A_COMMAND = {
    "aish: warning: standard input is not UTF-8 (first bad byte at offset 3); shown as U+FFFD": (
        ["athena", "what is this word?"],
        b"caf\xe9",
    ),
    'aish: syntax error at column 6: unclosed " quote: echo -->"\\x1b]0;TITLE\\x07': (
        ["-c", 'echo "\x1b]0;TITLE\x07'],
        None,
    ),
}
"""Error lines in the docs that a transcript cannot type (bytes that are not UTF-8, raw escape
characters): each is checked here by running the command the docs show beside it."""


@pytest.mark.parametrize("line", list(SHOWN_BY_A_COMMAND))
def test_error_lines_a_transcript_cannot_type_are_what_their_command_prints(line: str) -> None:
    args, stdin = SHOWN_BY_A_COMMAND[line]
    done = subprocess.run(
        [sys.executable, "-m", "aish", *args], input=stdin, capture_output=True, timeout=60, check=False
    )
    assert done.stderr.decode("utf-8").splitlines()[0] == line


def test_every_error_line_in_the_docs_is_checked_by_a_transcript() -> None:
    """Each ``aish: ...`` line shown in usage.md or the README is the output of a command in an example."""
    expected = [line for path in EXAMPLES for entry in read(path).entries for line in entry.expected]
    shown = [
        line
        for page in (ROOT / "docs" / "usage.md", ROOT / "README.md")
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("aish: ")
        and not line.startswith(NEEDS_A_SERVER_AT_A_FIXED_PORT)
        and line not in SHOWN_BY_A_COMMAND
    ]
    assert len(shown) >= 8
    missing = [line for line in shown if not any(e.matches(line) for e in expected)]
    assert not missing, f"error lines in the docs that no docs/examples transcript shows: {missing}"
