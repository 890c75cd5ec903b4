"""Install an example distribution from ``examples/`` for a test module, and uninstall it afterwards.

The pattern of ``tests/test_third_party_plugin.py``: built from a temporary
copy (nothing is left in the source tree), without dependencies, offline when
this environment can build wheels itself; an installation the user made
beforehand is kept.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TIMEOUT = 120


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def installed(dist: str) -> importlib.metadata.Distribution | None:
    importlib.invalidate_caches()
    try:
        return importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _build_options() -> tuple[str, ...]:
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return ()
    major, minor = (int(part) for part in re.findall(r"\d+", version)[:2])
    if (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None:
        return ("--no-build-isolation", "--no-index")
    return ()


@contextmanager
def example_installed(dist: str) -> Iterator[None]:
    """``examples/DIST`` installed into this interpreter's environment while the block runs."""
    prefix = f"{dist}-test-src-"
    before = installed(dist)
    keep = before is not None and prefix not in (before.read_text("direct_url.json") or "")
    if not keep:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            src = Path(tmp) / dist
            ignore = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__")
            shutil.copytree(EXAMPLES / dist, src, ignore=ignore)
            result = pip("install", "--quiet", "--no-deps", "--no-cache-dir", *_build_options(), str(src))
            if result.returncode != 0:
                pytest.fail(f"pip install {dist} failed:\n{result.stdout}\n{result.stderr}")
    try:
        yield
    finally:
        if not keep:
            result = pip("uninstall", "--yes", "--quiet", dist)
            assert result.returncode == 0, result.stderr
            assert installed(dist) is None
