"""What changed: a revision of each dossier and one of the site, renewed by every write.

Kept pages (``pagecache``) are filed under these revisions, so a page is served again only
while nothing it shows has changed. Every write through an ORM session renews them, in
the write's own transaction (a rollback takes the renewal back with it):

* a flushed row of a dossier (the dossier itself, or a row with a ``dossier_id``): that
  dossier's revision;
* a flushed row of any other table, except the ``QUIET`` ones that no page shows: the
  site's revision (people, roles, school configurations, ...);
* an INSERT, UPDATE or DELETE statement run through a session (``db.execute(update(...))``)
  on a table that is not quiet: the site's revision, since which dossier it touched is
  not known.

A revision is a fresh random number, never a count: after a restore from a backup and new
writes, a revision seen before does not come back with other content.
``install`` is called where the models are defined, so every process that writes (the web
app, every CLI command) renews them.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

# tables whose rows no kept page shows: writing them leaves every page as it was
QUIET = frozenset({"web_sessions", "login_attempts", "audit_events", "audit_head",
                   "reminders_sent", "reset_tokens", "dossier_counters", "key_check",
                   "site_revision"})

SITE = 0  # the key of the site's revision among a probe's (id, revision) pairs

_RENEW_DOSSIERS = text("UPDATE dossiers SET revision = :revision WHERE id = :id")
_RENEW_SITE = text("UPDATE site_revision SET revision = :revision WHERE id = 1")


def new_revision() -> int:
    return secrets.randbits(62)


def _touched(session: Session) -> tuple[set[int], bool]:
    """The dossiers whose rows this flush writes (other than new or changed dossier rows,
    which carry their own revision), and whether it writes anything else a page shows."""
    dossiers: set[int] = set()
    updated: set[int] = set()  # dossiers whose own UPDATE carries their new revision
    site = False
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table is None or table in QUIET:
            continue
        if table == "dossiers":
            if obj not in session.new and obj not in session.deleted:
                obj.revision = new_revision()
                updated.add(obj.id)
            continue
        if hasattr(type(obj), "dossier_id"):
            owner = getattr(obj, "dossier_id", None)
            if owner is None:
                owner = getattr(getattr(obj, "dossier", None), "id", None)
            if owner is not None:
                dossiers.add(owner)
            # (None: a row of a dossier opened in this flush, which has no page yet)
            continue
        site = True
    return dossiers - updated, site


def _renew_on_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    dossiers, site = _touched(session)
    if not dossiers and not site:
        return
    connection = session.connection()
    for dossier_id in sorted(dossiers):
        connection.execute(_RENEW_DOSSIERS, {"revision": new_revision(), "id": dossier_id})
    if site:
        connection.execute(_RENEW_SITE, {"revision": new_revision()})


def _renew_on_statement(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if table in QUIET:
        return
    state.session.connection().execute(_RENEW_SITE, {"revision": new_revision()})


def install() -> None:
    """Renew revisions on every session's writes (idempotent)."""
    if not event.contains(Session, "before_flush", _renew_on_flush):
        event.listen(Session, "before_flush", _renew_on_flush)
        event.listen(Session, "do_orm_execute", _renew_on_statement)
