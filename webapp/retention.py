"""Retention: closed dossiers are deleted when their school's term has passed; expired
web sessions and old login attempts are deleted too (``purge_sign_in``, also run on its own
by ``meldroute purge``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import audit, security
from .models import Dossier, DossierAssignment, DossierDecision, DossierNote, StepRecord
from .registry import Registry
from .web_sessions import purge_web_sessions

ATTEMPTS_KEPT = dt.timedelta(days=1)  # the throttle looks back one hour at most


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
        db.execute(delete(DossierNote).where(DossierNote.dossier_id == item.dossier_id))
        db.execute(delete(DossierAssignment).where(
            DossierAssignment.dossier_id == item.dossier_id))
        db.execute(delete(Dossier).where(Dossier.id == item.dossier_id))
        audit.append(db, action="dossier.delete", actor=actor, actor_id=None, address="cli",
                     now=now, school_id=item.school_id, dossier_id=item.dossier_id,
                     detail="bewaartermijn verstreken")
    db.commit()
    return len(items)


@dataclass(frozen=True)
class Purged:
    sessions: int
    attempts: int


def purge_sign_in(db: Session, now: dt.datetime, idle: dt.timedelta,
                  absolute: dt.timedelta, actor: str) -> Purged:
    """Delete web sessions past their timeouts and login attempts older than a day; one
    audit entry (counts only) when anything was deleted."""
    purged = Purged(purge_web_sessions(db, now, idle, absolute),
                    security.purge_attempts(db, now - ATTEMPTS_KEPT))
    if purged.sessions or purged.attempts:
        audit.append(db, action="purge", actor=actor, actor_id=None, address="cli", now=now,
                     detail=f"{purged.sessions} sessie(s), {purged.attempts} inlogpoging(en)")
    db.commit()
    return purged
