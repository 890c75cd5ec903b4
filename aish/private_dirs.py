"""Directories aish creates are its owner's only (0700), the parents it creates too; so are its cache files (0600)."""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping

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


def cache_file(name: str, environ: Mapping[str, str] | None = None) -> str:
    """``$XDG_CACHE_HOME/aish/NAME`` (``~/.cache/aish/NAME``): where aish keeps a cache file."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aish", name)


def write_cache(where: str, data: object) -> bool:
    """Replace the JSON file ``where`` by ``data`` atomically, mode 0600, its directory made as
    :func:`make_private_dirs` makes it; False (and nothing left behind) when it cannot be written:
    a cache that cannot be kept is simply not kept."""
    import json

    tmp = f"{where}.{os.getpid()}.tmp"
    try:
        make_private_dirs(os.path.dirname(where))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with open(fd, "w", encoding="utf-8") as file:
            json.dump(data, file)
        os.replace(tmp, where)
    except OSError:
        import contextlib

        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True
