"""Pipeline execution: sequential stages with context, parallel groups, fan-in, OS stages.

:func:`run_pipeline` runs one parsed :class:`~aish.lang.Pipeline` in a
:class:`RunEnv`; :mod:`aish.runner` is the error boundary around it. See
``docs/pipelines.md``.
"""

from aish.pipeline.env import RunEnv, Shown
from aish.pipeline.executor import run_pipeline
from aish.pipeline.oscmd import is_shell_escape_line
from aish.pipeline.stats import stage_stats, stats_line

__all__ = ["RunEnv", "Shown", "is_shell_escape_line", "run_pipeline", "stage_stats", "stats_line"]
