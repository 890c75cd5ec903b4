"""The codebase stays lint-clean, type-clean, and its public API stays deliberate."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import aish

ROOT = Path(__file__).resolve().parent.parent


def tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def test_ruff_lint_and_format() -> None:
    targets = ["aish", "aish_refserver", "plugins", "tests", "examples", "benchmarks"]
    lint = subprocess.run([tool("ruff"), "check", *targets], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run(
        [tool("ruff"), "format", "--check", "aish", "aish_refserver", "plugins"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict() -> None:
    result = subprocess.run([tool("mypy")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_api_is_sorted_and_complete() -> None:
    assert aish.__all__ == sorted(aish.__all__)
    for name in aish.__all__:  # imported on first use (PEP 562): resolve every one
        getattr(aish, name)
    assert sorted(dir(aish)) == dir(aish) and set(aish.__all__) <= set(dir(aish))
    public = {name for name in vars(aish) if not name.startswith("_")}
    modules = {name for name, value in vars(aish).items() if type(value).__name__ == "module"}
    assert set(aish.__all__) - {"__version__"} == public - modules


def test_modules_stay_small() -> None:
    for path in [
        *(ROOT / "aish").rglob("*.py"),
        *(ROOT / "aish_refserver").rglob("*.py"),
        *(ROOT / "plugins").rglob("*.py"),
    ]:
        lines = len(path.read_text().splitlines())
        assert lines <= 500, f"{path.relative_to(ROOT)} has {lines} lines: split it"


TOP_LEVEL = {".ci", ".gitignore", "README.md", "aish", "aish_refserver", "benchmarks", "docs", "examples", "plugins"}
TOP_LEVEL |= {"pyproject.toml", "scripts", "tests", "tox.ini"}


def test_nothing_stray_is_committed_at_the_top_level() -> None:
    """A tour's output (``athena ... > owls2.md``) once went into a commit; the layout is the brief's."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    tracked = {line.split("/", 1)[0] for line in listed.splitlines()}
    assert tracked - TOP_LEVEL == set(), "unexpected at the top level: " + ", ".join(sorted(tracked - TOP_LEVEL))
