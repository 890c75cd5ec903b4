"""``python -m aish``."""

from aish.cli import run

run()
