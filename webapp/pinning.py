"""Which protocol version a dossier follows, and moving open dossiers to another one.

A dossier keeps the protocol version it was started under (``Dossier.protocol_digest``,
the text in ``ProtocolVersion``): a rule change never changes an open dossier behind its
users' backs. ``meldroute dossiers migrate`` moves open dossiers to another version when
that does not change their outcome or stage (or, with ``force``, regardless), each move
audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from meldroute.engine import MeldrouteError, Protocol

from .models import Dossier, ProtocolVersion
from .registry import Registry
from .services import dossier_state, latest_records, move_to_protocol, state_of


class UnknownVersion(LookupError):
    """No protocol version with that label or digest (or more than one)."""


@dataclass(frozen=True)
class Move:
    dossier_id: int
    school_id: str
    old_version: str
    changes: tuple[str, ...]  # what would change for its users, in Dutch; empty: nothing
    error: str | None = None  # the target version cannot evaluate this dossier

    @property
    def safe(self) -> bool:
        return not self.changes and self.error is None


def target(db: Session, registry: Registry, version: str, protocol_id: str | None = None
           ) -> Protocol:
    """The protocol version named by its label ("2026.1") or (the start of) its digest:
    the shipped protocols first, then the versions dossiers were started under."""
    found: dict[str, Protocol] = {}
    candidates = [(p.digest, p.version, p.id) for p in registry.protocols.values()] + [
        (r.digest, r.version, r.protocol_id) for r in db.scalars(select(ProtocolVersion))]
    for digest, label, pid in candidates:
        if protocol_id not in (None, pid):
            continue
        if version == label or (len(version) >= 8 and digest.startswith(version)):
            found.setdefault(digest, registry.by_digest(db, digest))
    if len(found) != 1:
        known = ", ".join(sorted({f"{pid} {label} ({digest[:12]})"
                                  for digest, label, pid in candidates}))
        what = "meer dan één" if found else "geen"
        choose = "; kies het protocol met --protocol ID" if found and protocol_id is None \
            else ""
        raise UnknownVersion(f"{what} protocolversie '{version}' gevonden{choose}; bekend: "
                             f"{known or 'geen'}")
    return next(iter(found.values()))


def plan(db: Session, registry: Registry, to: Protocol, today: dt.date) -> list[Move]:
    """Per open dossier of ``to``'s protocol on another version: what moving would change."""
    moves = []
    for dossier in db.scalars(select(Dossier).where(Dossier.closed_at.is_(None))
                              .where(Dossier.protocol_digest != to.digest)
                              .order_by(Dossier.id)):
        before = dossier_state(db, registry, dossier, today)
        if before.protocol.id != to.id:
            continue
        old = f"{before.protocol.version} ({dossier.protocol_digest[:12]})"
        try:
            after = state_of(registry, dossier, to, before.school,
                             latest_records(db, dossier), today)
        except MeldrouteError as err:
            moves.append(Move(dossier.id, dossier.school_id, old, (),
                              str(err).splitlines()[0] or type(err).__name__))
            continue
        b, a = before.evaluation, after.evaluation
        changes = [f"{what} {x or '-'} → {y or '-'}" for what, x, y in (
            ("uitkomst", b.outcome and b.outcome.id, a.outcome and a.outcome.id),
            ("fase", b.stage, a.stage)) if x != y]
        moves.append(Move(dossier.id, dossier.school_id, old, tuple(changes)))
    return moves


def move(db: Session, registry: Registry, dossier_id: int, to: Protocol, today: dt.date,
         before_commit: Callable[[], None]) -> None:
    """Move one dossier to ``to`` (its text pinned first), audited by ``before_commit``,
    committed."""
    if registry.protocols.get(to.id) is to:
        registry.pin(db, to)
    dossier = db.get(Dossier, dossier_id)
    if dossier is None:  # deleted (retention) since the plan was made
        return
    move_to_protocol(db, registry, dossier, to.digest, today, before_commit)
