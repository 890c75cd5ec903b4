"""OS errors on output are one line naming the file; directories aish creates are 0700."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from aish.cli import main
from aish.private_dirs import make_private_dirs
from aish.testing import run_aish

FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full")


@needs_dev_full
@pytest.mark.parametrize(
    "line",
    ["echo x > /dev/full", "athena hi > /dev/full", "athena hi & hermes hi > /dev/full", "echo x >> /dev/full"],
)
def test_a_full_disk_behind_a_redirection_is_one_line_naming_it(demo_url: str, line: str) -> None:
    result = run_aish("-c", line)
    target = line.split()[-2] + " /dev/full"
    assert (result.returncode, result.stderr) == (1, f"aish: {target}: No space left on device\n")


@needs_dev_full
@pytest.mark.parametrize(
    "args", [("-c", "echo x"), ("-c", "athena hi"), ("-c", "athena hi & hermes hi"), ("agents",), ("plugins",)]
)
def test_a_full_standard_output_is_one_line(demo_url: str, args: tuple[str, ...]) -> None:
    with FULL.open("w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "aish", *args],
            stdin=subprocess.DEVNULL,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert (result.returncode, result.stderr) == (1, "aish: standard output: No space left on device\n")


def test_an_unwritable_target_is_one_line_naming_it(demo_url: str, tmp_path: Path) -> None:
    result = run_aish("-c", f"echo x > {tmp_path}")
    assert (result.returncode, result.stderr) == (2, f"aish: > {tmp_path}: Is a directory\n")
    if Path("/proc/version").exists():  # EIO writing as root, EACCES opening otherwise
        result = run_aish("-c", "echo x > /proc/version")
        assert result.returncode in (1, 2)
        assert result.stderr in (
            "aish: > /proc/version: Input/output error\n",
            "aish: > /proc/version: Permission denied\n",
        )


def test_output_errors_in_process_too(demo_url: str) -> None:
    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    err = io.StringIO()
    assert main(["-c", "athena hi & hermes hi"], stdin=io.StringIO(""), stdout=Full(), stderr=err) == 1
    assert err.getvalue() == "aish: standard output: No space left on device\n"


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_directories_aish_creates_are_0700_parents_too(tmp_path: Path, umask: int) -> None:
    base = tmp_path / "a" / "b" / "c"
    old = os.umask(umask)
    try:
        make_private_dirs(base)
        make_private_dirs(base)  # existing: left alone
    finally:
        os.umask(old)
    for path in (tmp_path / "a", tmp_path / "a" / "b", base):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path


def test_the_history_and_the_shell_state_directories_are_0700(demo_url: str, tmp_path: Path) -> None:
    data, state = tmp_path / "new" / "data", tmp_path / "new2" / "state"
    env = {"XDG_DATA_HOME": str(data), "XDG_STATE_HOME": str(state)}
    result = subprocess.run(
        ["sh", "-c", f"umask 000 && exec {sys.executable} -m aish -c 'athena hi'"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for path in (tmp_path / "new", data, data / "aish"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    from aish.shell_history import InputHistory, input_history_path

    old = os.umask(0)
    try:
        InputHistory(input_history_path(env)).store_string("athena hi")
    finally:
        os.umask(old)
    for path in (tmp_path / "new2", state, state / "aish"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
