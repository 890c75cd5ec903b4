"""Transcripts see only aish's own plugins (plus those their configuration names): with
third-party plugins installed (one adds an agent, one a command), aish's docs/examples
transcripts still pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from example_dists import example_installed

from aish.testing import distribution_installed, run_aish

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


AGENT_PLUGIN = {
    "pyproject.toml": """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "aish-zeus-agent"
version = "0.1.0"
dependencies = ["aish"]

[project.entry-points."aish.plugins"]
zeus = "aish_zeus_agent"

[tool.setuptools]
py-modules = ["aish_zeus_agent"]
""",
    "aish_zeus_agent.py": """\
from aish import AgentConfig, RegisterAgent, hookimpl


@hookimpl
def aish_register_agents(register: RegisterAgent) -> None:
    register(AgentConfig(name="zeus", transport="sse", url="http://127.0.0.1:9/v1", codec="openai-chat"))
""",
}


@pytest.fixture(scope="module")
def plugins_installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    source = tmp_path_factory.mktemp("zeus") / "aish-zeus-agent"
    source.mkdir()
    for name, text in AGENT_PLUGIN.items():
        (source / name).write_text(text, encoding="utf-8")
    with example_installed("aish-hello"), distribution_installed(source, "aish-zeus-agent"):
        yield


@pytest.mark.usefixtures("plugins_installed")
def test_aish_s_own_transcripts_hold_with_a_plugin_installed(tmp_path: Path) -> None:
    listing = run_aish("plugins").stdout
    assert "command hello" in listing and "agent zeus" in listing  # installed, and seen outside transcripts
    files = sorted(str(p) for p in EXAMPLES.glob("*.transcript"))
    assert len(files) >= 5
    result = run_aish("--test", *files)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.usefixtures("plugins_installed")
def test_a_transcript_names_the_plugins_it_uses(tmp_path: Path) -> None:
    without = tmp_path / "without.transcript"
    without.write_text("aish> hello\naish: unknown agent 'hello' (known: apollo, athena, hermes)\n", encoding="utf-8")
    with_it = tmp_path / "with.transcript"
    with_it.write_text("aish> hello\nhello world\naish> echo x | cat\nx\n", encoding="utf-8")
    (tmp_path / "with.toml").write_text('[settings]\nplugins = ["hello"]\n', encoding="utf-8")
    result = run_aish("--test", str(without), str(with_it), env={"AISH_PLUGINS": "demo"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_test_takes_its_options_before_or_after_the_files() -> None:
    jsonl = str(EXAMPLES / "jsonl.transcript")
    for args in (["--test", "--format", "jsonl", jsonl], ["--format", "jsonl", "--test", jsonl], ["--test", jsonl]):
        result = run_aish(*args)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    missing = run_aish("--test", "--format", "jsonl")
    assert (missing.returncode, missing.stderr) == (2, "aish: --test: give the transcript files to run\n")
