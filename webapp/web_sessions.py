"""Web sessions (the HTTP session): server-side in the database once someone gave a right
password; before that, a signed cookie.

An anonymous visitor (the login page's CSRF token, a message) gets no database row: the
cookie carries the little data there is, signed with the secret key, and expires after
the idle timeout. The password step moves the session into the database under a fresh
token; the code step gives another fresh token (``rotate``, ``login``).

A server-side session's cookie carries only a random token; the row is keyed by the
token's SHA-256. Logout,
disabling an account or an admin ending a user's sessions deletes the rows, which makes
the old cookie useless at once. A fresh token at login; idle and absolute timeouts.

The row is read through the request's database session, so a request is one transaction.
Its last-seen time is moved at most once a minute (``TOUCH_SECONDS``), in that same
transaction; an unchanged web session is not written back at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from typing import Any

from flask import Flask, Request, Response, current_app, g, has_request_context, session
from flask import request as this_request
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import (
    BindParameter,
    CursorResult,
    Integer,
    String,
    bindparam,
    cast,
    delete,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.datastructures import CallbackDict

from .context import db, db_sessions_of, now_of
from .db import updating, wrote
from .models import Dossier, SiteRevision, User, WebSession

TOUCH_SECONDS = 60  # the last-seen time is at most this much behind
MAX_COOKIE = 3000  # a longer cookie is not ours
MAX_MESSAGES = 5  # messages (``flash``) waiting to be shown: the newest, each once


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, data: dict[str, Any] | None = None, token: str | None = None,
                 user_id: int | None = None, school_id: str | None = None,
                 authenticated_at: dt.datetime | None = None) -> None:
        def on_update(_self: Any) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        # messages left by earlier requests (shown with this request's, the cap is theirs)
        carried = self.get("_flashes")
        self.carried_messages = len(carried) if isinstance(carried, list) else 0
        self.token = token
        self.user_id = user_id
        self.school_id = school_id
        self.authenticated_at = authenticated_at
        self.modified = False
        self.regenerate = False
        self.persist = False  # keep it in the database (after the password step)
        self.destroyed = False
        self.row: WebSession | None = None  # as read in the request's database session
        # the site's revision read with the user and their roles (revisions.py): a kept
        # page is filed under it, never under a newer one than the roles it was made with
        self.site_revision: int | None = None
        # the transaction it was read in: while that one lasts and writes nothing, the
        # revision is the site's as this request sees it (``site_revision_now``)
        self.read_in: Any = None
        # (dossier id, its and its linked dossiers' (id, revision)), read with the above
        # for a request to a dossier's page (``pagecache.key_of``)
        self.probed: tuple[int, frozenset[tuple[int, int]]] | None = None

    def __setitem__(self, key: str, value: Any) -> None:
        if key == "_flashes" and isinstance(value, list):
            fresh = len(value) - self.carried_messages
            value = _newest_messages(value, fresh)
            # the carried ones left (the cap drops those first): flash() sets the same
            # list again for each message, so the next count starts from here
            self.carried_messages = max(0, len(value) - fresh)
        super().__setitem__(key, value)

    def login(self, user_id: int, school_id: str | None, now: dt.datetime) -> None:
        """A fresh session id for the signed-in user (no fixation)."""
        self.clear()
        self.user_id, self.school_id, self.authenticated_at = user_id, school_id, now
        self.regenerate = True
        self.modified = True

    def rotate(self) -> None:
        """Keep the data under a fresh id, in the database (the password step)."""
        self.regenerate = True
        self.persist = True
        self.modified = True

    def destroy(self) -> None:
        self.clear()
        self.user_id = None
        self.destroyed = True
        self.modified = True


def _newest_messages(messages: list[Any], fresh: int = 0) -> list[Any]:
    """The messages to show at the next page: the newest ``MAX_MESSAGES`` (but every one
    of the ``fresh`` ones, this request's), a repeated one once (where it came last).
    Requests that never ask for the next page (a client that does not follow the redirect
    after a save) would otherwise grow the web session without end, and with it every
    request's read and write of it."""
    limit = max(MAX_MESSAGES, fresh)
    kept: list[Any] = []
    seen: set[Any] = set()
    for message in reversed(messages):  # (category, text); a list once stored as JSON
        same = tuple(message) if isinstance(message, list | tuple) else message
        if same not in seen:
            seen.add(same)
            kept.append(message)
        if len(kept) == limit:
            break
    return kept[::-1]


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# the revisions of a dossier and of the dossiers linked to it (either way), as
# "id:revision,..." (what a kept page's key holds, ``pagecache``); read with the web
# session for a request to a dossier's page, so a kept page needs no statement more
_PROBED: BindParameter[int] = bindparam("probe", type_=Integer)
_REVISIONS = select(func.aggregate_strings(
    cast(Dossier.id, String) + ":" + cast(Dossier.revision, String), ",")).where(or_(
        Dossier.id == _PROBED, Dossier.linked_dossier_id == _PROBED,
        Dossier.id == select(Dossier.linked_dossier_id).where(Dossier.id == _PROBED)
        .scalar_subquery())).scalar_subquery()
# the pages whose key needs them (``dossiers.show``, ``dossiers.step``)
_MAX_ID = 2**31 - 1  # dossiers.id is a 32-bit integer on PostgreSQL
_DOSSIER_PAGE = re.compile(r"/dossiers/(\d+)(?:/stap/[a-z0-9_-]+)?")

# built once: building the statement (its options, its comparison) costs more than running
# it (issue 13)
_SESSION_ROW = select(
    WebSession, select(SiteRevision.revision).where(SiteRevision.id == 1).scalar_subquery(),
    _REVISIONS,
).where(WebSession.id == bindparam("id")).options(
    joinedload(WebSession.user).joinedload(User.memberships))


def _probed(request: Request) -> int:
    """The dossier whose page this request asks for (-1: none)."""
    if request.method not in ("GET", "HEAD"):
        return -1
    found = _DOSSIER_PAGE.fullmatch(request.path)
    dossier_id = int(found.group(1)) if found and len(found.group(1)) < 12 else -1
    return dossier_id if dossier_id <= _MAX_ID else -1  # beyond: no such dossier (a 404)


def _revisions(value: str | None) -> frozenset[tuple[int, int]]:
    pairs = (pair.split(":") for pair in value.split(",")) if value else ()
    return frozenset((int(owner), int(revision)) for owner, revision in pairs)


def dossier_revisions(dossier_id: int) -> frozenset[tuple[int, int]]:
    """(id, revision) of the dossier and the dossiers linked to it: as read with the web
    session when the request's address named this dossier, else read now."""
    probed = current_web_session().probed
    if probed is not None and probed[0] == dossier_id:
        return probed[1]
    return _revisions(db().connection().scalar(select(_REVISIONS), {"probe": dossier_id}))


def _read_row(request_db: Session, params: dict[str, Any]
              ) -> Row[WebSession, int | None, str | None] | None:
    """The web session's row (``_SESSION_ROW``): the request's first statement. When its
    connection turns out to be lost (the database restarted while the worker was busy, so
    the pool did not ping it: ``db.IdlePing``), nothing of the request is lost with it:
    it is run once more, on a fresh connection."""
    first = not request_db.in_transaction()
    try:
        return request_db.execute(_SESSION_ROW, params).unique().first()
    except DBAPIError as exc:
        if not (first and exc.connection_invalidated):
            raise
        request_db.rollback()
    return request_db.execute(_SESSION_ROW, params).unique().first()


class WebSessionInterface(SessionInterface):
    def cookie_name(self, app: Flask) -> str:
        return "__Host-meldroute" if app.config["SESSION_COOKIE_SECURE"] else "meldroute"

    @staticmethod
    def signer(app: Flask) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(app.secret_key or "", salt="meldroute-anonymous")

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.cookie_name(app))
        if not token or len(token) > MAX_COOKIE:
            return ServerSession()
        if "." in token:  # an anonymous visitor's signed data (a token has no dot)
            try:
                data = self.signer(app).loads(
                    token, max_age=app.config["IDLE_TIMEOUT_MINUTES"] * 60)
            except (BadSignature, ValueError):
                return ServerSession()
            return ServerSession(data if isinstance(data, dict) else {})
        if len(token) > 100:
            return ServerSession()
        now = now_of(app)
        request_db = db()  # the request's own: its first statement begins the transaction
        # the session with its user and their roles in one statement: the user's own
        # look-up (auth.py) then finds them in the session's identity map
        probe = _probed(request)
        found = _read_row(request_db, {"id": _hash(token), "probe": probe})
        if found is None:
            return ServerSession()
        row, site_revision, revisions = found
        idle = dt.timedelta(minutes=app.config["IDLE_TIMEOUT_MINUTES"])
        absolute = dt.timedelta(hours=app.config["ABSOLUTE_TIMEOUT_HOURS"])
        last_seen = _utc(row.last_seen_at)
        if now - last_seen > idle or now - _utc(row.created_at) > absolute:
            request_db.delete(row)
            request_db.commit()
            return ServerSession()
        if now - last_seen >= dt.timedelta(seconds=TOUCH_SECONDS):
            row.last_seen_at = now  # written with the request's commit (or save_session's)
            row.address = (request.remote_addr or "-")[:64]
        try:
            data = json.loads(row.data)
        except ValueError:
            data = {}
        opened = ServerSession(data, token, row.user_id, row.school_id,
                               _utc(row.authenticated_at) if row.authenticated_at else None)
        opened.row = row
        opened.site_revision = site_revision
        opened.read_in = request_db.get_transaction()
        if probe >= 0:
            opened.probed = (probe, _revisions(revisions))
        return opened

    @staticmethod
    def _save_in_request(app: Flask, web_session: ServerSession) -> bool:
        """Write through the request's database session, in its transaction: True when
        done; False when the separate write is needed (the view left other changes)."""
        row = web_session.row
        if row is None or "db" not in g:
            return False
        request_db = db()
        try:
            if web_session.modified:
                # (who signed in, and when, changes only at login: a fresh row, _write)
                changes = {"school_id": web_session.school_id,
                           "data": json.dumps(dict(web_session))}
                changed = {k: v for k, v in changes.items() if getattr(row, k) != v}
                for name, value in changed.items():
                    setattr(row, name, value)
                if changed:
                    row.last_seen_at = now_of(app)
            pending = set(request_db.new) | set(request_db.deleted) | set(request_db.dirty)
            if not pending:
                return True
            if pending != {row}:  # the view's own changes: not ours to commit
                return not web_session.modified  # a touch can wait for the next request
            request_db.commit()
            return True
        except SQLAlchemyError:
            request_db.rollback()  # e.g. the row was ended meanwhile
            return not web_session.modified

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        web_session = session  # the name Flask's interface gives it
        assert isinstance(web_session, ServerSession)
        name = self.cookie_name(app)
        if web_session.token is None and web_session.user_id is None and \
                not web_session.persist:
            self._save_signed(app, web_session, response)
            return
        if web_session.token and not (web_session.destroyed or web_session.regenerate) and \
                self._save_in_request(app, web_session):
            response.set_cookie(name, web_session.token, httponly=True, samesite="Lax",
                                secure=app.config["SESSION_COOKIE_SECURE"], path="/")
            return
        self._write(app, web_session, response)

    def _save_signed(self, app: Flask, web_session: ServerSession, response: Response) -> None:
        """An anonymous visitor: the data in a signed cookie, no database row."""
        name = self.cookie_name(app)
        secure = app.config["SESSION_COOKIE_SECURE"]
        if web_session.destroyed or not web_session:
            if web_session.destroyed or web_session.modified:
                response.delete_cookie(name, path="/", secure=secure, httponly=True,
                                       samesite="Lax")
            return
        response.set_cookie(name, self.signer(app).dumps(dict(web_session)), httponly=True,
                            samesite="Lax", secure=secure, path="/")

    def _write(self, app: Flask, web_session: ServerSession, response: Response) -> None:
        name = self.cookie_name(app)
        now = now_of(app)
        with db_sessions_of(app)() as write_db:
            if web_session.token and (web_session.destroyed or web_session.regenerate):
                write_db.execute(delete(WebSession).where(
                    WebSession.id == _hash(web_session.token)))
                write_db.commit()
                if web_session.destroyed:
                    response.delete_cookie(name, path="/", secure=app.config[
                        "SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax")
                    return
                web_session.token = None
            if web_session.destroyed:
                return
            if web_session.user_id is None and not web_session.persist:
                self._save_signed(app, web_session, response)
                return  # an anonymous visitor: no row
            row: WebSession | None
            if web_session.token is None:
                web_session.token = secrets.token_urlsafe(32)
                row = WebSession(id=_hash(web_session.token), created_at=now,
                                 agent=browser_summary(request_agent()))
                write_db.add(row)
            else:
                row = write_db.get(WebSession, _hash(web_session.token))
                if row is None:  # ended meanwhile (logout elsewhere, admin)
                    response.delete_cookie(name, path="/")
                    return
            row.user_id = web_session.user_id
            row.school_id = web_session.school_id
            row.authenticated_at = web_session.authenticated_at
            row.data = json.dumps(dict(web_session))
            row.last_seen_at = now
            row.address = request_address()
            write_db.commit()
        response.set_cookie(name, web_session.token, httponly=True, samesite="Lax",
                            secure=app.config["SESSION_COOKIE_SECURE"], path="/")


def stage_web_session() -> None:
    """Write the web session's changes (a flash message) in the request's transaction, for
    a view that commits before it returns: one UPDATE of its row, with whatever else of
    the row was changed (the touch of ``open_session``), which the row then holds as
    stored, so the commit has nothing of it left to flush."""
    web_session = current_web_session()
    row = web_session.row
    if row is None or not web_session.modified or web_session.destroyed or \
            web_session.regenerate:
        return
    state = inspect(row)
    changes = {a.key: a.value for a in state.attrs
               if a.key in _ROW_COLUMNS and a.history.has_changes()}
    changes.update(data=json.dumps(dict(web_session)), last_seen_at=now_of(current_app))
    db().connection().execute(updating(WebSession, frozenset(changes)), {**changes, "b_id": row.id})
    for name, value in changes.items():
        set_committed_value(row, name, value)


_ROW_COLUMNS = frozenset(c.key for c in WebSession.__table__.columns)


def site_revision_now(request_db: Session) -> int | None:
    """The site's revision as the request's transaction sees it: the one read with the web
    session while that transaction lasts and has written nothing, else None (read it)."""
    web_session = session if has_request_context() else None
    if not isinstance(web_session, ServerSession) or web_session.site_revision is None:
        return None
    if web_session.read_in is None or request_db.get_transaction() is not web_session.read_in:
        return None
    return None if wrote(request_db) else web_session.site_revision


def current_web_session() -> ServerSession:
    """The request's web session (``flask.session``), as the class it is."""
    assert isinstance(session, ServerSession)  # the proxy passes isinstance through
    return session


def end_web_sessions(db: Session, user_id: int) -> int:
    """End every web session of the user (the caller commits)."""
    result = db.execute(delete(WebSession).where(WebSession.user_id == user_id))
    assert isinstance(result, CursorResult)  # what a DELETE gives
    return int(result.rowcount or 0)


def end_web_session(db: Session, user_id: int, session_id: str) -> bool:
    """End one web session of the user, named by its row id (the caller commits)."""
    result = db.execute(delete(WebSession).where(WebSession.user_id == user_id,
                                                 WebSession.id == session_id[:64]))
    assert isinstance(result, CursorResult)
    return bool(result.rowcount)


def current_session_id() -> str | None:
    """The row id of the request's web session (None for an anonymous visitor)."""
    token = current_web_session().token
    return _hash(token) if token else None


def purge_web_sessions(db: Session, now: dt.datetime, idle: dt.timedelta,
                       absolute: dt.timedelta) -> int:
    """Delete web sessions past their idle or absolute timeout (the caller commits)."""
    result = db.execute(delete(WebSession).where(or_(
        WebSession.last_seen_at < now - idle, WebSession.created_at < now - absolute)))
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)


def request_address() -> str:
    return (this_request.remote_addr or "-")[:64] if has_request_context() else "-"


def request_agent() -> str:
    return this_request.headers.get("User-Agent", "") if has_request_context() else ""


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
            ("Linux", "Linux"))


def browser_summary(agent: str) -> str:
    """A browser and its system in a few words ("Firefox op Windows"), never the whole
    User-Agent string."""
    browser = next((name for key, name in _BROWSERS if key in agent), None)
    system = next((name for key, name in _SYSTEMS if key in agent), None)
    if browser and system:
        return f"{browser} op {system}"
    return browser or system or "onbekende browser"
