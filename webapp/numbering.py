"""Dossier numbers: ``2026-014``, the year the dossier was opened and a sequence per
school and year. Shown everywhere instead of the database id (``label``, also the Jinja
filter ``dossier_label``).

A number is handed out when the dossier row is inserted, by one statement that bumps the
school's counter for that year (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``): on
PostgreSQL the counter row stays locked until the transaction ends, on SQLite the write
lock serialises writers, so two dossiers opened at the same moment never share a number.
A unique constraint on (school, year, sequence) backs this up.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapper

from .models import Dossier, DossierCounter

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NUMBER = re.compile(r"^\s*(?:(\d{4})\s*-\s*)?([A-Za-z]?)0*(\d{1,6})\s*$")
SUBJECT_SERIES = "V"  # a route about a person (``subject:``): 2026-V001, its own count


def label(dossier: Any) -> str:
    """The dossier's number as people use it (``2026-014``); the id before it has one."""
    year, seq = getattr(dossier, "number_year", None), getattr(dossier, "number_seq", None)
    if year is None or seq is None:
        return str(getattr(dossier, "id", ""))
    return f"{year}-{getattr(dossier, 'number_series', '') or ''}{seq:03d}"


def parse(text: str) -> tuple[int | None, str, int] | None:
    """(year or None, series, sequence) for a typed number ("2026-014", "14", "V001");
    None otherwise."""
    found = NUMBER.match(text)
    if found is None:
        return None
    return ((int(found.group(1)) if found.group(1) else None), found.group(2).upper(),
            int(found.group(3)))


def series_for(protocol: Any) -> str:
    """The series a new dossier of ``protocol`` counts in: a route about a person (the
    staff route) its own, so that its dossiers leave no gaps in the numbers others see."""
    return SUBJECT_SERIES if getattr(protocol, "subject", None) is not None else ""


def year_of(moment: dt.datetime | None) -> int:
    moment = moment or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(AMSTERDAM).year


def next_number(connection: Connection, school_id: str, year: int, series: str = "") -> int:
    """Bump and return the school's counter for ``year`` (and ``series``), in the
    caller's transaction."""
    table = DossierCounter.__table__
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(  # type: ignore[arg-type]
        school_id=school_id, year=year, series=series, last=1).on_conflict_do_update(
        index_elements=["school_id", "year", "series"], set_={"last": table.c.last + 1}
    ).returning(table.c.last)
    return int(connection.execute(statement).scalar_one())


@event.listens_for(Dossier, "before_insert")
def _number(_mapper: Mapper[Any], connection: Connection, dossier: Dossier) -> None:
    if dossier.number_seq is None:
        dossier.number_year = year_of(dossier.created_at)
        dossier.number_seq = next_number(connection, dossier.school_id, dossier.number_year,
                                         dossier.number_series or "")
