"""A warning when a new dossier looks like one that is already open: the same initials,
group and birth date as an open Meldcode dossier of the school.

Who may see the earlier dossier gets a warning with a link to it; anyone else gets no hint
(that a dossier exists is itself need-to-know), and the coordinating roles are told
instead: the match is recorded in the audit trail (numbers only, no names) and listed on
their overview. Never for staff-misconduct dossiers (only the Meldcode protocol is
compared). The birth date is encrypted: the database narrows the candidates on initials
and group (stored in the clear), the birth dates of those few are compared after
decryption.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meldroute.engine import DEFAULT_PROTOCOL

from .access import can_see
from .models import AuditEvent, Dossier, ProtocolVersion, User
from .numbering import label
from .registry import Registry

ACTION = "dossier.duplicate"
EARLIER = re.compile(r"\(id (\d+)\)")


@dataclass(frozen=True)
class Duplicate:
    earlier: Dossier
    visible: bool  # the person who opened the new dossier may see the earlier one


def _key(text: str) -> str:
    return "".join(text.lower().split()).replace(".", "")


def find(db: Session, registry: Registry, dossier: Dossier, user: User) -> list[Duplicate]:
    """Open Meldcode dossiers of the school that match ``dossier`` (a new one, flushed)."""
    if not dossier.pupil_birthdate or not _meldcode(db, dossier.protocol_digest):
        return []
    school = registry.school(dossier.school_id)
    candidates = db.scalars(select(Dossier).join(
        ProtocolVersion, ProtocolVersion.digest == Dossier.protocol_digest).where(
        Dossier.school_id == dossier.school_id, Dossier.id != dossier.id,
        Dossier.closed_at.is_(None), ProtocolVersion.protocol_id == DEFAULT_PROTOCOL,
        func.lower(Dossier.pupil_group) == dossier.pupil_group.lower()))
    found = []
    for other in candidates:
        if _key(other.pupil_initials) != _key(dossier.pupil_initials) or \
                other.pupil_birthdate != dossier.pupil_birthdate or school is None:
            continue
        protocol = registry.by_digest(db, other.protocol_digest)
        found.append(Duplicate(other, can_see(user, dossier.school_id, other, protocol,
                                              school)))
    return found


def _meldcode(db: Session, digest: str) -> bool:
    return db.scalar(select(ProtocolVersion.protocol_id).where(
        ProtocolVersion.digest == digest)) == DEFAULT_PROTOCOL


def detail(duplicate: Duplicate) -> str:
    """The audit entry's detail: the earlier dossier's number, nothing about the pupil."""
    return f"mogelijk dubbel met dossier {label(duplicate.earlier)} (id {duplicate.earlier.id})"


def recent(db: Session, school_id: str, limit: int = 10) -> list[tuple[Dossier, Dossier]]:
    """The latest possible duplicates of the school that are both still open (new,
    earlier), for its coordinating roles."""
    events = db.scalars(select(AuditEvent).where(
        AuditEvent.action == ACTION, AuditEvent.school_id == school_id)
        .order_by(AuditEvent.seq.desc()).limit(limit))
    found = []
    for event in events:
        earlier_id = EARLIER.search(event.detail)
        new = db.get(Dossier, event.dossier_id) if event.dossier_id else None
        earlier = db.get(Dossier, int(earlier_id.group(1))) if earlier_id else None
        if new is not None and earlier is not None and new.closed_at is None \
                and earlier.closed_at is None:
            found.append((new, earlier))
    return found


def warn(dossier: Dossier) -> None:
    """In ``new()``, after the dossier is created and before the commit: warn the person
    who may see the earlier dossier (a link), otherwise tell only the coordinating roles
    (the audit entry their overview lists)."""
    from flask import flash, g, url_for

    from .context import db, record, registry

    for found in find(db(), registry(), dossier, g.user):
        record(ACTION, dossier_id=dossier.id, detail=detail(found))
        if found.visible:
            flash("Let op: er is al een open dossier voor een leerling met dezelfde "
                  "initialen, groep en geboortedatum. Kijk of het dezelfde leerling is:||"
                  + url_for("dossiers.show", dossier_id=found.earlier.id) + "||dossier "
                  + label(found.earlier), "link")
