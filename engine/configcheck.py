"""Checking a school's or a board's configuration: the one place that does it.

`meldroute check`, the web app's start-up, the admin pages and `meldroute school|board
import` all call these functions, so a configuration is judged the same everywhere.
Problems carry the place in the data (``where``) and, when the data was read from a
file, its line and column; data from the database has no lines, only places.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ConfigError, Problem
from .loader import (
    followed_protocols,
    is_dutch_phone,
    school_from_document,
    school_problems,
)
from .model import Protocol, SchoolConfig
from .source import Document, schema_problems

# What a school inherits from its board, field by field (``merge_board``).
INHERITED = ("retention_years", "contacts", "roles", "remap")


def data_document(data: Mapping[str, Any], path: str) -> Document:
    """Configuration data that was not read from a file (e.g. from the database):
    problems point at the place in the data, at line 1 of ``path``."""
    return Document(path, dict(data), None)


def merge_board(school: Mapping[str, Any], board: Mapping[str, Any]
                ) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """The board's defaults, overridden by the school field by field; and, per field,
    where its value comes from ("school" or "bestuur")."""
    data = {k: v for k, v in school.items() if k not in INHERITED}
    origins: dict[tuple[str, ...], str] = {}
    for section in ("contacts", "roles"):
        merged: dict[str, dict[str, Any]] = {}
        for source, label in ((board, "bestuur"), (school, "school")):
            for key, fields in source.get(section, {}).items():
                target = merged.setdefault(key, {})
                for name, value in fields.items():
                    target[name] = value
                    origins[(section, key, name)] = label
        if merged:
            data[section] = merged
    for key in ("remap", "retention_years"):
        if key in school:
            data[key], origins[(key,)] = school[key], "school"
        elif key in board:
            data[key], origins[(key,)] = board[key], "bestuur"
    return data, origins


def protocols_of(doc: Document, protocols: Mapping[str, Protocol]) -> list[Protocol]:
    """The known protocols a (schema-valid) school document follows, its main one first."""
    data = doc.data if isinstance(doc.data, dict) else {}
    return [protocols[p] for p in followed_protocols(data) if p in protocols]


def check_school_config(doc: Document, protocols: Mapping[str, Protocol],
                        board: Mapping[str, Any] | None = None) -> list[Problem]:
    """Every problem of a school configuration: its schema, its protocols, its contacts,
    roles and remapping, and (when it belongs to a board) the same with the board's
    defaults merged in. An empty list: the configuration can be used."""
    problems = schema_problems(doc, "school")
    if problems:
        return problems
    problems = school_problems(doc, protocols)
    if problems or not board:
        return problems
    merged = Document(doc.path, merge_board(doc.data, board)[0], doc.tree)
    return school_problems(merged, protocols)


def school_config(doc: Document, protocols: Mapping[str, Protocol],
                  board: Mapping[str, Any] | None = None) -> SchoolConfig:
    """The school's effective configuration (board defaults merged in); ConfigError with
    every problem when it cannot be used."""
    problems = check_school_config(doc, protocols, board)
    if problems:
        raise ConfigError(problems)
    if board:
        doc = Document(doc.path, merge_board(doc.data, board)[0], doc.tree)
    return school_from_document(doc, protocols)


def check_board_config(doc: Document, protocols: Mapping[str, Protocol],
                       schools: Iterable[tuple[str, Mapping[str, Any]]] = ()) -> list[Problem]:
    """Every problem of a board configuration: its schema and phone numbers, and every
    school of the board (``schools``: id and own data) with the new defaults merged in."""
    problems = schema_problems(doc, "board")
    if problems:
        return problems
    data = doc.data
    problems = [doc.problem(("contacts", key, "phone"),
                            f"'{c['phone']}' is geen geldig Nederlands telefoonnummer",
                            check="references")
                for key, c in data.get("contacts", {}).items()
                if "phone" in c and not is_dutch_phone(c["phone"])]
    for school_id, own in schools:
        problems += check_school_config(data_document(own, f"{school_id}.yaml"), protocols,
                                        data)
    return problems
