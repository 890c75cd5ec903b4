"""Install an example distribution from ``examples/`` for a test module, and uninstall it afterwards.

The work is :func:`aish.testing.distribution_installed` (shipped with aish, so
plugin authors test their own distributions the same way); this names the
directory under ``examples/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aish.testing import distribution_installed

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@contextmanager
def example_installed(dist: str) -> Iterator[None]:
    """``examples/DIST`` installed into this interpreter's environment while the block runs."""
    with distribution_installed(EXAMPLES / dist, dist):
        yield
