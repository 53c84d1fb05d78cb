"""Retention: closed dossiers are deleted when their school's term has passed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import audit
from .models import Dossier, DossierDecision, StepRecord
from .registry import Registry


def add_years(moment: dt.datetime, years: int) -> dt.datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


@dataclass(frozen=True)
class Due:
    dossier_id: int
    school_id: str
    closed_at: dt.datetime
    delete_after: dt.datetime


def due(db: Session, registry: Registry, now: dt.datetime) -> list[Due]:
    found = []
    rows = db.execute(select(Dossier.id, Dossier.school_id, Dossier.closed_at)
                      .where(Dossier.closed_at.is_not(None)).order_by(Dossier.id)).all()
    for dossier_id, school_id, closed_at in rows:
        if closed_at is None:  # not closed (the query leaves these out)
            continue
        school = registry.school(school_id)
        years = school.retention_years if school else 2
        closed = closed_at if closed_at.tzinfo else closed_at.replace(tzinfo=dt.UTC)
        until = add_years(closed, years)
        if until <= now:
            found.append(Due(dossier_id, school_id, closed, until))
    return found


def purge(db: Session, items: list[Due], now: dt.datetime, actor: str) -> int:
    for item in items:
        db.execute(delete(StepRecord).where(StepRecord.dossier_id == item.dossier_id))
        db.execute(delete(DossierDecision).where(DossierDecision.dossier_id == item.dossier_id))
        db.execute(delete(Dossier).where(Dossier.id == item.dossier_id))
        audit.append(db, action="dossier.delete", actor=actor, actor_id=None, address="cli",
                     now=now, school_id=item.school_id, dossier_id=item.dossier_id,
                     detail="bewaartermijn verstreken")
    db.commit()
    return len(items)
