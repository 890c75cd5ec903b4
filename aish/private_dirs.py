"""Directories aish creates are its owner's only (0700), the parents it creates too."""

from __future__ import annotations

import errno
import os

DIR_MODE = 0o700


def make_private_dirs(path: str | os.PathLike[str]) -> None:
    """Create ``path`` and each missing parent with mode 0700 (``Path.mkdir(parents=True)`` would
    give the parents the umask's mode: 0755, or 0777 under ``umask 000``). Existing directories
    are left as they are. Raises ``OSError``."""
    missing: list[str] = []
    current = os.path.abspath(os.fspath(path))
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            if not os.path.isdir(directory):
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), directory) from None
