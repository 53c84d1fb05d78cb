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
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from meldroute.engine import (
    ConfigError,
    Document,
    Problem,
    Protocol,
    check_board_config,
    check_school_config,
    merge_board,
)

from .models import Board, ConfigVersion, School

SCHOOL_KEYS = ("id", "name", "board", "protocol", "protocols", "retention_years", "contacts",
               "roles", "remap")
BOARD_KEYS = ("id", "name", "retention_years", "contacts", "roles", "remap")
CONTACT_KEYS = ("name", "organisation", "phone", "email", "when", "notes")
REMAP_KEYS = ("protocol", "role", "to", "steps")

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


def latest(db: Session, kind: str, owner_id: str) -> ConfigVersion | None:
    return db.scalar(select(ConfigVersion).where(ConfigVersion.kind == kind,
                                                 ConfigVersion.owner_id == owner_id)
                     .order_by(ConfigVersion.version.desc()).limit(1))


_LATEST_ID = (select(ConfigVersion.id).where(ConfigVersion.kind == bindparam("kind"),
                                             ConfigVersion.owner_id == bindparam("owner"))
              .order_by(ConfigVersion.version.desc()).limit(1))


def latest_id(db: Session, kind: str, owner_id: str) -> int | None:
    """The id of the newest version, without its data (one small statement)."""
    found: int | None = db.execute(_LATEST_ID, {"kind": kind, "owner": owner_id}).scalar()
    return found


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
    """Board defaults, overridden by the school field by field (in export order)."""
    data, origins = merge_board(school, board)
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


def board_of(db: Session, data: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults of the board a school's data names (empty when it names none)."""
    return data_of(latest(db, BOARD, data["board"])) if data.get("board") else {}


def check_school(db: Session, protocols: Mapping[str, Protocol], doc: Document
                 ) -> list[Problem]:
    """A school's new configuration as the engine judges it, with its board's defaults."""
    if isinstance(doc.data, dict) and doc.data.get("board") and not board_of(db, doc.data):
        return [doc.problem(("board",), f"onbekend bestuur '{doc.data['board']}'",
                            check="references")]
    return check_school_config(doc, protocols, board_of(db, doc.data)
                               if isinstance(doc.data, dict) else None)


def check_board(db: Session, protocols: Mapping[str, Protocol], doc: Document
                ) -> list[Problem]:
    """A board's new configuration and every school of the board under it."""
    schools = [(school_id, data_of(latest(db, SCHOOL, school_id)))
               for school_id in schools_of_board(db, doc.data["id"])] \
        if isinstance(doc.data, dict) and "id" in doc.data else []
    return check_board_config(doc, protocols, schools)


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
