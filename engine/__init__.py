"""The Meldroute engine: load and check protocol and school files, evaluate answers.

What this module exports is the engine's public API: ``forms`` and ``webapp`` import only
from ``meldroute.engine``. The engine imports neither Flask nor the forms; it is the only
place that imports durable_rules (in ``runtime.py``).

Where things live: ``source.py`` (reading files, schemas), ``loader.py`` (semantic checks,
building), ``model.py`` (the immutable protocol and school), ``consequences.py`` (the kinds
of ``then:``, one class each, in one registry), ``evaluate.py`` and ``runtime.py``
(evaluation), ``routegraph.py``, ``enumerate.py``, ``scenarios.py`` and ``check.py``
(``meldroute check``), ``configcheck.py`` (a school's or board's configuration),
``graph.py`` (flowcharts), ``report.py`` and ``cli.py`` (commands).
"""

from .check import CheckReport, expand, run_check
from .configcheck import (
    check_board_config,
    check_school_config,
    data_document,
    merge_board,
    school_config,
)
from .consequences import KINDS, Consequence
from .enumerate import enumerate_combinations
from .errors import AnswerError, ConfigError, EngineError, MeldrouteError, Problem, RouteError
from .evaluate import Evaluation, evaluate
from .loader import (
    DEFAULT_PROTOCOL,
    is_dutch_phone,
    load_protocol,
    load_protocol_by_id,
    load_school,
    neutral_school,
    protocol_from_document,
    school_from_document,
    school_problems,
    shipped_dir,
    shipped_protocol_files,
)
from .model import FieldDef, Protocol, SchoolConfig, Step, resolve_contact, resolve_role
from .routegraph import graph_problems
from .source import (
    READ,
    Document,
    SettingError,
    display_path,
    exit_status,
    format_problem,
    parse_text,
    read_document,
    schema_problems,
    schema_text,
)

__all__ = [
    "DEFAULT_PROTOCOL",
    "KINDS",
    "READ",
    "AnswerError",
    "CheckReport",
    "ConfigError",
    "Consequence",
    "Document",
    "EngineError",
    "Evaluation",
    "FieldDef",
    "MeldrouteError",
    "Problem",
    "Protocol",
    "RouteError",
    "SchoolConfig",
    "SettingError",
    "Step",
    "check_board_config",
    "check_school_config",
    "data_document",
    "display_path",
    "enumerate_combinations",
    "exit_status",
    "evaluate",
    "expand",
    "format_problem",
    "graph_problems",
    "is_dutch_phone",
    "load_protocol",
    "load_protocol_by_id",
    "load_school",
    "merge_board",
    "neutral_school",
    "parse_text",
    "protocol_from_document",
    "read_document",
    "resolve_contact",
    "resolve_role",
    "run_check",
    "school_config",
    "school_from_document",
    "school_problems",
    "schema_problems",
    "schema_text",
    "shipped_dir",
    "shipped_protocol_files",
]
