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

Names are imported on first use (PEP 562): ``meldroute decide`` or ``check`` then loads
only the modules it needs, not networkx, jsonschema or the diff for every command.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from .evaluate import (
        AcuteGuidance,
        Deadline,
        Evaluation,
        Phone,
        ResolvedAction,
        TraceEntry,
        acute_guidance,
        evaluate,
    )
    from .facts import FactValue, check_facts, dossier_facts
    from .graph import Position, route_position, route_svg
    from .loader import (
        DEFAULT_PROTOCOL,
        followed_protocols,
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
    from .model import (
        BUILTIN_FACTS,
        DateDef,
        FactDef,
        FieldDef,
        Protocol,
        SchoolConfig,
        StageDef,
        Step,
        resolve_contact,
        resolve_role,
    )
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
    from .workdays import add_working_days, dutch_date

_LAZY: dict[str, str] = {
    "AcuteGuidance": "evaluate",
    "AnswerError": "errors",
    "BUILTIN_FACTS": "model",
    "CheckReport": "check",
    "ConfigError": "errors",
    "Consequence": "consequences",
    "DEFAULT_PROTOCOL": "loader",
    "followed_protocols": "loader",
    "DateDef": "model",
    "Deadline": "evaluate",
    "Document": "source",
    "EngineError": "errors",
    "Evaluation": "evaluate",
    "FactDef": "model",
    "FactValue": "facts",
    "FieldDef": "model",
    "KINDS": "consequences",
    "MeldrouteError": "errors",
    "Phone": "evaluate",
    "Problem": "errors",
    "Protocol": "model",
    "READ": "source",
    "ResolvedAction": "evaluate",
    "RouteError": "errors",
    "SchoolConfig": "model",
    "SettingError": "source",
    "StageDef": "model",
    "Step": "model",
    "TraceEntry": "evaluate",
    "acute_guidance": "evaluate",
    "add_working_days": "workdays",
    "check_board_config": "configcheck",
    "check_facts": "facts",
    "check_school_config": "configcheck",
    "data_document": "configcheck",
    "display_path": "source",
    "dossier_facts": "facts",
    "dutch_date": "workdays",
    "enumerate_combinations": "enumerate",
    "evaluate": "evaluate",
    "exit_status": "source",
    "expand": "check",
    "format_problem": "source",
    "graph_problems": "routegraph",
    "Position": "graph",
    "route_position": "graph",
    "route_svg": "graph",
    "is_dutch_phone": "loader",
    "load_protocol": "loader",
    "load_protocol_by_id": "loader",
    "load_school": "loader",
    "merge_board": "configcheck",
    "neutral_school": "loader",
    "parse_text": "source",
    "protocol_from_document": "loader",
    "read_document": "source",
    "resolve_contact": "model",
    "resolve_role": "model",
    "run_check": "check",
    "schema_problems": "source",
    "schema_text": "source",
    "school_config": "configcheck",
    "school_from_document": "loader",
    "school_problems": "loader",
    "shipped_dir": "loader",
    "shipped_protocol_files": "loader",
}


class _Package(types.ModuleType):
    """Importing the submodule ``evaluate`` sets the package's attribute ``evaluate`` to
    that module; the public name is the function, as when it was imported eagerly."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "Position",
    "route_position",
    "route_svg",
    "AcuteGuidance",
    "StageDef",
    "BUILTIN_FACTS",
    "DEFAULT_PROTOCOL",
    "followed_protocols",
    "KINDS",
    "READ",
    "AnswerError",
    "CheckReport",
    "ConfigError",
    "Consequence",
    "DateDef",
    "Deadline",
    "Document",
    "EngineError",
    "Evaluation",
    "FactDef",
    "FactValue",
    "FieldDef",
    "MeldrouteError",
    "Phone",
    "Problem",
    "Protocol",
    "ResolvedAction",
    "RouteError",
    "SchoolConfig",
    "SettingError",
    "Step",
    "TraceEntry",
    "acute_guidance",
    "add_working_days",
    "check_board_config",
    "check_facts",
    "check_school_config",
    "data_document",
    "display_path",
    "dossier_facts",
    "dutch_date",
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
