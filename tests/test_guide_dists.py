"""The renderer and codec guides' plugins, as the guides give them, built into distributions,
pip-installed, found by aish, and passing their contract suites with the guides' own test code.

(The transport and history guides' plugins are ``examples/aish-ndjson`` and
``examples/aish-history-dir``, tested the same way in their own modules.)
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from aish.testing import distribution_installed, run_aish

DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugins"
GUIDES = {
    # distribution: (guide, module, entry point)
    "aish-wordcount": ("renderers.md", "aish_wordcount", "wordcount"),
    "aish-jsontext": ("codecs.md", "aish_jsontext", "jsontext"),
}


def python_blocks(page: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", (DOCS / page).read_text(encoding="utf-8"), re.S | re.M)


def build(root: Path, dist: str) -> Path:
    """The guide's plugin module (its first code block) as a distribution in ``root/dist``."""
    page, module, entry = GUIDES[dist]
    source = root / dist
    source.mkdir()
    (source / f"{module}.py").write_text(python_blocks(page)[0], encoding="utf-8")
    (source / "pyproject.toml").write_text(
        "[build-system]\n"
        'requires = ["setuptools>=64"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{dist}"\nversion = "0.1.0"\ndependencies = ["aish"]\n\n'
        f'[project.entry-points."aish.plugins"]\n{entry} = "{module}"\n\n'
        f'[tool.setuptools]\npy-modules = ["{module}"]\n',
        encoding="utf-8",
    )
    return source


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    root = tmp_path_factory.mktemp("guides")
    with ExitStack() as stack:
        for dist in GUIDES:
            stack.enter_context(distribution_installed(build(root, dist), dist))
        yield


@pytest.mark.usefixtures("installed")
def test_the_installed_guide_plugins_are_found() -> None:
    listing = run_aish("plugins").stdout
    assert re.search(r"^wordcount\s+aish-wordcount 0\.1\.0\s+loaded\s+renderer wordcount$", listing, re.M), listing
    assert re.search(r"^jsontext\s+aish-jsontext 0\.1\.0\s+loaded\s+codec jsontext$", listing, re.M), listing


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize("dist", sorted(GUIDES))
def test_the_installed_guide_plugin_passes_its_suite(dist: str, tmp_path: Path) -> None:
    page, module, _entry = GUIDES[dist]
    suite = next(block for block in python_blocks(page) if "Contract" in block and f"from {module} import" in block)
    test_file = tmp_path / f"test_{module}.py"
    test_file.write_text(suite, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(test_file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) >= 10, result.stdout[-500:]
    assert "failed" not in result.stdout
