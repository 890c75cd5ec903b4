"""Installed as a user installs it: a non-editable wheel in a fresh venv, and ``pipx install .``.

Each built-in plugin must come with the distribution (discovered through its
entry points, not through this checkout), and the demo agents must answer.
Both tests install aish's dependencies from the package index, like a user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def builtin_plugins() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return set(project["project"]["entry-points"]["aish.plugins"])


def clean_env(tmp_path: Path) -> dict[str, str]:
    """No trace of this checkout: not on PYTHONPATH, not the current directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AISH_", "VIRTUAL_ENV"))}
    env["HOME"] = str(tmp_path / "home")
    return env


def check_aish(aish: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(aish), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)

    listed = run("plugins")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()[1:]]
    loaded = {row[0] for row in rows if row[3] == "loaded"}
    assert builtin_plugins() <= loaded, listed.stdout
    answer = run("-c", "echo hello | athena")
    assert answer.returncode == 0 and answer.stdout.startswith("Athena (offline demo):"), answer.stderr
    script = run("completion", "bash")
    assert script.returncode == 0 and "complete -o default" in script.stdout
    version = run("--version")
    assert version.stdout.startswith("aish ")


def test_a_wheel_in_a_fresh_venv_has_every_builtin_plugin(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    (wheel,) = wheels.glob("aish-*.whl")
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    check_aish(venv / "bin" / "aish", tmp_path)


def test_pipx_install_gives_a_working_aish(tmp_path: Path) -> None:
    pipx = shutil.which("pipx", path=str(Path(sys.executable).parent))
    assert pipx is not None, "pipx is a test dependency (pyproject.toml [test])"
    source = tmp_path / "src"  # a copy without build leftovers, as a fresh clone
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv*", ".git", "build", "*.egg-info", "__pycache__"))
    env = {**clean_env(tmp_path), "PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin")}
    install = subprocess.run(
        [pipx, "install", str(source)], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path
    )
    assert install.returncode == 0, install.stderr[-2000:]
    check_aish(tmp_path / "bin" / "aish", tmp_path)
