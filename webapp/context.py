"""The one home of per-request helpers: the database session, the audit trail, the
registry, the app's clock, and the request's memo of school configurations.

Views call ``db()``, ``record()``, ``registry()``, ``now()`` and ``today()``; code that
runs outside a request but has the app (the session interface, commands) uses the
``*_of(app)`` forms.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import audit
from .db import wrote
from .models import User

if TYPE_CHECKING:  # registry.py uses this module's request memo
    from .registry import Registry

REGISTRY = "meldroute.registry"
DB_ENGINE = "meldroute.db_engine"
DB_SESSIONS = "meldroute.db_sessions"
_SCHOOLS_MEMO = "meldroute_schools"  # on flask.g: school configurations looked up this request
_READS = "meldroute.audit.reads"  # app.extensions: the GroupCommit of reads
_READS_LOCK = threading.Lock()


# --- the app's parts (also outside a request) ----------------------------------------------


def registry_of(app: Flask) -> Registry:
    found: Registry = app.extensions[REGISTRY]
    return found


def db_sessions_of(app: Flask) -> sessionmaker[Session]:
    found: sessionmaker[Session] = app.extensions[DB_SESSIONS]
    return found


def db_engine_of(app: Flask) -> Engine:
    found: Engine = app.extensions[DB_ENGINE]
    return found


def now_of(app: Flask) -> dt.datetime:
    clock: Callable[[], dt.datetime] = app.config["NOW"]
    return clock()


def today_of(app: Flask) -> dt.date:
    clock: Callable[[], dt.date] = app.config["CLOCK"]
    return clock()


# --- in a request ----------------------------------------------------------------------------


def registry() -> Registry:
    return registry_of(current_app)


def now() -> dt.datetime:
    return now_of(current_app)


def today() -> dt.date:
    return today_of(current_app)


def db() -> Session:
    """The request's database session (closed when the app context ends)."""
    if "db" not in g:
        g.db = db_sessions_of(current_app)()
    db_session: Session = g.db
    return db_session


def close_db(_exc: BaseException | None = None) -> None:
    db_session = g.pop("db", None)
    if db_session is not None:
        db_session.close()


def address() -> str:
    return request.remote_addr or "-"


def record(action: str, *, result: str = "ok", user: User | None = None,
           actor: str | None = None, dossier_id: int | None = None, detail: str = "",
           school_id: str | None = None) -> None:
    """Append to the audit trail in the current transaction (the caller commits)."""
    who = user if user is not None else g.get("user")
    audit.append(db(), action=action, actor=actor or (who.username if who else "-"),
                 actor_id=who.id if who else None, address=address(), now=now(),
                 result=result, school_id=school_id or g.get("school_id"),
                 dossier_id=dossier_id, detail=detail)


def record_read(*, dossier_id: int, detail: str = "") -> None:
    """Audit that this request's user is shown a dossier, and commit it before the page is
    sent. While the request's transaction writes nothing, the entry is committed together
    with other threads' reads (``audit.GroupCommit``: in one of their requests'
    transactions) before this returns. Otherwise (the web session's last-seen time to
    write, a write of the view: on SQLite it holds the write turn) it goes into the
    request's transaction, as with ``record``, and ``commit_pending`` commits it: waiting
    for another transaction while holding a lock it may need would deadlock."""
    if wrote(db()):
        record("dossier.read", dossier_id=dossier_id, detail=detail)
        return
    who = g.user
    reads_of(current_app).append(db(), audit.entry(
        action="dossier.read", actor=who.username, actor_id=who.id, address=address(),
        now=now(), school_id=g.get("school_id"), dossier_id=dossier_id, detail=detail))


def commit_pending() -> None:
    """Commit the request's transaction when it has something to write (after
    ``record_read``); a transaction that only read is ended when the request ends."""
    if wrote(db()):
        db().commit()


def reads_of(app: Flask) -> audit.GroupCommit:
    """The app's group commit of reads (one per process: made at first use after a fork)."""
    with _READS_LOCK:
        found = app.extensions.get(_READS)
        if not isinstance(found, audit.GroupCommit) or found.pid != os.getpid():
            found = app.extensions[_READS] = audit.GroupCommit()
    return found


def request_session() -> Session | None:
    """The request's database session (``db()``), or None outside a request."""
    return db() if has_request_context() else None


def schools_memo() -> dict[str, Any]:
    """School configurations already looked up in this request (a fresh dict outside one)."""
    if not has_app_context():
        return {}
    memo: dict[str, Any] = g.setdefault(_SCHOOLS_MEMO, {})
    return memo


def forget_schools() -> None:
    """After a configuration was saved: this request's look-ups are stale."""
    if has_app_context():
        g.pop(_SCHOOLS_MEMO, None)
