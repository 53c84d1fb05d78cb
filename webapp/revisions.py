"""What changed: a revision of each dossier and one of the site, renewed by every write.

Kept pages (``pagecache``) are filed under these revisions, so a page is served again only
while nothing it shows has changed. Every write through an ORM session renews them, in
the write's own transaction (a rollback takes the renewal back with it):

* a flushed row of a dossier (the dossier itself, or a row with a ``dossier_id``): that
  dossier's revision;
* a flushed row of any other table, except the ``QUIET`` ones that no page shows: the
  site's revision (people, roles, school configurations, ...);
* an INSERT, UPDATE or DELETE statement run through a session (``db.execute(update(...))``)
  on a table that is not quiet, or any statement written as text that is not a read
  (``db.execute(text("UPDATE ..."))``): the site's revision, since which dossier it
  touched is not known.

A statement run on the session's connection itself (``db.connection().execute``) passes
both hooks. The writes that do so are of quiet tables (the audit trail, the web session's
message after a save) or a step's save (``services.save_step``, past the unit of work for
speed), which sets its dossier's new revision in its own UPDATE.

A write of only ``QUIET_COLUMNS`` (the last used 2FA step, written at every sign-in)
renews nothing: otherwise every sign-in would let every kept page go.

A revision is a fresh random number, never a count: after a restore from a backup and new
writes, a revision seen before does not come back with other content.
``install`` is called where the models are defined, so every process that writes (the web
app, every CLI command) renews them.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import TextClause, event, inspect, text
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

# tables whose rows no kept page shows: writing them leaves every page as it was
QUIET = frozenset({"web_sessions", "login_attempts", "audit_events", "audit_head",
                   "reminders_sent", "reset_tokens", "dossier_counters", "key_check",
                   "site_revision"})

# columns no page shows, of tables that pages do show: a write of only these renews
# nothing (a sign-in with a code writes the step of the code it used)
QUIET_COLUMNS = {"users": frozenset({"totp_last_step"})}

# a statement written as text is a read only when it says so; any other renews the site
_READS = ("SELECT", "PRAGMA", "EXPLAIN")

SITE = 0  # the key of the site's revision among a probe's (id, revision) pairs

_RENEW_DOSSIERS = text("UPDATE dossiers SET revision = :revision WHERE id = :id")
_RENEW_SITE = text("UPDATE site_revision SET revision = :revision WHERE id = 1")
# the site's revision as it is now (the registry files school configurations under it)
SITE_REVISION = text("SELECT revision FROM site_revision WHERE id = 1")


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
        if table is None or table in QUIET or _quiet_change(session, obj, table):
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


def _quiet_change(session: Session, obj: Any, table: str) -> bool:
    """``obj`` is a changed row of which only columns no page shows changed."""
    quiet = QUIET_COLUMNS.get(table)
    if quiet is None or obj in session.new or obj in session.deleted:
        return False
    changed = {a.key for a in inspect(obj).attrs if a.history.has_changes()}
    return changed <= quiet


def _renew_on_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    dossiers, site = _touched(session)
    if not dossiers and not site:
        return
    connection = session.connection()
    for dossier_id in sorted(dossiers):
        connection.execute(_RENEW_DOSSIERS, {"revision": new_revision(), "id": dossier_id})
    if site:
        connection.execute(_RENEW_SITE, {"revision": new_revision()})


def _statement_is_quiet(state: ORMExecuteState) -> bool:
    """A statement run through a session that leaves every page as it was: a read, or a
    write of a quiet table (or of only quiet columns)."""
    statement = state.statement
    if isinstance(statement, TextClause):  # db.execute(text("UPDATE ...")): the site
        return statement.text.lstrip()[:7].upper().startswith(_READS)
    if not (state.is_insert or state.is_update or state.is_delete):
        return True
    table = getattr(getattr(statement, "table", None), "name", None)
    if table in QUIET:
        return True
    quiet = QUIET_COLUMNS.get(table or "")
    # (an UPDATE's values: SQLAlchemy keeps them in _values; none known: not quiet)
    columns = {getattr(c, "key", c) for c in getattr(statement, "_values", None) or ()}
    return bool(quiet and state.is_update and columns and columns <= quiet)


def _renew_on_statement(state: ORMExecuteState) -> None:
    if not _statement_is_quiet(state):
        state.session.connection().execute(_RENEW_SITE, {"revision": new_revision()})


def install() -> None:
    """Renew revisions on every session's writes (idempotent)."""
    if not event.contains(Session, "before_flush", _renew_on_flush):
        event.listen(Session, "before_flush", _renew_on_flush)
        event.listen(Session, "do_orm_execute", _renew_on_statement)
