"""The audit trail: who did what to which dossier, when, from where — never the content.

Append-only and tamper-evident: each entry carries a SHA-256 over its own fields and the
previous entry's hash. Appends are serialised through the one ``audit_head`` row (an
UPDATE ... RETURNING takes its lock on SQLite and PostgreSQL alike), in the same
transaction as what they record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _utc_naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def entry_hash(e: AuditEvent) -> str:
    fields = [e.seq, _utc_naive(e.at).isoformat(timespec="microseconds"), e.actor_id, e.actor,
              e.on_behalf_of, e.action, e.school_id, e.dossier_id, e.result, e.address,
              e.detail, e.prev_hash]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def append(db: Session, *, action: str, actor: str, actor_id: int | None, address: str,
           now: dt.datetime, result: str = "ok", school_id: str | None = None,
           dossier_id: int | None = None, detail: str = "",
           on_behalf_of: str | None = None) -> AuditEvent:
    seq, prev = db.execute(update(AuditHead).where(AuditHead.id == 1)
                           .values(seq=AuditHead.seq + 1)
                           .returning(AuditHead.seq, AuditHead.last_hash)).one()
    event = AuditEvent(seq=seq, at=_utc_naive(now).replace(tzinfo=dt.UTC), actor_id=actor_id,
                       actor=actor[:64], on_behalf_of=on_behalf_of, action=action,
                       school_id=school_id, dossier_id=dossier_id, result=result,
                       address=address[:64], detail=detail[:200], prev_hash=prev)
    event.hash = entry_hash(event)
    db.add(event)
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=event.hash))
    return event


@dataclass(frozen=True)
class Broken:
    seq: int
    reason: str


def verify(db: Session) -> tuple[int, Broken | None]:
    """(entries checked, the first broken entry or None)."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(1000):
        count += 1
        if e.seq != expected_seq:
            return count, Broken(expected_seq, f"entry {expected_seq} is missing "
                                               f"(next is {e.seq})")
        if e.prev_hash != expected_prev:
            return count, Broken(e.seq, "does not follow the entry before it")
        if entry_hash(e) != e.hash:
            return count, Broken(e.seq, "its content was changed")
        expected_prev, expected_seq = e.hash, e.seq + 1
    head = db.get(AuditHead, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.last_hash != expected_prev):
        return count, Broken(expected_seq - 1 if count else 1,
                             "the chain ends before its recorded end (entries removed)")
    return count, None

