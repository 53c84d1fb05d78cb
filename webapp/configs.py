"""School and board configuration in the database, versioned; YAML is the interchange.

Every change is a new version (author, time, reason); nothing is overwritten. A school
inherits its board's defaults and may override them field by field: ``effective()``
gives the merged configuration and, per field, where its value comes from.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meldroute.engine import ConfigError, Problem
from meldroute.engine.loader import school_from_document, school_problems
from meldroute.engine.model import Protocol, SchoolConfig
from meldroute.engine.source import Document, parse_text, schema_problems

from .models import Board, ConfigVersion, School

SCHOOL_KEYS = ("id", "name", "board", "protocol", "retention_years", "contacts", "roles",
               "remap")
BOARD_KEYS = ("id", "name", "retention_years", "contacts", "roles", "remap")
CONTACT_KEYS = ("name", "organisation", "phone", "email", "when", "notes")
REMAP_KEYS = ("role", "to", "steps")
INHERITED = ("retention_years", "contacts", "roles", "remap")

SCHOOL, BOARD = "school", "board"


def normalized(data: Mapping[str, Any], kind: str = SCHOOL) -> dict[str, Any]:
    """The configuration with its keys in one fixed order (so exports are stable)."""
    keys = SCHOOL_KEYS if kind == SCHOOL else BOARD_KEYS
    out: dict[str, Any] = {}
    for key in keys:
        if key not in data:
            continue
        value = data[key]
        if key == "contacts":  # known fields first; a field the schema gained keeps its place
            value = {k: {**{f: c[f] for f in CONTACT_KEYS if f in c},
                         **{f: v for f, v in c.items() if f not in CONTACT_KEYS}}
                     for k, c in value.items()}
        elif key == "roles":
            value = {k: {"name": r["name"]} for k, r in value.items()}
        elif key == "remap":
            value = [{f: m[f] for f in REMAP_KEYS if f in m} for m in value]
        out[key] = value
    return out


def export_yaml(data: Mapping[str, Any], kind: str = SCHOOL) -> str:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 100
    buffer = io.StringIO()
    yaml.dump(normalized(data, kind), buffer)
    return buffer.getvalue()


def document_of(data: Mapping[str, Any], path: str, kind: str = SCHOOL) -> Document:
    """A Document of the data (so that problems carry a place), as if read from YAML."""
    return parse_text(export_yaml(data, kind), path)


# --- reading -----------------------------------------------------------------------------


def latest(db: Session, kind: str, owner_id: str) -> ConfigVersion | None:
    return db.scalar(select(ConfigVersion).where(ConfigVersion.kind == kind,
                                                 ConfigVersion.owner_id == owner_id)
                     .order_by(ConfigVersion.version.desc()).limit(1))


def versions(db: Session, kind: str, owner_id: str) -> list[ConfigVersion]:
    return list(db.scalars(select(ConfigVersion).where(
        ConfigVersion.kind == kind, ConfigVersion.owner_id == owner_id)
        .order_by(ConfigVersion.version.desc())))


def data_of(version: ConfigVersion | None) -> dict[str, Any]:
    return json.loads(version.data) if version is not None else {}


@dataclass(frozen=True)
class Effective:
    data: dict[str, Any]
    origins: dict[tuple[str, ...], str]  # ("contacts", "cjg", "phone") -> "school"/"bestuur"
    school_version: ConfigVersion
    board_version: ConfigVersion | None


def merge(school: Mapping[str, Any], board: Mapping[str, Any]
          ) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """Board defaults, overridden by the school field by field."""
    data = {k: v for k, v in school.items() if k not in INHERITED}
    origins: dict[tuple[str, ...], str] = {}
    for section in ("contacts", "roles"):
        merged: dict[str, dict[str, Any]] = {}
        for source, label in ((board, "bestuur"), (school, "school")):
            for key, fields in source.get(section, {}).items():
                target = merged.setdefault(key, {})
                for field, value in fields.items():
                    target[field] = value
                    origins[(section, key, field)] = label
        if merged:
            data[section] = merged
    for key in ("remap", "retention_years"):
        if key in school:
            data[key], origins[(key,)] = school[key], "school"
        elif key in board:
            data[key], origins[(key,)] = board[key], "bestuur"
    return normalized(data), origins


def effective(db: Session, school_id: str) -> Effective | None:
    school_version = latest(db, SCHOOL, school_id)
    if school_version is None:
        return None
    school = data_of(school_version)
    board_version = latest(db, BOARD, school["board"]) if school.get("board") else None
    data, origins = merge(school, data_of(board_version))
    return Effective(data, origins, school_version, board_version)


def effective_at(db: Session, school_config_id: int, board_config_id: int | None
                 ) -> dict[str, Any]:
    school = data_of(db.get(ConfigVersion, school_config_id))
    board = data_of(db.get(ConfigVersion, board_config_id)) if board_config_id else {}
    return merge(school, board)[0]


# --- checking and writing ------------------------------------------------------------------


def check_school(data: Mapping[str, Any], protocol: Protocol, path: str = "<school>",
                 board: Mapping[str, Any] | None = None) -> list[Problem]:
    """Schema and semantic problems of a school's own data and of its effective config."""
    doc = document_of(data, path)
    problems = schema_problems(doc, "school")
    if problems:
        return problems
    problems = school_problems(doc, protocol)
    if problems or not board:
        return problems
    merged = document_of(merge(data, board)[0], path)
    return school_problems(merged, protocol)


