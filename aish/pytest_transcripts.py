"""pytest plugin: aish transcripts (``*.transcript``) as test items.

Registered through the ``pytest11`` entry point, so it is active wherever aish
is installed, but it collects nothing until asked: run pytest with
``--aish-transcripts``, or set ``aish_transcripts = true`` in the pytest
configuration. pytest then collects every ``*.transcript`` file under the
paths it collects from (the arguments, else ``testpaths``), one test per file,
each run in a fresh sandbox (see ``docs/transcripts.md``). A failure shows the
same report as ``aish --test``: the file and line of each mismatch, and a diff.

This module imports only pytest; aish's transcript engine is imported when
the first transcript runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

SUFFIX = ".transcript"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aish", "aish transcripts")
    group.addoption(
        "--aish-transcripts",
        action="store_true",
        default=False,
        help=f"collect aish transcripts (*{SUFFIX}) as tests",
    )
    parser.addini("aish_transcripts", type="bool", default=False, help=f"collect aish transcripts (*{SUFFIX})")
    parser.addini(
        "aish_transcripts_config",
        default="",
        help="aish configuration file the transcripts run with, relative to the rootdir (default: none)",
    )


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("aish_transcripts") or config.getini("aish_transcripts"))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> TranscriptFile | None:
    if file_path.suffix == SUFFIX and _enabled(parent.config):
        return TranscriptFile.from_parent(parent, path=file_path)
    return None


class TranscriptFailed(Exception):
    """A transcript did not match; the message is the report."""


class TranscriptFile(pytest.File):
    """A transcript file: one test."""

    def collect(self) -> Iterator[TranscriptItem]:
        yield TranscriptItem.from_parent(self, name=self.path.name)


class TranscriptItem(pytest.Item):
    """Runs one transcript with :func:`aish.transcript.run_file`."""

    def runtest(self) -> None:
        from aish.transcript import run_file

        setting = str(self.config.getini("aish_transcripts_config") or "")
        config = str(self.config.rootpath / setting) if setting else None
        try:
            name = str(self.path.relative_to(self.config.rootpath))
        except ValueError:
            name = str(self.path)
        result = run_file(self.path, config=config, name=name)
        if not result.passed:
            raise TranscriptFailed(result.report().rstrip("\n"))

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: str | None = None,
    ) -> str:
        if isinstance(excinfo.value, TranscriptFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"aish transcript {self.name}"
