"""Kept for imports from before the split; new code imports from ``meldroute.engine``.

The graph is in ``routegraph.py``, the answer combinations in ``enumerate.py``, the
scenarios in ``scenarios.py`` and ``meldroute check`` itself in ``check.py``.
"""

from __future__ import annotations

from .check import CheckReport, Coverage, expand, run_check
from .enumerate import Enumeration, enumerate_combinations
from .routegraph import START, graph_problems, route_graph
from .scenarios import ScenarioRun, run_scenarios

__all__ = [
    "START", "CheckReport", "Coverage", "Enumeration", "ScenarioRun", "enumerate_combinations",
    "expand", "graph_problems", "route_graph", "run_check", "run_scenarios",
]
