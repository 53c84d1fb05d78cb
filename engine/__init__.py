"""The Meldroute engine: load and check protocol and school files, evaluate answers.

The engine imports neither Flask nor the forms; it is the only place that imports
durable_rules (in ``runtime.py``).
"""

from .configcheck import (
    check_board_config,
    check_school_config,
    data_document,
    merge_board,
    school_config,
)
from .errors import AnswerError, ConfigError, EngineError, MeldrouteError, Problem, RouteError
from .evaluate import Evaluation, evaluate
from .loader import load_protocol, load_school, neutral_school
from .model import FieldDef, Protocol, SchoolConfig, Step, resolve_contact, resolve_role
from .source import Document

__all__ = [
    "check_board_config", "check_school_config", "data_document", "merge_board",
    "school_config", "Document",
    "AnswerError", "ConfigError", "EngineError", "Evaluation", "MeldrouteError", "Problem",
    "Protocol", "RouteError", "SchoolConfig", "evaluate", "load_protocol", "load_school",
    "neutral_school",
    "FieldDef", "Step", "resolve_contact", "resolve_role",
]
