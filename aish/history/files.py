"""Where history lives, and files only their owner can read."""

from __future__ import annotations

import os
from collections.abc import Mapping

from aish.private_dirs import make_private_dirs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/aish`` (``~/.local/share/aish`` when unset)."""
    from pathlib import Path

    return Path(data_home(environ))


def data_home(environ: Mapping[str, str] | None = None) -> str:
    """:func:`data_dir` as a string, without importing pathlib (every run records history)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "aish")


def private_file(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parent directories, 0700) readable by its owner only (0600).

    An existing file is left as it is. Returns the path. Raises ``OSError``.
    """
    from pathlib import Path

    target = Path(path).expanduser()
    make_private_dirs(target.parent)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.close(fd)
    return target
