"""The Meldroute engine: load and check protocol and school files, evaluate answers.

The engine imports neither Flask nor the forms; it is the only place that imports
durable_rules (in ``runtime.py``).
"""

from .errors import AnswerError, ConfigError, EngineError, MeldrouteError, Problem, RouteError
from .evaluate import Evaluation, evaluate
from .loader import load_protocol, load_school, neutral_school
from .model import Protocol, SchoolConfig

__all__ = [
    "AnswerError", "ConfigError", "EngineError", "Evaluation", "MeldrouteError", "Problem",
    "Protocol", "RouteError", "SchoolConfig", "evaluate", "load_protocol", "load_school",
    "neutral_school",
]
