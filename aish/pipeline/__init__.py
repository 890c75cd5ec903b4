"""Pipeline execution: sequential stages with context, parallel groups, fan-in, OS stages.

:func:`run_pipeline` runs one parsed :class:`~aish.lang.Pipeline` in a
:class:`RunEnv`; :mod:`aish.runner` is the error boundary around it. See
``docs/pipelines.md``.
"""

from aish.lang import is_shell_escape_line
from aish.pipeline.env import RunEnv, Shown
from aish.pipeline.executor import run_pipeline


def __getattr__(name: str) -> object:
    """``stage_stats`` and ``stats_line``, imported on first use: only ``--stats`` needs them."""
    if name in ("stage_stats", "stats_line"):
        from aish.pipeline import stats

        return getattr(stats, name)
    raise AttributeError(f"module 'aish.pipeline' has no attribute {name!r}")


__all__ = ["RunEnv", "Shown", "is_shell_escape_line", "run_pipeline", "stage_stats", "stats_line"]
