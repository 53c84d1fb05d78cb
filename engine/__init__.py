"""The Meldroute engine: load and check protocol and school files, evaluate answers.

The engine imports neither Flask nor the forms; it is the only place that imports
durable_rules (in ``runtime.py``).
"""

from .analysis import enumerate_combinations, expand, graph_problems
from .configcheck import (
    check_board_config,
    check_school_config,
    data_document,
    merge_board,
    school_config,
)
from .errors import AnswerError, ConfigError, EngineError, MeldrouteError, Problem, RouteError
from .evaluate import Evaluation, evaluate
from .loader import (
    DEFAULT_PROTOCOL,
    is_dutch_phone,
    load_protocol,
    load_school,
    neutral_school,
    protocol_from_document,
    school_from_document,
    school_problems,
    shipped_dir,
    shipped_protocol_files,
)
from .model import FieldDef, Protocol, SchoolConfig, Step, resolve_contact, resolve_role
from .source import (
    Document,
    display_path,
    parse_text,
    read_document,
    schema_problems,
    schema_text,
)

__all__ = [
    "check_board_config", "check_school_config", "data_document", "merge_board",
    "school_config", "Document",
    "AnswerError", "ConfigError", "EngineError", "Evaluation", "MeldrouteError", "Problem",
    "Protocol", "RouteError", "SchoolConfig", "evaluate", "load_protocol", "load_school",
    "neutral_school",
    "DEFAULT_PROTOCOL", "FieldDef", "Step", "display_path", "enumerate_combinations",
    "expand", "graph_problems", "is_dutch_phone", "parse_text", "protocol_from_document",
    "read_document", "resolve_contact", "resolve_role", "schema_problems", "schema_text",
    "school_from_document", "school_problems", "shipped_dir", "shipped_protocol_files",
]