def check_board(db: Session, protocols: Mapping[str, Protocol], board_id: str,
                data: Mapping[str, Any], path: str = "<bestuur>",
                doc: Document | None = None) -> list[Problem]:
    """The board's data (schema, phone numbers), and every school of the board with the
    new defaults merged in (as `meldroute check` would check it). ``doc``: the file the
    data was read from, so that problems point into it."""
    from meldroute.engine.loader import is_dutch_phone

    doc = doc or document_of(data, path, BOARD)
    problems = schema_problems(doc, "board")
    if problems:
        return problems
    problems = [doc.problem(("contacts", key, "phone"),
                            f"'{c['phone']}' is geen geldig Nederlands telefoonnummer")
                for key, c in data.get("contacts", {}).items()
                if "phone" in c and not is_dutch_phone(c["phone"])]
    for school_id in schools_of_board(db, board_id):
        own = data_of(latest(db, SCHOOL, school_id))
        protocol = protocols[own.get("protocol", "meldcode-onderwijs")]
        problems += check_school(own, protocol, f"{school_id}.yaml", data)
    return problems


def build_school(data: Mapping[str, Any], protocol: Protocol, path: str) -> SchoolConfig:
    return school_from_document(document_of(data, path), protocol)


def save(db: Session, kind: str, owner_id: str, data: Mapping[str, Any], author: str,
         reason: str) -> ConfigVersion:
    """A new version (the caller has checked the data and commits)."""
    newest = db.scalar(select(func.max(ConfigVersion.version)).where(
        ConfigVersion.kind == kind, ConfigVersion.owner_id == owner_id)) or 0
    if kind == SCHOOL:
        school = db.get(School, owner_id)
        if school is None:
            school = School(id=owner_id)
            db.add(school)
        board_id = data.get("board")
        if board_id and db.get(Board, board_id) is None:
            raise ConfigError([Problem("<school>", 1, 1, f"onbekend bestuur '{board_id}'",
                                       where=("board",))])
        school.board_id = board_id
    elif db.get(Board, owner_id) is None:
        db.add(Board(id=owner_id))
    version = ConfigVersion(kind=kind, owner_id=owner_id, version=newest + 1,
                            data=json.dumps(normalized(data, kind), ensure_ascii=False),
                            author=author[:64], reason=reason[:300])
    db.add(version)
    db.flush()
    return version


def school_ids(db: Session) -> list[str]:
    return list(db.scalars(select(School.id).order_by(School.id)))


def schools_of_board(db: Session, board_id: str) -> list[str]:
    return list(db.scalars(select(School.id).where(School.board_id == board_id)
                           .order_by(School.id)))
